"""Writing results safely.

* A file appears complete under its name, or not at all (written to a temporary file beside
  it, then renamed).
* A part file of a sweep carries the checksum of its own bytes in its name
  (``part-<batch>-<sha256>.parquet``): the one rename that makes it appear brings data and
  checksum together, and :func:`read_part` checks every byte (data pages, footer, column
  names) before Parquet decodes any. A damaged, truncated, renamed or copied part fails.
* A full disk, a read-only folder or a missing permission becomes a :class:`ResourceError`
  (one line naming the file, exit code 2), never a traceback; no temporary file is left.
"""

from __future__ import annotations

import contextlib
import errno
import hashlib
import json
import os
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from abm.files import yamlfile
from abm.files.errors import InputError, ResourceError, clipped

#: A sweep's part file: 16 hex digits naming its batch of runs, 32 of the SHA-256 of its bytes.
PART_NAME = re.compile(r"^part-(?P<batch>[0-9a-f]{16})-(?P<checksum>[0-9a-f]{32})\.parquet$")
#: Largest part file read back (bytes): far above any batch's weekly series.
PART_MAX_BYTES = 4 << 30
_ADVICE = {
    errno.ENOSPC: "the disk is full: free some space and run the command again",
    errno.EDQUOT: "the disk quota is used up: free some space and run the command again",
    errno.EROFS: "the file system is read-only: choose another --out",
    errno.EACCES: "permission denied: choose a folder you can write",
    errno.EPERM: "permission denied: choose a folder you can write",
}


class DamagedFile(Exception):
    """A part file that cannot be trusted; ``reason`` says why in words."""

    def __init__(self, path: Path, reason: str):
        super().__init__(f"{path}: {reason}")
        self.path, self.reason = path, reason


def cannot_write(path: str | Path, error: OSError) -> str:
    """One line saying why ``path`` could not be written and what to do."""
    reason = _ADVICE.get(error.errno) or (error.strerror or str(error))
    return f"cannot write {clipped(str(path), 300)}: {reason}"


@contextlib.contextmanager
def _atomically(path: str | Path) -> Iterator[Path]:
    """Yield a temporary path beside ``path``; rename it to ``path`` if the block succeeds.

    An ``OSError`` (a full disk, no permission) becomes a :class:`ResourceError`; the
    temporary file is removed whatever happens.
    """
    path = Path(path)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        yield tmp
        os.replace(tmp, path)
    except OSError as error:
        raise ResourceError(cannot_write(path, error)) from None
    finally:
        with contextlib.suppress(OSError):
            tmp.unlink(missing_ok=True)


def _table(data: pd.DataFrame | list[dict]) -> pa.Table:
    if isinstance(data, pd.DataFrame):
        return pa.Table.from_pandas(data, preserve_index=False)
    return pa.Table.from_pylist(data)


def write_parquet(data: pd.DataFrame | list[dict], path: str | Path) -> Path:
    """Write a DataFrame, or rows as dicts (faster for a few rows), to ``path`` as Parquet,
    via a temporary file renamed into place."""
    with _atomically(path) as tmp:
        pq.write_table(_table(data), tmp)
    return Path(path)


def write_parquet_files(files: list[tuple[pd.DataFrame | list[dict], Path]]) -> list[Path]:
    """Write several Parquet files that belong together (a run's summary and weekly series).

    Every file is first written in full to a temporary file (where a bad value or a full disk
    fails, leaving nothing); then they are renamed into place in the order given, and if a
    rename fails the ones already renamed are removed. Put the file whose presence says "the
    rest is here" first.
    """
    staged: list[tuple[Path, Path]] = []
    placed: list[Path] = []
    try:
        for data, path in files:
            path = Path(path)
            tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
            staged.append((tmp, path))
            path.parent.mkdir(parents=True, exist_ok=True)
            pq.write_table(_table(data), tmp)
        for tmp, path in staged:
            os.replace(tmp, path)
            placed.append(path)
    except OSError as error:
        for path in placed:
            with contextlib.suppress(OSError):
                path.unlink()
        raise ResourceError(cannot_write(path, error)) from None
    except BaseException:
        for path in placed:
            with contextlib.suppress(OSError):
                path.unlink()
        raise
    finally:
        for tmp, _ in staged:
            with contextlib.suppress(OSError):
                tmp.unlink(missing_ok=True)
    return placed


def write_part(data: pd.DataFrame | list[dict], folder: Path, batch: str) -> Path:
    """Write a sweep's part file into ``folder`` as ``part-<batch>-<checksum>.parquet``.

    ``batch`` (16 hex digits) names the runs in it, so a weekly part and the summary part of
    the same runs share it; the checksum is the first 32 hex digits of the SHA-256 of the
    file's bytes, checked by :func:`read_part`.
    """
    sink = pa.BufferOutputStream()
    pq.write_table(_table(data), sink)
    content = sink.getvalue()
    checksum = hashlib.sha256(content).hexdigest()[:32]
    path = folder / f"part-{batch}-{checksum}.parquet"
    with _atomically(path) as tmp:
        tmp.write_bytes(memoryview(content))
    return path


def read_part(path: Path, columns: list[str] | None = None) -> pa.Table:
    """A part file's table, after checking its name and every byte against the checksum in
    its name; raise :class:`DamagedFile` saying why it cannot be trusted."""
    match = PART_NAME.match(path.name)
    if match is None:
        raise DamagedFile(path, "not a part file of this program (its name is not "
                                "part-<16 hex digits>-<32 hex digits>.parquet)")
    try:
        content = yamlfile.read_bytes(path, PART_MAX_BYTES)
    except InputError as error:
        raise DamagedFile(path, error.problems[0].removeprefix(f"{path}: ")) from None
    if hashlib.sha256(content).hexdigest()[:32] != match["checksum"]:
        raise DamagedFile(path, "its contents do not match the checksum in its name (damaged, "
                                "truncated or renamed)")
    try:
        return pq.read_table(pa.BufferReader(content), columns=columns)
    except (pa.ArrowException, OSError, ValueError) as error:  # written by another program
        raise DamagedFile(path, f"not readable as Parquet ({clipped(str(error), 120)})"
                          ) from None


def write_json(data: Any, path: str | Path) -> Path:
    """Write ``data`` to ``path`` as indented JSON, via a temporary file renamed into place."""
    text = json.dumps(data, indent=2, default=str) + "\n"
    with _atomically(path) as tmp:
        tmp.write_text(text, encoding="utf-8")
    return Path(path)


def write_csv(frame: pd.DataFrame, path: str | Path) -> Path:
    """Write ``frame`` to ``path`` as CSV, via a temporary file renamed into place."""
    with _atomically(path) as tmp:
        frame.to_csv(tmp, index=False)
    return Path(path)


def write_text(text: str, path: str | Path) -> Path:
    """Write ``text`` to ``path`` as UTF-8, via a temporary file renamed into place."""
    with _atomically(path) as tmp:
        tmp.write_text(text if text.endswith("\n") else text + "\n", encoding="utf-8")
    return Path(path)


def write_bytes(data: bytes, path: str | Path) -> Path:
    """Write ``data`` to ``path``, via a temporary file renamed into place."""
    with _atomically(path) as tmp:
        tmp.write_bytes(data)
    return Path(path)


def check_out_folder(path: str | Path, option: str = "--out") -> Path:
    """Refuse, before any work, an output folder that could not be written: an existing file,
    a path through a file, or a folder (or the nearest existing parent of one to be made)
    without write permission or on a read-only file system. Creates nothing."""
    path = Path(path)
    shown = clipped(str(path), 300)
    try:
        probe = path
        while not os.path.lexists(probe):
            probe = probe.parent
        if not probe.is_dir():
            where = "" if probe == path else f" ({clipped(str(probe), 300)} is a file)"
            raise InputError(f"{option} {shown}: a file, not a folder{where}: allowed is a "
                             "folder, or a path where one can be made")
        if not os.access(probe, os.W_OK | os.X_OK):
            raise InputError(f"{option} {shown}: cannot write in {clipped(str(probe), 300)} "
                             "(no permission, or a read-only file system): allowed is a folder "
                             "you can write")
    except InputError:
        raise
    except (OSError, ValueError) as error:  # a name too long, a NUL in it
        reason = getattr(error, "strerror", None) or str(error)
        raise InputError(f"{option} {shown}: cannot use this path ({reason})") from None
    return path
