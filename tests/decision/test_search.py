"""The search: a toy model's known frontier recovered through the real search; the
constraint kept at every point evaluated; the run count refused above the cap; the same
frontier on Ray and in this process; a search killed midway resumes to the same frontier;
what it takes, in both forms; the outputs accepted by `abm validate` and `abm sweep`."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from abm.cli import main as abm_main
from abm.decision.aim import NOT_WITHIN, run_cheapest, run_vary
from abm.decision.outputs import write_frontier_outputs
from abm.decision.search import Evaluator, run_search, status_quo
from abm.decision.space import share_rules
from abm.decision.spec import load_decision_spec
from abm.model.parameters import CONSTRAINTS, defaults
from abm.model.scenarios import validate
from calibration.evaluate import RunStore
from experiments.executors import RayExecutor, SerialExecutor
from experiments.spec import load_sweep
from tests.decision import toy

ROOT = Path(__file__).resolve().parents[2]

TOY = """place: devon_ics
levers: [embed_budget_share, develop_budget_share, scale_budget_share, sustain]
ranges: {embed_budget_share: [0, 1], develop_budget_share: [0, 1], scale_budget_share: [0, 0.5]}
objectives: [wellbys, gap]
seeds: 1
years: 1
search: {population: 24, generations: 15, seed: 3}
"""

#: The real model, tiny (about 0.05 s a run), over two posterior draws.
TINY = """place: devon_ics
levers: [embed_budget_share, develop_budget_share, sustain, budget_uplift]
ranges: {budget_uplift: [0, 0.5]}
objectives: [wellbys, gap, core20_wellbys]
posterior: shipped
draws: 2
seeds: 1
years: %(years)s
fixed: {n_neighbourhoods: %(hoods)s, residents_per_neighbourhood: 10, burn_in_years: 0}
search: {population: %(population)s, generations: %(generations)s, seed: 2}
max_runs: 500
"""


def spec_file(folder: Path, text: str, name: str = "spec.yaml") -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def toy_search(tmp_path_factory):
    folder = tmp_path_factory.mktemp("toy")
    spec = load_decision_spec(spec_file(folder, TOY))
    return spec, folder / "out", run_search(spec, folder / "out", SerialExecutor(), run=toy.run)


def test_the_toy_frontier_is_recovered(toy_search):
    """Tolerance: every frontier mix within 0.02 of the true frontier N = 1 - W^2 (the grid
    of a thousandth of each range alone puts mixes up to about 0.002 off), covering W from
    0.15 to 0.85 with no hole wider than 0.1. Measured: 0.006, 0.11 to 0.99, 0.03."""
    _, _, result = toy_search
    front = result.frontier
    w, n = front["wellbys"].to_numpy(), -front["gap"].to_numpy()
    assert np.all(n <= toy.frontier_n(w) + 1e-9), "nothing beats the true frontier"
    assert np.max(toy.frontier_n(w) - n) < 0.02
    assert w.min() < 0.15 and w.max() > 0.85
    assert np.max(np.diff(np.sort(w))) < 0.1
    assert set(front["rules"]) == {"embed+develop"}, "scale and sustain only cost: never chosen"
    assert (front["wellbys_p_better"] == 1).all(), "the seed's noise cancels in paired changes"


def test_every_point_evaluated_keeps_the_constraint(toy_search):
    spec, out, result = toy_search
    base = {s.run_id for s in Evaluator(spec, None, None).run_specs(status_quo(spec))}
    rows = RunStore(out).rows()
    rows = rows[~rows.run_id.isin(base)]  # the status quo scenario as it is
    assert len(rows) > 300
    shares = list(share_rules())
    total = rows[shares].sum(axis=1)
    assert total.max() <= 1 + 1e-12 and total.max() > 0.99, "it binds, and is kept"
    for row in rows.to_dict("records"):
        values = {**defaults(), **{k: row[k] for k in defaults()}}
        assert all(c.holds(values) for c in CONSTRAINTS), row["run_id"]
        for name, rule in share_rules().items():
            assert (row[name] > 0) == (rule in row["rules"].split("+")), row["run_id"]
    assert len(result.evaluations) <= spec.mixes_at_most


def test_a_search_over_the_cap_is_refused_with_one_line(tmp_path, capsys):
    path = spec_file(tmp_path, TINY % {"years": 1, "hoods": 12, "population": 6,
                                       "generations": 2})
    out = tmp_path / "out"
    assert abm_main(["frontier", str(path), "--out", str(out), "--max-runs", "25"]) == 2
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 1, lines
    assert ("this needs up to 26 runs (6 mixes x 2 generations, and the status quo) x 2 draws "
            "x 1 seeds, more than the cap of 25") in lines[0]
    assert not out.exists(), "nothing written"


@pytest.fixture(scope="module")
def tiny_serial(tmp_path_factory):
    """A tiny search of the real model in this process, to compare others with."""
    folder = tmp_path_factory.mktemp("tiny")
    spec = load_decision_spec(spec_file(folder, TINY % {"years": 1, "hoods": 12,
                                                        "population": 6, "generations": 2}))
    return spec, folder / "out", run_search(spec, folder / "out", SerialExecutor())


def same(a: pd.DataFrame, b: pd.DataFrame) -> None:
    pd.testing.assert_frame_equal(a.reset_index(drop=True), b.reset_index(drop=True),
                                  check_exact=True)


def test_the_same_frontier_on_ray_as_in_this_process(tiny_serial, ray_cluster, tmp_path):
    spec, _, serial = tiny_serial
    on_ray = run_search(spec, tmp_path / "ray", RayExecutor())
    same(serial.frontier, on_ray.frontier)
    same(serial.evaluations, on_ray.evaluations)
    assert len(serial.evaluations) > 6 and len(serial.frontier) >= 1


def test_the_outputs_are_scenarios_that_validate_and_a_sweep(tiny_serial):
    spec, out, result = tiny_serial
    written = write_frontier_outputs(spec, out, result)
    files = sorted((out / "scenarios").glob("mix_*.yaml"))
    assert len(files) == len(result.frontier)
    assert validate(files) == []
    sweep = load_sweep(out / "scenarios" / "sweep.yaml")
    assert sweep.scenarios[0].name == "baseline"
    assert len(sweep.runs()) == len(files) + 1
    table = pd.read_csv(written["table"])
    assert table["in words"].str.contains("money|grants").all()
    assert written["png"].stat().st_size > 10_000


@pytest.mark.slow
def test_a_search_killed_midway_resumes_to_the_same_frontier(tmp_path, capsys):
    """On a real local Ray in a process of its own, killed (SIGKILL, with its Ray) once some
    runs are stored; run again, it runs only what is missing and finds the frontier that an
    uninterrupted search finds."""
    path = spec_file(tmp_path, TINY % {"years": 2, "hoods": 20, "population": 8,
                                       "generations": 4})
    spec = load_decision_spec(path)
    whole = run_search(spec, tmp_path / "whole", SerialExecutor())

    out = tmp_path / "killed"
    process = subprocess.Popen([sys.executable, "-m", "abm.cli", "frontier", str(path), "--out",
                                str(out), "--num-cpus", "2"], cwd=ROOT, start_new_session=True,
                               stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 240
    while len(list((out / "runs").glob("part-*.parquet"))) < 2:
        assert process.poll() is None, process.stderr.read()[-2000:]
        assert time.monotonic() < deadline, "no runs stored in time"
        time.sleep(0.02)
    os.killpg(process.pid, signal.SIGKILL)  # the driver and the Ray it started
    process.wait(timeout=60)
    stored = len(RunStore(out).ids())
    assert not (out / "frontier.json").exists(), "killed before it finished"
    assert 0 < stored < whole.runs_stored

    assert abm_main(["frontier", str(path), "--out", str(out), "--serial"]) == 0
    assert "taking it over" in capsys.readouterr().err  # the killed search's lock
    resumed = pd.read_parquet(out / "frontier.parquet")
    same(whole.frontier, resumed)
    same(whole.evaluations, pd.read_parquet(out / "evaluations.parquet"))
    assert len(RunStore(out).ids()) == whole.runs_stored, "each run once"


def test_what_it_takes_the_cheapest_mix_or_not_reachable(tmp_path):
    aim = ("aim: {objective: gap, change: %s, probability: 0.8}\n"
           "search: {population: 12, generations: 6, seed: 1}\n")
    text = TOY.replace("objectives: [wellbys, gap]\n", "").rsplit("search:", 1)[0]
    reachable = load_decision_spec(spec_file(tmp_path, text + aim % -0.5), aim=True)
    answer = run_cheapest(reachable, tmp_path / "reach", SerialExecutor(), run=toy.run)
    assert answer["reachable"] and -answer["gap"] >= 0.5 and answer["gap_p_reach"] == 1
    assert answer["extra_money"] == 0, "no extra money was searched: the same money"
    never = load_decision_spec(spec_file(tmp_path, text + aim % -2, "never.yaml"), aim=True)
    answer = run_cheapest(never, tmp_path / "never", SerialExecutor(), run=toy.run)
    assert not answer["reachable"] and answer["gap_p_reach"] == 0


def test_what_it_takes_the_lever_for_each_strategy(tmp_path):
    """The toy narrows the gap by 1 - (1 - d)^2 with the develop share d: by 0.5 at
    d = 1 - sqrt(0.5) = 0.2929; linear between grid values 0.2 (0.36) and 0.3 (0.51) the
    command says 0.2 + 0.14 / 0.15 x 0.1 = 0.2933."""
    text = ("place: devon_ics\nseeds: 2\nyears: 1\nstrategies: [develop, sustain]\n"
            "vary: {lever: develop_budget_share, range: [0, 1], points: 11}\n"
            "aim: {objective: gap, change: -0.5, probability: 0.8}\n")
    spec = load_decision_spec(spec_file(tmp_path, text), aim=True)
    table = run_vary(spec, tmp_path / "out", SerialExecutor(), run=toy.run).set_index("strategy")
    assert table.loc["develop", "needed"] == pytest.approx(0.2 + 0.14 / 0.15 * 0.1)
    assert table.loc["develop", "needed_at_probability"] == pytest.approx(0.3)
    assert table.loc["sustain", "answer"].startswith(NOT_WITHIN), "sustain never narrows it"
    curves = pd.read_csv(tmp_path / "out" / "curves.csv")
    assert len(curves) == 22


def test_the_shipped_frontiers_draw_30_from_the_posterior_the_same_every_time():
    """The shipped calibration keeps 8 resampled draws; the shipped frontiers ask 30, which
    come from its weighted particles, identically on every load (a resumed search and its
    report see the same draws)."""
    for name in ("devon_ics", "west_yorkshire"):
        path = Path(__file__).resolve().parents[2] / "abm" / "decision" / "specs" / f"{name}.yaml"
        first, again = load_decision_spec(path), load_decision_spec(path)
        assert len(first.draws) == 30 and first.seeds == 2
        pd.testing.assert_frame_equal(first.draws, again.draws)
        assert first.draws.drop_duplicates().shape[0] > 8, "more distinct draws than shipped"
