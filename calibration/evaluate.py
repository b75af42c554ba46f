"""Evaluate many runs through the runner's batches and executors, resumably, by run id.

A :class:`RunStore` is a folder of Parquet part files (``runs/part-*.parquet``, the sweep
runner's layout), each written atomically by the driver when a task finishes. Before running,
:func:`evaluate` reads which run ids are there and runs only the others, so an interrupted
calibration or sensitivity analysis loses at most the tasks in flight and never computes a
finished run twice. Tasks go to :class:`experiments.executors.SerialExecutor` or
:class:`experiments.executors.RayExecutor` (local or a cluster by address).
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Sequence
from concurrent.futures import FIRST_COMPLETED, Executor, Future, wait
from pathlib import Path

import pandas as pd
import pyarrow as pa

from abm.files.errors import printable_text
from abm.files.io import DamagedFile, read_part, write_part
from abm.model.runs import RunSpec
from calibration import outputs
from experiments.executors import RayExecutor, SerialExecutor
from experiments.progress import Progress
from experiments.results import batch_key
from experiments.runner import plan_batches, run_batch


class RunStore:
    """Finished runs, one row each, in ``folder/runs/part-*.parquet``."""

    def __init__(self, folder: str | Path):
        self.folder = Path(folder)
        self.parts = self.folder / "runs"
        self._cache: pd.DataFrame | None = None

    def ids(self) -> set[str]:
        """Run ids already stored."""
        return set(self.rows()["run_id"]) if len(self.rows()) else set()

    def rows(self) -> pd.DataFrame:
        """Every stored row (read once, then kept up to date by :meth:`add`). A part file
        that fails its checksum is reported and left out, so its runs are run again."""
        if self._cache is None:
            tables = []
            for path in sorted(self.parts.glob("part-*.parquet")):
                try:
                    tables.append(read_part(path))
                except DamagedFile as error:
                    print(f"abm: warning: {printable_text(str(error))}: its runs are run "
                          "again", file=sys.stderr)
            self._cache = (pa.concat_tables(tables, promote_options="default").to_pandas()
                           if tables else pd.DataFrame({"run_id": pd.Series(dtype=str)}))
            self._cache = self._cache.drop_duplicates("run_id")
        return self._cache

    def add(self, rows: list[dict]) -> None:
        """Store finished rows as one part file (atomically)."""
        if not rows:
            return
        write_part(rows, self.parts, batch_key(r["run_id"] for r in rows))
        stored = self.rows()
        new = pd.DataFrame(rows)
        # (an empty store has no columns but run_id: concatenating it would turn every
        # whole-number column, 63-bit seeds included, into floats)
        self._cache = (pd.concat([stored, new], ignore_index=True) if len(stored) else new
                       ).drop_duplicates("run_id")

    def get(self, ids: Sequence[str]) -> pd.DataFrame:
        """Rows of ``ids`` in that order (each id must be stored)."""
        rows = self.rows().set_index("run_id")
        return rows.loc[list(ids)].reset_index()


def make_executor(address: str | None = None, num_cpus: int | None = None,
                  serial: bool = False) -> Executor:
    """The project's executor: in this process (``serial``), a local Ray, or a cluster."""
    return SerialExecutor() if serial else RayExecutor(address, num_cpus)


def evaluate(specs: Sequence[RunSpec], store: RunStore, executor: Executor,
             run: Callable | None = None, desc: str = "runs") -> pd.DataFrame:
    """Rows for ``specs`` (in order): stored ones read back, the others run on ``executor``.

    ``run(spec, weekly)`` runs one spec (default :func:`calibration.outputs.simulate`).
    Each finished task is stored before the next result is awaited, so Ctrl-C keeps every
    finished run. A run that raises stops the analysis with its error (a calibration cannot
    silently drop points).
    """
    run = run or outputs.simulate
    ids = [s.run_id for s in specs]
    have = store.ids()
    todo, seen = [], set()
    for spec, run_id in zip(specs, ids, strict=True):
        if run_id not in have and run_id not in seen:
            todo.append(spec)
            seen.add(run_id)
    if todo:
        workers = getattr(executor, "workers", 1)
        # In this process there is no task overhead to amortise: store after every run.
        batch_size = 1 if isinstance(executor, SerialExecutor) else None
        batches = iter(plan_batches(todo, workers, batch_size))
        pending: set[Future] = set()
        print(f"abm: {desc}: {len(specs):,} runs, {len(specs) - len(todo):,} already done, "
              f"{len(todo):,} to run", file=sys.stderr, flush=True)
        bar = Progress(len(todo))
        try:
            while True:
                while len(pending) < workers and (batch := next(batches, None)):
                    pending.add(executor.submit(run_batch, batch, False, run))
                if not pending:
                    break
                complete, pending = wait(pending, return_when=FIRST_COMPLETED)
                for future in complete:
                    results = future.result()
                    failed = [r for r in results if r[0] == "failed"]
                    store.add([r[1] for r in results if r[0] == "done"])
                    bar.update(len(results) - len(failed), len(failed))
                    if failed:
                        _, spec, error = failed[0]
                        raise RuntimeError(f"run {spec.run_id} ({spec.place}, seed {spec.seed}, "
                                           f"{dict(spec.parameters)}) failed: {error}")
        except BaseException:
            cancel = getattr(executor, "cancel_pending", None)
            if cancel:
                cancel()
            raise
        finally:
            bar.close()
    return store.get(ids)
