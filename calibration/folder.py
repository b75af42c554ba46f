"""A results folder belongs to one analysis: its id is recorded before any work and checked on
every reuse.

Every command of the calibration package (calibrate, sensitivity, uncertainty, patterns,
robustness, diagnose, recovery) writes ``analysis.json`` into its ``--out`` folder before it
runs anything: the kind of analysis, its id (a hash of everything that decides its results:
the spec or arguments, the targets, and the status-quo run id of each place, which itself
hashes the model version, every parameter default and the place's figures) and a readable
description. Run again into the same folder, the command goes on only if the ids agree, so
a resumed analysis can only ever pick up its own runs, ABC history and outputs; another spec
into a used folder is refused in one line, as ``abm sweep`` refuses another sweep.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from pathlib import Path
from typing import Any

from abm.files import yamlfile
from abm.files.errors import InputError, clipped
from abm.files.io import write_json
from abm.version import __version__

IDENTITY = "analysis.json"
#: How a calibration's posterior was made: what stopped ABC-SMC, or the likelihood's chain.
STOP = "abc_stop.json"
#: Files a folder may hold before an analysis claims it (the lock, things set aside).
_IGNORED = (".lock",)


def analysis_id(prefix: str, content: Any) -> str:
    """A stable id of ``content`` (anything JSON can show), e.g. ``cal-3f2a9c01b7``."""
    text = json.dumps(content, sort_keys=True, separators=(",", ":"), default=str)
    return f"{prefix}-{hashlib.sha256(text.encode()).hexdigest()[:10]}"


def check(out: Path, kind: str, identity: str) -> bool:
    """Whether ``out`` already holds the ``kind`` analysis ``identity`` (False: a new or
    empty folder). Raise :class:`InputError` (one line) if it holds another analysis, holds
    files but no record of one, or its record is damaged. Reads only: commands call it
    before they lock or write anything, and :func:`claim` calls it again holding the lock."""
    path = out / IDENTITY
    shown = clipped(str(out), 300)
    if path.exists() or path.is_symlink():
        held = read_identity(out)
        if held.get("kind") != kind or held.get("id") != identity:
            raise InputError(
                f"{shown} holds another analysis ({held.get('kind')} {held.get('id')}: "
                f"{clipped(held.get('description', ''), 160)}); this is {kind} {identity}: "
                "choose another --out")
        return True
    if out.is_dir() and any(p.name not in _IGNORED and not p.name.endswith(".damaged")
                            for p in out.iterdir()):
        raise InputError(f"{shown} is not empty and holds no record of an analysis "
                         f"({IDENTITY}): choose another --out")
    return False


def claim(out: Path, kind: str, identity: str, description: str) -> None:
    """Record that ``out`` holds the ``kind`` analysis ``identity``, or check that it does
    (:func:`check`). Called before any run starts."""
    out.mkdir(parents=True, exist_ok=True)
    if check(out, kind, identity):
        return
    write_json({"kind": kind, "id": identity, "description": description,
                "model_version": __version__,
                "created_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds")},
               out / IDENTITY)


def read_identity(out: Path) -> dict:
    """The record of the analysis ``out`` holds; :class:`InputError` if it is unreadable."""
    path = out / IDENTITY
    try:
        data = json.loads(yamlfile.read_text(path))
    except InputError as error:
        raise InputError(f"{error.problems[0]}: cannot tell which analysis {out} holds; "
                         "choose another --out") from None
    except ValueError:
        data = None
    if not isinstance(data, dict) or not isinstance(data.get("id"), str):
        raise InputError(f"{clipped(str(path), 300)}: damaged (not an analysis record): cannot "
                         f"tell which analysis {clipped(str(out), 300)} holds; choose another "
                         "--out")
    return data
