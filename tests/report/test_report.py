"""The sweep report: every number equals the sweep's tables, every id resolves to runs in the
manifest (or to the uncertainty file it cites), every header names its basis, nothing is
fetched from anywhere, the Word and Excel forms hold every table and figure, and it renders
in a real browser (Chromium)."""

from __future__ import annotations

import csv
import hashlib
import io
import json
import os
import re
import shutil
from html.parser import HTMLParser
from pathlib import Path

import pandas as pd
import pytest

from abm.analysis import compare, tables
from abm.analysis.figures import SWEEP_FIGURES, plain_axes
from abm.cli import main
from tests.report.conftest import DRAWS, GAINS, NARROWS, mcse

ROOT = Path(__file__).resolve().parents[2]
#: Screenshots of the report, for people to look at (git-ignored).
ARTEFACTS = ROOT / "test-artefacts" / "report"


@pytest.fixture(scope="module")
def reported(sweep_folder, tmp_path_factory) -> tuple[Path, Path]:
    """The shared sweep's report, with Word and Excel forms: (results folder, report folder).
    The uncertainty results beside the folder are found without being named."""
    out = tmp_path_factory.mktemp("report") / "report"
    assert main(["report", str(sweep_folder), "--out", str(out), "--docx", "--xlsx"]) == 0
    return sweep_folder, out


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


def html_tables(report: Path) -> dict[str, pd.DataFrame]:
    parser = _Tables()
    parser.feed((report / "report.html").read_text())
    return {key: pd.DataFrame(rows[1:], columns=rows[0]) for key, rows in parser.tables.items()}


def unescape(cell: str) -> str:
    """A CSV cell as shown: the apostrophe that keeps a spreadsheet from running it removed."""
    return cell[1:] if cell[:1] == "'" and cell[1:2] in ("=", "+", "-", "@") else cell


def written(csv_path: Path) -> pd.DataFrame:
    frame = pd.read_csv(csv_path, dtype=str, keep_default_na=False)
    frame.columns = [unescape(c) for c in frame.columns]
    return frame.map(unescape)


def test_report_tables_show_exactly_the_written_tables(reported):
    _, report = reported
    shown = html_tables(report)
    for path in sorted((report / "tables").glob("T*.csv")):
        table_id = path.name.split("_")[0]
        labelled = tables.display(written(path))
        assert shown[table_id].columns.tolist() == labelled.columns.tolist(), table_id
        assert shown[table_id].to_numpy().tolist() == labelled.to_numpy().tolist(), table_id
    assert {f"T{i}" for i in range(1, 13)} <= set(shown), "every table, uncertainty included"


def _check_numbers(path: Path) -> int:
    """Each number shown (mean and interval) equals the numeric columns beside it, at the
    precision shown."""
    frame = pd.read_csv(path, keep_default_na=False)
    frame.columns = [unescape(c) for c in frame.columns]
    checked = 0
    for label in [c for c in frame.columns if f"{c}: estimate" in frame.columns]:
        for _, row in frame.iterrows():
            text = unescape(str(row[label]))
            numbers = tables.parse_numbers(text.split(" (")[0])
            expected = [row[f"{label}{s}"] for s in tables.NUMERIC]
            expected = [float(x) for x in expected if x != ""]
            if not numbers or not expected:
                continue  # a verdict in words, or a blank baseline cell
            assert len(numbers) == len(expected), (path.name, label, text)
            places = tables.decimals(*expected) if len(expected) == 3 else min(
                tables.shown_decimals(text), tables.decimals(expected[0]))
            for got, want in zip(numbers, expected, strict=True):
                assert abs(got - want) <= 0.5 * 10.0 ** -places + 1e-9, (label, got, want)
                checked += 1
    return checked


def test_every_number_shown_equals_the_numbers_beside_it_and_the_raw_tables(reported):
    results, report = reported
    checked = sum(_check_numbers(p) for p in sorted((report / "tables").glob("T*.csv")))
    assert checked > 2_000
    # T1's numeric columns are the comparison table's own numbers, row for row.
    raw = pd.read_csv(results / "summary_table.csv")
    compared = raw[raw.scenario != "baseline"].reset_index(drop=True)
    t1 = pd.read_csv(report / "tables" / "T1_changes.csv")
    health, costs = tables.basis_words(raw)
    for label, (column, scale, _) in tables.changes_columns(health, costs).items():
        for suffix, part in zip(tables.NUMERIC, ("", "_lo", "_hi"), strict=True):
            pd.testing.assert_series_equal(t1[f"{label}{suffix}"], compared[column + part] * scale,
                                           check_names=False)
    assert list(t1.Place) == [tables.place_name(p) for p in compared.place]
    assert list(t1.Strategy) == [tables.strategy_name(s) for s in compared.scenario]


def test_tables_name_places_and_strategies_not_ids(reported):
    _, report = reported
    shown = html_tables(report)
    for table_id, frame in shown.items():
        if "Strategy" in frame:
            assert not set(frame.Strategy) & {"baseline", "scale", "sustain"}, table_id
            assert set(frame.Place) <= {"Bradford district", "Devon ICS"}, table_id


def test_every_wellby_qaly_and_money_header_names_its_basis(reported):
    _, report = reported
    for table_id, frame in html_tables(report).items():
        for column in frame.columns:
            if re.search(r"WELLBY|QALY|GBP|[Ww]ellbeing-years", column):
                assert "discounted" in column, (table_id, column)
    t1 = html_tables(report)["T1"]
    assert "WELLBYs (discounted at 1.5% a year)" in t1.columns
    assert "Extra spend (GBP, discounted at 3.5% a year)" in t1.columns


def test_key_messages_quote_the_tables_and_name_their_ids(reported):
    _, report = reported
    text = (report / "report.html").read_text()
    summary = text[text.index('id="summary"'):text.index('id="changes"')]
    everything = " ".join(" ".join(written(p).to_numpy().ravel())
                          for p in (report / "tables").glob("T*.csv"))
    messages = re.findall(r"<li>(.*?)</li>", summary.split("<details>")[0])
    assert len(messages) >= 12
    assert all(re.search(r"\((T\d+|F\d+)(, (T|F)\d+)*\)$", m) for m in messages), messages
    quoted = re.findall(r"[+-]?\d[\d,]*\.?\d* \[[^\]]+\]", summary)
    assert len(quoted) >= 6
    for number in quoted:
        assert number in everything, f"{number} is in no table"
    assert "P = 0.92, Monte Carlo SE 0.08" in summary, "how sure, over the posterior"


def test_core20_staircase_and_gap_parts_cover_every_place_and_strategy(reported):
    _, report = reported
    shown = html_tables(report)
    t6 = shown["T6"]
    labels = {v[0] for v in compare.CORE20_OUTCOMES.values()}
    assert set(t6.Outcome) == labels
    assert len(t6) == len(labels) * 2 * 3, "every outcome, place and strategy"
    t8 = shown["T8"]
    assert sorted(set(t8.Quintile)) == ["q1", "q2", "q3", "q4", "q5"] and len(t8) == 5 * 2 * 3
    t9 = shown["T9"]
    assert len(t9) == (len(compare.GAP_PARTS) + 1) * 2 * 3
    html = (report / "report.html").read_text()
    for item in ("F9", "F10", "F11", "F12"):
        assert f'<figure id="{item}">' in html


def test_the_uncertainty_table_gives_probabilities_with_monte_carlo_error(reported):
    _, report = reported
    t10 = html_tables(report)["T10"]
    for scenario, gains in GAINS.items():
        row = t10[t10.Strategy == tables.strategy_name(scenario)].iloc[0]
        p = gains / DRAWS
        assert row["P(gains WELLBYs, discounted)"] == (
            f"{p:.2f} (MCSE {mcse(p, DRAWS):.2f}; {gains} of {DRAWS} draws)")
        q = NARROWS[scenario] / DRAWS
        assert row["P(narrows the gap)"].startswith(f"{q:.2f} (MCSE {mcse(q, DRAWS):.2f}")
    assert "likely narrows the gap" in set(t10["How sure"].str.split(", ").str[1])


def test_every_id_resolves_to_runs_in_the_manifest_or_a_cited_file(reported):
    results, report = reported
    raw = (results / "manifest.json").read_bytes()
    manifest = json.loads(raw)
    ids = json.loads((report / "ids.json").read_text())
    assert ids["manifest_sha256"] == hashlib.sha256(raw).hexdigest()
    assert ids["sweep_id"] == manifest["sweep_id"] and ids["incomplete"] is None
    in_manifest = {r["run_id"] for r in manifest["runs"]}
    html = (report / "report.html").read_text()
    cited = set(re.findall(r'<(?:h3|figure) id="([TF]\d+)"', html))
    assert cited == set(ids["ids"]), "every table and figure in the report has an entry"
    assert {f"F{i}" for i in range(1, 13)} | {f"T{i}" for i in range(1, 13)} <= cited
    effects = results.parent / "uncertainty" / "effects.csv"
    for item, entry in ids["ids"].items():
        assert entry["command"].startswith("abm "), item
        assert f"Cite as <b>{item}</b>" in html
        if item in ("T10", "F11"):
            assert entry["cites"] == {"path": str(effects), "sha256": hashlib.sha256(
                effects.read_bytes()).hexdigest()}
            continue
        assert entry["run_ids"], item
        assert set(entry["run_ids"]) <= in_manifest, f"{item} cites runs not in the manifest"
    assert manifest["spec_sha256"] in html and manifest["provenance"]["packages"]["mesa"] in html


def test_figure_commands_regenerate_the_figures(reported, tmp_path):
    results, report = reported
    ids = json.loads((report / "ids.json").read_text())
    for item in ("F7", "F11"):
        command = ids["ids"][item]["command"].split()
        assert command[:3] == ["abm", "plot", str(results)]
        assert main([*command[1:3], "--out", str(tmp_path), *command[5:]]) == 0
        name = Path(ids["ids"][item]["files"]["png"]).name
        assert (tmp_path / name).read_bytes() == (report / "figures" / name).read_bytes()


def test_figures_show_plain_numbers_and_names(reported):
    """No axis of any figure shows an offset ("1e4" over it) or a power of ten; places and
    strategies appear by name."""
    from abm.report.document import read_sweep

    results, _ = reported
    data = read_sweep(results).data
    for figure_id, spec in SWEEP_FIGURES.items():
        if spec.missing(data):
            continue
        figure = spec.draw(data)
        plain_axes(figure)
        figure.canvas.draw()
        texts = [t.get_text() for ax in figure.axes for axis in (ax.xaxis, ax.yaxis)
                 for t in axis.get_ticklabels()]
        offsets = [axis.get_offset_text().get_text() for ax in figure.axes
                   for axis in (ax.xaxis, ax.yaxis)]
        assert not any(offsets), (figure_id, offsets)
        assert not [t for t in texts if re.search(r"\de[+\-−]?\d|×|\^", t)], (figure_id, texts)
        everything = " ".join(texts + [ax.get_title() for ax in figure.axes])
        assert "devon_ics" not in everything and "sustain " not in everything.replace(
            "Sustain", ""), figure_id


def test_results_folder_gets_codebook_labelled_table_and_dcea_excel(reported):
    results, _ = reported
    codebook = pd.read_csv(results / "codebook.csv")
    for table, path in (("summary", "summary.parquet"), ("table", "summary_table.parquet"),
                        ("dcea", "dcea.parquet"), ("dcea_profile", "dcea_profile.parquet")):
        columns = set(pd.read_parquet(results / path).columns)
        assert columns <= set(codebook[codebook.table == table].column), table
    assert {"core20", "staircase", "gap_parts", "uncertainty"} <= set(codebook.table)
    assert (results / "codebook.md").read_text().startswith("# Codebook")
    assert "q5\\-q1 gap (points)" in (results / "table_labelled.md").read_text() or \
        "q5-q1 gap (points)" in (results / "table_labelled.md").read_text()
    openpyxl = pytest.importorskip("openpyxl")
    book = openpyxl.load_workbook(results / "dcea.xlsx")
    assert book.sheetnames == ["dcea", "dcea_quintile", "dcea_profile"]
    profile = pd.read_parquet(results / "dcea_profile.parquet")
    sheet = book["dcea_profile"]
    assert [c.value for c in sheet[1]] == list(profile.columns)
    assert sheet.max_row == len(profile) + 1
    english = profile[profile.english_public]
    assert set(zip(english.measure, english.aversion, strict=True)) == {("atkinson", 10.95),
                                                                         ("kolm", 0.15)}


def test_word_and_excel_hold_every_table_and_figure_with_its_citation(reported):
    docx = pytest.importorskip("docx")
    openpyxl = pytest.importorskip("openpyxl")
    _, report = reported
    ids = json.loads((report / "ids.json").read_text())["ids"]
    table_ids = sorted(i for i in ids if i.startswith("T"))
    figure_ids = sorted(i for i in ids if i.startswith("F"))
    document = docx.Document(report / "report.docx")
    headings = [p.text for p in document.paragraphs if p.style.name.startswith("Heading")]
    for item in ids:
        assert any(h.startswith(f"{item}. ") for h in headings), item
    assert len(document.tables) == len(table_ids)
    assert len(document.inline_shapes) == len(figure_ids)
    cites = [p.text for p in document.paragraphs if p.text.startswith("Cite as ")]
    assert len(cites) == len(ids)
    t1 = document.tables[0]
    assert t1.rows[0].cells[0].text == "Place" and "Devon ICS" in {
        r.cells[0].text for r in t1.rows}

    book = openpyxl.load_workbook(report / "report.xlsx")
    assert book.sheetnames[0] == "Contents" and sorted(book.sheetnames[1:]) == table_ids
    contents = [row[0].value for row in book["Contents"].iter_rows(min_row=3)]
    assert sorted(contents) == sorted(ids)
    sheet = book["T1"]
    header = [c.value for c in sheet[5]]
    column = header.index("WELLBYs (discounted at 1.5% a year): estimate") + 1
    values = [sheet.cell(r, column) for r in range(6, sheet.max_row + 1)]
    assert values and all(c.data_type == "n" for c in values), "numbers Excel can sum"
    for ws in book.worksheets:
        for row in ws.iter_rows():
            assert not [c for c in row if c.data_type == "f"], f"a formula in {ws.title}"


def test_every_csv_cell_is_safe_in_a_spreadsheet(reported):
    results, report = reported
    paths = [*sorted((report / "tables").glob("*.csv")), *sorted(results.glob("*.csv"))]
    checked = 0
    for path in paths:
        for row in csv.reader(io.StringIO(path.read_text())):
            for cell in row:
                if cell[:1] in ("=", "+", "-", "@", "\t", "\r"):
                    float(cell.replace(",", ""))  # only a number may start so
                checked += 1
    assert checked > 10_000


def test_report_loads_nothing_from_anywhere(reported):
    _, report = reported
    html = (report / "report.html").read_text()
    assert "http://" not in html and "https://" not in html
    assert all(src.startswith("data:") for src in re.findall(r'src="([^"]*)"', html))
    assert "<script" not in html and "<link" not in html
    assert "default-src 'none'" in html


@pytest.mark.parametrize(("args", "fragment"), [
    (["report", "/nonexistent/folder"], "/nonexistent/folder: no such folder"),
    (["plot", "/nonexistent/folder"], "/nonexistent/folder: no such folder"),
])
def test_bad_folder_is_one_line_exit_2(args, fragment, capsys):
    assert main(args) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and fragment in err[0]


def test_unknown_figure_id_is_refused(reported, capsys):
    results, _ = reported
    assert main(["plot", str(results), "--only", "F42"]) == 2
    assert "--only F42: allowed are F1" in capsys.readouterr().err


def chromium() -> str | None:
    return shutil.which("chromium") or shutil.which("chromium-browser")


def browser_or_skip():
    executable = chromium()
    if executable is None:
        if os.environ.get("CI"):
            pytest.fail("Chromium is missing: .ci/run installs it (apt-get install chromium)")
        pytest.skip("Chromium not installed here (apt-get install -y chromium)")
    return executable, pytest.importorskip("playwright.sync_api")


BROWSER_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                "--disable-component-update", "--disable-sync", "--no-first-run"]
#: Parts of the report saved as screenshots: name -> CSS selector.
SCREENSHOTS = {"report_summary": "body", "report_t1_header": "#T1 + p + table thead",
               "report_core20_table": "#T6 + p + table", "report_staircase": "#F9",
               "report_gap_decomposition": "#F10", "report_uncertainty_table": "#T10 + p + table",
               "report_equity_plane": "#F7"}


@pytest.mark.slow
def test_report_renders_offline_in_chromium(reported):
    """The report opened from disk in headless Chromium: every request stays on the file (or
    is an embedded data: URI), the figures decode, and screenshots of its parts are saved."""
    executable, sync_api = browser_or_skip()
    _, report = reported
    requests, errors = [], []
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=executable, args=BROWSER_ARGS)
        page = browser.new_page(viewport={"width": 1400, "height": 900})

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
        for name, selector in SCREENSHOTS.items():
            if selector == "body":
                page.screenshot(path=str(ARTEFACTS / f"{name}.png"))
                continue
            part = page.locator(selector).first
            part.scroll_into_view_if_needed()
            part.screenshot(path=str(ARTEFACTS / f"{name}.png"))
        browser.close()
    outside = [u for u in requests if not u.startswith(("file://", "data:"))]
    assert not outside, f"requests left the file: {outside}"
    assert any(u.startswith("file://") for u in requests)
    assert decoded, "every embedded figure decodes"
    assert not errors, errors
    assert heading.startswith("Community assets and health disparities")
    for name in SCREENSHOTS:
        assert (ARTEFACTS / f"{name}.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_without_weekly_series_the_time_figures_are_left_out(reported, tmp_path):
    from dataclasses import replace

    from abm.analysis.figures import sweep_figures, unavailable
    from abm.report.document import read_sweep

    results, _ = reported
    data = replace(read_sweep(results).data, weekly=None)
    records = sweep_figures(data, tmp_path, only=["F2", "F3", "F5"])
    assert [r.id for r in records] == ["F5"], "F5 falls back to totals; F2 and F3 need weeks"
    assert (tmp_path / "F5_provider_survival.svg").exists()
    assert set(unavailable(data, ["F2", "F3"])) == {"F2", "F3"}
