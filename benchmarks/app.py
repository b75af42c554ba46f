"""The workshop app's speed: simulated weeks per second while playing, and slider-to-screen.

    python -m benchmarks.app

Targets (issue 10): at least 10 simulated weeks per second while playing, and a slider's
effect on screen within 1 s. Each figure comes with a reference measured in the same run on
the same machine (the machines are shared and noisy, so ratios travel better than seconds):

1. Server side, no browser: the app's play loop (advance both twins, snapshot, draw the
   charts and the map) against the bare model (advance both twins, nothing drawn).
2. In Debian's Chromium against a real `abm viz` server, starting from the scale + embed +
   sustain preset: weeks per second shown on screen while playing, and slider-to-screen
   times, from the key press to the first painted frame with the new run's charts (timed by
   the page's clock), each after a year has been played (so that any new run, which starts
   at the policy's start, changes the charts). Three kinds of move:
   - a new value of a slider the burn-in reads (a new burn-in is run): the slowest kind;
   - a new value of a slider only a strategy reads (the cached burn-in is shared);
   - a value seen before (moving back: everything cached).
   The reference is the server work a new burn-in value causes, measured here without a
   browser: a WorkshopRun (burn-in and both twins) and its first two pictures.
3. The readout's range (issue 20: <= 5 s): seconds until the background worker has run the
   extra seeds' pairs (as replicates of two models, ``abm.app.run.seed_pairs``), against
   the same pairs run one after another in this process.
"""

from __future__ import annotations

import statistics
import tempfile
import time
from pathlib import Path

from playwright.sync_api import sync_playwright

from abm.app.controls import presets, sliders
from abm.app.figure import Charts, Map
from abm.app.run import (
    EXTRA_SEEDS,
    SeedPairs,
    Settings,
    WorkshopRun,
    _burn_ins,
    _burned_in,
    seed_pair,
)
from abm.model.providers import WEEKS_PER_YEAR
from abm.model.scenarios import load_scenario
from tests.app.app_browser import Visit, app_server, launch_chromium

PRESET = next(p for p in presets() if p.name == "scale_embed_sustain")
#: What the page shows once the preset is chosen (the place stays the starting scenario's).
SETTINGS = Settings.make(load_scenario("baseline").place, PRESET.scenario.rules,
                         PRESET.scenario.parameters)
PLAY_SECONDS = 12
#: Sliders of each kind moved (see slider_moves).
PER_KIND = 4


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


def slider_server_work(repeats: int = 3) -> float:
    """Median seconds of server work for a slider move with nothing cached (burn-in, twins,
    first frame, both pictures), with the pictures' drawing code warmed up first."""
    charts, map_ = Charts(10), Map()
    frame = WorkshopRun(SETTINGS).frame()
    charts.png(frame)
    map_.png(frame)
    times = []
    for _ in range(repeats):
        _burn_ins.clear()
        start = time.perf_counter()
        frame = WorkshopRun(SETTINGS.changed(grant_years=2)).frame()
        charts.png(frame)
        map_.png(frame)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def extra_seeds() -> tuple[float, list[float], float]:
    """Seconds until the readout's range has all its extra seeds (EXTRA_SEEDS seed pairs in
    the app's background worker, at nice 10): the first request of a server (the worker
    starts), and two later ones (new settings each); and, as the reference, the same pairs
    run one after another in this process as they were before they ran as replicates."""
    def wait_for(settings: Settings) -> float:
        start = time.perf_counter()
        for future in SeedPairs(settings).futures:
            future.result()
        return time.perf_counter() - start

    cold = wait_for(SETTINGS)
    warm = [wait_for(SETTINGS.changed(grant_years=years)) for years in (2, 3)]
    start = time.perf_counter()
    for seed in range(1, EXTRA_SEEDS + 1):
        seed_pair(SETTINGS.changed(seed=SETTINGS.seed + 10 + seed))
    return cold, warm, time.perf_counter() - start


BACK = {"ArrowRight": "ArrowLeft", "ArrowLeft": "ArrowRight"}


def slider_moves() -> list[tuple[str, str, str]]:
    """(kind of move, slider, key) for PER_KIND sliders the burn-in reads and PER_KIND that
    only a strategy reads: each slider moves one step to a new value, back, and to that new
    value again (seen before). Moving back returns to a value seen before only when the
    starting value is on the slider's grid (a calibrated default need not be)."""
    read = _burned_in(SETTINGS).depends_on
    values = SETTINGS.params
    kinds: dict[str, list[tuple[str, str, str]]] = {"new burn-in": [], "shared burn-in": []}
    for items in sliders(dict(values)).values():
        for slider in items:
            kind = "new burn-in" if slider.name in read else "shared burn-in"
            key = "ArrowRight" if values[slider.name] < slider.high else "ArrowLeft"
            back = "seen before" if slider.snap(values[slider.name]) == values[slider.name] \
                else kind
            kinds[kind].append([(kind, slider.name, key), (back, slider.name, BACK[key]),
                                ("seen before", slider.name, key)])
    return [move for moves in kinds.values() for three in moves[:PER_KIND] for move in three]


def played_rate(v: Visit) -> float:
    """Weeks per second the page shows over PLAY_SECONDS of playing (then paused)."""
    v.page.locator(".abm-play").first.click()
    time.sleep(2)  # past the first frames
    year, start = v.policy_year(), time.perf_counter()
    time.sleep(PLAY_SECONDS)
    shown = (v.policy_year() - year) * WEEKS_PER_YEAR / (time.perf_counter() - start)
    v.page.locator(".abm-play").first.click()
    return shown


def in_browser() -> tuple[float, float, dict[str, list[float]]]:
    """Weeks per second on screen while playing, alone and comparing with another choice
    (a third model runs); slider-to-screen seconds by kind of move."""
    times: dict[str, list[float]] = {"new burn-in": [], "shared burn-in": [], "seen before": []}
    with tempfile.TemporaryDirectory() as folder, \
            app_server(Path(folder), Path(folder) / "server.log") as url, \
            sync_playwright() as playwright:
        browser = launch_chromium(playwright)
        v = Visit(browser, url)
        v.choose_preset(PRESET.label)
        v.wait_text(".abm-status", "scale + embed + sustain")
        for kind, name, key in slider_moves():
            # The room has watched a year; a move shows the new run from its start.
            v.page.locator(".abm-step").first.click()
            v.wait_text(".abm-status", "policy year 1.0")
            time.sleep(1)
            times[kind].append(v.seconds_to_new_picture(
                ".abm-charts", lambda n=name, k=key: v.move_slider(n, k)))
        shown = played_rate(v)
        v.choose(".abm-compare-with", "Preset: Sustain (same money)")
        v.wait_text(".abm-compare", "Compared with: sustain")
        comparing = played_rate(v)
        v.close()
        browser.close()
    return shown, comparing, times


def main() -> None:
    bare = bare_model_rate()
    one_week = play_loop_rate(1)
    batched = play_loop_rate(13)
    server_slider = slider_server_work()
    seeds_cold, seeds_warm, seeds_one_by_one = extra_seeds()
    shown, comparing, times = in_browser()
    print("Workshop app speed (same run, same machine)")
    print(f"  bare model, both twins, nothing drawn:   {bare:7.1f} weeks/s  (reference)")
    print(f"  play loop drawing every week:             {one_week[0]:7.1f} weeks/s "
          f"({one_week[1]:.1f} frames/s; {one_week[0] / bare:.3f} x reference)")
    print(f"  play loop drawing every 13 weeks:         {batched[0]:7.1f} weeks/s "
          f"({batched[1]:.1f} frames/s; {batched[0] / bare:.3f} x reference)")
    print(f"  in Chromium while playing (app paces at 26 weeks/s at most): {shown:.1f} weeks/s "
          "(target >= 10)")
    print(f"  the same, comparing with another choice (three models): {comparing:.1f} weeks/s")
    print(f"  slider move with a new burn-in, server work only (reference): {server_slider:.2f} s")
    print(f"  extra seeds for the range ({EXTRA_SEEDS} seed pairs in the background worker; "
          f"target <= 5 s): first request {seeds_cold:.1f} s (the worker starts), then "
          f"{', '.join(f'{t:.1f}' for t in seeds_warm)} s; one pair after another in this "
          f"process (reference): {seeds_one_by_one:.1f} s")
    print("  slider to screen in Chromium (key press to painted charts; target <= 1 s):")
    for label, seconds in times.items():
        median = statistics.median(seconds)
        print(f"    {label:15s} median {median:.2f} s ({median / server_slider:.2f} x reference), "
              f"slowest {max(seconds):.2f} s; all: {', '.join(f'{t:.2f}' for t in seconds)}")


if __name__ == "__main__":
    main()
