"""Provenance: which code, packages and machine produced a result.

The git commit comes from the checkout when the package runs from one (an editable install
or a source tree). A non-editable install (``pip install .``, a wheel) has no ``.git`` beside
it, so the build writes the commit into ``abm/files/_build_info.py`` (see ``setup.py``) and it is
read from there. Where neither is available the commit is ``None``: never guessed.

Git is only read: every command runs with ``--no-optional-locks``, so ``git status`` does
not refresh the index and takes no ``.git/index.lock`` (a sweep, a report or the workshop
app recording provenance never blocks, or is blocked by, someone committing in the same
checkout).
"""

from __future__ import annotations

import platform
import subprocess
import sys
from importlib import metadata
from pathlib import Path

from abm.version import __version__

#: Packages whose versions every manifest and report records.
PACKAGES = ("mesa", "numpy", "scipy", "pandas", "pyarrow", "ray", "pyyaml", "matplotlib",
            "ema-workbench")
#: The folder holding the ``abm`` package (a checkout's root when run from source).
PACKAGE_ROOT = Path(__file__).resolve().parents[2]


def git(*args: str, cwd: Path | None = None) -> str | None:
    """Output of ``git --no-optional-locks ARGS`` run in ``cwd`` (default: the package's
    checkout), or None where git or a checkout is missing."""
    try:
        return subprocess.run(["git", "--no-optional-locks", *args],
                              cwd=PACKAGE_ROOT if cwd is None else cwd, capture_output=True,
                              text=True, check=True, timeout=10).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return None


def _inside_checkout() -> bool:
    """Whether this package's folder is the top of a git checkout (not merely inside some
    other repository, as a ``site-packages`` inside a project's ``.venv`` would be)."""
    top = git("rev-parse", "--show-toplevel")
    return top is not None and Path(top).resolve() == PACKAGE_ROOT


def git_state() -> tuple[str | None, bool | None, str]:
    """(commit, dirty, where it came from): from the checkout, else from the build record."""
    if _inside_checkout():
        status = git("status", "--porcelain")
        return git("rev-parse", "HEAD"), (bool(status) if status is not None else None), "checkout"
    try:
        from abm.files import _build_info  # written by setup.py when a wheel is built
    except ImportError:
        return None, None, "unknown"
    return _build_info.GIT_COMMIT, _build_info.GIT_DIRTY, "build"


def package_versions(names: tuple[str, ...] = PACKAGES) -> dict[str, str | None]:
    """Installed version of each package (None where it is not installed)."""
    versions = {}
    for name in names:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = None
    return versions


def provenance() -> dict:
    """Git commit, versions and machine, so a report can say exactly what produced a number."""
    commit, dirty, source = git_state()
    return {
        "git_commit": commit,
        "git_dirty": dirty,
        "git_source": source,
        "model_version": __version__,
        "python": sys.version.split()[0],
        "platform": platform.platform(),
        "packages": package_versions(),
    }


def version_text() -> str:
    """What ``abm --version`` prints: the version and, where known, the commit."""
    commit, dirty, _ = git_state()
    if commit is None:
        return f"abm {__version__} (git commit unknown)"
    return f"abm {__version__} (git {commit[:12]}{', with uncommitted changes' if dirty else ''})"
