"""A calibration killed at any point resumes to the same posterior; a folder belongs to one
calibration; a damaged ABC history is set aside, keeping the finished waves.

The kills are real: a child process runs the calibration (in the child, so the kill can land
anywhere, even inside pyabc's database writes) and is stopped with SIGKILL at a chosen point:
mid-wave, between waves, mid-ABC generation and just after a generation is stored (the found
fault: pyabc then restarted the epsilon schedule). The last resume runs on the test session's
real local Ray, and everything is compared with a calibration never interrupted.
"""

from __future__ import annotations

import json
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest

from calibration.calibrate import run_calibration
from calibration.evaluate import RunStore
from calibration.spec import load_calibration_spec
from experiments.executors import RayExecutor, SerialExecutor
from tests.calibration.test_calibration import write_spec

ROOT = Path(__file__).resolve().parents[2]
#: History matching: 2 waves x 6 points x 2 seeds (heteroscedastic emulator); ABC on the
#: model, 3 generations of 5; no coverage truths (tested in test_calibration.py).
HM = "{waves: 2, points: 6, seeds: 2, candidates: 1000}"
ABC = "{population: 5, generations: 3, initial_epsilon: 3.0, simulator: model}"
CHECKS = "{ppc_seeds: 1, coverage_truths: 0, validation_folds: 3}"
OUTPUTS = ("posterior_particles.parquet", "posterior.parquet", "history_matching.parquet",
           "parameters.csv", "fit_report.csv", "emulator_validation.csv")

CHILD = """
import sys, time
from pathlib import Path
import pyabc
from calibration import abcsmc, calibrate, evaluate
from calibration.calibrate import run_calibration
from calibration.spec import load_calibration_spec
from experiments.executors import SerialExecutor

spec_path, out, point, marker = sys.argv[1:5]
calls = {"n": 0}

def stop_here():
    Path(marker).touch()
    while True:  # until the test kills this process
        time.sleep(1)

if point == "mid-wave":  # the third run of wave 1 stored
    real_add = evaluate.RunStore.add
    def add(self, rows):
        real_add(self, rows)
        calls["n"] += 1
        if calls["n"] == 3:
            stop_here()
    evaluate.RunStore.add = add
elif point == "between-waves":  # wave 1's runs and emulator done, wave 2's design next
    real_candidates = calibrate._candidates
    def candidates(*args):
        calls["n"] += 1
        if calls["n"] == 3:
            stop_here()
        return real_candidates(*args)
    calibrate._candidates = candidates
elif point == "mid-generation":  # generation 2 (t = 1) after three of its jobs
    real_job = abcsmc._seeded_job
    def job(pickled, seed, t, k):
        if t == 1 and k == 3:
            stop_here()
        return real_job(pickled, seed, t, k)
    abcsmc._seeded_job = job
elif point == "after-generation":  # generation 2 (t = 1) just stored
    real_append = pyabc.History.append_population
    def append(self, t, *args, **kwargs):
        result = real_append(self, t, *args, **kwargs)
        if t == 1:
            stop_here()
        return result
    pyabc.History.append_population = append
run_calibration(load_calibration_spec(spec_path), Path(out), SerialExecutor())
"""


def generations(out: Path) -> int:
    with sqlite3.connect(out / "abc.db") as con:
        return con.execute("SELECT COUNT(*) FROM populations WHERE t >= 0").fetchone()[0]


def kill_at(point: str, spec: Path, out: Path, tmp_path: Path) -> None:
    marker = tmp_path / f"reached-{point}"
    child = subprocess.Popen([sys.executable, "-c", CHILD, str(spec), str(out), point,
                              str(marker)], cwd=ROOT, stdout=subprocess.DEVNULL,
                             stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 600
    while not marker.exists():
        if child.poll() is not None:
            pytest.fail(f"the calibration ended before {point}: {child.stderr.read()[-2000:]}")
        assert time.monotonic() < deadline, f"never reached {point}"
        time.sleep(0.05)
    child.send_signal(signal.SIGKILL)
    child.wait(timeout=60)
    child.stderr.close()


@pytest.fixture(scope="module")
def reference(tmp_path_factory):
    """The spec, and the same calibration never interrupted (serial)."""
    folder = tmp_path_factory.mktemp("reference")
    spec = write_spec(folder, hm=HM, abc=ABC, checks=CHECKS)
    run_calibration(load_calibration_spec(spec), folder / "out", SerialExecutor())
    return spec, folder / "out"


def same_outputs(a: Path, b: Path) -> None:
    for name in OUTPUTS:
        read = pd.read_parquet if name.endswith(".parquet") else pd.read_csv
        pd.testing.assert_frame_equal(read(a / name), read(b / name), check_exact=True,
                                      obj=name)
    ga, gb = (pd.read_csv(f / "abc_generations.csv") for f in (a, b))
    pd.testing.assert_frame_equal(ga[["t", "epsilon", "samples", "particles"]],
                                  gb[["t", "epsilon", "samples", "particles"]],
                                  check_exact=True, obj="epsilons")


@pytest.mark.slow
def test_a_calibration_killed_at_every_point_resumes_to_the_same_posterior(
        reference, tmp_path, ray_cluster):
    spec, expected = reference
    out = tmp_path / "out"
    hm_runs = 2 * 6 * 2

    kill_at("mid-wave", spec, out, tmp_path)
    assert len(RunStore(out).ids()) == 3 and not (out / "history_matching.parquet").exists()
    kill_at("between-waves", spec, out, tmp_path)
    assert len(RunStore(out).ids()) == hm_runs // 2 and not (out / "abc.db").exists()
    kill_at("mid-generation", spec, out, tmp_path)
    assert generations(out) == 1 and len(RunStore(out).ids()) > hm_runs
    kill_at("after-generation", spec, out, tmp_path)
    assert generations(out) == 2, "killed just after generation 2 was stored"

    run_calibration(load_calibration_spec(spec), out, RayExecutor(num_cpus=2))
    same_outputs(expected, out)
    epsilons = pd.read_csv(out / "abc_generations.csv")["epsilon"]
    assert epsilons.is_monotonic_decreasing, "the schedule did not start again"
    # every run was computed once: no part repeats a run of another
    rows = pd.concat(pd.read_parquet(p, columns=["run_id"]) for p in (out / "runs").glob("*"))
    assert rows.run_id.is_unique


def damage(db: Path, how: str) -> None:
    if how == "truncated":
        db.write_bytes(db.read_bytes()[: db.stat().st_size // 3])
    elif how == "empty":
        db.write_bytes(b"")
    else:
        db.unlink()
        db.mkdir()


@pytest.mark.parametrize("how", ["truncated", "empty", "folder"])
def test_a_damaged_abc_history_is_set_aside_with_a_warning(how, reference, tmp_path, capsys):
    import shutil

    from calibration.abcsmc import open_history

    _, expected = reference
    shutil.copy(expected / "abc.db", tmp_path / "abc.db")
    damage(tmp_path / "abc.db", how)
    own = json.loads((expected / "analysis.json").read_text())["id"]
    assert open_history(tmp_path, own) == 0, "ABC starts again"
    warning = capsys.readouterr().err.strip().splitlines()
    assert len(warning) == 1 and "kept as abc.db.damaged; ABC starts again" in warning[0]
    assert (tmp_path / "abc.db.damaged").exists() and not (tmp_path / "abc.db").exists()


def test_a_calibration_with_a_damaged_abc_history_keeps_its_waves(reference, tmp_path,
                                                                  monkeypatch):
    """The ABC starts again from its first generation (so the posterior is the same as the
    reference's), and no history-matching run is computed again."""
    import shutil

    from calibration import outputs

    spec, expected = reference
    out = tmp_path / "out"
    shutil.copytree(expected, out)
    damage(out / "abc.db", "truncated")
    stored = RunStore(out).ids()
    calls = []
    real = outputs.simulate
    monkeypatch.setattr(outputs, "simulate",
                        lambda s, w=False: (calls.append(s.run_id), real(s, w))[1])
    run_calibration(load_calibration_spec(spec), out, SerialExecutor())
    assert not set(calls) & stored, "a finished run was computed again"
    assert (out / "abc.db.damaged").exists()
    same_outputs(expected, out)


def test_another_spec_into_a_used_folder_is_refused_in_one_line(reference, tmp_path, capsys):
    """The issue's case: a West Yorkshire spec run into a finished Devon folder returned
    Devon's posterior. Now the folder's calibration id is checked before any work."""
    import shutil

    from abm.cli import main

    spec, expected = reference
    out = tmp_path / "out"
    shutil.copytree(expected, out)
    other = tmp_path / "other.yaml"
    other.write_text(spec.read_text().replace("places: [bradford]", "places: [london]"))
    before = sorted((p.name, p.stat().st_mtime_ns) for p in out.rglob("*"))
    assert main(["calibrate", str(other), "--out", str(out), "--serial"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "holds another analysis (calibration cal-" in err[0], err
    assert err[0].endswith("choose another --out")
    assert sorted((p.name, p.stat().st_mtime_ns) for p in out.rglob("*")) == before


def test_an_abc_history_of_another_calibration_is_refused(reference, tmp_path):
    import shutil

    from abm.files.errors import InputError
    from calibration.abcsmc import open_history

    _, expected = reference
    shutil.copy(expected / "abc.db", tmp_path / "abc.db")
    own = json.loads((expected / "analysis.json").read_text())["id"]
    assert open_history(tmp_path, own) == 3
    with pytest.raises(InputError, match=r"abc.db: the ABC history of another calibration "
                                         r".*not cal-0000000000: move it away"):
        open_history(tmp_path, "cal-0000000000")
