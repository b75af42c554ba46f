"""``abm report``: a self-contained report of a sweep, as HTML and Markdown, that people can cite.

The HTML embeds every figure (as data URIs) and loads nothing from anywhere: it opens from a
USB stick with no network. It starts with a plain-language summary, then the tables and
figures, each with a citable id (T1..., F1...), the run ids and the manifest hash it comes
from and the exact command that regenerates it; then provenance (sweep file hash, git
commit, package versions, seeds) and a codebook of every column.

Into the results folder itself go the refreshed comparison table (``summary_table.*``), the
DCEA tables (``dcea.*``, ``dcea_quintile.*``), a rounded, labelled table
(``table_labelled.csv`` and ``.md``) and the codebook (``codebook.csv`` and ``.md``).
Into ``--out`` (default ``DIR/report``) go ``report.html``, ``report.md``, ``figures/``,
``tables/`` (each report table as CSV, exactly as shown) and ``ids.json`` (every id with its
run ids, sources and command).
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import html
import json
import shlex
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from abm.analysis import codebook, tables
from abm.analysis.dcea import (
    FALLBACK_WELLBYS_PER_QALY,
    GRADIENT_SOURCE,
    GRADIENTS,
    HEADLINE_GRADIENT,
    HEADLINE_THRESHOLD,
    INEQUALITY_AVERSION,
    THRESHOLDS,
    dcea,
    has_discounted,
)
from abm.analysis.figures import FigureRecord, SweepData, sweep_figures
from abm.files.errors import InputError
from abm.files.io import write_csv, write_json, write_parquet, write_text
from abm.files.provenance import provenance
from abm.model.parameters import BY_NAME
from abm.report import national
from abm.version import __version__


@dataclass(frozen=True)
class Sweep:
    """A sweep's results folder, read: its manifest, runs and tables."""

    folder: Path
    manifest: dict
    manifest_sha256: str
    data: SweepData

    @property
    def baseline(self) -> str:
        return self.data.baseline

    @property
    def run_ids(self) -> set[str]:
        """Every run id the manifest lists."""
        return {r["run_id"] for r in self.manifest.get("runs", [])}


def read_sweep(folder: str | Path, baseline: str | None = None) -> Sweep:
    """Read a results folder; refresh its comparison table and write its DCEA tables.

    Raises :class:`InputError` when the folder is not a finished sweep's results folder.
    """
    from experiments.runner import summarise

    folder = Path(folder)
    manifest_path, summary_path = folder / "manifest.json", folder / "summary.parquet"
    if not manifest_path.is_file() or not summary_path.is_file():
        raise InputError(f"{folder}: no manifest.json and summary.parquet here: allowed is the "
                         "results folder of `abm sweep`")
    raw = manifest_path.read_bytes()
    manifest = json.loads(raw)
    results = pd.read_parquet(summary_path)
    baseline = baseline or manifest.get("baseline") or results.scenario.iloc[0]
    summarise(folder, baseline=baseline)  # the comparison table, by the current code
    table = pd.read_parquet(folder / "summary_table.parquet")
    totals, by_quintile = dcea(results, baseline)
    for name, frame in (("dcea", totals), ("dcea_quintile", by_quintile)):
        write_parquet(frame, folder / f"{name}.parquet")
        write_csv(frame, folder / f"{name}.csv")
    weekly = _read_weekly(folder, results)
    data = SweepData(results, weekly, table, totals, by_quintile, baseline)
    return Sweep(folder, manifest, hashlib.sha256(raw).hexdigest(), data)


def _read_weekly(folder: Path, results: pd.DataFrame) -> pd.DataFrame | None:
    """Weekly series of the sweep with scenario, place, point and seed, in sweep order."""
    parts = sorted((folder / "weekly").glob("part-*.parquet"))
    if not parts:
        return None
    weekly = pd.concat([pd.read_parquet(p) for p in parts], ignore_index=True)
    order = {run_id: i for i, run_id in enumerate(results.run_id)}
    weekly = weekly[weekly.run_id.isin(order)]
    weekly = weekly.iloc[weekly.run_id.map(order).argsort(kind="stable")]
    labels = results[["run_id", "scenario", "place", "point", "seed"]]
    return weekly.merge(labels, on="run_id", how="left", sort=False)


# --- the report -------------------------------------------------------------------------------
@dataclass
class TableRecord:
    """A report table: its citable id, content (display strings) and where it came from."""

    id: str
    slug: str
    title: str
    caption: str
    frame: pd.DataFrame
    source: str  # file in the results folder it is computed from
    run_ids: list[str]


def make_report(folder: str | Path, out: str | Path | None = None,
                baseline: str | None = None) -> dict[str, Path]:
    """Write the report of the sweep in ``folder`` into ``out``; return the files written."""
    folder = Path(folder)
    out = Path(out) if out is not None else folder / "report"
    sweep = read_sweep(folder, baseline)
    data = _first_point(sweep.data)
    figures = sweep_figures(data, out / "figures")
    report_tables = _report_tables(sweep)
    written = _results_folder_files(sweep, report_tables[0])
    for record in report_tables:
        path = out / "tables" / f"{record.id}_{record.slug}.csv"
        written[record.id] = write_csv(record.frame, path)
    command = _command(folder, out, baseline)
    ids = _ids(sweep, report_tables, figures, folder, out, command)
    extra = national.section(sweep.data, folder, out, command)  # None below three places
    ids["ids"] |= extra.ids if extra else {}
    written |= extra.files if extra else {}
    written["ids"] = write_json(ids, out / "ids.json")
    context = _Context(sweep, report_tables, figures, ids, command, extra)
    written["html"] = write_text(_html(context), out / "report.html")
    written["markdown"] = write_text(_markdown(context, out), out / "report.md")
    return written


def _first_point(data: SweepData) -> SweepData:
    """Figures show the first parameter point of a grid or sample (tables show them all)."""
    if data.results.point.nunique() <= 1:
        return data
    point = data.results.point.min()

    def keep(frame):
        return None if frame is None else frame[frame.point == point]

    return SweepData(keep(data.results), keep(data.weekly), keep(data.table), keep(data.dcea),
                     keep(data.dcea_quintile), data.baseline)


def _report_tables(sweep: Sweep) -> list[TableRecord]:
    data, baseline = sweep.data, sweep.baseline
    compared = sorted(set(data.results.run_id))
    basis = "discounted" if has_discounted(data.results) else "undiscounted"
    records = [
        TableRecord("T1", "changes", "Changes against the baseline",
                    f"Mean over seeds of each strategy's change against '{baseline}' run with the "
                    "same seed, with 95% t-intervals of the paired differences, and which way it "
                    "went (judged by the interval). WELLBYs and GBP are totals for the whole "
                    "place over the policy years.", tables.changes_table(data.table, baseline),
                    "summary_table.csv", compared),
        TableRecord("T2", "cost_per_wellby", "Cost per WELLBY gained, by quintile",
                    "Extra spend per WELLBY gained, whole place and by IMD quintile, with 95% "
                    "paired BCa bootstrap intervals over seeds; where WELLBYs were not clearly "
                    "gained, the verdict in words instead. By quintile, spend is counted where "
                    "providers and link workers are.", tables.cost_table(data.table, baseline),
                    "summary_table.csv", compared),
    ]
    if not data.dcea.empty:
        headline = (f"opportunity cost at {HEADLINE_THRESHOLD} per QALY spread on the "
                    f"{HEADLINE_GRADIENT} deprivation gradient")
        records += [
            TableRecord("T3", "dcea_by_quintile", "Distributional cost-effectiveness by quintile",
                        f"Health benefit, health opportunity cost, net health benefit and net "
                        f"monetary benefit by IMD quintile ({headline}; {basis}), mean over seeds "
                        "with 95% intervals.",
                        tables.dcea_quintile_table(data.dcea_quintile, basis),
                        "dcea_quintile.csv", compared),
            TableRecord("T4", "dcea_totals", "Distributional cost-effectiveness: totals",
                        "Net health and monetary benefit, equity impact (Atkinson aversion "
                        "10.95) and fall in the slope index of inequality, at each threshold and "
                        "opportunity-cost spread, undiscounted and (where recorded) discounted.",
                        tables.dcea_totals_table(data.dcea), "dcea.csv", compared),
            TableRecord("T5", "inequality", "Atkinson index and equally distributed equivalent",
                        f"Inequality of wellbeing-years per person across IMD quintiles in the "
                        f"baseline and with each strategy's net health benefit added ({headline}; "
                        f"{basis}), at inequality aversion "
                        f"{', '.join(f'{e:g}' for e in INEQUALITY_AVERSION)}.",
                        tables.inequality_table(data.dcea, basis), "dcea.csv", compared),
        ]
    return records


def _results_folder_files(sweep: Sweep, changes: TableRecord) -> dict[str, Path]:
    """The labelled table and the codebook, written into the results folder."""
    folder = sweep.folder
    data = sweep.data
    written = {
        "table_labelled_csv": write_csv(changes.frame, folder / "table_labelled.csv"),
        "table_labelled_md": write_text(
            f"# {changes.title}\n\n{changes.caption}\n\n{_md_table(changes.frame)}",
            folder / "table_labelled.md"),
    }
    described = {"summary": data.results.columns, "table": data.table.columns}
    if data.weekly is not None:
        described["weekly"] = [c for c in data.weekly.columns
                               if c not in ("scenario", "place", "point", "seed")]
    if not data.dcea.empty:
        described |= {"dcea": data.dcea.columns, "dcea_quintile": data.dcea_quintile.columns}
    csv_path, md_path = codebook.write_codebook(folder, described)
    return written | {"codebook_csv": csv_path, "codebook_md": md_path}


def _command(folder: Path, out: Path, baseline: str | None) -> str:
    parts = ["abm", "report", str(folder), "--out", str(out)]
    if baseline:
        parts += ["--baseline", baseline]
    return shlex.join(parts)


def _ids(sweep: Sweep, report_tables: list[TableRecord], figures: list[FigureRecord],
         folder: Path, out: Path, command: str) -> dict:
    """Every citable id: what it is, the runs it comes from, its sources and its command."""
    ids = {}
    for t in report_tables:
        ids[t.id] = {"kind": "table", "title": t.title, "run_ids": t.run_ids,
                     "source": str(folder / t.source),
                     "file": str(out / "tables" / f"{t.id}_{t.slug}.csv"), "command": command}
    for f in figures:
        ids[f.id] = {"kind": "figure", "title": f.title, "run_ids": f.run_ids,
                     "files": {k: str(v) for k, v in f.files.items()},
                     "command": shlex.join(["abm", "plot", str(folder), "--out",
                                            str(out / "figures"), "--only", f.id])}
    return {"manifest": str(folder / "manifest.json"), "manifest_sha256": sweep.manifest_sha256,
            "sweep_id": sweep.manifest.get("sweep_id"), "ids": ids}


@dataclass
class _Context:
    sweep: Sweep
    tables: list[TableRecord]
    figures: list[FigureRecord]
    ids: dict
    command: str
    national: national.Section | None = None


def summary_sentences(sweep: Sweep, changes: pd.DataFrame) -> list[str]:
    """The plain-language summary: per place, what each strategy did to the gap, wellbeing
    and WELLBYs, and its value for money, quoting T1's cells."""
    gap, wellbeing, wellbys = ("q5-q1 gap (points)", "Mean wellbeing (points, 0-10)", "WELLBYs")
    sentences = []
    for place, rows in changes.groupby("Place", sort=False):
        narrowed = [r["Strategy"] for _, r in rows.iterrows() if _words(r[gap]) == "narrowed"]
        lead = (f"In {place}, the gap between the most and least deprived narrowed clearly under "
                f"{_join(narrowed)}." if narrowed else
                f"In {place}, no strategy clearly narrowed the gap between the most and least "
                "deprived.")
        sentences.append(lead)
        for _, r in rows.iterrows():
            sentences.append(
                f"{r['Strategy']}: the q5-q1 gap {_verb(r[gap])} ({_value(r[gap])} points), "
                f"mean wellbeing {_verb(r[wellbeing])} ({_value(r[wellbeing])} points), "
                f"{_value(r[wellbys])} WELLBYs ({_words(r[wellbys])}); value for money: "
                f"{r['Value for money']}.")
    return sentences


def _verb(cell: str) -> str:
    words = _words(cell)
    return "showed no clear change" if words == "no clear change" else words


def _words(cell: str) -> str:
    return cell.rsplit("(", 1)[1].rstrip(")") if "(" in cell else ""


def _value(cell: str) -> str:
    return cell.rsplit(" (", 1)[0]


def _join(names: list[str]) -> str:
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]


def _dcea_sentences(sweep: Sweep) -> list[str]:
    """One sentence per place and strategy on the equity impact plane (headline settings)."""
    totals = sweep.data.dcea
    if totals.empty:
        return []
    rows = totals[(totals.threshold == HEADLINE_THRESHOLD)
                  & (totals.gradient == HEADLINE_GRADIENT) & (totals.basis == "undiscounted")]
    frame = tables.dcea_totals_table(rows)
    nhb, impact = "Net health benefit (WELLBYs)", "Equity impact, aversion 10.95 (WELLBYs)"
    return [f"{r['Strategy']} in {r['Place']}: net health benefit {r[nhb]} WELLBYs, equity "
            f"impact {r[impact]}: {r['Equity impact plane']}." for _, r in frame.iterrows()]


def _provenance_rows(sweep: Sweep, command: str) -> list[tuple[str, str]]:
    m = sweep.manifest
    first = m.get("provenance", {})
    resolved = m.get("resolved", {})
    now = provenance()
    commit = first.get("git_commit") or "unknown (not recorded)"
    dirty = " (with uncommitted changes)" if first.get("git_dirty") else ""
    packages = ", ".join(f"{k} {v}" for k, v in (first.get("packages") or {}).items())
    return [
        ("Sweep file", f"{m.get('spec_path')} (sha256 {m.get('spec_sha256')})"),
        ("Sweep id", str(m.get("sweep_id"))),
        ("Manifest", f"{sweep.folder / 'manifest.json'} (sha256 {sweep.manifest_sha256})"),
        ("Runs", f"{len(sweep.run_ids)} in the manifest; status {m.get('status')}; counts "
                 f"{json.dumps(m.get('counts'))}"),
        ("Git commit of the runs", f"{commit}{dirty}"),
        ("Model version", str(first.get("model_version"))),
        ("Python and platform", f"{first.get('python')} on {first.get('platform')}"),
        ("Package versions", packages),
        ("Seeds", f"{resolved.get('seeds')} seeds from master seed {resolved.get('master_seed')}: "
                  f"{', '.join(str(s) for s in resolved.get('seed_values') or [])}"),
        ("Years", f"{resolved.get('years')} policy years after the burn-in"),
        ("Created", f"{m.get('created_at')}; invocations: {len(m.get('invocations', []))}"),
        ("Report made by", f"abm {__version__}, git {now['git_commit']}"
                           f"{' (with uncommitted changes)' if now['git_dirty'] else ''}, at "
                           f"{dt.datetime.now(dt.UTC).isoformat(timespec='seconds')}"),
        ("Regenerate", command),
    ]


def _method_notes(sweep: Sweep) -> list[str]:
    results = sweep.data.results
    wpq = (float(results["wellbys_per_qaly"].iloc[0]) if "wellbys_per_qaly" in results
           else float(BY_NAME["wellbys_per_qaly"].default) if "wellbys_per_qaly" in BY_NAME
           else None)
    conversion = (f"{wpq:g} WELLBYs per QALY (the model's wellbys_per_qaly)" if wpq is not None
                  else f"{FALLBACK_WELLBYS_PER_QALY:.2f} WELLBYs per QALY (assumption: ratio of "
                       "the Green Book's values of a QALY, GBP 70,000, and a WELLBY, GBP 13,000;"
                       " this model version declares no wellbys_per_qaly)")
    discounting = ("Totals are shown undiscounted and discounted to the policy start."
                   if has_discounted(results) else
                   "This model version records no discounted totals: all totals are "
                   "undiscounted.")
    return [
        "Paired comparisons: every strategy runs with the same seeds as the baseline (common "
        "random numbers); changes are per-seed differences, summarised by their mean and 95% "
        "t-interval. Cost-per-WELLBY intervals are paired BCa bootstraps over seeds "
        "(scipy.stats.bootstrap).",
        "Health opportunity cost: extra spend divided by a threshold: "
        + "; ".join(f"{t.name} = {t.source}" for t in THRESHOLDS)
        + f". It is spread over quintiles equally per person or on a deprivation gradient "
        f"({', '.join(f'{k} {v}' for k, v in GRADIENTS.items())} for q1..q5 of England; "
        f"{GRADIENT_SOURCE}), re-weighted by each place's quintile populations.",
        f"QALY equivalents use {conversion}.",
        "Inequality: wellbeing-years per person by quintile in the baseline and with the net "
        "health benefit added; Atkinson index and EDE at aversion 0, 1, 3.5 and 10.95 (the "
        "English public's median, Robson et al., Health Econ 2017). Equity impact = "
        "equity-weighted minus unweighted net health benefit: positive when inequality falls. "
        "NICE's support document (PMG36, 2025) asks for these by IMD quintile and applies no "
        "inequality weights in its base case.",
        discounting,
    ]


# --- HTML -------------------------------------------------------------------------------------
CSS = """
body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;max-width:78rem;
margin:2rem auto;padding:0 1rem;color:#1a1a1a;line-height:1.45}
h1{font-size:1.7rem}h2{margin-top:2.2rem;border-bottom:2px solid #0072B2;padding-bottom:.2rem}
table{border-collapse:collapse;font-size:.82rem;margin:.6rem 0;display:block;overflow-x:auto}
th,td{border:1px solid #ccc;padding:.25rem .45rem;text-align:left;vertical-align:top}
th{background:#eef5fb}td{font-variant-numeric:tabular-nums}
.cite{font-size:.78rem;color:#555;background:#f6f6f6;padding:.35rem .6rem;border-left:3px solid
#E69F00}.cite code{word-break:break-all}figure{margin:1rem 0}figure img{max-width:100%}
.summary li{margin:.2rem 0}details{margin:.3rem 0}code{font-size:.85em}
"""


def _html(c: _Context) -> str:
    changes = c.tables[0].frame
    parts = [
        "<!DOCTYPE html>", '<html lang="en"><head><meta charset="utf-8">',
        "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; "
        "img-src data:; style-src 'unsafe-inline'\">",
        f"<title>{_e(_title(c))}</title><style>{CSS}</style></head><body>",
        f"<h1>{_e(_title(c))}</h1>",
        f"<p>{_e(_description(c))}</p>",
        '<h2 id="summary">Summary</h2><ul class="summary">',
        *[f"<li>{_e(s)}</li>" for s in summary_sentences(c.sweep, changes)],
        "</ul>",
    ]
    if dcea_lines := _dcea_sentences(c.sweep):
        parts += ["<p>On the equity impact plane (headline settings: opportunity cost at "
                  f"{_e(HEADLINE_THRESHOLD)}, {_e(HEADLINE_GRADIENT)} gradient):</p><ul>",
                  *[f"<li>{_e(s)}</li>" for s in dcea_lines], "</ul>"]
    parts.append('<h2 id="tables">Tables</h2>')
    for t in c.tables:
        parts += [f'<h3 id="{t.id}">{t.id}. {_e(t.title)}</h3>', f"<p>{_e(t.caption)}</p>",
                  _html_table(t.frame), _html_cite(c, t.id)]
    parts.append('<h2 id="figures">Figures</h2>')
    if c.sweep.data.weekly is None:
        parts.append("<p>This sweep recorded no weekly series (its sweep file has no "
                     "<code>record: weekly</code>), so the figures over time (F2, F3) are left "
                     "out and F5 shows totals.</p>")
    for f in c.figures:
        svg = base64.b64encode(f.files["svg"].read_bytes()).decode()
        parts += [f'<figure id="{f.id}"><img alt="{_e(f.id)}: {_e(f.title)}" '
                  f'src="data:image/svg+xml;base64,{svg}">',
                  f"<figcaption><b>{f.id}. {_e(f.title)}.</b> {_e(f.caption)}</figcaption>"
                  "</figure>", _html_cite(c, f.id)]
    parts += national.html(c.national, c.ids)
    parts += ['<h2 id="methods">Methods in brief</h2><ul>',
              *[f"<li>{_e(n)}</li>" for n in _method_notes(c.sweep)], "</ul>",
              '<h2 id="provenance">Provenance</h2><table>',
              *[f"<tr><th>{_e(k)}</th><td><code>{_e(v)}</code></td></tr>"
                for k, v in _provenance_rows(c.sweep, c.command)], "</table>",
              '<h2 id="codebook">Codebook</h2>',
              "<p>Every column of the results with its unit and which direction is better "
              "(also <code>codebook.csv</code> in the results folder).</p>",
              "<details><summary>Show the codebook</summary>",
              _html_table(_codebook_frame(c.sweep)), "</details>",
              "</body></html>"]
    return "\n".join(parts)


def _html_table(frame: pd.DataFrame) -> str:
    head = "".join(f"<th>{_e(c)}</th>" for c in frame.columns)
    body = "".join("<tr>" + "".join(f"<td>{_e(v)}</td>" for v in row) + "</tr>"
                   for row in frame.itertuples(index=False))
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _html_cite(c: _Context, item: str) -> str:
    entry = c.ids["ids"][item]
    runs = entry["run_ids"]
    return (f'<div class="cite">Cite as <b>{item}</b> of sweep <code>{_e(c.ids["sweep_id"])}'
            f"</code>, manifest sha256 <code>{_e(c.ids['manifest_sha256'])}</code>; "
            f"{len(runs)} runs. Regenerate: <code>{_e(entry['command'])}</code>"
            f"<details><summary>Run ids</summary><code>{_e(' '.join(runs))}</code></details>"
            "</div>")


def _codebook_frame(sweep: Sweep) -> pd.DataFrame:
    return pd.read_csv(sweep.folder / "codebook.csv").rename(columns=str.capitalize)


def _title(c: _Context) -> str:
    return f"Community assets and health disparities: report of {c.sweep.folder.name}"


def _description(c: _Context) -> str:
    m = c.sweep.manifest
    resolved = m.get("resolved", {})
    scenarios = ", ".join(s["name"] for s in resolved.get("scenarios", []))
    places = ", ".join(resolved.get("places") or ["each scenario's own place"])
    text = (f"Strategies {scenarios} compared with '{c.sweep.baseline}' in {places}: "
            f"{resolved.get('seeds')} seeds each, {resolved.get('years')} policy years "
            "(the horizon of every total).")
    points = resolved.get("points") or [{}]
    if len(points) > 1:
        text += (f" The sweep has {len(points)} parameter points: the tables list each; the "
                 "figures show the first.")
    return text


def _e(text) -> str:
    return html.escape(str(text))


# --- Markdown ---------------------------------------------------------------------------------
def _markdown(c: _Context, out: Path) -> str:
    lines = [f"# {_title(c)}", "", _description(c), "", "## Summary", ""]
    lines += [f"- {s}" for s in summary_sentences(c.sweep, c.tables[0].frame)]
    if dcea_lines := _dcea_sentences(c.sweep):
        lines += ["", f"On the equity impact plane (opportunity cost at {HEADLINE_THRESHOLD}, "
                      f"{HEADLINE_GRADIENT} gradient):", ""]
        lines += [f"- {s}" for s in dcea_lines]
    lines += ["", "## Tables", ""]
    for t in c.tables:
        lines += [f"### {t.id}. {t.title}", "", t.caption, "", _md_table(t.frame), "",
                  _md_cite(c, t.id), ""]
    lines += ["## Figures", ""]
    for f in c.figures:
        relative = f.files["png"].relative_to(out)
        lines += [f"### {f.id}. {f.title}", "", f"![{f.id}: {f.title}]({relative.as_posix()})",
                  "", f.caption, "", _md_cite(c, f.id), ""]
    lines += national.markdown(c.national, c.ids, out)
    lines += ["## Methods in brief", "", *[f"- {n}" for n in _method_notes(c.sweep)], "",
              "## Provenance", "", "| | |", "|---|---|",
              *[f"| {k} | `{v}` |" for k, v in _provenance_rows(c.sweep, c.command)], "",
              "## Codebook", "", "See `codebook.md` in the results folder.", ""]
    return "\n".join(lines)


def _md_table(frame: pd.DataFrame) -> str:
    def cell(value) -> str:
        return str(value).replace("|", "\\|")

    head = "| " + " | ".join(cell(c) for c in frame.columns) + " |"
    rule = "|" + "---|" * len(frame.columns)
    body = ["| " + " | ".join(cell(v) for v in row) + " |"
            for row in frame.itertuples(index=False)]
    return "\n".join([head, rule, *body])


def _md_cite(c: _Context, item: str) -> str:
    entry = c.ids["ids"][item]
    return (f"> Cite as **{item}** of sweep `{c.ids['sweep_id']}`, manifest sha256 "
            f"`{c.ids['manifest_sha256']}`; {len(entry['run_ids'])} runs (ids in `ids.json`). "
            f"Regenerate: `{entry['command']}`")

