"""The frontier shown to people: the report's section, and the workshop app's "best mixes"
view in Debian's Chromium (a server of its own, reading a frontier folder made here by the
toy model through the real search)."""

from __future__ import annotations

import os

import pytest
from playwright.sync_api import sync_playwright

from abm.app.frontier import ENV_FRONTIER, Frontier, find_frontier, place_setting, settings_for
from abm.app.run import Settings
from abm.decision.outputs import write_frontier_outputs
from abm.decision.search import run_search
from abm.decision.spec import load_decision_spec
from abm.report.frontier import frontier_section
from experiments.executors import SerialExecutor
from tests.app.app_browser import LOCAL, Visit, app_server, launch_chromium
from tests.decision import toy

TOY = """place: devon_ics
levers: [embed_budget_share, develop_budget_share, sustain]
ranges: {embed_budget_share: [0, 1], develop_budget_share: [0, 1]}
objectives: [wellbys, gap]
seeds: 1
years: 1
search: {population: 8, generations: 3, seed: 1}
"""


@pytest.fixture(scope="module")
def frontier_folder(tmp_path_factory):
    """A finished frontier for Devon ICS (of the toy model), in a folder of frontiers."""
    root = tmp_path_factory.mktemp("frontiers")
    (root / "spec.yaml").write_text(TOY, encoding="utf-8")
    spec = load_decision_spec(root / "spec.yaml")
    out = root / "devon_ics"
    result = run_search(spec, out, SerialExecutor(), run=toy.run)
    write_frontier_outputs(spec, out, result)
    return root, out


def test_the_report_section_says_what_the_frontier_says(frontier_folder):
    _, out = frontier_folder
    section = frontier_section(out)
    assert section.available
    assert "of the 24 mixes evaluated are on the frontier" in section.markdown
    assert "Best for WELLBYs gained" in section.markdown and "FT1." in section.markdown
    assert 'src="data:image/svg+xml;base64,' in section.html and "http" not in section.html
    missing = frontier_section(out.parent / "nothing_here")
    assert not missing.available and "No frontier results in" in missing.markdown


def test_the_view_places_a_setting_and_loads_a_mix(frontier_folder):
    root, out = frontier_folder
    assert find_frontier(root, "devon_ics") == out and find_frontier(root, "london") is None
    front = Frontier.read(out)
    today = place_setting(front, Settings.make("devon_ics", ["status_quo"]))
    assert not today.on_frontier and today.moves, today.text
    loaded = settings_for(front, 0, Settings.make("devon_ics", ["status_quo"]))
    there = place_setting(front, loaded)
    assert there.on_frontier and there.nearest == 0 and there.moves == []


@pytest.mark.slow
def test_best_mixes_in_chromium(frontier_folder, tmp_path):
    root, _ = frontier_folder
    before = os.environ.get(ENV_FRONTIER)
    os.environ[ENV_FRONTIER] = str(root)  # the server inherits it
    try:
        with app_server(tmp_path / "saves", tmp_path / "server.log") as url, \
                sync_playwright() as playwright:
            browser = launch_chromium(playwright)
            v = Visit(browser, url)
            v.wait_text(".abm-best-summary", "best mixes")
            assert "was not one of the mixes evaluated" in v.text(".abm-best-placement")
            picture = v.image(".abm-best-figure")
            v.page.locator(".abm-best-load").first.click()
            v.wait_text(".abm-best-placement", "Your setting is best mix 1")
            assert v.wait_new_image(".abm-best-figure", picture), "the setting moved on it"
            v.page.locator(".abm-best-mixes").first.scroll_into_view_if_needed()
            v.screenshot("best_mixes.png")
            v.wait_text(".abm-status", "embed")  # the run now has the mix's rules
            outside = [u for u in v.requests if not u.startswith(LOCAL)]
            assert outside == [] and v.errors == [], (outside, v.errors)
            v.close()
            browser.close()
    finally:
        if before is None:
            os.environ.pop(ENV_FRONTIER, None)
        else:
            os.environ[ENV_FRONTIER] = before
