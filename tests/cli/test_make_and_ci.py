"""The two commands on a fresh machine (issue 25, items 3 and 5): `make main` says what each
step does, with a line every so often while a step prints nothing; `make test` gets Chromium
for the browser tests where it can, and otherwise says in one line why they will be skipped.

The Makefile is run with a stand-in virtual environment whose `abm` only says how it was
called and waits, and the Chromium step with stand-ins for `id`, `sudo` and `apt-get`, so
nothing is installed or run for real.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM_STEP = ROOT / ".ci" / "chromium"
pytestmark = pytest.mark.skipif(shutil.which("make") is None, reason="make is not installed")


def _stub(folder: Path, name: str, script: str) -> Path:
    path = folder / name
    path.write_text("#!/bin/sh\n" + script + "\n")
    path.chmod(0o755)
    return path


def _fake_venv(tmp_path: Path, uncertainty_exit: int = 0) -> Path:
    venv = tmp_path / "venv"
    (venv / "bin").mkdir(parents=True)
    (venv / ".installed").touch()  # newer than pyproject.toml: nothing is installed
    _stub(venv / "bin", "abm", 'echo "abm $*"; sleep 3.5; '
          f'case "$1" in uncertainty) exit {uncertainty_exit};; esac')
    return venv


def _make_main(venv: Path) -> subprocess.CompletedProcess:
    return subprocess.run(["make", "--no-print-directory", "main", f"VENV={venv}",
                           "HEARTBEAT=1"], cwd=ROOT, capture_output=True, text=True,
                          timeout=120)


def test_make_main_says_what_each_step_does_and_that_a_quiet_step_is_running(tmp_path):
    if not (ROOT / "calibration/calibrated/main/posterior.parquet").exists():
        pytest.skip("no calibration shipped: make main has one step")
    done = _make_main(_fake_venv(tmp_path))
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    steps = [line for line in lines if line.startswith("== make main")]
    assert [s.split(":")[0] for s in steps] == ["== make main 1/2", "== make main 2/2"]
    assert "abm sweep experiments/main.yaml" in steps[0]
    assert "abm uncertainty" in steps[1] and "a line every 1 s" in steps[1]
    running = [line for line in lines if "abm uncertainty is running" in line]
    assert len(running) >= 2, done.stdout
    assert lines.index(running[0]) > lines.index(steps[1])


def test_make_main_fails_when_a_step_fails(tmp_path):
    if not (ROOT / "calibration/calibrated/main/posterior.parquet").exists():
        pytest.skip("no calibration shipped: make main has one step")
    done = _make_main(_fake_venv(tmp_path, uncertainty_exit=3))
    assert done.returncode != 0


def _chromium_step(path_dir: Path, **env: str) -> subprocess.CompletedProcess:
    """The Chromium step with PATH holding only ``path_dir`` (the stand-ins)."""
    return subprocess.run(["/bin/sh", str(CHROMIUM_STEP)], capture_output=True, text=True,
                          env={"PATH": str(path_dir), **env}, timeout=60)


def test_chromium_step_is_quiet_when_chromium_is_there(tmp_path):
    _stub(tmp_path, "chromium", "exit 0")
    done = _chromium_step(tmp_path)
    assert (done.returncode, done.stdout) == (0, "")


def test_a_user_who_cannot_install_is_told_in_one_line(tmp_path):
    _stub(tmp_path, "id", "echo 1000")
    _stub(tmp_path, "apt-get", "echo called >> " + str(tmp_path / "apt.log"))
    done = _chromium_step(tmp_path)
    assert done.returncode == 0
    [line] = done.stdout.splitlines()
    assert "this user cannot install packages" in line
    assert "the browser tests (report and workshop app) will be skipped" in line
    assert not (tmp_path / "apt.log").exists(), "apt-get was not tried"


def test_no_install_when_asked_not_to(tmp_path):
    _stub(tmp_path, "id", "echo 0")
    _stub(tmp_path, "apt-get", "echo called >> " + str(tmp_path / "apt.log"))
    done = _chromium_step(tmp_path, CHROMIUM_INSTALL="no")
    assert "CHROMIUM_INSTALL=no" in done.stdout and len(done.stdout.splitlines()) == 1
    assert not (tmp_path / "apt.log").exists()


def test_root_installs_chromium_with_apt_get(tmp_path):
    _stub(tmp_path, "id", "echo 0")
    _stub(tmp_path, "apt-get", f'echo "$*" >> {tmp_path}/apt.log; '
          f'case "$*" in *install*) printf "#!/bin/sh\\n" > {tmp_path}/chromium; '
          f"/bin/chmod +x {tmp_path}/chromium;; esac")
    done = _chromium_step(tmp_path)
    assert done.returncode == 0
    assert f"Chromium installed: {tmp_path}/chromium" in done.stdout
    assert (tmp_path / "apt.log").read_text().splitlines() == [
        "update -qq", "install -y -qq chromium"]


def test_a_failed_install_is_one_line_and_not_a_failure(tmp_path):
    _stub(tmp_path, "id", "echo 1000")
    _stub(tmp_path, "sudo", 'if [ "$1" = -n ]; then shift; fi; "$@"')
    _stub(tmp_path, "apt-get", "exit 100")
    done = _chromium_step(tmp_path)
    assert done.returncode == 0
    assert done.stdout.splitlines()[-1].startswith("Chromium could not be installed")


def test_ci_runs_the_readmes_test_command():
    text = (ROOT / ".ci" / "run").read_text()
    assert "make test" in text
    assert "sh .ci/chromium" in (ROOT / "Makefile").read_text()
    assert os.access(CHROMIUM_STEP, os.X_OK)
