"""The Ray sweep runner, on a real local Ray cluster (2 CPUs, shared by the whole session)."""

from __future__ import annotations

import functools
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest

from abm.model.runs import execute
from experiments.runner import plan_batches, run_sweep, summarise
from experiments.spec import load_sweep

SMOKE = Path(__file__).resolve().parents[2] / "experiments" / "smoke.yaml"


def sweep_file(tmp_path: Path, seeds: int = 3, extra: str = "", years: float = 1,
               hoods: int = 40, residents: int = 60) -> Path:
    """A small sweep: baseline and embed in Bradford, one task per run (``hoods`` x
    ``residents`` residents a run)."""
    path = tmp_path / "sweep.yaml"
    path.write_text(
        "scenarios: [baseline, embed]\nplaces: [bradford]\n"
        f"seeds: {seeds}\nmaster_seed: 7\nyears: {years}\nbatch_size: 1\n"
        f"parameters: {{n_neighbourhoods: {hoods}, residents_per_neighbourhood: {residents}, "
        "burn_in_years: 1}\n" + extra
    )
    return path


def part_ids(out: Path) -> list[str]:
    return [rid for part in sorted((out / "runs").glob("*.parquet"))
            for rid in pd.read_parquet(part).run_id]


def results(out: Path) -> pd.DataFrame:
    return pd.read_parquet(out / "summary.parquet")


@pytest.fixture(autouse=True)
def _ray(ray_cluster):
    """Every test here runs on the session's local Ray."""


def test_one_and_two_workers_give_identical_results(tmp_path, capsys):
    assert run_sweep(SMOKE, tmp_path / "one", num_cpus=1) == 0
    assert run_sweep(SMOKE, tmp_path / "two", num_cpus=2) == 0
    one, two = results(tmp_path / "one"), results(tmp_path / "two")
    pd.testing.assert_frame_equal(one, two)
    assert len(one) == 6 and one.run_id.is_unique
    assert "6 runs finished, 0 failed, 0 skipped" in capsys.readouterr().out


def test_results_match_running_the_model_directly(tmp_path):
    assert run_sweep(SMOKE, tmp_path / "out", num_cpus=2) == 0
    swept = results(tmp_path / "out").set_index("run_id")
    for spec in load_sweep(SMOKE).runs()[:2]:
        direct = execute(spec)[0]
        assert swept.loc[direct["run_id"], "mean_wellbeing"] == direct["mean_wellbeing"]


def test_manifest_records_what_reports_need(tmp_path):
    run_sweep(SMOKE, tmp_path / "out", num_cpus=2)
    manifest = json.loads((tmp_path / "out" / "manifest.json").read_text())
    assert manifest["status"] == "complete"
    assert manifest["counts"] == {"runs": 6, "done": 6, "failed": 0, "remaining": 0}
    assert len(manifest["runs"]) == 6 and len({r["run_id"] for r in manifest["runs"]}) == 6
    assert manifest["resolved"]["seed_values"] == load_sweep(SMOKE).seed_values()
    assert manifest["provenance"]["packages"]["ray"]
    assert "git_commit" in manifest["provenance"] and manifest["spec_text"]
    invocation = manifest["invocations"][0]
    assert invocation["started_at"] <= invocation["finished_at"]
    assert (tmp_path / "out" / "summary_table.csv").exists()


def test_rerunning_the_same_command_recomputes_nothing(tmp_path, capsys):
    out = tmp_path / "out"
    run_sweep(SMOKE, out, num_cpus=2)
    parts = sorted(p.name for p in (out / "runs").glob("*.parquet"))
    capsys.readouterr()
    assert run_sweep(SMOKE, out, resume=True) == 0
    assert "0 runs finished, 0 failed, 6 skipped (already done)" in capsys.readouterr().out
    assert sorted(p.name for p in (out / "runs").glob("*.parquet")) == parts


def default_ctrl_c() -> None:
    """In the sweep's process before it starts: Ctrl-C handled as at a terminal. A process
    inherits an ignored SIGINT from its parent (a library in the test process may have set it),
    and Python then leaves it ignored."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def test_interrupted_sweep_resumes_without_losing_or_repeating_runs(tmp_path, capsys):
    """Ctrl-C as at a terminal: `abm sweep` in a process of its own gets a real SIGINT once
    three of its runs have landed (runs of about a second each, so it is mid-sweep), stops
    with exit code 130 and an "interrupted" manifest; run again, it does only what is left,
    and the results equal an uninterrupted sweep's."""
    seeds = 10
    total = 2 * seeds
    spec = sweep_file(tmp_path, seeds=seeds, years=10, hoods=60, residents=300)
    whole, cut = tmp_path / "whole", tmp_path / "cut"
    assert run_sweep(spec, whole, num_cpus=2) == 0

    sweep = subprocess.Popen([sys.executable, "-m", "abm.cli", "sweep", str(spec), "--out",
                              str(cut), "--num-cpus", "2"], text=True,
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                             preexec_fn=default_ctrl_c)
    deadline = time.monotonic() + 300
    while len(list((cut / "runs").glob("part-*.parquet"))) < 3 and sweep.poll() is None:
        assert time.monotonic() < deadline, "no runs landed"
        time.sleep(0.01)
    sweep.send_signal(signal.SIGINT)
    _, err = sweep.communicate(timeout=300)
    assert sweep.returncode == 130, err[-1000:]
    manifest = json.loads((cut / "manifest.json").read_text())
    assert manifest["status"] == "interrupted"
    before = set(part_ids(cut))
    assert 3 <= len(before) < total, "interrupted part-way"
    capsys.readouterr()

    assert run_sweep(spec, cut, num_cpus=2) == 0
    out = capsys.readouterr().out
    assert f"{total - len(before)} runs finished, 0 failed, {len(before)} skipped" in out
    ids = part_ids(cut)
    assert len(ids) == len(set(ids)) == total, "every run exactly once"
    pd.testing.assert_frame_equal(results(cut), results(whole))


def die_once_then_run(spec, weekly, marker):
    """Kill the worker process the first time a run starts (the marker file makes it once:
    deleting it is atomic, so of two workers racing for it exactly one dies)."""
    try:
        Path(marker).unlink()
    except FileNotFoundError:
        return execute(spec, weekly)
    os._exit(1)  # the worker process dies mid-task, as if killed


def raise_for_one_run(spec, weekly, bad_seed):
    """A run that raises, as a model bug would."""
    if spec.scenario == "embed" and spec.seed == bad_seed:
        raise ValueError("boom: simulated model error")
    return execute(spec, weekly)


@pytest.fixture
def by_value():
    """Ship this module's functions to Ray workers by value (workers cannot import tests)."""
    from ray import cloudpickle

    module = sys.modules[__name__]
    cloudpickle.register_pickle_by_value(module)
    yield
    cloudpickle.unregister_pickle_by_value(module)


def test_a_worker_that_dies_is_retried_and_every_run_lands_once(tmp_path, by_value):
    marker = tmp_path / "die-once"
    marker.touch()
    spec = sweep_file(tmp_path, seeds=3)
    run = functools.partial(die_once_then_run, marker=str(marker))
    code = run_sweep(spec, tmp_path / "out", num_cpus=2, run=run)
    assert not marker.exists(), "a worker must actually have died"
    assert code == 0
    ids = part_ids(tmp_path / "out")
    assert len(ids) == len(set(ids)) == 6


def test_a_run_that_raises_is_recorded_as_failed_and_the_sweep_goes_on(tmp_path, by_value,
                                                                       capsys):
    spec = sweep_file(tmp_path, seeds=3)
    out = tmp_path / "out"
    bad_seed = load_sweep(spec).seed_values()[1]
    run = functools.partial(raise_for_one_run, bad_seed=bad_seed)
    assert run_sweep(spec, out, num_cpus=2, run=run) == 1
    assert "5 runs finished, 1 failed, 0 skipped" in capsys.readouterr().out
    failed = pd.concat(pd.read_parquet(p) for p in (out / "failed").glob("*.parquet"))
    assert len(failed) == 1 and "ValueError: boom" in failed.error.iloc[0]
    assert len(results(out)) == 5
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["counts"] == {"runs": 6, "done": 5, "failed": 1, "remaining": 1}
    # Resuming retries only the failed run; once it succeeds its failure record goes.
    assert run_sweep(spec, out, num_cpus=2) == 0
    assert len(results(out)) == 6 and not list((out / "failed").glob("*.parquet"))


def test_summarise_prints_and_writes_the_table(tmp_path):
    run_sweep(SMOKE, tmp_path / "out", num_cpus=2)
    text = summarise(tmp_path / "out")
    assert "Change against 'baseline'" in text and "sustain" in text
    table = pd.read_csv(tmp_path / "out" / "summary_table.csv")
    assert set(table.scenario) == {"baseline", "sustain"}
    assert {"gap_q5_q1", "gap_q5_q1_lo", "sii_hi", "cost_per_wellby"} <= set(table.columns)


def test_a_folder_with_another_sweep_is_refused(tmp_path):
    from abm.files.errors import InputError

    run_sweep(SMOKE, tmp_path / "out", num_cpus=2)
    with pytest.raises(InputError, match="different sweep"):
        run_sweep(sweep_file(tmp_path), tmp_path / "out")
    with pytest.raises(InputError, match="nothing to resume"):
        run_sweep(SMOKE, tmp_path / "empty", resume=True)


def test_batches_group_small_runs_and_keep_every_worker_busy():
    specs = load_sweep(SMOKE).runs() * 20
    batches = plan_batches(specs, workers=2)
    assert sum(len(b) for b in batches) == len(specs)
    assert len(batches) >= 8, "at least four tasks per worker"
    assert plan_batches(specs, workers=2, batch_size=7)[0] == specs[:7]


def die_always(spec, weekly):
    """A run whose worker always dies: Ray gives up on the task after max_retries."""
    if spec.scenario == "embed":
        os._exit(1)
    return execute(spec, weekly)


def test_a_task_ray_gives_up_on_is_recorded_as_failed(tmp_path, by_value, capsys):
    spec = sweep_file(tmp_path, seeds=2, extra="max_retries: 0\n")
    out = tmp_path / "out"
    assert run_sweep(spec, out, num_cpus=2, run=die_always) == 1
    printed = capsys.readouterr().out
    assert "2 runs finished, 2 failed" in printed
    failed = pd.concat(pd.read_parquet(p) for p in (out / "failed").glob("*.parquet"))
    assert set(failed.scenario) == {"embed"} and failed.error.str.contains("task failed").all()
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["status"] == "incomplete"
    assert manifest["counts"] == {"runs": 4, "done": 2, "failed": 2, "remaining": 2}


def test_runs_with_the_same_content_but_different_labels_are_kept_apart(tmp_path):
    copy = tmp_path / "copy_of_baseline.yaml"
    copy.write_text("extends: baseline\n")
    spec = sweep_file(tmp_path, seeds=2).read_text().replace(
        "scenarios: [baseline, embed]", "scenarios: [baseline, copy_of_baseline.yaml]")
    (tmp_path / "sweep.yaml").write_text(spec)
    assert run_sweep(tmp_path / "sweep.yaml", tmp_path / "out", num_cpus=2) == 0
    rows = results(tmp_path / "out")
    assert len(rows) == 4 and set(rows.scenario) == {"baseline", "copy_of_baseline"}
    same = rows.groupby("seed").mean_wellbeing.nunique()
    assert (same == 1).all(), "identical content and seeds give identical outcomes"
