"""What a sweep's results folder holds, read so that it is never silently wrong.

The manifest lists the sweep's run ids; results are taken from part files for exactly those
ids, each once, and only from parts whose bytes match the checksum in their names
(:mod:`abm.files.io`). Anything else found in ``runs/``, ``weekly/`` or ``failed/`` is reported in a
warning naming the file and why, and ignored, never merged:

* a damaged part (a flipped byte, truncated, empty, unreadable) counts as missing: its runs
  are run again on resume, and the file is kept beside the others as ``<name>.damaged``;
* a stray file (a name that is not ``part-<batch>-<checksum>.parquet``, such as a copy), a
  part whose name does not match the runs in it, a foreign part (runs of another sweep) or a
  duplicate (runs already taken from another part) is ignored whole.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from abm.files import yamlfile
from abm.files.errors import InputError, clipped, shown
from abm.files.io import PART_MAX_BYTES, PART_NAME, DamagedFile, read_part
from experiments.lock import holder

MANIFEST = "manifest.json"
#: Largest manifest read: about 150 bytes per run, so room for some 1.5 million runs.
MANIFEST_MAX_BYTES = 256 << 20
DAMAGED_SUFFIX = ".damaged"
#: Outputs rebuilt from the parts at the end of every invocation (and removable any time).
DERIVED = ("summary.parquet", "summary_table.csv", "summary_table.parquet")


class DamagedManifest(Exception):
    """``manifest.json`` exists but cannot be read as a sweep's manifest; says why."""


def batch_key(run_ids) -> str:
    """The 16 hex digits naming a batch of runs in its part files' names."""
    return hashlib.sha256("".join(run_ids).encode()).hexdigest()[:16]


def read_manifest(folder: Path) -> dict | None:
    """The folder's manifest, None if there is none; :class:`DamagedManifest` if it is there
    but truncated, empty, not JSON, too large or not shaped like a manifest."""
    found = read_manifest_bytes(folder)
    return None if found is None else found[0]


def read_manifest_bytes(folder: Path) -> tuple[dict, bytes] | None:
    """The folder's manifest and the exact bytes it was parsed from (whose SHA-256 a report
    cites), None if there is none; :class:`DamagedManifest` as :func:`read_manifest`."""
    path = Path(folder) / MANIFEST
    if not os.path.lexists(path):
        return None
    try:
        raw = yamlfile.read_bytes(path, MANIFEST_MAX_BYTES)
        manifest = json.loads(raw.decode("utf-8"))
    except InputError as error:
        raise DamagedManifest(error.problems[0]) from None
    except (ValueError, RecursionError) as error:  # not UTF-8 or JSON; nested absurdly deep
        raise DamagedManifest(f"{path}: not valid JSON ({clipped(str(error), 100)})") from None
    runs = manifest.get("runs") if isinstance(manifest, dict) else None
    if (not isinstance(manifest.get("sweep_id") if runs is not None else None, str)
            or not isinstance(runs, list)
            or not all(isinstance(r, dict) and isinstance(r.get("run_id"), str) for r in runs)):
        raise DamagedManifest(f"{path}: not a sweep's manifest (no sweep_id, or runs without "
                              "run ids)")
    if (problem := _shape_problem(manifest)) is not None:
        raise DamagedManifest(f"{path}: {problem}")
    return manifest, raw


#: The type each manifest field must have where present (older manifests may lack some):
#: field path -> (check, what is allowed). Readers (summarise, report) rely on these.
_SHAPE = {
    ("spec_path",): (lambda v: isinstance(v, str), "text"),
    ("spec_sha256",): (lambda v: isinstance(v, str), "text"),
    ("baseline",): (lambda v: isinstance(v, str), "a scenario name"),
    ("status",): (lambda v: isinstance(v, str), "text"),
    ("created_at",): (lambda v: isinstance(v, str), "text"),
    ("counts",): (lambda v: isinstance(v, dict), "a mapping"),
    ("invocations",): (lambda v: isinstance(v, list), "a list"),
    ("provenance",): (lambda v: isinstance(v, dict), "a mapping"),
    ("provenance", "packages"): (lambda v: isinstance(v, dict), "a mapping"),
    ("resolved",): (lambda v: isinstance(v, dict), "a mapping"),
    ("resolved", "scenarios"): (lambda v: isinstance(v, list) and all(
        isinstance(s, dict) and isinstance(s.get("name"), str) for s in v),
        "a list of scenarios, each with a name"),
    ("resolved", "places"): (lambda v: v is None or (isinstance(v, list) and all(
        isinstance(p, str) for p in v)), "a list of place names, or null"),
    ("resolved", "seeds"): (lambda v: isinstance(v, int) and not isinstance(v, bool),
                            "a whole number"),
    ("resolved", "master_seed"): (lambda v: isinstance(v, int) and not isinstance(v, bool),
                                  "a whole number"),
    ("resolved", "seed_values"): (lambda v: isinstance(v, list), "a list"),
    ("resolved", "years"): (lambda v: isinstance(v, int | float) and not isinstance(v, bool),
                            "a number"),
    ("resolved", "record"): (lambda v: v is None or isinstance(v, str), "text"),
    ("resolved", "points"): (lambda v: isinstance(v, list), "a list"),
}


def _shape_problem(manifest: dict) -> str | None:
    """The first field of ``manifest`` that is present with the wrong type, in words."""
    for keys, (check, allowed) in _SHAPE.items():
        value, container = manifest, None
        for key in keys:
            container = value
            if not isinstance(container, dict) or key not in container:
                break
            value = container[key]
        else:
            if not check(value):
                name = ".".join(keys)
                return f"'{name}' = {shown(value)}: allowed is {allowed} (damaged or edited)"
    return None


def status(manifest: dict, folder: Path) -> str:
    """The manifest's status, corrected by the lock: a manifest that says "running" while no
    live process holds the folder was left by a sweep that stopped without saying so."""
    said = manifest.get("status", "unknown")
    if said == "running" and holder(folder) is None:
        return "stopped"
    return said


@dataclass
class Parts:
    """The trusted part files of one folder of a results folder, for one sweep's runs."""

    tables: dict[Path, pa.Table] = field(default_factory=dict)  # part -> its rows
    taken: dict[str, Path] = field(default_factory=dict)  # run id -> the part it came from
    warnings: list[str] = field(default_factory=list)  # one line per part ignored

    def drop(self, path: Path) -> None:
        """Stop trusting a part (its weekly series are missing, say)."""
        self.tables.pop(path, None)
        self.taken = {run_id: p for run_id, p in self.taken.items() if p != path}

    def frame(self, order: dict[str, int]) -> pd.DataFrame | None:
        """Every trusted row as one table, in the order of ``order`` (run id -> position)."""
        if not self.tables:
            return None
        table = pa.concat_tables(list(self.tables.values()), promote_options="default")
        frame = table.to_pandas()
        frame = frame.iloc[frame["run_id"].map(order).argsort(kind="stable")]
        return frame.reset_index(drop=True)


def scan(folder: Path, wanted: set[str], fix: bool = False) -> Parts:
    """The part files of ``folder`` (``runs/``, ``weekly/`` or ``failed/``) that can be
    trusted for the runs in ``wanted``, each run taken once.

    With ``fix`` (only while holding the folder's lock) a damaged part is renamed
    ``<name>.damaged`` so that it is reported once, and leftover temporary files of dead
    writers are removed.
    """
    parts = Parts()
    if not folder.is_dir():
        return parts
    for path in sorted(folder.iterdir()):
        name = path.name
        if name.endswith(DAMAGED_SUFFIX):
            continue
        if name.startswith(".") and name.endswith(".tmp"):
            if fix:
                _remove_if_abandoned(path)
            continue
        if PART_NAME.match(name) is None:
            parts.warnings.append(f"{path}: not a part file of this sweep (its name is not "
                                  "part-<batch>-<checksum>.parquet): ignored, not merged")
            continue
        try:
            table = read_part(path)
            run_ids = table.column("run_id").to_pylist()
        except (DamagedFile, KeyError) as error:
            reason = error.reason if isinstance(error, DamagedFile) else "it has no run_id column"
            if fix:
                with contextlib.suppress(OSError):
                    path.rename(path.with_name(name + DAMAGED_SUFFIX))
            kept = f" (kept as {name}{DAMAGED_SUFFIX})" if fix else ""
            parts.warnings.append(f"{path}: {reason}: ignored{kept}; its runs count as missing "
                                  "and run again on resume")
            continue
        distinct = list(dict.fromkeys(run_ids))
        foreign = [run_id for run_id in distinct if run_id not in wanted]
        repeated = [run_id for run_id in distinct if run_id in parts.taken]
        if foreign:
            parts.warnings.append(f"{path}: holds {len(foreign):,} run(s) that are not in this "
                                  f"sweep (e.g. {clipped(foreign[0], 40)}): ignored, not merged")
        elif PART_NAME.match(name)["batch"] != batch_key(distinct):
            parts.warnings.append(f"{path}: its name does not match the runs in it (a copy "
                                  "under another name?): ignored, not merged")
        elif repeated:
            parts.warnings.append(f"{path}: holds {len(repeated):,} run(s) already taken from "
                                  f"{parts.taken[repeated[0]].name}: ignored, not merged")
        elif folder.name != "weekly" and len(distinct) != len(run_ids):  # weekly: a row a week
            parts.warnings.append(f"{path}: holds a run more than once: ignored, not merged")
        else:
            parts.tables[path] = table
            parts.taken.update(dict.fromkeys(distinct, path))
    return parts


def _remove_if_abandoned(path: Path) -> None:
    """Remove a temporary file (``.<name>.<pid>.tmp``) whose writer no longer runs."""
    try:
        pid = int(path.name.rsplit(".", 2)[-2])
        if pid != os.getpid():
            os.kill(pid, 0)
            return  # its writer is alive (a `summarise` writing its table, say)
    except ProcessLookupError:
        pass
    except (ValueError, IndexError, OSError):
        return
    with contextlib.suppress(OSError):
        path.unlink()


@dataclass
class Contents:
    """A results folder's trusted contents for its manifest's runs."""

    runs: Parts
    failed: Parts
    weekly: Parts | None
    warnings: list[str]

    @property
    def done(self) -> set[str]:
        return set(self.runs.taken)

    @property
    def failed_ids(self) -> set[str]:
        return set(self.failed.taken) - self.done


def contents(folder: Path, run_ids: list[str], weekly: bool, fix: bool = False) -> Contents:
    """Read ``runs/``, ``failed/`` and (for a sweep that records them) ``weekly/``.

    A run is done when a trusted ``runs`` part holds it and, for a weekly sweep, a trusted
    ``weekly`` part of the same batch holds its series; a summary part whose weekly part is
    missing or damaged counts as damaged. With ``fix``, weekly parts left by a task cut off
    before its summary part was written are removed.
    """
    wanted = set(run_ids)
    runs = scan(folder / "runs", wanted, fix)
    failed = scan(folder / "failed", wanted, fix)
    warnings = runs.warnings + failed.warnings
    series = None
    if weekly:
        series = scan(folder / "weekly", wanted, fix)
        warnings += series.warnings
        weekly_batches = {PART_NAME.match(p.name)["batch"]: p for p in series.tables}
        for path in list(runs.tables):
            partner = weekly_batches.pop(PART_NAME.match(path.name)["batch"], None)
            run_set = set(runs.tables[path].column("run_id").to_pylist())
            if partner is None or set(series.tables[partner].column("run_id").to_pylist()) \
                    != run_set:
                runs.drop(path)
                if fix:
                    with contextlib.suppress(OSError):
                        path.rename(path.with_name(path.name + DAMAGED_SUFFIX))
                warnings.append(f"{path}: its weekly series part is missing or damaged: "
                                "ignored; its runs count as missing and run again on resume")
        for orphan in weekly_batches.values():  # a task cut off between its two parts
            series.drop(orphan)
            if fix:
                with contextlib.suppress(OSError):
                    orphan.unlink()
    return Contents(runs, failed, series, warnings)


def counts(manifest: dict, found: Contents) -> dict:
    """Runs, done, failed and remaining, from what the folder holds (not what it says)."""
    total = len(manifest["runs"])
    done = len(found.done)
    return {"runs": total, "done": done, "failed": len(found.failed_ids),
            "remaining": total - done}



# --- reading a results folder for people: the one trusted source -----------------------------
#: Why a sweep is incomplete, from its status (corrected by the lock), in words.
WHY_INCOMPLETE = {"incomplete": "some runs failed", "interrupted": "the sweep was interrupted",
                  "stopped": "the sweep stopped before the end"}
SUMMARY = "summary.parquet"


class IncompleteSweep(Exception):
    """A sweep's results were asked for while some of its runs are missing (one line: done,
    failed and missing counts, and what to do)."""


@dataclass
class Trusted:
    """What a results folder holds for its manifest's runs, from the checksummed parts only:
    the source of every number ``abm summarise``, ``report``, ``plot`` and ``discover`` show.

    ``results``: one row per run done, in sweep order; ``weekly``: their weekly series (None
    when the sweep records none); ``incomplete``: one line saying what is missing ("" when
    every run is done); ``running``: a sweep holds the folder now.
    """

    folder: Path
    manifest: dict
    manifest_sha256: str
    results: pd.DataFrame
    weekly: pd.DataFrame | None
    tally: dict
    incomplete: str
    running: bool
    warnings: list[str]

    @property
    def run_ids(self) -> list[str]:
        """The run ids the numbers come from (the runs done), in sweep order."""
        return list(self.results["run_id"])


def trusted(folder: str | Path, allow_incomplete: bool = False, weekly: bool = True,
            purpose: str = "summarise") -> Trusted:
    """The trusted contents of a sweep's results folder (see :class:`Trusted`).

    Raises :class:`InputError` (one line) for a folder that is not a sweep's results folder
    or whose manifest is damaged, and :class:`IncompleteSweep` when runs are missing, unless
    ``allow_incomplete`` and at least one run is done. ``weekly=False`` skips reading the
    weekly series (a run still counts as done only with its series, as for the sweep).
    ``purpose`` ends the incomplete sweep's advice: "add --allow-incomplete to <purpose> the
    runs done".
    """
    folder = require_folder(folder)
    try:
        found = read_manifest_bytes(folder)
    except DamagedManifest as error:
        raise InputError(f"{error}: run the sweep command again to rebuild it") from None
    if found is None:
        raise InputError(f"{clipped(str(folder), 300)}: no manifest.json here: allowed is the "
                         "results folder of `abm sweep`")
    manifest, raw = found
    ids = [r["run_id"] for r in manifest["runs"]]
    if not ids:
        raise InputError(f"{folder / MANIFEST}: lists no runs: allowed is the manifest of a "
                         "sweep with runs (damaged or edited? run the sweep command again)")
    records = (manifest.get("resolved") or {}).get("record") == "weekly"
    found_parts = contents(folder, ids, records)
    tally = counts(manifest, found_parts)
    running = holder(folder) is not None
    gap = ""
    if tally["remaining"]:
        missing = tally["remaining"] - tally["failed"]
        why = "a sweep is still running" if running else WHY_INCOMPLETE.get(
            status(manifest, folder), "runs are missing from the folder")
        gap = (f"{folder} is incomplete ({why}): {tally['done']:,} of {tally['runs']:,} runs "
               f"done, {tally['failed']:,} failed, {missing:,} missing")
        if not allow_incomplete or not tally["done"]:
            raise IncompleteSweep(f"{gap}; run the sweep command again to finish it"
                                  + (f", or add --allow-incomplete to {purpose} the runs done"
                                     if tally["done"] else ""))
    order = {run_id: i for i, run_id in enumerate(ids)}
    results = found_parts.runs.frame(order)
    series = None
    if records and weekly and found_parts.weekly is not None:
        series = found_parts.weekly.frame(order)
        if series is not None:
            series = series[series["run_id"].isin(set(results["run_id"]))]
    return Trusted(folder, manifest, hashlib.sha256(raw).hexdigest(), results, series, tally,
                   gap, running, found_parts.warnings)


def read_summary(folder: Path) -> tuple[pa.Table | None, str | None]:
    """``summary.parquet`` as a table, or None and what is wrong with it in words ("was
    missing", "was damaged ...")."""
    path = Path(folder) / SUMMARY
    if not os.path.lexists(path):
        return None, "was missing"
    try:
        return pq.read_table(pa.BufferReader(yamlfile.read_bytes(path, PART_MAX_BYTES))), None
    except InputError as error:
        reason = clipped(error.problems[0].removeprefix(f"{path}: "), 120)
        return None, f"was not readable ({reason})"
    except (pa.ArrowException, OSError, ValueError):
        return None, "was damaged (not readable as Parquet)"


def holds_exactly(table: pa.Table, results: pd.DataFrame | None) -> bool:
    """Whether ``table`` (a ``summary.parquet`` read) holds exactly ``results``."""
    return results is not None and table.equals(
        pa.Table.from_pandas(results, preserve_index=False))


DIFFERS = "did not match the checksummed parts (edited, or left from other runs)"


def require_folder(folder: str | Path) -> Path:
    """``folder``, refused in one line unless it is a folder (a results folder's first
    check, before any other input)."""
    folder = Path(folder)
    if not folder.is_dir():
        raise InputError(f"{clipped(str(folder), 300)}: no such folder: allowed is the results "
                         "folder of a sweep (the --out of `abm sweep`)")
    return folder


def summary_problem(folder: Path, results: pd.DataFrame) -> str | None:
    """What is wrong with ``summary.parquet`` against the trusted ``results``, in words, or
    None when it holds exactly them (it is a convenience copy for people and pandas: nothing
    of this program reads numbers from it)."""
    table, problem = read_summary(folder)
    if table is None:
        return problem
    return None if holds_exactly(table, results) else DIFFERS
