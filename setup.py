"""Build hook: record the git commit in ``abm/files/_build_info.py`` of every built package.

Everything else about the package is declared in ``pyproject.toml``. A non-editable install
(``pip install .``, a wheel, an sdist) has no ``.git`` beside the installed code, so without
this record its results would cite no commit. ``abm.files.provenance`` reads the record; in a
checkout it asks git directly. The record is written into the build folder (and into an
sdist's tree), never into the source tree.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py
from setuptools.command.sdist import sdist

ROOT = Path(__file__).resolve().parent
RECORD = Path("abm") / "files" / "_build_info.py"


def _git(*args: str) -> str | None:
    try:
        return subprocess.run(["git", *args], cwd=ROOT, capture_output=True, text=True,
                              check=True, timeout=10).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return None


def _write_record(folder: Path) -> None:
    """Write the commit of the source tree into ``folder/abm/files/_build_info.py``, if git knows it
    (otherwise keep a record that came with the sources, e.g. from an sdist)."""
    commit = _git("rev-parse", "HEAD")
    if commit is None:
        return
    dirty = bool(_git("status", "--porcelain"))
    path = folder / RECORD
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(
        '"""Written by setup.py at build time: the git commit this package was built from."""\n'
        f"GIT_COMMIT = {commit!r}\nGIT_DIRTY = {dirty!r}\n", encoding="utf-8")


class BuildPyWithCommit(build_py):
    """``build_py`` that also records the git commit."""

    def run(self) -> None:
        super().run()
        _write_record(Path(self.build_lib))


class SdistWithCommit(sdist):
    """``sdist`` that also records the git commit, for builds from the sdist."""

    def make_release_tree(self, base_dir: str, files) -> None:
        super().make_release_tree(base_dir, files)
        _write_record(Path(base_dir))


setup(cmdclass={"build_py": BuildPyWithCommit, "sdist": SdistWithCommit})
