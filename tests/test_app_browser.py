"""The workshop app in a real browser: Debian's Chromium, headless, driven by Playwright.

One server (`abm viz`, as a facilitator starts it) serves every test in this module. Every
request the page makes is routed through a recorder that lets only 127.0.0.1 through, so a
test fails if the page reaches for anything outside this computer. Screenshots land in
test-artefacts/app/ (git-ignored).
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
import yaml

from abm.cli import main as abm_main

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[1]
ARTEFACTS = ROOT / "test-artefacts" / "app"
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]
SERVER_START_SECONDS = 180  # the server imports the model, Solara and matplotlib; CI is slow
WAIT_MS = 60_000  # generous: the test machine is shared


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """`abm viz` on a free port, started once; yields (url, folder where saves go)."""
    port, saves = _free_port(), tmp_path_factory.mktemp("saved")
    log = (tmp_path_factory.mktemp("server") / "server.log").open("w")
    process = subprocess.Popen(
        [sys.executable, "-c", "import sys; from abm.cli import main; sys.exit(main())",
         "viz", "--no-browser", "--port", str(port), "--save-dir", str(saves)],
        stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    url = f"http://127.0.0.1:{port}/"
    deadline = time.monotonic() + SERVER_START_SECONDS
    while True:
        try:
            urllib.request.urlopen(url, timeout=5).close()
            break
        except OSError:
            if process.poll() is not None or time.monotonic() > deadline:
                os.killpg(process.pid, signal.SIGTERM)
                raise RuntimeError(f"abm viz did not start; see {log.name}") from None
            time.sleep(0.5)
    yield url, saves
    os.killpg(process.pid, signal.SIGTERM)  # the server's own process group: its children too
    process.wait(timeout=30)
    log.close()


@pytest.fixture(scope="module")
def browser():
    sync_api = pytest.importorskip("playwright.sync_api")
    assert Path(CHROMIUM).exists(), "Chromium is missing: apt-get install -y chromium"
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


class Visit:
    """One browser session on the app, recording requests and console errors."""

    def __init__(self, browser, url: str):
        self.context = browser.new_context(viewport={"width": 1600, "height": 1000})
        self.requests: list[str] = []
        self.errors: list[str] = []
        self.context.route("**/*", self._route)
        self.page = self.context.new_page()
        self.page.on("console", lambda m: m.type == "error" and self.errors.append(m.text))
        self.page.on("pageerror", lambda e: self.errors.append(str(e)))
        self.page.goto(url)
        self.page.locator(".abm-charts").first.wait_for(timeout=WAIT_MS)

    def _route(self, route) -> None:
        self.requests.append(route.request.url)
        if route.request.url.startswith(("http://127.0.0.1", "ws://127.0.0.1")):
            route.continue_()
        else:
            route.abort()

    def text(self, css: str) -> str:
        return self.page.locator(css).first.inner_text()

    def image(self, css: str) -> str:
        """The src of the image of ``css`` (a data URL: changes when the picture does)."""
        locator = self.page.locator(f"{css} img, img{css}").first
        return locator.get_attribute("src")

    def wait_new_image(self, css: str, old: str) -> bool:
        """Whether the picture of ``css`` changes from ``old`` within the wait."""
        deadline = time.monotonic() + WAIT_MS / 1000
        while time.monotonic() < deadline:
            if self.image(css) != old:
                return True
            time.sleep(0.2)
        return False

    def wait_text(self, css: str, fragment: str) -> None:
        self.page.locator(css).filter(has_text=fragment).first.wait_for(timeout=WAIT_MS)

    def move_slider(self, name: str, key: str, presses: int = 1) -> None:
        thumb = self.page.locator(f".abm-slider-{name} [role=slider]").first
        thumb.focus()
        for _ in range(presses):
            thumb.press(key)

    def screenshot(self, name: str) -> Path:
        ARTEFACTS.mkdir(parents=True, exist_ok=True)
        path = ARTEFACTS / name
        self.page.screenshot(path=str(path), full_page=True)
        return path

    def close(self) -> None:
        self.context.close()


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
    outside = [u for u in v.requests if not u.startswith(("http://127.0.0.1", "ws://127.0.0.1"))]
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
    v.page.locator(".abm-preset .v-select__slot").first.click()
    v.page.get_by_role("option", name="Scale + embed + sustain (same money)").click()
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
