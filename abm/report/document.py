"""``abm report``: a self-contained report of a sweep, as HTML and Markdown (and, on request,
Word and Excel), that people can cite.

**One trusted source.** Every number and figure comes from the frame built from the sweep's
checksummed part files for the runs its manifest lists (:func:`experiments.results.trusted`),
never from ``summary.parquet`` (a convenience copy, rebuilt from the parts when it is
damaged, edited or missing). An incomplete sweep is refused in one line, or with
``--allow-incomplete`` reported on the runs done under a heading that says so.

**Nothing half-written.** Every input is checked and every table, figure and page is made in
memory before the first file is written (``--out`` is checked before anything else); each
file is then written atomically.

**What it holds.** A summary of key messages a board paper can lift, each with the ids of
its table and figure; then sections in the ICS's own terms: the changes against the status
quo (T1, T2, F1, F6), the most deprived 20% nationally (Core20) against the rest, with
participation and NHS costs by quintile (T6, F4, T14),
inequality with the SII and its intervals (T7, F2, F3), the staircase from need to benefit
(T8, F9), what makes the gap and what moved it (T9, F10; and, for a sweep of the
``mechanisms/*`` scenarios, what each mechanism does to it, T13), how sure the answers are over the
calibration's posterior (T10, F11), distributional cost-effectiveness (T3-T5, T11, T12, F7,
F8, F12) and provider survival (F5); then methods, provenance and a codebook. Each table and
figure has a citable id, the ids of the runs it comes from, the manifest hash and the command
that regenerates it. WELLBYs and money lead with the Green Book's discounted basis, as the
console does, and every header names its basis.

**Safe text.** The HTML escapes every name and has a strict Content-Security-Policy; the
Markdown twins escape names (:func:`md_text`); every CSV is spreadsheet-safe
(:func:`abm.analysis.tables.spreadsheet_safe`) and the Excel files hold no formulas.

Into the results folder go the refreshed comparison table (``summary_table.*``), the DCEA
tables (``dcea.*``, ``dcea_quintile.*``, ``dcea_profile.*`` and ``dcea.xlsx``), a rounded,
labelled T1 (``table_labelled.csv`` and ``.md``) and the codebook (``codebook.csv`` and
``.md``). Into ``--out`` (default ``DIR/report``) go ``report.html``, ``report.md``,
``figures/``, ``tables/`` (each table as CSV: the labelled text and, beside it, the numeric
estimate, lower and upper bound), ``ids.json`` and, with ``--docx``/``--xlsx``,
``report.docx`` and ``report.xlsx``.
"""

from __future__ import annotations

import base64
import datetime as dt
import html
import io
import json
import re
import shlex
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from abm.analysis import codebook, compare, decomposition, tables
from abm.analysis.dcea import (
    ENGLISH_ATKINSON,
    ENGLISH_KOLM,
    FALLBACK_WELLBYS_PER_QALY,
    GRADIENT_SOURCE,
    GRADIENTS,
    HEADLINE_GRADIENT,
    HEADLINE_THRESHOLD,
    INEQUALITY_AVERSION,
    THRESHOLDS,
    dcea,
    ede_profile,
    has_discounted,
)
from abm.analysis.figures import PART_LABELS, DrawnFigure, SweepData, draw_figures, unavailable
from abm.files.errors import printable
from abm.files.io import check_out_folder, write_bytes
from abm.files.provenance import provenance
from abm.model.parameters import BY_NAME
from abm.report import national, office
from abm.report.frontier import frontier_section
from abm.report.uncertainty import (
    Uncertainty,
    find_uncertainty,
    read_uncertainty,
    uncertainty_display,
)
from abm.report.uncertainty import sentence as uncertainty_sentence
from abm.version import __version__
from experiments.results import Trusted, require_folder
from experiments.runner import Summarised, summarise_folder, write_summary_files


@dataclass(frozen=True)
class Sweep:
    """A sweep's results folder, read from its trusted parts: manifest, runs, tables."""

    folder: Path
    manifest: dict
    manifest_sha256: str
    data: SweepData
    summarised: Summarised
    uncertainty: Uncertainty | None = None

    @property
    def baseline(self) -> str:
        return self.data.baseline

    @property
    def trusted(self) -> Trusted:
        return self.summarised.trusted

    @property
    def incomplete(self) -> str:
        """One line saying what is missing ("" when every run is done)."""
        return self.trusted.incomplete

    @property
    def run_ids(self) -> set[str]:
        """Every run id the manifest lists."""
        return {r["run_id"] for r in self.manifest.get("runs", [])}


def read_sweep(folder: str | Path, baseline: str | None = None, *,
               allow_incomplete: bool = False, uncertainty: str | Path | None = None) -> Sweep:
    """Read a results folder from its trusted parts and compute everything the report shows;
    write nothing.

    Raises :class:`InputError` (one line) when the folder is not a sweep's results folder,
    its manifest is damaged, the baseline is unknown or ``uncertainty`` is not this sweep's
    uncertainty analysis; :class:`experiments.results.IncompleteSweep` when runs are missing
    (unless ``allow_incomplete``).
    """
    summarised = summarise_folder(folder, baseline, allow_incomplete, weekly=True,
                                  purpose="report on")
    found, baseline = summarised.trusted, summarised.baseline
    results = found.results
    totals, by_quintile = dcea(results, baseline)
    weekly = _label_weekly(found.weekly, results)
    pairs = {(p, s) for p, s in zip(results.place, results.scenario, strict=True)
             if s != baseline}
    spec_sha = found.manifest.get("spec_sha256")
    posterior = (read_uncertainty(uncertainty, pairs, spec_sha, baseline)
                 if uncertainty is not None
                 else find_uncertainty(found.folder, pairs, spec_sha, baseline))
    data = SweepData(results, weekly, summarised.table, totals, by_quintile, baseline,
                     core20=compare.core20_table(results, baseline),
                     staircase=compare.staircase_table(results, baseline),
                     decomposition=compare.gap_decomposition(results, baseline),
                     profile=ede_profile(results, baseline),
                     uncertainty=posterior.table if posterior else None)
    return Sweep(found.folder, found.manifest, found.manifest_sha256, data, summarised,
                 posterior)


def _label_weekly(weekly: pd.DataFrame | None, results: pd.DataFrame) -> pd.DataFrame | None:
    """Weekly series with scenario, place, point and seed beside each week, in sweep order."""
    if weekly is None:
        return None
    labels = results[["run_id", "scenario", "place", "point", "seed"]]
    return weekly.merge(labels, on="run_id", how="left", sort=False)


# --- the report's tables ---------------------------------------------------------------------
@dataclass
class TableRecord:
    """A report table: its citable id, its content (labelled text, and numeric estimate,
    lower and upper columns beside it) and where it came from."""

    id: str
    slug: str
    title: str
    caption: str
    frame: pd.DataFrame
    source: str  # what it is computed from
    run_ids: list[str]
    cite: dict = field(default_factory=dict)  # another source's path and sha256, if any

    @property
    def display(self) -> pd.DataFrame:
        """The labelled columns, as the report shows them."""
        return tables.display(self.frame)


def _report_tables(sweep: Sweep) -> tuple[list[TableRecord], dict[str, str]]:
    """Every table the report shows, and the ids left out with why (one line each)."""
    data, baseline = sweep.data, sweep.baseline
    compared = list(data.results.run_id)
    health, costs = tables.basis_words(data.table)
    basis = tables.headline_basis(data.dcea) if not data.dcea.empty else "undiscounted"
    records = [
        TableRecord("T1", "changes", "Changes against the baseline",
                    f"Mean over seeds of each strategy's change against "
                    f"'{tables.strategy_name(baseline)}' run with the same seed, with 95% "
                    "t-intervals of the paired differences, and which way it went (judged by "
                    f"the interval). WELLBYs ({health}) and GBP ({costs}) are totals for the "
                    "whole place over the policy years: the Green Book's headline basis, as "
                    "the console prints it. The verdict weighs value for money and the gap.",
                    tables.changes_table(data.table, baseline), "summary_table.csv",
                    compared),
        TableRecord("T2", "cost_per_wellby", "Cost per WELLBY gained, by quintile",
                    f"Extra spend ({costs}) per WELLBY gained ({health}), whole place and by "
                    "IMD quintile, with 95% paired BCa bootstrap intervals over seeds; where "
                    "WELLBYs were not clearly gained, the verdict in words instead. By "
                    "quintile, spend is counted where providers and link workers are.",
                    tables.cost_table(data.table, baseline), "summary_table.csv", compared),
    ]
    left_out: dict[str, str] = {}
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
                        f"10.95) and fall in the slope index of inequality, {basis}, at each "
                        "threshold and opportunity-cost spread (the undiscounted ones are in "
                        "dcea.csv and dcea.xlsx).", tables.dcea_totals_table(data.dcea, basis),
                        "dcea.csv", compared),
            TableRecord("T5", "inequality", "Atkinson index and equally distributed equivalent",
                        f"Inequality of wellbeing-years per person across IMD quintiles in the "
                        f"baseline and with each strategy's net health benefit added ({headline}; "
                        f"{basis}), at inequality aversion "
                        f"{', '.join(f'{e:g}' for e in INEQUALITY_AVERSION)}.",
                        tables.inequality_table(data.dcea, basis), "dcea.csv", compared),
        ]
    else:
        left_out |= dict.fromkeys(("T3", "T4", "T5", "T11", "T12"),
                                  "no strategy has runs paired with the baseline")
    if not data.core20.empty:
        labels = {k: (v[0], v[1]) for k, v in compare.CORE20_OUTCOMES.items()}
        records.append(TableRecord(
            "T6", "core20", "The most deprived 20% (Core20) against the rest",
            "Every outcome recorded by IMD quintile, for Core20 (national IMD deciles 1-2: the "
            "most deprived 20% of England, NHS England's Core20PLUS5) and for the rest of the "
            "place (q2-q5, population-weighted): levels in each strategy (mean over seeds, 95% "
            "intervals), paired changes against the baseline, and Core20's change minus the "
            "rest's.", tables.core20_table(data.core20, labels, baseline), "runs", compared))
    else:
        left_out["T6"] = "these runs record no quintile populations (population_q1..q5)"
    if not (by_quintile := compare.quintile_table(data.results, baseline)).empty:
        labels = {k: (v[0], v[1]) for k, v in compare.QUINTILE_OUTCOMES.items()}
        records.append(TableRecord(
            "T14", "participation_nhs_by_quintile", "Participation and NHS costs by quintile",
            "Residents attending a community asset and those who took part in the past year "
            "(final policy year), and the NHS cost of their GP consultations and A&E "
            "attendances (over the policy years, discounted at the costs' rate; per person and "
            "for all residents of the quintile), by national IMD quintile and for the whole "
            "place: levels in each strategy, and each strategy's paired change against the "
            "baseline (mean over seeds, 95% t-intervals); a fall in NHS cost is a saving to "
            "the ICS.",
            tables.quintile_table(by_quintile, labels, baseline), "runs", compared))
    else:
        left_out["T14"] = "these runs record no participation or NHS cost by quintile"
    records.append(TableRecord(
        "T7", "inequality_indices", "Inequality: the gap, the SII and the RII",
        "The q5-q1 gap, the slope index of inequality (SII: the modelled difference between "
        "the least and most deprived ends of the IMD decile scale) and the relative index "
        "(RII = SII / mean) in the final policy year, mean over seeds with 95% t-intervals, and "
        "each strategy's paired change in the SII with its interval.",
        tables.sii_table(data.table, baseline), "summary_table.csv", compared))
    if not data.staircase.empty:
        records.append(TableRecord(
            "T8", "staircase", "The inequality staircase by quintile",
            "From need to benefit, by IMD quintile: person-years lived with need above the "
            "referral threshold, referrals, referrals followed up, referred people who started "
            "a group and those still attending 12 weeks on, each per 1,000 residents a policy "
            "year (mean over seeds, 95% intervals), the share of the earlier step each keeps, "
            "and the mean benefit of referred starters while attending.",
            tables.staircase_table(data.staircase, compare.STAIRCASE_STEPS,
                                   compare.STAIRCASE_SHARE_OF, compare.STAIRCASE_BENEFIT),
            "runs", compared))
    else:
        left_out["T8"] = SweepDataNote.V3.format("in_need_q1 ... benefit_referred_q5")
    if not data.decomposition.empty:
        records.append(TableRecord(
            "T9", "gap_decomposition", "What makes the gap, and what moved it",
            "The q5-q1 gap in the final policy year split into parts that sum to it: the "
            "deprivation gradient built in, need untouched by any asset, need as assets changed "
            "it, the benefit of attending, the benefit of green space and wellbeing still "
            "adjusting; levels (mean over seeds, 95% intervals) and each strategy's paired "
            "change in each part.",
            tables.decomposition_table(data.decomposition, PART_LABELS, baseline), "runs",
            compared))
    else:
        left_out["T9"] = SweepDataNote.V3.format("gap_part_*")
    records += _mechanism_records(data.results, baseline, compared, left_out)
    if sweep.uncertainty is not None:
        u = sweep.uncertainty
        records.append(TableRecord(
            "T10", "posterior", "How sure: effects over the calibration's posterior",
            "Each strategy against the same-draw, same-seed status quo at each of the "
            "calibration's posterior draws (`abm uncertainty`): the mean change with the 90% "
            "interval over draws, and the probability that it gains WELLBYs and that it "
            "narrows the gap (the share of draws), with its Monte Carlo standard error "
            "sqrt(p(1-p)/draws) and the counts of draws.",
            uncertainty_display(u.table), str(u.cited_file), [],
            cite={"path": str(u.cited_file), "sha256": u.sha256}))
    else:
        left_out["T10"] = ("no `abm uncertainty` results for this sweep were found beside it "
                           "or given (--uncertainty DIR)")
    if not data.dcea.empty:
        records += [
            TableRecord("T11", "concentration_index", "Concentration index",
                        "The concentration index of wellbeing-years per person across IMD "
                        "quintiles ranked from most to least deprived (0: equal; above 0: "
                        "concentrated among the less deprived), in the baseline and with each "
                        "strategy's net health benefit added, and its fall, mean over seeds "
                        f"with 95% intervals ({basis}).",
                        tables.concentration_table(data.dcea, basis), "dcea.csv", compared),
            TableRecord("T12", "ede_profile", "Equally distributed equivalent over aversion",
                        "Equally distributed equivalent wellbeing-years per person and the "
                        "equity impact at a range of inequality aversions, Atkinson (relative) "
                        "and Kolm (absolute, per QALY), the English public's values marked "
                        f"(Atkinson {ENGLISH_ATKINSON:g}, Kolm {ENGLISH_KOLM:g}; Robson et al., "
                        f"Health Econ 2017); {basis}, mean over seeds with 95% intervals.",
                        tables.profile_table(data.profile, basis), "dcea_profile.csv",
                        compared),
        ]
    return records, left_out


def _mechanism_records(results: pd.DataFrame, baseline: str, compared: list[str],
                       left_out: dict[str, str]) -> list[TableRecord]:
    """T13, for a sweep that runs ``mechanisms/*`` scenarios beside the status quo (as
    ``experiments/mechanisms.yaml`` does): what each mechanism does to the gap
    (:mod:`abm.analysis.decomposition`). Other sweeps have no T13 and no note about it."""
    if not decomposition.has_mechanisms(results):
        return []
    table = decomposition.mechanism_table(results, baseline)
    if table.empty:
        left_out["T13"] = SweepDataNote.V3.format("gap_part_*")
        return []
    return [TableRecord(
        "T13", "mechanisms", "What each mechanism does to the gap",
        "The q5-q1 gap and its parts (final policy year, life-satisfaction points) under the "
        "status quo, with every asset removed, with each mechanism switched off and with each "
        "at the top of its plausible range (scenarios/mechanisms/). The status quo's row gives "
        "levels; every other row the paired change against the status quo run with the same "
        "seed (parts sum to the gap's change), and that change as a share of the status quo's "
        "gap; mean over seeds with 95% t-intervals.",
        decomposition.display(table), "runs", compared)]


class SweepDataNote:
    """Notes on what an earlier model version's runs cannot show."""

    V3 = ("these runs lack the Model v3 outputs it needs (summary columns {}): the model "
          "version that made them records none")


#: The report's sections: anchor, heading, the ids in it (in order).
SECTIONS = (
    ("changes", "Changes against the status quo", ("T1", "F1", "T2", "F6")),
    ("core20", "The most deprived 20% (Core20)", ("T6", "F4", "T14")),
    ("inequality", "Inequality: the gap and the SII", ("T7", "F2", "F3")),
    ("staircase", "From need to benefit: the staircase", ("T8", "F9")),
    ("gap", "What makes the gap, and what moved it", ("T9", "F10", "T13")),
    ("uncertainty", "How sure: the calibration's posterior", ("T10", "F11")),
    ("dcea", "Distributional cost-effectiveness", ("T3", "F8", "T4", "F7", "T5", "T11", "T12",
                                                    "F12")),
    ("providers", "Providers and funding cliffs", ("F5",)),
)


# --- making the report -------------------------------------------------------------------------
@dataclass
class _Context:
    sweep: Sweep
    tables: list[TableRecord]
    figures: list[DrawnFigure]
    left_out: dict[str, str]
    ids: dict
    command: str
    national: national.Section | None = None  # many places: abm/report/national.py

    def table(self, item: str) -> TableRecord | None:
        return next((t for t in self.tables if t.id == item), None)

    def figure(self, item: str) -> DrawnFigure | None:
        return next((f for f in self.figures if f.record.id == item), None)


def make_report(folder: str | Path, out: str | Path | None = None,
                baseline: str | None = None, *, allow_incomplete: bool = False,
                uncertainty: str | Path | None = None, docx: bool = False,
                xlsx: bool = False, frontier: str | Path | None = None) -> dict[str, Path]:
    """Write the report of the sweep in ``folder`` into ``out`` (with the best mixes of the
    ``abm frontier`` results folder ``frontier``, if given); return the files written.

    ``--out`` and every input are checked, and everything is made in memory, before the first
    file is written (see the module docstring).
    """
    folder = require_folder(folder)
    out = check_out_folder(out if out is not None else folder / "report")
    sweep = read_sweep(folder, baseline, allow_incomplete=allow_incomplete,
                       uncertainty=uncertainty)
    files, named = _render(sweep, folder, out, baseline, uncertainty, docx, xlsx, frontier)
    notes = write_summary_files(sweep.summarised)
    for path, content in files.items():
        write_bytes(content, path)
    named["notes"] = notes  # type: ignore[assignment]
    return named


def _render(sweep: Sweep, folder: Path, out: Path, baseline: str | None,
            uncertainty: str | Path | None, docx: bool, xlsx: bool,
            frontier: str | Path | None = None) -> tuple[dict[Path, bytes], dict[str, Path]]:
    """Every file of the report and of the results folder, made in memory: (path -> bytes,
    name -> path)."""
    data = _first_point(sweep.data)
    figures = draw_figures(data, out / "figures")
    report_tables, left_out = _report_tables(sweep)
    left_out |= unavailable(data)
    command = _command(folder, out, baseline, uncertainty, sweep.incomplete, docx, xlsx,
                       frontier)
    ids = _ids(sweep, report_tables, figures, folder, out, command)
    extra = national.section(sweep.data, folder, out, command)  # None below three places
    ids["ids"] |= extra.ids if extra else {}
    context = _Context(sweep, report_tables, figures, left_out, ids, command, extra)
    files: dict[Path, bytes] = {}
    named: dict[str, Path] = {}

    def add(name: str, path: Path, content: bytes | str) -> None:
        files[path] = content.encode("utf-8") if isinstance(content, str) else content
        named[name] = path

    for name, path, content in _results_folder_files(sweep, report_tables[0]):
        add(name, path, content)
    for record in report_tables:
        add(record.id, out / "tables" / f"{record.id}_{record.slug}.csv",
            tables.csv_bytes(record.frame))
    for figure in figures:
        for fmt, content in figure.content.items():
            add(f"{figure.record.id}_{fmt}", figure.record.files[fmt], content)
    for path, content in (extra.files if extra else {}).items():
        add(path.stem, path, content)
    add("ids", out / "ids.json", json.dumps(ids, indent=2, default=str) + "\n")
    page, text = _html(context), _markdown(context, out)
    best = frontier_section(frontier) if frontier is not None else None  # abm/report/frontier.py
    if best is not None:
        page = page.replace('<h2 id="methods">', best.html + '\n<h2 id="methods">', 1)
        text = text.replace("## Methods in brief", best.markdown + "\n## Methods in brief", 1)
    add("html", out / "report.html", page)
    add("markdown", out / "report.md", text)
    if docx or xlsx:
        items = _office_items(context)
        if docx:
            add("docx", out / "report.docx", office.docx_bytes(
                _title(context), _description(context), _key_lines(context), items))
        if xlsx:
            add("xlsx", out / "report.xlsx", office.xlsx_bytes(_title(context), items))
    return files, named


def _first_point(data: SweepData) -> SweepData:
    """Figures show the first parameter point of a grid or sample (tables show them all)."""
    if data.results.point.nunique() <= 1:
        return data
    point = data.results.point.min()

    def keep(frame):
        return frame if frame is None or "point" not in frame else frame[frame.point == point]

    return SweepData(keep(data.results), keep(data.weekly), keep(data.table), keep(data.dcea),
                     keep(data.dcea_quintile), data.baseline, keep(data.core20),
                     keep(data.staircase), keep(data.decomposition), keep(data.profile),
                     data.uncertainty)


def _parquet(frame: pd.DataFrame) -> bytes:
    buffer = io.BytesIO()
    pq.write_table(pa.Table.from_pandas(frame, preserve_index=False), buffer)
    return buffer.getvalue()


def _results_folder_files(sweep: Sweep, changes: TableRecord
                          ) -> list[tuple[str, Path, bytes | str]]:
    """The labelled table, the DCEA tables (CSV, Parquet and Excel) and the codebook, for
    the results folder."""
    folder, data = sweep.folder, sweep.data
    files: list[tuple[str, Path, bytes | str]] = [
        ("table_labelled_csv", folder / "table_labelled.csv", tables.csv_bytes(changes.frame)),
        ("table_labelled_md", folder / "table_labelled.md",
         f"# {changes.title}\n\n{md_text(changes.caption)}\n\n{_md_table(changes.display)}\n"),
    ]
    described: dict[str, object] = {"summary": data.results.columns,
                                    "table": data.table.columns}
    if data.weekly is not None:
        described["weekly"] = [c for c in data.weekly.columns
                               if c not in ("scenario", "place", "point", "seed")]
    dcea_frames = {"dcea": data.dcea, "dcea_quintile": data.dcea_quintile,
                   "dcea_profile": data.profile}
    for name, frame in dcea_frames.items():
        if not frame.empty:
            described[name] = frame.columns
            files += [(f"{name}_csv", folder / f"{name}.csv", tables.csv_bytes(frame)),
                      (f"{name}_parquet", folder / f"{name}.parquet", _parquet(frame))]
    if not data.dcea.empty:
        files.append(("dcea_xlsx", folder / "dcea.xlsx", office.dcea_xlsx_bytes(
            {name: frame for name, frame in dcea_frames.items() if not frame.empty})))
    for name in ("core20", "staircase"):
        if not getattr(data, name).empty:
            described[name] = getattr(data, name).columns
    if not data.decomposition.empty:
        described["gap_parts"] = data.decomposition.columns
    if data.uncertainty is not None:
        described["uncertainty"] = data.uncertainty.columns
    frame = codebook.codebook_frame(described)
    files += [("codebook_csv", folder / "codebook.csv", tables.csv_bytes(frame)),
              ("codebook_md", folder / "codebook.md", codebook.codebook_markdown(frame))]
    return files


def _command(folder: Path, out: Path, baseline: str | None, uncertainty, incomplete: str,
             docx: bool, xlsx: bool, frontier: str | Path | None = None) -> str:
    parts = ["abm", "report", str(folder), "--out", str(out)]
    if frontier is not None:
        parts += ["--frontier", str(frontier)]
    if baseline:
        parts += ["--baseline", baseline]
    if uncertainty is not None:
        parts += ["--uncertainty", str(uncertainty)]
    if incomplete:
        parts.append("--allow-incomplete")
    parts += ["--docx"] * docx + ["--xlsx"] * xlsx
    return shlex.join(parts)


def _ids(sweep: Sweep, report_tables: list[TableRecord], figures: list[DrawnFigure],
         folder: Path, out: Path, command: str) -> dict:
    """Every citable id: what it is, the runs it comes from, its sources and its command."""
    ids = {}
    for t in report_tables:
        ids[t.id] = {"kind": "table", "title": t.title, "run_ids": t.run_ids,
                     "source": str(folder / t.source) if not t.cite else t.source,
                     "file": str(out / "tables" / f"{t.id}_{t.slug}.csv"), "command": command}
        if t.cite:
            ids[t.id]["cites"] = t.cite
    for f in figures:
        r = f.record
        ids[r.id] = {"kind": "figure", "title": r.title, "run_ids": r.run_ids,
                     "files": {k: str(v) for k, v in r.files.items()},
                     "command": shlex.join(["abm", "plot", str(folder), "--out",
                                            str(out / "figures"), "--only", r.id])}
        if r.source == "uncertainty" and sweep.uncertainty is not None:
            u = sweep.uncertainty
            ids[r.id]["cites"] = {"path": str(u.cited_file), "sha256": u.sha256}
            ids[r.id]["command"] += f" --uncertainty {shlex.quote(str(u.folder))}"
    return {"manifest": str(folder / "manifest.json"), "manifest_sha256": sweep.manifest_sha256,
            "sweep_id": sweep.manifest.get("sweep_id"), "incomplete": sweep.incomplete or None,
            "ids": ids}


# --- what the report says ------------------------------------------------------------------------
def summary_sentences(sweep: Sweep, changes: pd.DataFrame) -> list[str]:
    """Per place, what each strategy did to the gap, wellbeing and WELLBYs, and the one-line
    verdict, quoting T1's cells."""
    health, _ = tables.basis_words(sweep.data.table)
    gap, wellbeing = "q5-q1 gap (points)", "Mean wellbeing (points, 0-10)"
    wellbys = f"WELLBYs ({health})"
    sentences = []
    for place, rows in changes.groupby("Place", sort=False):
        narrowed = [r["Strategy"] for _, r in rows.iterrows() if _words(r[gap]) == "narrowed"]
        sentences.append(
            f"In {place}, the gap between the most and least deprived narrowed clearly under "
            f"{_join(narrowed)}." if narrowed else
            f"In {place}, no strategy clearly narrowed the gap between the most and least "
            "deprived.")
        for _, r in rows.iterrows():
            sentences.append(
                f"{r['Strategy']}: the q5-q1 gap {_verb(r[gap])} ({_value(r[gap])} points), "
                f"mean wellbeing {_verb(r[wellbeing])} ({_value(r[wellbeing])} points), "
                f"{_value(r[wellbys])} WELLBYs {health} ({_words(r[wellbys])}); verdict: "
                f"{r[tables.VERDICT]}.")
    return sentences


def key_messages(c: _Context) -> list[tuple[str, tuple[str, ...]]]:
    """Sentences a board paper can lift, each with the ids of the table and figure behind
    it: per place, the strategy that gains the most and what it does to the gap; the gap and
    which strategies moved it; what makes the gap; Core20 against the rest; the staircase;
    how sure (over the posterior); the equity impact plane."""
    data, baseline = c.sweep.data, c.sweep.baseline
    health, _ = tables.basis_words(data.table)
    t1 = c.table("T1").display
    table = data.table[data.table.point == data.table.point.min()]
    messages = []
    for place in dict.fromkeys(table.place):
        name = tables.place_name(place)
        rows = table[(table.place == place) & (table.scenario != baseline)]
        base = table[(table.place == place) & (table.scenario == baseline)]
        if rows.empty or base.empty:
            continue
        best = rows.sort_values("wellby_gain_disc", ascending=False).iloc[0]
        strategy = tables.strategy_name(best.scenario)
        cell = _t1(t1, name, strategy, f"WELLBYs ({health})")
        if best.wellby_gain_disc_lo > 0:
            messages.append((f"In {name}, {strategy} gains the most wellbeing against "
                             f"{tables.in_sentence(baseline)}: {_value(cell)} WELLBYs "
                             f"({health}); {best.verdict_equity}.", ("T1", "F1")))
        else:
            messages.append((f"In {name}, no strategy clearly gains WELLBYs against "
                             f"{tables.in_sentence(baseline)} (the largest mean: "
                             f"{strategy}, {_value(cell)} WELLBYs, {health}).", ("T1", "F1")))
        gap_level = base.gap_q5_q1.iloc[0]
        narrowed = [tables.strategy_name(r.scenario) for r in rows.itertuples()
                    if r.delta_gap_q5_q1_hi < 0]
        widened = [tables.strategy_name(r.scenario) for r in rows.itertuples()
                   if r.delta_gap_q5_q1_lo > 0]
        biggest = rows.delta_gap_q5_q1.abs().max()
        gap_words = (f"The gap between the most and least deprived fifths in {name} is "
                     f"{tables.number(gap_level, 2)} life-satisfaction points under "
                     f"{tables.in_sentence(baseline)}; ")
        gap_words += (f"it narrowed clearly under {_join(narrowed)}" if narrowed
                      else "no strategy clearly narrowed it")
        gap_words += f", widened under {_join(widened)}" if widened else ""
        gap_words += (f"; no strategy moved it by more than "
                      f"{tables.number(biggest, tables.decimals(biggest))} points.")
        messages.append((gap_words, ("T1", "T7", "F2")))
        if not data.decomposition.empty:
            messages.append((_decomposition_message(c, place, best.scenario), ("T9", "F10")))
        if c.table("T13") is not None:
            messages += [(text, ("T13",)) for text in _mechanism_messages(c, place)]
        if not data.core20.empty:
            messages.append((_core20_message(c, place, best.scenario), ("T6",)))
        if not data.staircase.empty:
            messages.append((_staircase_message(c, place), ("T8", "F9")))
        if data.uncertainty is not None:
            u = data.uncertainty
            chosen = u[(u.place == place) & (u.scenario == best.scenario)]
            if not chosen.empty:
                messages.append((uncertainty_sentence(chosen.iloc[0]), ("T10", "F11")))
        if c.table("T4") is not None:
            plane = c.table("T4").display
            row = plane[(plane.Place == name) & (plane.Strategy == strategy)
                        & (plane.Threshold == HEADLINE_THRESHOLD)
                        & (plane["Opportunity cost spread"] == HEADLINE_GRADIENT)]
            if not row.empty:
                messages.append((f"On the equity impact plane, {strategy} in {name} lies at "
                                 f"{row.iloc[0]['Equity impact plane']} (net health benefit "
                                 f"against NICE's GBP 20,000 per QALY).", ("T4", "F7")))
    return messages


def _decomposition_message(c: _Context, place: str, scenario: str) -> str:
    d = c.sweep.data.decomposition
    base = d[(d.place == place) & (d.scenario == c.sweep.baseline)].set_index("part")
    mine = d[(d.place == place) & (d.scenario == scenario)].set_index("part")
    changes = mine.loc[list(compare.GAP_PARTS), "delta_value"] if not mine.empty else None
    if base.empty or changes is None or changes.isna().all():
        return ""  # no gap to split (a quintile with nobody in it, say): no message
    touch = base.loc[list(compare.GAP_PARTS_ASSETS_TOUCH), "value"].sum()
    gap = base.loc["gap_q5_q1", "value"]
    moved = mine.loc["gap_q5_q1", "delta_value"]
    if pd.isna(gap) or pd.isna(moved):
        return ""
    biggest = changes.abs().idxmax()
    places = tables.decimals(moved, mine.loc["gap_q5_q1", "delta_value_lo"],
                             mine.loc["gap_q5_q1", "delta_value_hi"]) if moved else 3
    return (f"Of the {tables.number(gap, 2)}-point gap in {tables.place_name(place)}, the "
            f"parts community assets act on (need as assets changed it, the benefit of "
            f"attending and of green space) come to {tables.number(touch, 3, True)} points; the "
            "rest is the deprivation gradient built in, need no asset touches and wellbeing "
            f"still adjusting. {tables.strategy_name(scenario)} moved the gap by "
            f"{tables.number(moved, places, True)} points, most through "
            f"'{PART_LABELS[biggest]}'.")


def _mechanism_messages(c: _Context, place: str) -> list[str]:
    """What removing every asset does to the gap in ``place``, and which mechanism moves it
    the most at the top of its plausible range (from the numbers behind T13)."""
    table = decomposition.mechanism_table(c.sweep.data.results, c.sweep.baseline)
    mine = table[(table.place == place) & (table.point == table.point.min())]
    return decomposition.place_sentences(mine)


def _core20_message(c: _Context, place: str, scenario: str) -> str:
    t6 = c.table("T6").display
    row = t6[(t6.Place == tables.place_name(place))
             & (t6.Strategy == tables.strategy_name(scenario))
             & (t6.Outcome == compare.CORE20_OUTCOMES["wellbeing"][0])]
    if row.empty:
        return ""
    r = row.iloc[0]
    return (f"In the most deprived 20% nationally (Core20) in {tables.place_name(place)}, life "
            f"satisfaction changed by {r['Change in Core20']} points under "
            f"{tables.strategy_name(scenario)}, against {r['Change in the rest']} in the rest: "
            f"{r['In words']}.")


def _staircase_message(c: _Context, place: str) -> str:
    s = c.sweep.data.staircase
    base = s[(s.place == place) & (s.scenario == c.sweep.baseline)].set_index("quintile")

    def n(q: str, step: str) -> str:
        value = base.loc[q, step]
        return tables.number(value, tables.decimals(value))

    return (f"Under {tables.in_sentence(c.sweep.baseline)} in "
            f"{tables.place_name(place)}, of every 1,000 Core20 residents a year, "
            f"{n('q1', 'in_need')} person-years are lived in need, {n('q1', 'referred')} "
            f"referrals are made and {n('q1', 'attending_12w')} referred people still attend a "
            f"group 12 weeks after starting (least deprived fifth: {n('q5', 'in_need')}, "
            f"{n('q5', 'referred')} and {n('q5', 'attending_12w')}).")


def _t1(t1: pd.DataFrame, place: str, strategy: str, column: str) -> str:
    row = t1[(t1.Place == place) & (t1.Strategy == strategy)]
    return str(row.iloc[0][column]) if not row.empty else "n/a"


def _verb(cell: str) -> str:
    words = _words(cell)
    return "showed no clear change" if words == "no clear change" else words


def _words(cell: str) -> str:
    return cell.rsplit("(", 1)[1].rstrip(")") if "(" in cell else ""


def _value(cell: str) -> str:
    return cell.rsplit(" (", 1)[0]


def _join(names: list[str]) -> str:
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]


def _provenance_rows(sweep: Sweep, command: str) -> list[tuple[str, str]]:
    m = sweep.manifest
    first = m.get("provenance") or {}
    resolved = m.get("resolved") or {}
    now = provenance()
    commit = first.get("git_commit") or "unknown (not recorded)"
    dirty = " (with uncommitted changes)" if first.get("git_dirty") else ""
    packages = ", ".join(f"{k} {v}" for k, v in (first.get("packages") or {}).items())
    rows = [
        ("Sweep file", f"{m.get('spec_path')} (sha256 {m.get('spec_sha256')})"),
        ("Sweep id", str(m.get("sweep_id"))),
        ("Manifest", f"{sweep.folder / 'manifest.json'} (sha256 {sweep.manifest_sha256})"),
        ("Runs", f"{len(sweep.run_ids)} in the manifest, {len(sweep.trusted.results)} done "
                 f"(from the checksummed parts); status {m.get('status')}"),
        ("Git commit of the runs", f"{commit}{dirty}"),
        ("Model version", str(first.get("model_version"))),
        ("Python and platform", f"{first.get('python')} on {first.get('platform')}"),
        ("Package versions", packages),
        ("Seeds", f"{resolved.get('seeds')} seeds from master seed {resolved.get('master_seed')}: "
                  f"{', '.join(str(s) for s in resolved.get('seed_values') or [])}"),
        ("Years", f"{resolved.get('years')} policy years after the burn-in"),
        ("Created", f"{m.get('created_at')}; invocations: {len(m.get('invocations') or [])}"),
        ("Report made by", f"abm {__version__}, git {now['git_commit']}"
                           f"{' (with uncommitted changes)' if now['git_dirty'] else ''}, at "
                           f"{dt.datetime.now(dt.UTC).isoformat(timespec='seconds')}"),
        ("Regenerate", command),
    ]
    if sweep.uncertainty is not None:
        u = sweep.uncertainty
        rows.insert(3, ("Uncertainty analysis (T10, F11)",
                        f"{u.cited_file} (sha256 {u.sha256})"))
    return rows


def _method_notes(sweep: Sweep) -> list[str]:
    results = sweep.data.results
    health, costs = tables.basis_words(sweep.data.table)
    wpq = (float(results["wellbys_per_qaly"].iloc[0]) if "wellbys_per_qaly" in results
           else float(BY_NAME["wellbys_per_qaly"].default) if "wellbys_per_qaly" in BY_NAME
           else None)
    conversion = (f"{wpq:g} WELLBYs per QALY (the model's wellbys_per_qaly)" if wpq is not None
                  else f"{FALLBACK_WELLBYS_PER_QALY:.2f} WELLBYs per QALY (assumption: ratio of "
                       "the Green Book's values of a QALY, GBP 70,000, and a WELLBY, GBP 13,000;"
                       " this model version declares no wellbys_per_qaly)")
    discounting = (f"Basis: WELLBYs and QALYs are {health} and money {costs}, to the first "
                   "policy year (the Green Book's headline basis, which the console leads with "
                   "too); every header says its basis. Undiscounted figures are in "
                   "summary_table.csv, dcea.csv and dcea.xlsx."
                   if has_discounted(results) else
                   "This model version records no discounted totals: all totals are "
                   "undiscounted.")
    return [
        "Paired comparisons: every strategy runs with the same seeds as the baseline (common "
        "random numbers); changes are per-seed differences, summarised by their mean and 95% "
        "t-interval. Cost-per-WELLBY intervals are paired BCa bootstraps over seeds "
        "(scipy.stats.bootstrap).",
        discounting,
        "Core20: the most deprived 20% of England (national IMD deciles 1-2, quintile q1), "
        "NHS England's Core20PLUS5; the rest is quintiles q2-q5 weighted by their populations. "
        "The SII is the slope of life satisfaction across IMD deciles (least minus most "
        "deprived end), with 95% t-intervals over seeds.",
        "Health opportunity cost: extra spend divided by a threshold: "
        + "; ".join(f"{t.name} = {t.source}" for t in THRESHOLDS)
        + f". It is spread over quintiles equally per person or on a deprivation gradient "
        f"({', '.join(f'{k} {v}' for k, v in GRADIENTS.items())} for q1..q5 of England; "
        f"{GRADIENT_SOURCE}), re-weighted by each place's quintile populations.",
        f"QALY equivalents use {conversion}.",
        "Inequality: wellbeing-years per person by quintile in the baseline and with the net "
        "health benefit added; Atkinson index and EDE at aversion 0, 1, 3.5 and 10.95 (the "
        "English public's median, Robson et al., Health Econ 2017), and profiles over a range "
        "of Atkinson and Kolm aversions (Kolm per QALY, on the levels in QALY equivalents; "
        "English public 0.15). Both aversions were elicited for lifetime quality-adjusted life "
        "expectancy; applied here to wellbeing-years over the horizon they carry over only "
        "approximately. Equity impact = equity-weighted minus unweighted net health benefit: "
        "positive when inequality falls. The concentration index ranks quintiles from most to "
        "least deprived. NICE's support document (PMG36, 2025) asks for these by IMD quintile "
        "and applies no inequality weights in its base case.",
        "Uncertainty over the calibration (T10, F11): P(gains) and P(narrows) are shares of "
        "posterior draws; their Monte Carlo standard error is sqrt(p(1-p)/draws), which is 0 "
        "when every draw agrees (so the counts are given too).",
    ]


# --- HTML --------------------------------------------------------------------------------------
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
.incomplete{background:#fff3e0;border-left:4px solid #D55E00;padding:.5rem .8rem}
.note{color:#555;font-style:italic}
"""


def _html(c: _Context) -> str:
    parts = [
        "<!DOCTYPE html>", '<html lang="en"><head><meta charset="utf-8">',
        "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; "
        "img-src data:; style-src 'unsafe-inline'\">",
        f"<title>{_e(_title(c))}</title><style>{CSS}</style></head><body>",
        f"<h1>{_e(_title(c))}</h1>",
    ]
    if c.sweep.incomplete:
        parts.append(f'<p class="incomplete"><b>Incomplete sweep.</b> '
                     f"{_e(_incomplete_words(c))}</p>")
    parts += [f"<p>{_e(_description(c))}</p>", '<h2 id="summary">Summary</h2>',
              "<p>Key messages (each names the table and figure it rests on):</p>",
              '<ul class="summary">',
              *[f"<li>{_e(text)} ({_e(', '.join(refs))})</li>"
                for text, refs in key_messages(c) if text],
              "</ul>", "<details><summary>Every strategy, place by place</summary><ul>",
              *[f"<li>{_e(s)}</li>" for s in summary_sentences(c.sweep, c.tables[0].display)],
              "</ul></details>",
              f'<p class="note">{_e(_cite_line(c))}</p>']
    for anchor, heading, items in SECTIONS:
        parts.append(f'<h2 id="{anchor}">{_e(heading)}</h2>')
        for item in items:
            if (t := c.table(item)) is not None:
                parts += [f'<h3 id="{t.id}">{t.id}. {_e(t.title)}</h3>', f"<p>{_e(t.caption)}</p>",
                          _html_table(t.display), _html_cite(c, t.id)]
            elif (f := c.figure(item)) is not None:
                r = f.record
                svg = base64.b64encode(f.content["svg"]).decode()
                parts += [f'<figure id="{r.id}"><img alt="{_e(r.id)}: {_e(r.title)}" '
                          f'src="data:image/svg+xml;base64,{svg}">',
                          f"<figcaption><b>{r.id}. {_e(r.title)}.</b> {_e(r.caption)}"
                          "</figcaption></figure>", _html_cite(c, r.id)]
            elif item in c.left_out:
                parts.append(f'<p class="note">{_e(item)} is left out: '
                             f"{_e(c.left_out[item])}.</p>")
    parts += _national_html(c)
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


def _national_html(c: _Context) -> list[str]:
    """The national section's HTML (nothing for fewer than three places)."""
    part = c.national
    if part is None:
        return []
    svg = base64.b64encode(part.files[part.figure["svg"]]).decode()
    fid, tid = national.FIGURE_ID, national.TABLE_ID
    return [f'<h2 id="national">{_e(national.TITLE.format(n=part.n_places))}</h2>',
            '<ul class="summary">', *[f"<li>{_e(s)}</li>" for s in part.sentences], "</ul>",
            f'<h3 id="{tid}">{tid}. {_e(national.TABLE_TITLE)}</h3>',
            f"<p>{_e(national.TABLE_CAPTION)}</p>", _html_table(part.table), _html_cite(c, tid),
            f'<figure id="{fid}"><img alt="{fid}: {_e(national.FIGURE_TITLE)}" '
            f'src="data:image/svg+xml;base64,{svg}"><figcaption><b>{fid}. '
            f"{_e(national.FIGURE_TITLE)}.</b> {_e(national.FIGURE_CAPTION)}</figcaption>"
            "</figure>", _html_cite(c, fid)]


def _national_markdown(c: _Context, out: Path) -> list[str]:
    """The national section's Markdown lines (nothing for fewer than three places)."""
    part = c.national
    if part is None:
        return []
    fid, tid = national.FIGURE_ID, national.TABLE_ID
    figure = part.figure["png"].relative_to(out).as_posix()
    return [f"## {md_text(national.TITLE.format(n=part.n_places))}", "",
            *[f"- {md_text(s)}" for s in part.sentences], "",
            f"### {tid}. {md_text(national.TABLE_TITLE)}", "", md_text(national.TABLE_CAPTION),
            "", _md_table(part.table), "", _md_cite(c, tid), "",
            f"### {fid}. {md_text(national.FIGURE_TITLE)}", "",
            f"![{fid}: {md_text(national.FIGURE_TITLE)}]({figure})", "",
            md_text(national.FIGURE_CAPTION), "", _md_cite(c, fid), ""]


def _html_table(frame: pd.DataFrame) -> str:
    head = "".join(f"<th>{_e(col)}</th>" for col in frame.columns)
    body = "".join("<tr>" + "".join(f"<td>{_e(v)}</td>" for v in row) + "</tr>"
                   for row in frame.itertuples(index=False))
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _html_cite(c: _Context, item: str) -> str:
    entry = c.ids["ids"][item]
    runs = entry["run_ids"]
    source = (f"{len(runs)} runs" if runs else
              f"from {entry['cites']['path']} (sha256 {entry['cites']['sha256']})")
    return (f'<div class="cite">Cite as <b>{item}</b> of sweep <code>{_e(c.ids["sweep_id"])}'
            f"</code>, manifest sha256 <code>{_e(c.ids['manifest_sha256'])}</code>; "
            f"{_e(source)}. Regenerate: <code>{_e(entry['command'])}</code>"
            f"<details><summary>Run ids</summary><code>{_e(' '.join(runs))}</code></details>"
            "</div>")


def _cite_line(c: _Context) -> str:
    return (f"Cite a number as, for example, \"T1 of sweep {c.ids['sweep_id']}, manifest "
            f"sha256 {c.ids['manifest_sha256']}\", with the value the report prints.")


def _codebook_frame(sweep: Sweep) -> pd.DataFrame:
    described = {"summary": sweep.data.results.columns, "table": sweep.data.table.columns}
    return codebook.codebook_frame(described).rename(columns=str.capitalize)


def _title(c: _Context) -> str:
    title = f"Community assets and health disparities: report of {c.sweep.folder.name}"
    return f"Incomplete: {title}" if c.sweep.incomplete else title


def _incomplete_words(c: _Context) -> str:
    return (f"{c.sweep.incomplete}. This report covers only the runs done "
            "(--allow-incomplete): its numbers will change when the sweep is finished.")


def _description(c: _Context) -> str:
    m = c.sweep.manifest
    resolved = m.get("resolved") or {}
    scenarios = ", ".join(tables.strategy_name(s["name"])
                          for s in resolved.get("scenarios") or [])
    places = ", ".join(tables.place_name(p) for p in resolved.get("places") or []) or (
        "each scenario's own place")
    text = (f"Strategies {scenarios} compared with "
            f"'{tables.strategy_name(c.sweep.baseline)}' in {places}: "
            f"{resolved.get('seeds')} seeds each, {resolved.get('years')} policy years "
            "(the horizon of every total).")
    points = resolved.get("points") or [{}]
    if len(points) > 1:
        text += (f" The sweep has {len(points)} parameter points: the tables list each; the "
                 "figures show the first.")
    return text


def _e(text) -> str:
    return html.escape(str(text))


# --- Markdown ----------------------------------------------------------------------------------
#: Characters with a meaning in Markdown anywhere in a line (CommonMark, GFM tables and
#: Python-Markdown), escaped with a backslash wherever a name or other text is written; and
#: what means something only at the start of a line (a list, quote or heading underline).
_MD_SPECIAL = re.compile(r"([\\`*_{}\[\]#|])")
_MD_LINE_START = re.compile(r"^(\d{0,9})([+\-.)])")
_MD_ENTITIES = {"&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;"}


def md_text(text) -> str:
    """``text`` made inert in Markdown: HTML's ``<``, ``>``, ``&`` and ``"`` as entities (so no
    tag, comment or autolink can open), the characters that start a link, image, emphasis,
    code span, heading or table cell backslash-escaped (a ``(`` or ``!`` means nothing
    without the ``[`` escaped), a list marker at its start escaped, control characters shown
    as escapes and line breaks as spaces."""
    text = printable(str(text).replace("\r\n", " ").replace("\n", " ").replace("\r", " "))
    text = _MD_SPECIAL.sub(r"\\\1", text)
    start = _MD_LINE_START.match(text)
    if start and (start[1] == "") == (start[2] in "+-"):  # "+x", "-x", "1.", "2)"
        text = f"{start[1]}\\{text[len(start[1]):]}"
    return "".join(_MD_ENTITIES.get(ch, ch) for ch in text)


def md_code(text) -> str:
    """``text`` as a Markdown code span that nothing in it can close: fenced by more backticks
    than its longest run of them (Markdown shows code spans literally, HTML escaped)."""
    text = printable(str(text).replace("\n", " "))
    longest = max((len(run) for run in re.findall(r"`+", text)), default=0)
    fence = "`" * (longest + 1)
    pad = " " if text.startswith("`") or text.endswith("`") or longest else ""
    return f"{fence}{pad}{text}{pad}{fence}"


def _markdown(c: _Context, out: Path) -> str:
    lines = [f"# {md_text(_title(c))}", ""]
    if c.sweep.incomplete:
        lines += [f"> **Incomplete sweep.** {md_text(_incomplete_words(c))}", ""]
    lines += [md_text(_description(c)), "", "## Summary", "",
              "Key messages (each names the table and figure it rests on):", ""]
    lines += [f"- {md_text(text)} ({', '.join(refs)})" for text, refs in key_messages(c)
              if text]
    lines += ["", "Every strategy, place by place:", ""]
    lines += [f"- {md_text(s)}" for s in summary_sentences(c.sweep, c.tables[0].display)]
    lines += ["", md_text(_cite_line(c)), ""]
    for _, heading, items in SECTIONS:
        lines += [f"## {md_text(heading)}", ""]
        for item in items:
            if (t := c.table(item)) is not None:
                lines += [f"### {t.id}. {md_text(t.title)}", "", md_text(t.caption), "",
                          _md_table(t.display), "", _md_cite(c, t.id), ""]
            elif (f := c.figure(item)) is not None:
                r = f.record
                relative = r.files["png"].relative_to(out)
                lines += [f"### {r.id}. {md_text(r.title)}", "",
                          f"![{r.id}: {md_text(r.title)}]({relative.as_posix()})", "",
                          md_text(r.caption), "", _md_cite(c, r.id), ""]
            elif item in c.left_out:
                lines += [f"*{item} is left out: {md_text(c.left_out[item])}.*", ""]
    lines += _national_markdown(c, out)
    lines += ["## Methods in brief", "", *[f"- {md_text(n)}" for n in _method_notes(c.sweep)],
              "", "## Provenance", "",
              *[f"- **{md_text(k)}**: {md_code(v)}"
                for k, v in _provenance_rows(c.sweep, c.command)], "",
              "## Codebook", "", "See `codebook.md` in the results folder.", ""]
    return "\n".join(lines)


def _md_table(frame: pd.DataFrame) -> str:
    head = "| " + " | ".join(md_text(col) for col in frame.columns) + " |"
    rule = "|" + "---|" * len(frame.columns)
    body = ["| " + " | ".join(md_text(v) for v in row) + " |"
            for row in frame.itertuples(index=False)]
    return "\n".join([head, rule, *body])


def _md_cite(c: _Context, item: str) -> str:
    entry = c.ids["ids"][item]
    source = (f"{len(entry['run_ids'])} runs (ids in {md_code('ids.json')})"
              if entry["run_ids"] else f"from {md_code(entry['cites']['path'])} (sha256 "
                                       f"{md_code(entry['cites']['sha256'])})")
    return (f"> Cite as **{item}** of sweep {md_code(c.ids['sweep_id'])}, manifest sha256 "
            f"{md_code(c.ids['manifest_sha256'])}; {source}. Regenerate: "
            f"{md_code(entry['command'])}")


# --- Word and Excel ----------------------------------------------------------------------------
def _key_lines(c: _Context) -> list[str]:
    return [f"{text} ({', '.join(refs)})" for text, refs in key_messages(c) if text]


def _office_items(c: _Context) -> list[office.Item]:
    """Every table and figure, in the report's order, with its citation line."""
    items = []
    for _, heading, ids in SECTIONS:
        for item in ids:
            cite = _plain_cite(c, item) if item in c.ids["ids"] else ""
            if (t := c.table(item)) is not None:
                items.append(office.Item(t.id, t.title, t.caption, cite, heading, t.frame,
                                         None))
            elif (f := c.figure(item)) is not None:
                r = f.record
                items.append(office.Item(r.id, r.title, r.caption, cite, heading, None,
                                         f.content["png"]))
    return items


def _plain_cite(c: _Context, item: str) -> str:
    entry = c.ids["ids"][item]
    source = (f"{len(entry['run_ids'])} runs (ids in ids.json)" if entry["run_ids"] else
              f"from {entry['cites']['path']} (sha256 {entry['cites']['sha256']})")
    return (f"Cite as {item} of sweep {c.ids['sweep_id']}, manifest sha256 "
            f"{c.ids['manifest_sha256']}; {source}. Regenerate: {entry['command']}")
