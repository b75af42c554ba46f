"""The sweep report: every number equals the sweep's tables, every id resolves to runs in the
manifest, nothing is fetched from anywhere, and it renders in a real browser (Chromium)."""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
from html.parser import HTMLParser
from pathlib import Path

import pandas as pd
import pytest

from abm.analysis import tables
from abm.cli import main
from experiments.runner import run_sweep

ROOT = Path(__file__).resolve().parents[2]
#: Screenshots of the report, for people to look at (gitignored).
ARTEFACTS = ROOT / "artefacts" / "screenshots"

SWEEP = """\
description: Report test - three strategies in two places, tiny runs.
scenarios: [baseline, scale, sustain]
places: [bradford, devon_ics]
seeds: 3
master_seed: 11
years: 1
record: weekly
parameters: {n_neighbourhoods: 30, residents_per_neighbourhood: 30, burn_in_years: 1}
"""


@pytest.fixture(scope="module")
def reported(tmp_path_factory) -> tuple[Path, Path]:
    """A small sweep run in this process, and its report: (results folder, report folder)."""
    base = tmp_path_factory.mktemp("report")
    spec = base / "sweep.yaml"
    spec.write_text(SWEEP)
    results = base / "results"
    assert run_sweep(spec, results, serial=True) == 0
    assert main(["report", str(results), "--out", str(base / "report")]) == 0
    return results, base / "report"


class _Tables(HTMLParser):
    """Collect the HTML tables that follow each <h3 id=...> heading, as lists of rows."""

    def __init__(self):
        super().__init__()
        self.tables: dict[str, list[list[str]]] = {}
        self._id, self._row, self._cell, self._in_table = None, None, None, False

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "h3" and attrs.get("id"):
            self._id = attrs["id"]
        elif tag == "table" and self._id and self._id not in self.tables:
            self._in_table = True
            self.tables[self._id] = []
        elif tag == "tr" and self._in_table:
            self._row = []
        elif tag in ("td", "th") and self._row is not None:
            self._cell = ""

    def handle_endtag(self, tag):
        if tag in ("td", "th") and self._cell is not None:
            self._row.append(self._cell)
            self._cell = None
        elif tag == "tr" and self._row is not None:
            self.tables[self._id].append(self._row)
            self._row = None
        elif tag == "table" and self._in_table:
            self._in_table, self._id = False, None

    def handle_data(self, data):
        if self._cell is not None:
            self._cell += data


def _html_tables(report: Path) -> dict[str, pd.DataFrame]:
    parser = _Tables()
    parser.feed((report / "report.html").read_text())
    return {key: pd.DataFrame(rows[1:], columns=rows[0]) for key, rows in parser.tables.items()}


def test_report_tables_show_exactly_the_written_tables(reported):
    _, report = reported
    shown = _html_tables(report)
    for csv in sorted((report / "tables").glob("T*.csv")):
        table_id = csv.name.split("_")[0]
        written = pd.read_csv(csv, dtype=str, keep_default_na=False)
        assert shown[table_id].columns.tolist() == written.columns.tolist(), table_id
        assert shown[table_id].to_numpy().tolist() == written.to_numpy().tolist(), table_id
    assert {"T1", "T2", "T3", "T4", "T5"} <= set(shown)


def _check_numbers(shown: pd.DataFrame, raw: pd.DataFrame, sources: dict, keys: list[str]):
    """Each displayed number (mean and interval) equals the raw value at the shown precision."""
    checked = 0
    for i, row in shown.iterrows():
        source = raw.iloc[i]
        for key, column in keys:
            assert str(source[column]) == str(row[key]), "rows must line up"
        for label, column in sources.items():
            numbers = tables.parse_numbers(row[label].split(" (")[0])
            scale = 100.0 if "percentage points" in label else 1.0
            expected = [source[column] * scale]
            if len(numbers) == 3:
                expected += [source[f"{column}_lo"] * scale, source[f"{column}_hi"] * scale]
            assert len(numbers) == len(expected), (label, row[label])
            places = tables.decimals(*expected)
            for got, want in zip(numbers, expected, strict=True):
                # equal to the raw value rounded to the places shown (tens, hundreds... when
                # the interval is wide)
                assert abs(got - want) <= 0.5 * 10.0 ** -places + 1e-9, (label, got, want)
                checked += 1
    return checked


def test_every_number_in_the_report_equals_the_sweeps_tables(reported):
    results, report = reported
    shown = _html_tables(report)
    table = pd.read_csv(results / "summary_table.csv")
    compared = table[table.scenario != "baseline"].reset_index(drop=True)
    keys = [("Place", "place"), ("Strategy", "scenario")]
    checked = _check_numbers(shown["T1"], compared, tables.SOURCES["T1"], keys)
    dcea = pd.read_csv(results / "dcea.csv")
    checked += _check_numbers(shown["T4"], dcea, tables.SOURCES["T4"], keys)
    by_quintile = pd.read_csv(results / "dcea_quintile.csv")
    basis = "discounted" if (by_quintile.basis == "discounted").any() else "undiscounted"
    headline = by_quintile[(by_quintile.threshold == "NICE 20k")
                           & (by_quintile.gradient == "moderate")
                           & (by_quintile.basis == basis)].reset_index(drop=True)
    checked += _check_numbers(shown["T3"], headline, tables.SOURCES["T3"],
                              [*keys, ("Quintile", "quintile")])
    assert checked > 500
    # T2 shows the verdict, or the BCa interval where WELLBYs were clearly gained.
    for i, row in shown["T2"].iterrows():
        assert row["Whole place (GBP per WELLBY)"] in (
            compared.loc[i, "verdict"], tables.estimate(compared.loc[i, "cost_per_wellby"],
                                                        compared.loc[i, "cost_per_wellby_lo"],
                                                        compared.loc[i, "cost_per_wellby_hi"]))


def test_the_summary_quotes_the_tables(reported):
    results, report = reported
    text = (report / "report.html").read_text()
    summary = text[text.index('id="summary"'):text.index('id="tables"')]
    t1 = " ".join(pd.read_csv(report / "tables" / "T1_changes.csv", dtype=str).to_numpy().ravel())
    t4 = " ".join(pd.read_csv(report / "tables" / "T4_dcea_totals.csv", dtype=str)
                  .to_numpy().ravel())
    quoted = re.findall(r"[+-]?\d[\d,]*\.?\d* \[[^\]]+\]", summary)
    assert len(quoted) >= 6
    for number in quoted:
        assert number in t1 or number in t4, f"{number} is in no table"
    labelled = pd.read_csv(results / "table_labelled.csv", dtype=str)
    assert labelled.to_numpy().tolist() == pd.read_csv(
        report / "tables" / "T1_changes.csv", dtype=str).to_numpy().tolist()
    assert re.search(r"(narrowed|widened|no clear change)", labelled.to_csv())


def test_every_id_resolves_to_runs_in_the_manifest(reported):
    results, report = reported
    raw = (results / "manifest.json").read_bytes()
    manifest = json.loads(raw)
    ids = json.loads((report / "ids.json").read_text())
    assert ids["manifest_sha256"] == hashlib.sha256(raw).hexdigest()
    assert ids["sweep_id"] == manifest["sweep_id"]
    in_manifest = {r["run_id"] for r in manifest["runs"]}
    html = (report / "report.html").read_text()
    cited = set(re.findall(r'<(?:h3|figure) id="([TF]\d+)"', html))
    assert cited == set(ids["ids"]), "every table and figure in the report has an entry"
    assert {"F1", "F2", "F3", "F4", "F5", "F6", "F7", "F8", "T1", "T5"} <= cited
    for item, entry in ids["ids"].items():
        assert entry["run_ids"], item
        assert set(entry["run_ids"]) <= in_manifest, f"{item} cites runs not in the manifest"
        assert entry["command"].startswith("abm "), item
        assert f"Cite as <b>{item}</b>" in html
    assert manifest["spec_sha256"] in html and manifest["provenance"]["packages"]["mesa"] in html


def test_figure_commands_regenerate_the_figures(reported, tmp_path):
    results, report = reported
    ids = json.loads((report / "ids.json").read_text())
    command = ids["ids"]["F7"]["command"].split()
    assert command[:3] == ["abm", "plot", str(results)]
    assert main([*command[1:3], "--out", str(tmp_path), "--only", "F7"]) == 0
    again = (tmp_path / "F7_equity_impact_plane.png").read_bytes()
    assert again == (report / "figures" / "F7_equity_impact_plane.png").read_bytes()


def test_results_folder_gets_codebook_and_labelled_table(reported):
    results, _ = reported
    codebook = pd.read_csv(results / "codebook.csv")
    for table, path in (("summary", "summary.parquet"), ("table", "summary_table.parquet"),
                        ("dcea", "dcea.parquet")):
        columns = set(pd.read_parquet(results / path).columns)
        assert columns <= set(codebook[codebook.table == table].column), table
    assert set(codebook.better) <= {"higher is better", "lower is better",
                                    "neither: depends on context", "an input, not an outcome",
                                    "identifies the run or group",
                                    "says in words which way it went"}
    assert (results / "codebook.md").read_text().startswith("# Codebook")
    assert "q5-q1 gap (points)" in (results / "table_labelled.md").read_text()


def test_report_loads_nothing_from_anywhere(reported):
    _, report = reported
    html = (report / "report.html").read_text()
    assert "http://" not in html and "https://" not in html
    assert all(src.startswith("data:") for src in re.findall(r'src="([^"]*)"', html))
    assert "<script" not in html and "<link" not in html
    assert "default-src 'none'" in html


@pytest.mark.parametrize(("args", "fragment"), [
    (["report", "/nonexistent/folder"], "no manifest.json and summary.parquet here"),
    (["plot", "/nonexistent/folder"], "no manifest.json and summary.parquet here"),
])
def test_bad_folder_is_one_line_exit_2(args, fragment, capsys):
    assert main(args) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and fragment in err[0]


def test_unknown_figure_id_is_refused(reported, capsys):
    results, _ = reported
    assert main(["plot", str(results), "--only", "F42"]) == 2
    assert "--only F42: allowed are F1" in capsys.readouterr().err


def _chromium() -> str | None:
    return shutil.which("chromium") or shutil.which("chromium-browser")


@pytest.mark.slow
def test_report_renders_offline_in_chromium(reported):
    """The report opened from disk in headless Chromium: every request stays on the file (or
    is an embedded data: URI), the figures decode, and two screenshots are saved."""
    executable = _chromium()
    if executable is None:
        if os.environ.get("CI"):
            pytest.fail("Chromium is missing: .ci/run installs it (apt-get install chromium)")
        pytest.skip("Chromium not installed here (apt-get install -y chromium)")
    sync_api = pytest.importorskip("playwright.sync_api")
    _, report = reported
    requests, errors = [], []
    args = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
            "--disable-component-update", "--disable-sync", "--no-first-run"]
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=executable, args=args)
        page = browser.new_page(viewport={"width": 1280, "height": 900})

        def route(request_route):
            requests.append(request_route.request.url)
            if request_route.request.url.startswith("file://"):
                request_route.continue_()
            else:
                request_route.abort()

        page.route("**/*", route)
        page.on("request", lambda request: requests.append(request.url))
        page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
        page.goto((report / "report.html").as_uri())
        page.wait_for_load_state("load")
        decoded = page.evaluate(
            "Array.from(document.images).every(i => i.complete && i.naturalWidth > 0)")
        heading = page.inner_text("h1")
        ARTEFACTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(ARTEFACTS / "report_summary.png"))
        page.locator("#F7").scroll_into_view_if_needed()
        page.locator("#F7").screenshot(path=str(ARTEFACTS / "report_equity_plane.png"))
        browser.close()
    outside = [u for u in requests if not u.startswith(("file://", "data:"))]
    assert not outside, f"requests left the file: {outside}"
    assert any(u.startswith("file://") for u in requests)
    assert decoded, "every embedded figure decodes"
    assert not errors, errors
    assert heading.startswith("Community assets and health disparities")
    for name in ("report_summary.png", "report_equity_plane.png"):
        assert (ARTEFACTS / name).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_without_weekly_series_the_time_figures_are_left_out(reported, tmp_path):
    from dataclasses import replace

    from abm.analysis.figures import sweep_figures
    from abm.report.document import read_sweep

    results, _ = reported
    data = replace(read_sweep(results).data, weekly=None)
    records = sweep_figures(data, tmp_path, only=["F2", "F3", "F5"])
    assert [r.id for r in records] == ["F5"], "F5 falls back to totals; F2 and F3 need weeks"
    assert (tmp_path / "F5_provider_survival.svg").exists()
