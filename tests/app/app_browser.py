"""Driving the workshop app in Debian's Chromium (headless, through Playwright): a server
started as a facilitator starts it, and browser sessions that record every request.

Used by tests/app/test_app_browser.py and benchmarks/app.py.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
ARTEFACTS = ROOT / "test-artefacts" / "app"
#: Debian's Chromium, found on PATH as `make test` and the report tests find it (None: missing).
CHROMIUM = shutil.which("chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]
LOCAL = ("http://127.0.0.1", "ws://127.0.0.1")
SERVER_START_SECONDS = 180  # the server imports the model, Solara and matplotlib; CI is slow
WAIT_MS = 60_000  # generous: the machines are shared


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextlib.contextmanager
def app_server(save_dir: Path, log_path: Path) -> Iterator[str]:
    """`abm viz --no-browser` on a free port; yields its URL, then stops it and its children
    (it runs in a process group of its own)."""
    port = free_port()
    with log_path.open("w") as log:
        process = subprocess.Popen(
            [sys.executable, "-c", "import sys; from abm.cli import main; sys.exit(main())",
             "viz", "--no-browser", "--port", str(port), "--save-dir", str(save_dir)],
            stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        try:
            url = f"http://127.0.0.1:{port}/"
            deadline = time.monotonic() + SERVER_START_SECONDS
            while True:
                try:
                    urllib.request.urlopen(url, timeout=5).close()
                    break
                except OSError:
                    if process.poll() is not None or time.monotonic() > deadline:
                        raise RuntimeError(f"abm viz did not start; see {log_path}") from None
                    time.sleep(0.5)
            yield url
        finally:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGTERM)
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:  # a busy machine: stop it for sure
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(process.pid, signal.SIGKILL)
                process.wait(timeout=30)


def launch_chromium(playwright):
    """Debian's Chromium, headless, with nothing of its own reaching the network."""
    if CHROMIUM is None:
        raise RuntimeError("Chromium is missing: apt-get install -y chromium")
    return playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)


#: Page script for Visit.seconds_to_new_picture: note when the first key goes down, then
#: when the picture's src changes wait for it to be decoded and for the next painted frame.
_WATCH_PICTURE = """css => {
  window.abmKey = undefined;
  window.abmPainted = undefined;
  document.addEventListener("keydown", () => { window.abmKey = performance.now(); },
                            {capture: true, once: true});
  const observer = new MutationObserver(changes => {
    const changed = changes.find(c => c.target.closest && c.target.closest(css));
    if (!changed || window.abmKey === undefined) return;
    observer.disconnect();
    changed.target.decode().catch(() => {}).then(() => requestAnimationFrame(
      () => requestAnimationFrame(() => { window.abmPainted = performance.now(); })));
  });
  observer.observe(document.body, {subtree: true, attributes: true, attributeFilter: ["src"]});
}"""


class Visit:
    """One browser session on the app. Every request goes through a recorder that lets only
    127.0.0.1 through; console errors and page errors are kept."""

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
        if route.request.url.startswith(LOCAL):
            route.continue_()
        else:
            route.abort()

    def text(self, css: str) -> str:
        return self.page.locator(css).first.inner_text()

    def image(self, css: str) -> str:
        """The src of the picture of ``css`` (a data URL: it changes when the picture does)."""
        return self.page.locator(f"{css} img, img{css}").first.get_attribute("src")

    def wait_new_image(self, css: str, old: str, timeout_s: float = WAIT_MS / 1000) -> bool:
        """Whether the picture of ``css`` changes from ``old`` within ``timeout_s``."""
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self.image(css) != old:
                return True
            time.sleep(0.02)
        return False

    def wait_text(self, css: str, fragment: str, timeout_ms: float = WAIT_MS) -> None:
        self.page.locator(css).filter(has_text=fragment).first.wait_for(timeout=timeout_ms)

    def policy_year(self) -> float:
        """The policy year the status line shows."""
        status = self.text(".abm-status")
        return float(status.split("policy year ")[1].split(" ")[0])

    def choose_preset(self, label: str) -> None:
        """Pick a starting scenario by its label, e.g. 'Scale + embed (same money)'."""
        self.page.locator(".abm-preset .v-select__slot").first.click()
        self.page.get_by_role("option", name=label).click()

    def seconds_to_new_picture(self, css: str, act: Callable[[], None]) -> float:
        """Seconds from the first key ``act`` presses to the first frame painted with a new
        picture of ``css`` (decoded), timed by the page's own clock, so Playwright's round
        trips are not counted."""
        self.page.evaluate(_WATCH_PICTURE, css)
        act()
        self.page.wait_for_function("() => window.abmPainted !== undefined", timeout=WAIT_MS)
        return self.page.evaluate("() => (window.abmPainted - window.abmKey) / 1000")

    def move_slider(self, name: str, key: str, presses: int = 1) -> None:
        """Move a parameter's slider with the keyboard (as a person can, and as precisely)."""
        thumb = self.page.locator(f".abm-slider-{name} [role=slider]").first
        thumb.focus()
        for _ in range(presses):
            thumb.press(key)

    def screenshot(self, name: str) -> Path:
        ARTEFACTS.mkdir(parents=True, exist_ok=True)
        path = ARTEFACTS / name
        self.page.screenshot(path=str(path), full_page=True)
        return path

    def screenshot_at(self, css: str, name: str) -> Path:
        """A screenshot of the window scrolled to show ``css`` (the page scrolls inside a
        container of its own, so a full-page screenshot shows only the window)."""
        self.page.locator(css).first.scroll_into_view_if_needed()
        ARTEFACTS.mkdir(parents=True, exist_ok=True)
        path = ARTEFACTS / name
        self.page.screenshot(path=str(path))
        return path

    def choose(self, css: str, label: str) -> None:
        """Pick ``label`` in the Select of ``css``."""
        self.page.locator(f"{css} .v-select__slot").first.click()
        self.page.get_by_role("option", name=label).first.click()

    def close(self) -> None:
        self.context.close()
