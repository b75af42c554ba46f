"""The workshop app's speed: simulated weeks per second while playing, and slider-to-screen.

    python -m benchmarks.app

Targets (issue 10): at least 10 simulated weeks per second while playing, and a slider's
effect on screen within 1 s. Each figure comes with a reference measured in the same run on
the same machine (the machines are shared and noisy, so ratios travel better than seconds):

1. Server side, no browser: the app's play loop (advance both twins, snapshot, draw the
   charts and the map) against the bare model (advance both twins, nothing drawn).
2. In Debian's Chromium against a real `abm viz` server: weeks per second shown on screen
   while playing, and the time from a slider move to the new run's first frame on screen
   (a new value: burn-in not cached; a value seen before: cached), against the server-side
   work that a slider move causes (a WorkshopRun and its first two pictures).
"""

from __future__ import annotations

import statistics
import tempfile
import time
from pathlib import Path

from playwright.sync_api import sync_playwright

from abm.app_figure import Charts, Map
from abm.app_run import Settings, WorkshopRun, _burn_ins
from abm.providers import WEEKS_PER_YEAR
from tests.app_browser import Visit, app_server, launch_chromium

SETTINGS = Settings.make("devon_ics", "scale+embed+sustain",
                         {"scale_budget_share": 0.15, "embed_budget_share": 0.15})
PLAY_SECONDS = 12
SLIDER_MOVES = 4


def bare_model_rate(weeks: int = 260) -> float:
    """Weeks per second advancing the two twins, nothing drawn."""
    run = WorkshopRun(SETTINGS)
    start = time.perf_counter()
    run.advance(weeks)
    return weeks / (time.perf_counter() - start)


def play_loop_rate(weeks_per_frame: int, seconds: float = 10.0) -> tuple[float, float]:
    """Weeks and frames per second of the play loop drawing every ``weeks_per_frame`` weeks."""
    run, charts, map_ = WorkshopRun(SETTINGS), Charts(10), Map()
    start, weeks, frames = time.perf_counter(), 0, 0
    while time.perf_counter() - start < seconds and not run.finished:
        weeks += run.advance(weeks_per_frame)
        frame = run.frame()
        charts.png(frame)
        map_.png(frame)
        frames += 1
    took = time.perf_counter() - start
    return weeks / took, frames / took


def slider_server_work() -> float:
    """Seconds of server work for a slider move with nothing cached: burn-in, twins, first
    frame, both pictures."""
    _burn_ins.clear()
    charts, map_ = Charts(10), Map()
    start = time.perf_counter()
    frame = WorkshopRun(SETTINGS.changed(grant_years=2)).frame()
    charts.png(frame)
    map_.png(frame)
    return time.perf_counter() - start


def in_browser() -> tuple[float, list[float], list[float]]:
    """Weeks per second on screen while playing; slider-to-screen seconds, new and cached."""
    with tempfile.TemporaryDirectory() as folder, \
            app_server(Path(folder), Path(folder) / "server.log") as url, \
            sync_playwright() as playwright:
        browser = launch_chromium(playwright)
        v = Visit(browser, url)
        time.sleep(2)  # let the first frame settle
        new, cached = [], []
        for move in range(SLIDER_MOVES):  # grant_years 1 -> 2 -> 1 -> 2 ...: new, new, cached
            before = v.image(".abm-charts")
            start = time.perf_counter()
            v.move_slider("grant_years", "ArrowRight" if move % 2 == 0 else "ArrowLeft")
            v.wait_text(".abm-changes", "2 years" if move % 2 == 0 else "nothing")
            if not v.wait_new_image(".abm-charts", before):
                raise RuntimeError("the charts did not change after a slider move")
            (new if move < 2 else cached).append(time.perf_counter() - start)
            time.sleep(1)
        v.page.locator(".abm-play").first.click()
        time.sleep(2)  # past the first frames
        year, start = v.policy_year(), time.perf_counter()
        time.sleep(PLAY_SECONDS)
        shown = (v.policy_year() - year) * WEEKS_PER_YEAR / (time.perf_counter() - start)
        v.page.locator(".abm-play").first.click()
        v.close()
        browser.close()
    return shown, new, cached


def main() -> None:
    bare = bare_model_rate()
    one_week = play_loop_rate(1)
    batched = play_loop_rate(13)
    server_slider = slider_server_work()
    shown, new, cached = in_browser()
    print("Workshop app speed (same run, same machine)")
    print(f"  bare model, both twins, nothing drawn:   {bare:7.1f} weeks/s  (reference)")
    print(f"  play loop drawing every week:             {one_week[0]:7.1f} weeks/s "
          f"({one_week[1]:.1f} frames/s; {one_week[0] / bare:.3f} x reference)")
    print(f"  play loop drawing every 13 weeks:         {batched[0]:7.1f} weeks/s "
          f"({batched[1]:.1f} frames/s; {batched[0] / bare:.3f} x reference)")
    print(f"  in Chromium while playing (app paces at 26 weeks/s at most): {shown:.1f} weeks/s "
          "(target >= 10)")
    print(f"  slider move, server work only (reference): {server_slider:.2f} s")
    for label, times in (("new value (burn-in run)", new), ("value seen before (cached)", cached)):
        median = statistics.median(times)
        print(f"  slider to screen in Chromium, {label}: median {median:.2f} s "
              f"({median / server_slider:.2f} x reference; target <= 1 s); "
              f"all: {', '.join(f'{t:.2f}' for t in times)}")


if __name__ == "__main__":
    main()
