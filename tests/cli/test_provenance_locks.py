"""Recording provenance reads git without taking its index lock (issue 22, item 3): a sweep,
a report or `abm --version` never writes `.git/index.lock` in the user's checkout."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from abm.cli import main as abm_main
from abm.files import provenance

GIT = ["git", "-c", "user.name=t", "-c", "user.email=t@example.org", "-c", "core.fsmonitor=false"]


def _checkout_with_a_stale_index(root: Path) -> tuple[Path, os.stat_result]:
    """A git checkout whose index is out of date with a tracked file's timestamp, so that a
    `git status` that may take optional locks refreshes (rewrites) the index."""
    subprocess.run([*GIT, "init", "-q", str(root)], check=True)
    tracked = root / "tracked.txt"
    tracked.write_text("same content\n")
    subprocess.run([*GIT, "add", "tracked.txt"], cwd=root, check=True)
    subprocess.run([*GIT, "commit", "-qm", "one"], cwd=root, check=True)
    os.utime(tracked, (1_000_000_000, 1_000_000_000))  # a new timestamp, the same content
    index = root / ".git" / "index"
    return index, index.stat()


def _unchanged(index: Path, before: os.stat_result) -> bool:
    after = index.stat()
    return (after.st_ino, after.st_mtime_ns) == (before.st_ino, before.st_mtime_ns)


def test_plain_git_status_would_rewrite_the_index(tmp_path):
    """The control: in this checkout an ordinary `git status` takes the lock and rewrites
    the index, so the test below could fail."""
    index, before = _checkout_with_a_stale_index(tmp_path)
    subprocess.run([*GIT, "status", "--porcelain"], cwd=tmp_path, check=True,
                   capture_output=True)
    assert not _unchanged(index, before), "git status refreshed the index (via index.lock)"


def test_provenance_takes_no_index_lock(tmp_path, monkeypatch, capsys):
    index, before = _checkout_with_a_stale_index(tmp_path)
    monkeypatch.setattr(provenance, "PACKAGE_ROOT", tmp_path.resolve())
    record = provenance.provenance()
    assert record["git_source"] == "checkout" and record["git_dirty"] is False
    assert len(record["git_commit"]) == 40
    with pytest.raises(SystemExit):
        abm_main(["--version"])
    assert "git " in capsys.readouterr().out
    assert _unchanged(index, before), "reading provenance rewrote the index"
    assert not (tmp_path / ".git" / "index.lock").exists()
