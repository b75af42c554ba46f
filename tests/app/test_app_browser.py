"""The workshop app in a real browser: Debian's Chromium, headless, driven by Playwright.

One server (`abm viz`, as a facilitator starts it) serves every test in this module. Every
request the page makes is routed through a recorder that lets only 127.0.0.1 through, so a
test fails if the page reaches for anything outside this computer. Screenshots land in
test-artefacts/app/ (git-ignored).
"""

from __future__ import annotations

import io
import os

import PIL.Image
import pytest
import yaml
from playwright.sync_api import sync_playwright

from abm.cli import main as abm_main
from abm.model.places import load_place
from tests.app.app_browser import (
    CHROMIUM,
    LOCAL,
    WAIT_MS,
    Visit,
    app_server,
    launch_chromium,
)

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """`abm viz` started once for this module; yields (url, folder where saves go)."""
    saves = tmp_path_factory.mktemp("saved")
    log = tmp_path_factory.mktemp("server") / "server.log"
    with app_server(saves, log) as url:
        yield url, saves


@pytest.fixture(scope="module")
def browser():
    if CHROMIUM is None:
        if os.environ.get("CI"):
            pytest.fail("Chromium is missing: `make test` installs it (apt-get install chromium)")
        pytest.skip("Chromium is not installed here (`make test` says why; "
                    "apt-get install chromium)")
    with sync_playwright() as playwright:
        browser = launch_chromium(playwright)
        yield browser
        browser.close()


@pytest.fixture
def visit(browser, server):
    opened = []

    def open_page() -> Visit:
        opened.append(Visit(browser, server[0]))
        return opened[-1]

    yield open_page
    for v in opened:
        v.close()


def test_page_loads_offline_with_no_console_errors(visit):
    v = visit()
    v.wait_text(".abm-status", "policy year 0.0")
    v.screenshot("start.png")
    assert v.requests, "the recorder saw the page's requests"
    outside = [u for u in v.requests if not u.startswith(LOCAL)]
    assert outside == [], f"requests left this computer: {outside}"
    assert v.errors == [], f"console errors: {v.errors}"
    assert "The policy starts now" in v.text(".abm-headline")


def test_moving_a_slider_changes_the_model(visit):
    v = visit()
    assert "nothing" in v.text(".abm-changes")
    v.move_slider("grant_years", "ArrowRight")  # 1 -> 2 years
    v.wait_text(".abm-changes", "2 years")  # read from the running model's parameters
    assert "policy year 0.0" in v.text(".abm-status"), "a change starts the policy again"
    assert v.errors == [], f"console errors: {v.errors}"


def test_step_and_play_update_the_charts_and_the_map(visit):
    v = visit()
    charts, map_ = v.image(".abm-charts"), v.image(".abm-map")
    v.page.locator(".abm-step").first.click()
    v.wait_text(".abm-status", "policy year 1.0")
    assert v.wait_new_image(".abm-charts", charts), "a step redraws the charts"
    assert v.wait_new_image(".abm-map", map_), "a step redraws the map"
    assert "After 1.0 year," in v.text(".abm-headline")

    charts = v.image(".abm-charts")
    v.page.locator(".abm-play").first.click()
    v.wait_text(".abm-status", "policy year 2.")
    v.page.locator(".abm-play").first.click()  # pause
    assert v.wait_new_image(".abm-charts", charts), "playing redraws the charts"
    assert v.errors == [], f"console errors: {v.errors}"


def test_ten_years_of_a_scenario(visit):
    v = visit()
    v.choose_preset("Scale + embed + sustain (same money)")
    v.wait_text(".abm-status", "scale + embed + sustain")
    for year in range(1, 11):
        v.page.locator(".abm-step").first.click()
        v.wait_text(".abm-status", f"policy year {year}.0")
    v.wait_text(".abm-range", "95% range over")
    v.screenshot("ten_years.png")
    headline = v.text(".abm-headline")
    assert "After 10.0 years" in headline
    assert any(word in headline for word in ("narrower", "wider", "about the same")), headline


def test_save_scenario_writes_files_that_validate(visit, server):
    v = visit()
    v.move_slider("grant_years", "ArrowRight")
    v.wait_text(".abm-changes", "2 years")
    v.page.get_by_label("File name").fill("two_year_grants")
    v.page.get_by_label("Who chose it").fill("Table 3, Exeter workshop")
    v.page.get_by_label("Why").fill("Two-year grants, as the voluntary sector asked")
    v.page.get_by_role("button", name="Save scenario").click()
    v.wait_text(".abm-saved", "Saved")
    scenario, sweep = server[1] / "two_year_grants.yaml", server[1] / "two_year_grants_sweep.yaml"
    assert abm_main(["validate", str(scenario)]) == 0
    text = scenario.read_text()
    assert "# Who: Table 3, Exeter workshop" in text and "voluntary sector asked" in text
    assert yaml.safe_load(text)["parameters"]["grant_years"] == 2
    assert yaml.safe_load(sweep.read_text())["scenarios"] == ["baseline", "two_year_grants"]


def test_two_sessions_do_not_share_state(visit):
    first, second = visit(), visit()
    first.move_slider("grant_years", "ArrowRight")
    first.wait_text(".abm-changes", "2 years")
    first.page.locator(".abm-step").first.click()
    first.wait_text(".abm-status", "policy year 1.0")
    second.page.reload()
    second.page.locator(".abm-charts").first.wait_for(timeout=WAIT_MS)
    assert "nothing" in second.text(".abm-changes"), "the other session's slider leaked"
    assert "policy year 0.0" in second.text(".abm-status"), "the other session's step leaked"
    for year in (1, 2):
        second.page.locator(".abm-step").first.click()
        second.wait_text(".abm-status", f"policy year {year}.0")
    assert "policy year 1.0" in first.text(".abm-status"), "a step leaked into the first"
    assert "2 years" in first.text(".abm-changes")


def test_extra_money_shows_its_effect_against_carrying_on_as_today(visit):
    """Issue 25, item 2: the twin keeps today's money, so the extra money shows."""
    v = visit()
    v.choose_preset("Status quo (extra money)")
    v.wait_text(".abm-compared-with", "extra money 0 instead of 0.25 share of the budget")
    for year in (1, 2):
        v.page.locator(".abm-step").first.click()
        v.wait_text(".abm-status", f"policy year {year}.0")
    # a difference shows (a twin with the same money would read "as many ... as"); which way
    # it goes after two years at workshop size is the seed's luck (seed 1 in Devon ICS at the
    # calibrated defaults: about 1,300 fewer; seeds 2 and 3: 160 fewer, 1,500 more)
    v.wait_text(".abm-wellbys", "wellbeing-years (WELLBYs, undiscounted, whole place) than "
                "carrying on as today")
    v.screenshot("extra_money.png")
    assert v.errors == [], f"console errors: {v.errors}"


def test_the_why_views_show_money_staircase_and_the_gaps_parts(visit):
    v = visit()
    v.wait_text(".abm-why-sentence", "community groups can touch about")
    before = v.image(".abm-why")
    v.page.locator(".abm-step").first.click()
    v.wait_text(".abm-status", "policy year 1.0")
    assert v.wait_new_image(".abm-why", before), "a step redraws the why views"
    v.wait_text(".abm-why-sentence", "This choice moved it by")
    v.screenshot_at(".abm-why-sentence", "why.png")
    assert v.errors == [], f"console errors: {v.errors}"


def test_compare_with_puts_two_choices_side_by_side(visit):
    v = visit()
    v.choose_preset("Scale + embed + sustain (same money)")
    v.wait_text(".abm-status", "scale + embed + sustain")
    v.choose(".abm-compare-with", "Preset: Sustain (same money)")
    v.wait_text(".abm-compare", "Compared with: sustain")
    v.wait_text(".abm-compare", "This choice:")
    for year in (1, 2):
        v.page.locator(".abm-step").first.click()
        v.wait_text(".abm-status", f"policy year {year}.0")
    v.wait_text(".abm-compare", "than carrying on as today (past year)")
    v.screenshot_at(".abm-compare", "compare_with.png")
    v.choose(".abm-compare-with", "nothing (this choice alone)")
    v.page.locator(".abm-compare").first.wait_for(state="detached", timeout=WAIT_MS)
    assert v.errors == [], f"console errors: {v.errors}"


def test_presentation_mode_hides_the_controls_and_comes_back(visit):
    v = visit()
    assert v.page.locator(".abm-controls").count() == 1
    v.page.locator(".abm-present").first.click()
    v.page.locator(".abm-presenting").first.wait_for(timeout=WAIT_MS)
    v.page.locator(".abm-controls").first.wait_for(state="detached", timeout=WAIT_MS)
    v.page.locator(".abm-step").first.click()
    v.wait_text(".abm-status", "policy year 1.0")
    v.screenshot("presentation_mode.png")
    v.page.locator(".abm-leave-present").first.click()
    v.page.locator(".abm-controls").first.wait_for(timeout=WAIT_MS)
    assert "policy year 1.0" in v.text(".abm-status"), "the run goes on"
    assert v.errors == [], f"console errors: {v.errors}"


def test_save_picture_downloads_the_charts_with_place_scenario_seed_and_date(visit):
    v = visit()
    v.page.locator(".abm-step").first.click()
    v.wait_text(".abm-status", "policy year 1.0")
    v.wait_text(".abm-why-sentence", "This choice moved it by")
    button = v.page.locator(".abm-save-picture").get_by_text("Save picture")
    button.wait_for(state="visible", timeout=WAIT_MS)
    # the picture is drawn on the server at print size: slow on a busy machine
    with v.page.expect_download(timeout=2 * WAIT_MS) as download:
        button.click()
    assert download.value.suggested_filename.startswith("devon_ics_status_quo_seed1_")
    data = download.value.path().read_bytes()
    image = PIL.Image.open(io.BytesIO(data))
    assert image.format == "PNG" and image.width > 1200
    assert image.text["Title"].endswith(load_place("devon_ics").title)
    assert "Seed 1; policy year 1.0 of 10" in image.text["Description"]
    (v.screenshot("start.png").parent / "saved_picture.png").write_bytes(data)
    assert v.errors == [], f"console errors: {v.errors}"


def test_save_picture_while_playing_saves_the_moment_it_was_pressed(visit):
    """Playing redraws the view many times a second; a redraw must not drop the download
    (it did: the download's data was a new callable at every redraw)."""
    v = visit()
    button = v.page.locator(".abm-save-picture").get_by_text("Save picture")
    button.wait_for(state="visible", timeout=WAIT_MS)
    v.page.locator(".abm-play").first.click()
    v.page.wait_for_function(
        "() => /policy year (0\\.[2-9]|[1-9])/"
        ".test(document.querySelector('.abm-status').innerText)", timeout=WAIT_MS)
    pressed = v.policy_year()
    with v.page.expect_download(timeout=2 * WAIT_MS) as download:
        button.click()
    image = PIL.Image.open(io.BytesIO(download.value.path().read_bytes()))
    saved = float(image.text["Description"].split("policy year ")[1].split(" ")[0])
    assert pressed <= saved < 10, "the picture is of the run as it played, after the press"
    assert v.errors == [], f"console errors: {v.errors}"
