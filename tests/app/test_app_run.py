"""The workshop app without a browser: its runs, readout, sliders, presets and saved files."""

from __future__ import annotations

import io
import os
import re
import subprocess
import sys
import time
from concurrent.futures import wait

import numpy as np
import pandas as pd
import PIL.Image
import pytest
import yaml

from abm.app.assets import missing
from abm.app.background import NewestFirst
from abm.app.controls import WORKSHOP_GROUPS, changes_from_defaults, presets, sliders
from abm.app.figure import Charts
from abm.app.run import (
    WORKSHOP_SIZE,
    Settings,
    WorkshopRun,
    _burned_in,
    change_in_words,
    fork,
    range_in_words,
    readout,
    seed_pair,
    seed_pairs,
)
from abm.app.save import Note, save
from abm.cli import main as abm_main
from abm.files.errors import InputError
from abm.model.model import CommunityAssetsModel
from abm.model.parameters import BY_NAME, PARAMETERS
from experiments.spec import load_sweep
from tests.conftest import SMALL


def test_a_fork_runs_exactly_like_a_model_built_with_its_rules():
    """The burn-in cache is sound: rules only matter once the policy starts."""
    start = CommunityAssetsModel("bradford", "status_quo", 5, SMALL)
    while start.week < start.burn_in_weeks:
        start.step()
    forked = fork(start, ("scale", "embed"))
    built = CommunityAssetsModel("bradford", "scale+embed", 5, SMALL)
    for _ in range(start.burn_in_weeks + 60):  # past the first policy funding round
        built.step()
    for _ in range(60):
        forked.step()
    pd.testing.assert_frame_equal(forked.timeseries(), built.timeseries())
    assert start.week == start.burn_in_weeks, "forking leaves the cached model untouched"


def test_twins_share_one_cached_burn_in_and_differ_only_by_policy():
    status_quo = Settings.make("bradford", "status_quo")
    sustain = status_quo.changed(rules=["sustain"])
    assert _burned_in(status_quo) is _burned_in(sustain), "rules do not affect the burn-in"
    assert _burned_in(status_quo) is not _burned_in(status_quo.changed(grant_years=2))
    same = WorkshopRun(status_quo)
    same.advance(30)
    assert np.all(same.gap_difference() == 0), "a status-quo run equals its status-quo twin"
    run = WorkshopRun(sustain)
    run.horizon_weeks = 40  # instead of policy_years, to keep the test short
    assert run.advance(10_000) == 40 and run.finished, "stops at the horizon"
    frame = run.frame()
    assert frame.policy_weeks == 40
    assert frame.years[0] == pytest.approx(1 / 52 - 1), "the last warm-up year is shown"
    assert frame.wellbeing.shape == (5, len(frame.years))
    assert frame.closures.sum() >= 0 and len(frame.funded_providers) == len(frame.years)
    n_hoods = WORKSHOP_SIZE["n_neighbourhoods"]
    assert len(frame.hood_x) == n_hoods and frame.hood_quintile.max() <= 4


def test_the_app_computes_the_metrics_of_only_the_weeks_it_shows():
    """The app leaves the warm-up weeks it never shows out of its models' series (all but
    the last year, and the week before it), and what it shows is exactly the rows of a
    model that recorded every week."""
    settings = Settings.make("bradford", "sustain", seed=3)
    run = WorkshopRun(settings)
    run.advance(20)
    model = run.model
    assert model.record_from == model.burn_in_weeks - 53 > 0
    built = CommunityAssetsModel(settings.place, settings.rules, settings.seed, settings.params)
    while built.week < model.week:
        built.step()
    full = built.timeseries()
    shown = full[full.week > model.burn_in_weeks - 52]
    frame = run.frame()
    np.testing.assert_array_equal(frame.gap, shown.gap_q5_q1)
    np.testing.assert_array_equal(frame.years, shown.year)
    before = full.closures[full.week == model.burn_in_weeks - 52].to_numpy()
    np.testing.assert_array_equal(frame.closures, np.diff(shown.closures, prepend=before))


def _another_value(parameter):
    """A valid value of ``parameter`` other than its default."""
    low, high = ((parameter.plausible_low, parameter.plausible_high) if parameter.sampled
                 else (parameter.low, parameter.high))
    value = high if high != parameter.default else low
    return parameter.type(value)


def test_extra_seeds_run_together_give_each_seed_its_own_pair_exactly():
    """The readout's extra seeds run as replicates of two models (the choice, and carrying on
    as today, whose levers differ from the choice's): each seed's weekly gap difference is
    bit for bit the pair run alone, forked from cached burn-ins."""
    chosen = Settings.make("west_yorkshire", ("scale", "embed"),
                           {"policy_years": 1, "grant_years": 3, "embed_budget_share": 0.25})
    seeds = [chosen.changed(seed=seed) for seed in (5, 6, 7)]
    together = seed_pairs(seeds)
    assert len(together) == 3
    for alone, batch in zip((seed_pair(s) for s in seeds), together, strict=True):
        assert len(batch) == 52 and batch.dtype == alone.dtype
        assert np.array_equal(alone, batch)
    assert not np.array_equal(together[0], together[1])  # seeds differ
    assert np.array_equal(seed_pairs(seeds[:1])[0], together[0])


def test_a_burn_in_serves_settings_that_differ_only_in_parameters_it_did_not_read():
    """The burn-in cache is sound: settings that change only parameters the burn-in did not
    read get the cached burn-in, and a burn-in run afresh for them is identical to it."""
    settings = Settings.make("bradford", "scale+embed+sustain", seed=4)
    cached = _burned_in(settings)
    unread = [p for p in PARAMETERS if p.name not in cached.depends_on
              and p.name not in WORKSHOP_SIZE]
    levers = {"budget_uplift", "embed_budget_share", "embed_provider_share", "pu_weight",
              "scale_budget_share", "scale_support_years", "core_grant_years"}
    assert levers <= {p.name for p in unread}, "strategy levers act only once the policy starts"
    changed = settings.changed(**{p.name: _another_value(p) for p in unread})
    assert _burned_in(changed) is cached
    served = WorkshopRun(changed)
    assert dict(served.model.params) == dict(changed.params), \
        "a shared burn-in runs on the settings it serves, not those it was made for"
    fresh = CommunityAssetsModel("bradford", "status_quo", 4, changed.params,
                                 record_from=cached.model.record_from)
    while fresh.week < fresh.burn_in_weeks:
        fresh.step()
    pd.testing.assert_frame_equal(fresh.timeseries(), cached.model.timeseries())
    np.testing.assert_array_equal(fresh.resident_state.wellbeing,
                                  cached.model.resident_state.wellbeing)
    np.testing.assert_array_equal(fresh.provider_state.reserves,
                                  cached.model.provider_state.reserves)
    assert _burned_in(settings.changed(grant_years=2)) is not cached, "a parameter it read"


def test_charts_drawn_over_a_saved_background_equal_a_full_drawing():
    """The charts are drawn over a saved picture of their axes, kept per set of axis limits;
    the result is pixel for pixel what a full drawing gives, and once the first year has set
    the limits, restarting and playing again need no full drawing."""
    settings = Settings.make("bradford", "sustain")
    charts = Charts(10)
    run = WorkshopRun(settings)
    frames = [run.frame()]
    for _ in range(2):
        run.advance(60)
        frames.append(run.frame())
        run = WorkshopRun(settings)
        frames.append(run.frame())
    kept = []
    for frame in frames:
        limits = [ax.get_ylim() for ax in charts.axes]
        drawn = charts.png(frame)
        kept.append(len(charts.blit.backgrounds))
        np.testing.assert_array_equal(_pixels(drawn), _pixels(_full_drawing(frame, limits)))
    assert kept[1:] == [kept[1]] * (len(kept) - 1), "no full drawing after the first year"
    earlier = [ax.get_ylim() for ax in charts.axes]
    for ax in charts.axes:  # other limits, then back to the earlier ones: a saved background
        ax.set_ylim(ax.get_ylim()[0] - 1, ax.get_ylim()[1] + 1)
    charts.blit.png((False, *(ax.get_ylim() for ax in charts.axes)))
    for ax, (low, high) in zip(charts.axes, earlier, strict=True):
        ax.set_ylim(low, high)
    drawn = charts.blit.png((False, *earlier))
    np.testing.assert_array_equal(_pixels(drawn), _pixels(_full_drawing(frames[-1], earlier)))


def _full_drawing(frame, limits) -> bytes:
    """``frame`` drawn by new charts whose axes had ``limits`` before the frame."""
    fresh = Charts(10)
    for ax, (low, high) in zip(fresh.axes, limits, strict=True):
        ax.set_ylim(low, high)
    return fresh.png(frame)


def _pixels(png: bytes) -> np.ndarray:
    return np.asarray(PIL.Image.open(io.BytesIO(png)))


def test_settings_refuse_what_the_model_would_refuse():
    with pytest.raises(InputError, match="unknown place 'atlantis'"):
        Settings.make("atlantis", "status_quo")
    with pytest.raises(InputError, match="exceed 1"):
        Settings.make("bradford", "scale+embed",
                      {"scale_budget_share": 0.7, "embed_budget_share": 0.7})
    assert Settings.make("bradford", "embed", {"n_neighbourhoods": 9999}).values == {}, \
        "the workshop's run size is fixed, not a setting"


@pytest.mark.parametrize(("change", "words"), [
    (-0.042, "narrower by 0.04 points"),
    (0.031, "wider by 0.03 points"),
    (0.001, "about the same"),
])
def test_changes_are_said_in_words(change, words):
    assert words in change_in_words(change)


def test_ranges_are_said_in_words():
    assert range_in_words(-0.08, -0.02) == "narrower by 0.02 to 0.08 points"
    assert range_in_words(0.01, 0.05) == "wider by 0.01 to 0.05 points"
    assert "too uncertain to say which way" in range_in_words(-0.03, 0.02)


def test_readout_has_words_for_direction_and_says_how_the_range_is_made():
    run = WorkshopRun(Settings.make("bradford", "embed"))
    run.advance(60)
    frame, this_run = run.frame(), run.gap_difference()
    waiting = readout(frame, this_run, [], 4)
    assert "After 1.2 years" in waiting.headline and "0 of 4" in waiting.range
    others = [this_run + 0.02, this_run - 0.02]
    text = readout(frame, this_run, others, 4)
    assert "95% range over 3 seeds" in text.range and "2 of 4 extra seeds" in text.range
    assert "t-interval" in text.method
    for line in (text.headline, text.range, text.uptake):
        assert not re.search(r"(^|\s)[-+−]\d", line), f"a bare signed number: {line}"


def test_sliders_come_from_the_declaration():
    groups = sliders({})
    assert list(groups) == [g for g in WORKSHOP_GROUPS if g in groups]
    names = [s.name for items in groups.values() for s in items]
    assert len(names) == len(set(names)) >= 10, "each parameter once"
    for items in groups.values():
        for slider in items:
            p = BY_NAME[slider.name]
            assert p.low <= slider.low <= p.default <= slider.high <= p.high
            assert slider.caption(p.default).startswith(p.label)
            assert slider.help.lower() == p.meaning.lower()
    budget = next(s for items in groups.values() for s in items if s.name == "grant_years")
    assert budget.step == 1 and budget.snap(2.4) == 2 and budget.snap(9) == budget.high


def test_presets_are_the_shipped_scenarios():
    labels = [p.label for p in presets()]
    assert labels[0] == "Status quo (same money)"
    assert "Scale + embed + sustain (same money)" in labels
    assert any(label.endswith("(extra money)") for label in labels)


def test_changes_from_defaults_name_the_parameter_in_words():
    grant = BY_NAME["grant_years"]
    assert changes_from_defaults({"grant_years": 2}) == [f"{grant.label}: 2 {grant.unit}"]
    assert changes_from_defaults({p.name: p.default for p in PARAMETERS}) == []


def test_save_writes_a_valid_scenario_and_a_sweep(tmp_path):
    settings = Settings.make("west_yorkshire", "embed+sustain", {"grant_years": 2})
    note = Note("Table 3\n(Leeds)", "2026-11-23 10:00", "More link workers, longer grants")
    scenario, sweep = save(settings, tmp_path, "table_three", note)
    assert abm_main(["validate", str(scenario)]) == 0
    text = scenario.read_text()
    assert "# Who: Table 3 (Leeds)" in text and "# Why: More link workers" in text
    data = yaml.safe_load(text)
    assert data["place"] == "west_yorkshire" and data["rules"] == ["embed", "sustain"]
    assert data["parameters"] == {"grant_years": 2}, "the workshop's run size is not saved"
    spec = load_sweep(sweep)
    assert [s.name for s in spec.scenarios] == ["baseline", "table_three"]
    assert spec.places == ("west_yorkshire",)
    assert {run.scenario for run in spec.runs()} == {"baseline", "table_three"}


@pytest.mark.parametrize(("name", "fragment"), [
    ("Table 3", "allowed are lower-case letters"),
    ("embed", "a shipped scenario's name"),
    ("taken", "exists already"),
])
def test_save_refuses_bad_names_and_writes_nothing(tmp_path, name, fragment):
    (tmp_path / "taken.yaml").write_text("place: bradford\n")
    with pytest.raises(InputError, match=fragment):
        save(Settings.make("bradford", "embed"), tmp_path, name, Note("a", "b", "c"))
    assert sorted(p.name for p in tmp_path.iterdir()) == ["taken.yaml"]


def _identity(x):
    return x


def test_background_work_serves_the_newest_request_first():
    queue = NewestFirst()
    first = queue.submit_batch(time.sleep, [(0.5,)])  # occupies the worker
    time.sleep(0.2)
    old = queue.submit_batch(_identity, [("old",)])
    new = queue.submit_batch(_identity, [("new-1",), ("new-2",)])
    dropped = queue.submit_batch(_identity, [("dropped",)])
    assert dropped[0].cancel()
    done = []
    for future in (*new, *old):
        future.add_done_callback(lambda f: done.append(f.result()))
    wait([*first, *old, *new], timeout=120)
    assert done == ["new-1", "new-2", "old"]
    assert dropped[0].cancelled()


def test_the_browser_files_are_installed_for_offline_use():
    assert missing() == [], "run `python -m abm.app.assets` (make does) to fetch them"


def test_two_sessions_saving_one_name_at_once_never_both_succeed(tmp_path):
    """Issue 22, item 3: of two saves of one name, exactly one is told "Saved" and its files
    are the ones left; the other is refused and removes nothing of the first's (two threads,
    100 times)."""

    settings = Settings.make("bradford", "embed", {"grant_years": 2})
    before = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)  # the threads take turns every few bytecodes: a real race
    try:
        _race(settings, tmp_path)
    finally:
        sys.setswitchinterval(before)
    assert len(list(tmp_path.iterdir())) == 200


def _race(settings, tmp_path) -> None:
    import threading

    for attempt in range(100):
        name = f"race_{attempt}"
        barrier = threading.Barrier(2)
        outcomes: dict[int, str] = {}

        def one(session: int, name=name, barrier=barrier, outcomes=outcomes) -> None:
            barrier.wait()
            try:
                save(settings, tmp_path, name, Note(f"session {session}", "now", "race"))
                outcomes[session] = "saved"
            except InputError as problem:
                outcomes[session] = str(problem)

        threads = [threading.Thread(target=one, args=(k,)) for k in (0, 1)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        winners = [k for k, outcome in outcomes.items() if outcome == "saved"]
        assert len(winners) == 1, f"attempt {attempt}: {outcomes}"
        loser = outcomes[1 - winners[0]]
        assert "exists already" in loser, loser
        text = (tmp_path / f"{name}.yaml").read_text()
        assert f"# Who: session {winners[0]}" in text, "the files are the winner's"
        assert abm_main(["validate", str(tmp_path / f"{name}.yaml")]) == 0
        load_sweep(tmp_path / f"{name}_sweep.yaml")


def test_a_failed_save_removes_only_its_own_files(tmp_path, monkeypatch):
    """Another session's sweep file appears after this save checked the name (the race the
    check cannot close): this save is refused, removes the scenario file it made, and
    leaves the other session's file as it was."""
    import abm.app.save as saving

    theirs = tmp_path / "late_sweep.yaml"
    theirs.write_text("# another session's sweep\n")
    monkeypatch.setattr(saving, "check_name", lambda name, folder: None)
    with pytest.raises(InputError, match=r"late_sweep\.yaml exists already"):
        save(Settings.make("bradford", "embed"), tmp_path, "late", Note("a", "b", "c"))
    assert sorted(p.name for p in tmp_path.iterdir()) == ["late_sweep.yaml"]
    assert theirs.read_text() == "# another session's sweep\n"


@pytest.mark.parametrize("served", [True, False])
def test_a_served_app_starts_its_background_worker_at_once(served):
    """Under `abm viz` (solara sets SOLARA_APP) the page starts the background worker and
    warms it up when it is loaded, before any room asks for extra seeds; imported anywhere
    else it starts nothing."""
    code = ("import sys, abm.app.page; from abm.app.background import background; "
            "sys.exit(0 if background()._dispatcher is not None else 3)")
    env = {k: v for k, v in os.environ.items() if k != "SOLARA_APP"}
    if served:
        env["SOLARA_APP"] = "abm/app/page.py"
    done = subprocess.run([sys.executable, "-c", code], env=env, timeout=300,
                          capture_output=True, text=True)
    assert done.returncode == (0 if served else 3), done.stderr[-2000:]
