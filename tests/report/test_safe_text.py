"""Safe text: names from the data (scenario file names, the results folder's name) reach the
Markdown twins (report.md, table_labelled.md) escaped, so that Python-Markdown renders them as
text and Chromium runs nothing of them (a ``window`` probe); every CSV cell a spreadsheet
could read as a formula is escaped, and the Excel workbook holds no formula.
"""

from __future__ import annotations

import csv
import html
import io
import os
import re
from html.parser import HTMLParser
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from abm.analysis.tables import strategy_name
from abm.cli import main
from abm.report.document import md_code, md_text
from experiments.runner import run_sweep
from tests.report.test_report import BROWSER_ARGS, browser_or_skip

markdown = pytest.importorskip("markdown")

#: Scenario file names (their stems are the scenarios' names) and a results folder name that
#: would run script or open a link if written raw into Markdown; each sets window.__pwned.
IMG = '<img src=x onerror="window.__pwned=1">'
LINK = "=1+1 [x](javascript:window.__pwned=2) *b* `c` | d"
FOLDER = "<svg onload=window.__pwned=3>"


@pytest.fixture(scope="module")
def hostile(tmp_path_factory) -> tuple[Path, Path]:
    """A tiny sweep of two strategies with hostile names, in a hostile folder, and its
    report with an Excel workbook: (results folder, report folder)."""
    base = tmp_path_factory.mktemp("hostile")
    (base / f"{IMG}.yaml").write_text("extends: sustain\n")
    (base / f"{LINK}.yaml").write_text("extends: scale\n")
    (base / "sweep.yaml").write_text(
        "scenarios:\n  - baseline\n" + "".join(f"  - '{n}.yaml'\n" for n in (IMG, LINK))
        + "places: [bradford]\nseeds: 2\nmaster_seed: 3\nyears: 1\nparameters: "
        "{n_neighbourhoods: 15, residents_per_neighbourhood: 20, burn_in_years: 1}\n")
    results = base / FOLDER
    assert run_sweep(base / "sweep.yaml", results, serial=True) == 0
    assert main(["report", str(results), "--out", str(base / "report"), "--xlsx"]) == 0
    return results, base / "report"


class _Elements(HTMLParser):
    """Every element and attribute of an HTML fragment, and its text."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict]] = []
        self.text: list[str] = []

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))

    def handle_data(self, data):
        self.text.append(data)


def elements(fragment: str) -> _Elements:
    parser = _Elements()
    parser.feed(fragment)
    return parser


def render(text: str) -> str:
    return markdown.markdown(text, extensions=["tables"])


@given(st.text(alphabet=st.characters(blacklist_categories=("Cs", "Cc", "Zl", "Zp")),
               max_size=60))
@settings(max_examples=300, deadline=None)
def test_any_text_escaped_renders_as_exactly_that_text(text):
    """Whatever a name holds, md_text makes Python-Markdown render it as that text: in a
    paragraph with no element but the paragraph, and in a table cell."""
    text = text.strip()
    shown = elements(render(md_text(text)))
    assert [tag for tag, _ in shown.tags] in ([], ["p"]), (text, render(md_text(text)))
    assert "".join(shown.text).strip() == text.strip()
    table = render(f"| a |\n|---|\n| {md_text(text)} |")
    cells = re.findall(r"<td>(.*?)</td>", table, re.S)
    assert len(cells) == 1 and html.unescape(cells[0]).strip() == text.strip(), table


@pytest.mark.parametrize("text", ["a`b", "``", "`x`", "<script>x</script>", "a | b"])
def test_code_spans_hold_any_text(text):
    shown = elements(render(md_code(text)))
    assert [tag for tag, _ in shown.tags] == ["p", "code"]
    assert "".join(shown.text).strip() == text.strip()


def test_the_markdown_twins_render_names_as_text_and_run_nothing_in_chromium(hostile):
    results, report = hostile
    pages = {"report.md": (report / "report.md").read_text(),
             "table_labelled.md": (results / "table_labelled.md").read_text()}
    rendered = {}
    for name, text in pages.items():
        fragment = render(text)
        found = elements(fragment)
        for tag, attrs in found.tags:
            assert tag not in ("script", "svg", "iframe", "object", "embed"), (name, tag)
            assert not [a for a in attrs if a.startswith("on")], (name, tag, attrs)
            assert not (attrs.get("href") or "").lower().startswith("javascript"), attrs
            if tag == "img":  # only the report's own figures
                assert re.fullmatch(r"figures/F\d+_\w+\.png", attrs["src"]), attrs
        rendered[name] = fragment
    executable, sync_api = browser_or_skip()
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=executable, args=BROWSER_ARGS)
        control = browser.new_page()  # the probe works: the name written raw runs
        control.set_content(f"<!DOCTYPE html><html><body>{render(f'- {IMG}')}</body></html>")
        control.wait_for_timeout(300)
        assert control.evaluate("window.__pwned") == 1, "the probe must catch a raw name"
        control.close()
        for name, fragment in rendered.items():
            page = browser.new_page()
            page.route("**/*", lambda r: r.abort())  # nothing may load (figures included)
            page.set_content(f"<!DOCTYPE html><html><body>{fragment}</body></html>")
            page.wait_for_timeout(300)
            for link in page.locator("a").all():
                link.click(timeout=2000, no_wait_after=True)
            assert page.evaluate("typeof window.__pwned") == "undefined", name
            text = re.sub(r"\s+", " ", page.inner_text("body"))
            assert re.sub(r"\s+", " ", strategy_name(IMG)) in text, f"{name}: name as text"
            if name == "report.md":
                assert FOLDER in text
            page.close()
        browser.close()


def test_every_csv_cell_a_spreadsheet_could_run_is_escaped(hostile):
    results, report = hostile
    paths = [*sorted((report / "tables").glob("*.csv")), *sorted(results.glob("*.csv"))]
    formula_like = 0
    for path in paths:
        for row in csv.reader(io.StringIO(path.read_text())):
            for cell in row:
                if cell[:1] in ("=", "+", "-", "@", "\t", "\r"):
                    float(cell.replace(",", ""))  # only a number may start so
                if cell.startswith("'=1+1"):
                    formula_like += 1
    assert formula_like >= 3, "the hostile name is in the tables, escaped"
    summary = (results / "summary_table.csv").read_text()
    assert "'=1+1 [x]" in summary and "\n=1+1" not in summary and ",=1+1" not in summary


def test_the_workbook_holds_the_name_as_text_not_a_formula(hostile):
    openpyxl = pytest.importorskip("openpyxl")
    _, report = hostile
    book = openpyxl.load_workbook(report / "report.xlsx")
    names = []
    for sheet in book.worksheets:
        for row in sheet.iter_rows():
            for cell in row:
                assert cell.data_type != "f", (sheet.title, cell.coordinate, cell.value)
                if isinstance(cell.value, str) and cell.value.startswith("=1+1"):
                    names.append(cell)
    assert names and all(c.data_type == "s" for c in names)


def test_the_html_report_escapes_names_and_keeps_its_policy(hostile):
    _, report = hostile
    page = (report / "report.html").read_text()
    assert "default-src 'none'" in page
    assert IMG not in page and html.escape(strategy_name(IMG)) in page
    assert "<svg onload" not in page
    assert os.path.exists(report / "report.md")
