"""Result integrity: a results folder belongs to one sweep at a time, takes exactly its
manifest's runs once each from parts whose checksums match, says plainly when it is
incomplete, and survives a full disk, a lost permission, a killed sweep and a damaged file
with one clear line and a folder that resumes.

Runs that exercise only the folder logic use the serial executor (the results are the same:
tests/experiments/test_runner.py checks that); those about Ray, locks held by other processes
and the issue's concurrent sweeps use a real local Ray and real processes.
"""

from __future__ import annotations

import ctypes
import errno
import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

import abm.files.io
from abm.cli import main
from abm.files.errors import InputError
from abm.model.parameters import BY_NAME
from experiments.runner import IncompleteSweep, run_sweep, summarise

ROOT = Path(__file__).resolve().parents[2]
SMOKE = ROOT / "experiments" / "smoke.yaml"


def tiny_sweep(folder: Path, seeds: int = 3, extra: str = "", name: str = "sweep.yaml") -> Path:
    """Baseline and embed in Bradford, small runs, one run per task."""
    path = folder / name
    path.write_text(
        "scenarios: [baseline, embed]\nplaces: [bradford]\n"
        f"seeds: {seeds}\nmaster_seed: 11\nyears: 1\nbatch_size: 1\n"
        "parameters: {n_neighbourhoods: 20, residents_per_neighbourhood: 20, burn_in_years: 1}\n"
        + extra)
    return path


def parts(out: Path, kind: str = "runs") -> list[Path]:
    return sorted((out / kind).glob("part-*.parquet"))


def run_ids(out: Path) -> list[str]:
    return [run_id for part in parts(out) for run_id in pd.read_parquet(part).run_id]


def summary(out: Path) -> pd.DataFrame:
    return pd.read_parquet(out / "summary.parquet")


def manifest(out: Path) -> dict:
    return json.loads((out / "manifest.json").read_text())


def warnings(err: str) -> list[str]:
    return [line for line in err.splitlines() if line.startswith("abm: warning: ")]


@pytest.fixture(scope="module")
def clean(tmp_path_factory):
    """A finished serial sweep of 6 runs to compare damaged-then-resumed folders against."""
    folder = tmp_path_factory.mktemp("clean")
    spec = tiny_sweep(folder)
    assert run_sweep(spec, folder / "clean", serial=True) == 0
    return spec, summary(folder / "clean")


# --- corruption: damaged, stray, copied, foreign and duplicated parts -------------------------

def flip_a_byte(path: Path) -> None:
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0x01
    path.write_bytes(bytes(data))


DAMAGES = {
    "one_flipped_byte": flip_a_byte,
    "truncated": lambda p: p.write_bytes(p.read_bytes()[: p.stat().st_size // 2]),
    "empty": lambda p: p.write_bytes(b""),
}


@pytest.mark.parametrize("damage", sorted(DAMAGES))
def test_a_damaged_part_is_reported_set_aside_and_its_runs_run_again(damage, tmp_path, clean,
                                                                     capsys):
    spec, expected = clean
    out = tmp_path / "out"
    run_sweep(spec, out, serial=True)
    victim = parts(out)[0]
    victim_ids = set(pd.read_parquet(victim).run_id)
    DAMAGES[damage](victim)
    capsys.readouterr()

    assert run_sweep(spec, out, serial=True) == 0
    err = capsys.readouterr().err
    [warning] = warnings(err)
    assert str(victim) in warning and f"kept as {victim.name}.damaged" in warning
    assert "its runs count as missing and run again" in warning
    assert (victim.parent / f"{victim.name}.damaged").exists()
    assert abm.files.io.read_part(victim), "recomputed into the same name: same runs, same bytes"
    ids = run_ids(out)
    assert len(ids) == len(set(ids)) == 6 and victim_ids <= set(ids)
    pd.testing.assert_frame_equal(summary(out), expected)


def test_a_flipped_byte_on_a_real_ray_is_caught_and_recomputed(tmp_path, ray_cluster, capsys):
    spec = tiny_sweep(tmp_path)
    out = tmp_path / "out"
    assert run_sweep(spec, out, num_cpus=2) == 0
    before = summary(out)
    flip_a_byte(parts(out)[2])
    assert run_sweep(spec, out, num_cpus=2) == 0
    captured = capsys.readouterr()
    assert "1 runs finished, 0 failed, 5 skipped" in captured.out
    assert len(warnings(captured.err)) == 1
    pd.testing.assert_frame_equal(summary(out), before)


def test_strays_and_copies_of_parts_are_reported_and_never_merged(tmp_path, clean, capsys):
    spec, expected = clean
    out = tmp_path / "out"
    run_sweep(spec, out, serial=True)
    original = parts(out)[0]
    copies = [out / "runs" / "copy.parquet",  # a copy under a name of its own
              out / "runs" / f"part-{'0' * 16}-{original.name[22:]}",  # another batch's name
              out / "runs" / "part-1234.parquet"]  # the layout of an older version
    for copy in copies:
        copy.write_bytes(original.read_bytes())
    capsys.readouterr()

    assert run_sweep(spec, out, serial=True) == 0
    captured = capsys.readouterr()
    found = warnings(captured.err)
    assert len(found) == 3
    assert all(any(str(copy) in line and "ignored, not merged" in line for line in found)
               for copy in copies)
    assert "0 runs finished, 0 failed, 6 skipped" in captured.out
    pd.testing.assert_frame_equal(summary(out), expected)
    assert summarise(out)  # and the table agrees: 3 seeds a scenario, not 4 or 6
    table = pd.read_csv(out / "summary_table.csv")
    assert set(table.n_seeds) == {3}


def test_a_part_from_another_sweep_is_reported_and_never_merged(tmp_path, clean, capsys):
    spec, expected = clean
    other = tiny_sweep(tmp_path, seeds=1, name="other.yaml",
                       extra="grid: {uptake_rate: [0.02]}\n")
    run_sweep(other, tmp_path / "other", serial=True)
    out = tmp_path / "out"
    run_sweep(spec, out, serial=True)
    foreign = parts(tmp_path / "other")[0]
    (out / "runs" / foreign.name).write_bytes(foreign.read_bytes())
    capsys.readouterr()

    assert run_sweep(spec, out, serial=True) == 0
    [warning] = warnings(capsys.readouterr().err)
    assert foreign.name in warning and "not in this sweep" in warning
    assert "ignored, not merged" in warning
    pd.testing.assert_frame_equal(summary(out), expected)
    assert manifest(out)["counts"] == {"runs": 6, "done": 6, "failed": 0, "remaining": 0}


def test_a_second_part_holding_the_same_runs_is_taken_once(tmp_path, clean, capsys):
    spec, expected = clean
    out = tmp_path / "out"
    run_sweep(spec, out, serial=True)
    original = parts(out)[0]
    table = pq.read_table(original)
    # The same runs written again by another writer: other bytes, a valid name and checksum.
    duplicate = abm.files.io.write_part(table.to_pandas().assign(mean_wellbeing=0.0), out / "runs",
                                  original.name[5:21])
    assert duplicate != original
    capsys.readouterr()

    assert run_sweep(spec, out, serial=True) == 0
    [warning] = warnings(capsys.readouterr().err)
    first, second = sorted([original, duplicate])
    assert str(second) in warning and f"already taken from {first.name}" in warning
    result = summary(out)
    assert len(result) == 6 and result.run_id.is_unique
    if first == original:
        pd.testing.assert_frame_equal(result, expected)


def test_a_damaged_manifest_is_set_aside_and_rebuilt_keeping_finished_runs(tmp_path, clean,
                                                                           capsys):
    spec, expected = clean
    out = tmp_path / "out"
    run_sweep(spec, out, serial=True)
    text = (out / "manifest.json").read_text()
    (out / "manifest.json").write_text(text[: len(text) // 3])
    capsys.readouterr()
    with pytest.raises(InputError, match=r"manifest\.json: not valid JSON"):
        summarise(out)

    assert run_sweep(spec, out, serial=True) == 0
    captured = capsys.readouterr()
    [warning] = warnings(captured.err)
    assert "manifest.json: not valid JSON" in warning and "kept as manifest.json.damaged" in warning
    assert "0 runs finished, 0 failed, 6 skipped" in captured.out
    assert (out / "manifest.json.damaged").read_text() == text[: len(text) // 3]
    assert manifest(out)["status"] == "complete"
    pd.testing.assert_frame_equal(summary(out), expected)


def test_summarise_reads_the_parts_not_a_damaged_summary_file(tmp_path, clean):
    spec, _ = clean
    out = tmp_path / "out"
    run_sweep(spec, out, serial=True)
    table = pd.read_csv(out / "summary_table.csv")
    (out / "summary.parquet").write_bytes(b"PAR1 not really")
    assert "Change against 'baseline'" in summarise(out)
    pd.testing.assert_frame_equal(pd.read_csv(out / "summary_table.csv"), table)


def test_a_damaged_failure_record_is_ignored(tmp_path, capsys):
    spec = tiny_sweep(tmp_path, seeds=1)
    out = tmp_path / "out"
    run_sweep(spec, out, serial=True)
    (out / "failed").mkdir()
    (out / "failed" / f"part-{'a' * 16}-{'b' * 32}.parquet").write_bytes(b"junk")
    capsys.readouterr()
    assert run_sweep(spec, out, serial=True) == 0
    [warning] = warnings(capsys.readouterr().err)
    assert "failed/part-aaaa" in warning and "do not match the checksum" in warning
    assert manifest(out)["counts"]["failed"] == 0


def test_weekly_series_are_checked_with_their_runs(tmp_path, capsys):
    spec = tiny_sweep(tmp_path, seeds=2, extra="record: weekly\n")
    out = tmp_path / "out"
    run_sweep(spec, out, serial=True)
    weekly = parts(out, "weekly")
    assert len(weekly) == 4
    flip_a_byte(weekly[0])
    batch = weekly[0].name[5:21]
    # A task cut off between its weekly part and its summary part leaves an orphan (its
    # contents changed here, so that the recomputed part cannot take its name):
    cut = parts(out, "weekly")[1]
    series = pd.read_parquet(cut).assign(mean_wellbeing=0.0)
    cut.unlink()
    next((out / "runs").glob(f"part-{cut.name[5:21]}-*")).unlink()
    orphan = abm.files.io.write_part(series, out / "weekly", cut.name[5:21])
    capsys.readouterr()

    assert run_sweep(spec, out, serial=True) == 0
    captured = capsys.readouterr()
    assert "2 runs finished, 0 failed, 2 skipped" in captured.out
    assert any(f"part-{batch}" in w and "its weekly series part is missing or damaged" in w
               for w in warnings(captured.err))
    assert not orphan.exists(), "an orphan weekly part is removed"
    ids = [run_id for part in parts(out, "weekly") for run_id in pd.read_parquet(part).run_id]
    assert pd.Series(ids).value_counts().eq(2 * 52).all() and len(set(ids)) == 4


def test_leftover_temporary_files_of_dead_writers_are_removed(tmp_path):
    spec = tiny_sweep(tmp_path, seeds=1)
    out = tmp_path / "out"
    run_sweep(spec, out, serial=True)
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                          capture_output=True, text=True).stdout.strip()
    leftover = out / "runs" / f".part-x.parquet.{dead}.tmp"
    mine = out / "runs" / f".part-y.parquet.{os.getppid()}.tmp"  # a live process's
    leftover.write_bytes(b"half")
    mine.write_bytes(b"half")
    assert run_sweep(spec, out, serial=True) == 0
    assert not leftover.exists() and mine.exists()


# --- summarise says when a sweep is incomplete -------------------------------------------------

def test_summarise_refuses_an_incomplete_sweep_unless_allowed(tmp_path, clean, capsys):
    spec, _ = clean
    out = tmp_path / "out"
    run_sweep(spec, out, serial=True)
    for part in parts(out)[:2]:
        part.unlink()
    with pytest.raises(IncompleteSweep, match="4 of 6 runs done, 0 failed, 2 missing"):
        summarise(out)
    capsys.readouterr()
    assert main(["summarise", str(out)]) == 1
    err = capsys.readouterr().err.splitlines()
    assert len(err) == 1 and err[0].startswith("abm: error: ")
    assert "is incomplete (runs are missing from the folder): 4 of 6 runs done" in err[0]
    assert err[0].endswith("or add --allow-incomplete to summarise the runs done")

    assert main(["summarise", str(out), "--allow-incomplete"]) == 0
    printed = capsys.readouterr().out
    assert printed.startswith("Incomplete: ") and "4 of 6 runs done" in printed
    assert "The table covers only the runs done." in printed


def test_summarise_counts_failed_runs(tmp_path, capsys):
    spec = tiny_sweep(tmp_path, seeds=1)
    out = tmp_path / "out"

    def fail_embed(spec, weekly):
        from abm.model.runs import execute

        if spec.scenario == "embed":
            raise ValueError("boom")
        return execute(spec, weekly)

    assert run_sweep(spec, out, serial=True, run=fail_embed) == 1
    with pytest.raises(IncompleteSweep, match=r"incomplete \(some runs failed\): 1 of 2 runs "
                                              r"done, 1 failed, 0 missing"):
        summarise(out)


# --- one sweep at a time: the lock --------------------------------------------------------------

def abm_process(*args: str) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "abm.cli", *args], cwd=ROOT, text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)


def wait_for(condition, seconds: float = 120) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "timed out waiting"
        time.sleep(0.05)


def lock_holder(out: Path) -> dict | None:
    try:
        text = (out / ".lock").read_text()
        return json.loads(text) if text else None
    except (OSError, ValueError):
        return None


@pytest.mark.slow
def test_two_sweeps_into_one_folder_at_once_one_is_refused_naming_the_other(tmp_path):
    """The issue's case: the same sweep on --num-cpus 1 and 2 into one --out at the same time
    gave every row twice. Now one runs (on a real local Ray) and the other is refused."""
    spec = tiny_sweep(tmp_path, seeds=4)
    out = tmp_path / "out"
    first = abm_process("sweep", str(spec), "--out", str(out), "--num-cpus", "1")
    second = abm_process("sweep", str(spec), "--out", str(out), "--num-cpus", "2")
    results = [(p, *p.communicate(timeout=600)) for p in (first, second)]
    codes = sorted(p.returncode for p, _, _ in results)
    assert codes == [0, 2], [(p.returncode, err[-500:]) for p, _, err in results]
    winner = next(p for p, _, _ in results if p.returncode == 0)
    [(_, _, refused)] = [(p, o, e) for p, o, e in results if p.returncode == 2]
    lines = refused.strip().splitlines()
    assert len(lines) == 1, refused
    assert f"{out} is in use by another sweep (pid {winner.pid} on host " in lines[0]
    assert "cli/__main__.py sweep" in lines[0] and "wait for it to finish" in lines[0]
    ids = run_ids(out)
    assert len(ids) == len(set(ids)) == 8
    assert len(summary(out)) == 8 and summary(out).run_id.is_unique
    assert manifest(out)["counts"] == {"runs": 8, "done": 8, "failed": 0, "remaining": 0}


GATED_SWEEP = """
import sys, time
from pathlib import Path
from abm.model.runs import execute
from experiments.runner import run_sweep

gate = Path(sys.argv[3])

def gated(spec, weekly):
    while gate.exists():  # the test opens the gate when it has seen what it needs
        time.sleep(0.05)
    return execute(spec, weekly)

sys.exit(run_sweep(sys.argv[1], sys.argv[2], serial=True, run=gated))
"""


def test_a_different_sweep_is_refused_while_one_runs_and_after(tmp_path):
    """The issue's case: two different sweeps into one folder 2 s apart were both accepted and
    their rows merged. A sweep held at its first run by a gate keeps the folder busy."""
    spec = tiny_sweep(tmp_path, seeds=2)
    other = tiny_sweep(tmp_path, seeds=2, name="other.yaml", extra="grid: {uptake_rate: [0.02]}\n")
    out, gate = tmp_path / "out", tmp_path / "gate"
    gate.touch()
    running = subprocess.Popen([sys.executable, "-c", GATED_SWEEP, str(spec), str(out),
                                str(gate)], cwd=ROOT, text=True, stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE)
    wait_for(lambda: (out / "manifest.json").exists() and lock_holder(out) is not None)
    for attempt in (other, spec):  # a different sweep, and the same one a second time
        with pytest.raises(InputError, match=rf"is in use by another sweep \(pid {running.pid} "
                                             r"on host .*, since .*\): wait for it to finish"):
            run_sweep(attempt, out, serial=True)
    gate.unlink()
    _, err = running.communicate(timeout=300)
    assert running.returncode == 0, err
    with pytest.raises(InputError, match="holds results of a different sweep"):
        run_sweep(other, out, serial=True)
    default = BY_NAME["uptake_rate"].default  # the first sweep's; the other's is 0.02
    assert len(summary(out)) == 4 and set(summary(out).uptake_rate) == {default}


@pytest.mark.slow
def test_a_lock_left_by_a_killed_sweep_is_taken_over_with_a_warning(tmp_path, ray_cluster,
                                                                    capsys):
    spec = tiny_sweep(tmp_path, seeds=6)
    out = tmp_path / "out"
    killed = abm_process("sweep", str(spec), "--out", str(out), "--serial")
    wait_for(lambda: len(parts(out)) >= 2)
    killed.send_signal(signal.SIGKILL)
    killed.wait(timeout=60)
    assert manifest(out)["status"] == "running", "a killed sweep could not say otherwise"
    with pytest.raises(IncompleteSweep, match=r"incomplete \(the sweep stopped before the "):
        summarise(out)  # the manifest's "running" is corrected from the lock
    capsys.readouterr()

    assert run_sweep(spec, out, num_cpus=2) == 0
    [warning] = [w for w in warnings(capsys.readouterr().err) if "lock" in w or "left" in w]
    assert f"left locked by a sweep that is no longer running (pid {killed.pid} on host " in \
        warning and warning.endswith("taking it over")
    ids = run_ids(out)
    assert len(ids) == len(set(ids)) == 12
    assert manifest(out)["status"] == "complete" and lock_holder(out) is None


def test_a_lock_recorded_by_another_machine_is_refused_not_taken(tmp_path):
    spec = tiny_sweep(tmp_path, seeds=1)
    out = tmp_path / "out"
    out.mkdir()
    (out / ".lock").write_text(json.dumps({"pid": 1, "host": "cluster-head-7",
                                           "started_at": "2026-01-01T00:00:00+00:00",
                                           "command": "abm sweep x.yaml"}))
    with pytest.raises(InputError, match=r"locked by a sweep on another machine \(pid 1 on host "
                                         r"cluster-head-7.*delete .*\.lock and run again"):
        run_sweep(spec, out, serial=True)
    assert sorted(p.name for p in out.iterdir()) == [".lock"]


# --- Ray: local means local; a remote address has a time limit -----------------------------------

@pytest.mark.slow
def test_with_no_address_a_sweep_starts_its_own_ray_beside_a_running_one(tmp_path, ray_cluster):
    """The issue's case: a sweep joined another cluster it found on the machine (and crashed
    with --num-cpus). This test session's Ray is running; the sweep must start its own."""
    session = ray_cluster.get_runtime_context().gcs_address
    out = tmp_path / "out"
    child = abm_process("sweep", str(tiny_sweep(tmp_path, seeds=1)), "--out", str(out),
                        "--num-cpus", "1")
    _, err = child.communicate(timeout=300)
    assert child.returncode == 0, err
    assert "Traceback" not in err and "planned 2 runs on 1 CPU: 0 already done, 2 to run" in err
    invocation = manifest(out)["invocations"][-1]
    assert invocation["address"] == "local" and invocation["workers"] == 1
    assert invocation["ray_address"] and invocation["ray_address"] != session


def test_an_address_that_accepts_but_never_answers_fails_within_the_time_limit(tmp_path):
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(8)
    port = listener.getsockname()[1]
    out = tmp_path / "out"
    start = time.monotonic()
    child = abm_process("sweep", str(tiny_sweep(tmp_path, seeds=1)), "--out", str(out),
                        "--address", f"127.0.0.1:{port}", "--connect-timeout", "3")
    _, err = child.communicate(timeout=120)
    seconds = time.monotonic() - start
    listener.close()
    lines = [line for line in err.splitlines() if line.startswith("abm: ")]
    assert child.returncode == 2, err
    assert lines == [f"abm: error: --address 127.0.0.1:{port}: no Ray cluster answered within "
                     "3 s; if the cluster uses token authentication (Ray's default since 2.59), "
                     "set RAY_AUTH_MODE=token and give its token in RAY_AUTH_TOKEN or "
                     "~/.ray/auth_token"], err
    assert seconds < 30
    written = manifest(out)  # written before Ray was asked, and honest about the end
    assert written["status"] == "stopped"
    assert "no Ray cluster answered" in written["invocations"][-1]["error"]


# --- a full disk and lost permissions ------------------------------------------------------------

def fail_writes(monkeypatch, under: Path, after: int, code: int = errno.ENOSPC):
    """Make renames into ``under`` fail with ``code`` after ``after`` of them succeeded, as
    the file system would when the disk fills or a permission goes."""
    real = os.replace
    done = {"n": 0}

    def replace(src, dst, *args, **kwargs):
        target = Path(dst)
        if under in target.parents:
            done["n"] += 1
            if done["n"] > after:
                raise OSError(code, os.strerror(code), str(dst))
        return real(src, dst, *args, **kwargs)

    monkeypatch.setattr(abm.files.io.os, "replace", replace)


def test_a_full_disk_stops_the_sweep_in_one_line_and_leaves_it_resumable(tmp_path, clean,
                                                                         monkeypatch, capsys):
    spec, expected = clean
    out = tmp_path / "out"
    fail_writes(monkeypatch, out / "runs", after=2)
    assert main(["sweep", str(spec), "--out", str(out), "--serial"]) == 2
    err = capsys.readouterr().err
    errors = [line for line in err.splitlines() if line.startswith("abm: error: ")]
    assert len(errors) == 1 and "Traceback" not in err
    assert "runs/part-" in errors[0] and errors[0].endswith(
        ": the disk is full: free some space and run the command again")
    written = manifest(out)
    assert written["status"] == "stopped" and "the disk is full" in \
        written["invocations"][-1]["error"]
    assert written["counts"] == {"runs": 6, "done": 2, "failed": 0, "remaining": 4}
    assert not (out / "summary.parquet").exists()
    assert not list((out / "runs").glob(".*.tmp")), "no temporary file left behind"

    monkeypatch.undo()
    assert run_sweep(spec, out, serial=True) == 0
    pd.testing.assert_frame_equal(summary(out), expected)


def test_when_even_the_manifest_cannot_be_written_readers_see_the_sweep_stopped(
        tmp_path, clean, monkeypatch, capsys):
    spec, expected = clean
    out = tmp_path / "out"
    run_sweep(spec, out, serial=True)
    for part in parts(out)[:3]:
        part.unlink()
    fail_writes(monkeypatch, out / "runs", after=1)
    # The manifest's first write (status "running") succeeds; the last fails like the parts.
    real = abm.files.io.write_json
    calls = {"n": 0}

    def write_json(data, path):
        calls["n"] += 1
        if calls["n"] > 1:
            raise abm.files.io.ResourceError(
                abm.files.io.cannot_write(path, OSError(errno.ENOSPC, "")))
        return real(data, path)

    monkeypatch.setattr("experiments.runner.write_json", write_json)
    assert main(["sweep", str(spec), "--out", str(out), "--serial"]) == 2
    assert manifest(out)["status"] == "running"
    capsys.readouterr()
    monkeypatch.undo()
    with pytest.raises(IncompleteSweep, match=r"\(the sweep stopped before the end\): 4 of 6 "):
        summarise(out)
    assert run_sweep(spec, out, serial=True) == 0
    pd.testing.assert_frame_equal(summary(out), expected)


def test_a_permission_lost_mid_sweep_is_one_line(tmp_path, monkeypatch, capsys):
    spec = tiny_sweep(tmp_path, seeds=2)
    out = tmp_path / "out"
    fail_writes(monkeypatch, out / "runs", after=1, code=errno.EACCES)
    assert main(["sweep", str(spec), "--out", str(out), "--serial"]) == 2
    errors = [line for line in capsys.readouterr().err.splitlines()
              if line.startswith("abm: error: ")]
    assert len(errors) == 1
    assert errors[0].endswith("permission denied: choose a folder you can write")
    assert manifest(out)["status"] == "stopped"


def drop_root_powers() -> None:
    """In a child: lose the power to ignore file permissions (root's), so that a read-only
    folder is read-only, as it is for everyone else."""
    if os.geteuid() == 0:
        libc = ctypes.CDLL(None, use_errno=True)
        for capability in (1, 2):  # CAP_DAC_OVERRIDE, CAP_DAC_READ_SEARCH
            if libc.prctl(24, capability, 0, 0, 0) != 0:  # PR_CAPBSET_DROP
                raise OSError(ctypes.get_errno(), "prctl(PR_CAPBSET_DROP)")


@pytest.mark.parametrize("command", ["run", "sweep"])
def test_a_read_only_out_folder_is_refused_before_any_work(command, tmp_path):
    folder = tmp_path / "read_only"
    folder.mkdir()
    folder.chmod(0o555)
    target = folder / "results"
    args = (["run", "--out", str(target)] if command == "run"
            else ["sweep", str(SMOKE), "--out", str(target)])
    start = time.monotonic()
    child = subprocess.run([sys.executable, "-m", "abm.cli", *args], cwd=ROOT,
                           capture_output=True, text=True, timeout=120,
                           preexec_fn=drop_root_powers)
    folder.chmod(0o755)
    assert child.returncode == 2, child.stderr
    assert child.stderr.splitlines() == [
        f"abm: error: --out {target}: cannot write in {folder} (no permission, or a read-only "
        "file system): allowed is a folder you can write"]
    assert list(folder.iterdir()) == []
    assert time.monotonic() - start < 60, "refused before the model ran"


# --- abm run writes its two files as a pair ---------------------------------------------------

@pytest.mark.parametrize("failing", ["summary", "weekly"])
def test_abm_run_leaves_both_files_or_neither(failing, tmp_path, monkeypatch, capsys):
    out = tmp_path / "out"
    real = os.replace

    def replace(src, dst, *args, **kwargs):
        if str(dst).endswith(f"_{failing}.parquet"):
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(dst))
        return real(src, dst, *args, **kwargs)

    monkeypatch.setattr(abm.files.io.os, "replace", replace)
    code = main(["run", "--place", "bradford", "--years", "1", "--out", str(out),
                 "--set", "n_neighbourhoods=10", "--set", "residents_per_neighbourhood=10",
                 "--set", "burn_in_years=1"])
    assert code == 2
    errors = capsys.readouterr().err.splitlines()[1:]  # after the "Running ..." line
    assert len(errors) == 1 and errors[0].endswith("the disk is full: free some space and run "
                                                   "the command again")
    assert list(out.iterdir()) == [], "no weekly file without its summary, no temporary file"


# --- progress when nobody watches a terminal -----------------------------------------------------

def test_a_sweep_not_in_a_terminal_logs_its_plan_and_progress(tmp_path, ray_cluster, capsys):
    spec = tiny_sweep(tmp_path, seeds=3)
    assert run_sweep(spec, tmp_path / "out", num_cpus=2) == 0
    lines = capsys.readouterr().err.splitlines()
    assert lines[0] == "abm: planned 6 runs on 2 CPUs: 0 already done, 6 to run"
    progress = [line for line in lines if "runs finished" in line]
    assert progress[-1] == "abm: 6/6 runs finished, 0 failed"
    assert len(progress) == 6, "one line a run when there are fewer than 20"
    assert all("left" in line for line in progress[:-1])


def test_progress_lines_come_every_twentieth_of_a_long_sweep():
    import io

    from experiments.progress import Progress

    stream = io.StringIO()
    progress = Progress(200, stream)
    for _ in range(199):
        progress.update(1, 0)
    progress.update(0, 1)
    lines = stream.getvalue().splitlines()
    assert len(lines) == 20
    assert lines[0].startswith("abm: 10/200 runs finished, 0 failed, about ")
    assert lines[-1] == "abm: 200/200 runs finished, 1 failed"


def test_the_checksum_covers_every_byte_of_a_part(tmp_path):
    """Damage anywhere (data pages, footer, column names) is caught before Parquet decodes."""
    path = abm.files.io.write_part([{"run_id": "r1", "wellbeing_q1": 6.5}], tmp_path, "0" * 16)
    data = path.read_bytes()
    for offset in range(0, len(data), max(1, len(data) // 50)):
        damaged = bytearray(data)
        damaged[offset] ^= 0x20
        path.write_bytes(bytes(damaged))
        with pytest.raises(abm.files.io.DamagedFile, match="do not match the checksum"):
            abm.files.io.read_part(path)
    path.write_bytes(data)
    assert abm.files.io.read_part(path).equals(pa.table({"run_id": ["r1"], "wellbeing_q1": [6.5]}))
