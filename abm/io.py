"""Atomic file writing: a file appears complete under its name, or not at all."""

from __future__ import annotations

import contextlib
import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq


@contextlib.contextmanager
def _atomically(path: str | Path) -> Iterator[Path]:
    """Yield a temporary path beside ``path``; rename it to ``path`` if the block succeeds."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        yield tmp
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def write_parquet(data: pd.DataFrame | list[dict], path: str | Path) -> Path:
    """Write a DataFrame, or rows as dicts (faster for a few rows), to ``path`` as Parquet,
    via a temporary file renamed into place."""
    with _atomically(path) as tmp:
        if isinstance(data, pd.DataFrame):
            data.to_parquet(tmp, index=False)
        else:
            pq.write_table(pa.Table.from_pylist(data), tmp)
    return Path(path)


def write_json(data: Any, path: str | Path) -> Path:
    """Write ``data`` to ``path`` as indented JSON, via a temporary file renamed into place."""
    with _atomically(path) as tmp:
        tmp.write_text(json.dumps(data, indent=2, default=str) + "\n", encoding="utf-8")
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
