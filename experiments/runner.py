"""The sweep runner: every run of a sweep file, in parallel, resumable, written atomically.

Layout of a results folder::

    manifest.json        the sweep, its resolved runs, provenance, times and counts
    runs/part-*.parquet  summary rows, one file per finished task (written atomically)
    weekly/part-*.parquet  weekly series of the same runs, when the sweep records them
    failed/part-*.parquet  runs that raised, with the error text
    summary.parquet      every finished run's row, in sweep order (rebuilt at the end)
    summary_table.csv    per place x scenario: levels and paired changes with 95% intervals
    summary_table.parquet  the same table as Parquet

A run's rows are in exactly one ``runs`` part, or in none. Re-running the same command (or
``--resume``) reads the parts already there and runs only what is missing, so an interrupted
sweep loses at most the tasks in flight and never computes a finished run twice.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import math
import sys
from collections.abc import Callable
from concurrent.futures import FIRST_COMPLETED, Future, wait
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
from tqdm import tqdm

from abm.compare import format_table, summary_table
from abm.errors import InputError
from abm.io import write_csv, write_json, write_parquet
from abm.provenance import provenance as _provenance
from abm.runs import RunSpec, execute
from experiments.executors import RayExecutor, SerialExecutor
from experiments.spec import Sweep, load_sweep

SCHEMA_VERSION = 1
#: Resident-weeks a second one core runs (measured by benchmarks.throughput); sizes batches.
RESIDENT_WEEKS_PER_SECOND = 15e6
#: Aim for tasks of about this many seconds: long enough to amortise Ray's overhead.
TARGET_TASK_SECONDS = 1.0


def run_batch(specs: list[RunSpec], weekly: bool, run: Callable = execute) -> list[tuple]:
    """Run specs one after another in a worker with ``run`` (:func:`abm.runs.execute`).

    A run that raises is reported, not fatal. Returns ``("done", row, series)`` or
    ``("failed", spec, error_text)`` per spec.
    """
    results = []
    for spec in specs:
        try:
            row, series = run(spec, weekly)
            results.append(("done", row, series))
        except Exception as error:
            results.append(("failed", spec, f"{type(error).__name__}: {error}"))
    return results


def plan_batches(specs: list[RunSpec], workers: int, batch_size: int | None = None
                 ) -> list[list[RunSpec]]:
    """Group runs into tasks: small runs together (about a second of work), big runs alone.

    Batches are kept small enough that every worker gets several, for load balance.
    """
    if not specs:
        return []
    if batch_size is None:
        params = specs[0].params
        weeks = (params.burn_in_years + specs[0].years) * 52
        residents = params.n_neighbourhoods * params.residents_per_neighbourhood
        seconds = residents * weeks / RESIDENT_WEEKS_PER_SECOND
        balance = math.ceil(len(specs) / (4 * workers))
        batch_size = max(1, min(math.ceil(TARGET_TASK_SECONDS / seconds), balance))
    return [specs[i:i + batch_size] for i in range(0, len(specs), batch_size)]


def run_sweep(spec_path: str | Path, out: str | Path, *, address: str | None = None,
              num_cpus: int | None = None, resume: bool = False, serial: bool = False,
              run: Callable = execute) -> int:
    """Run (or resume) a sweep into ``out``; print the summary table; return an exit code.

    ``run`` executes one spec (default :func:`abm.runs.execute`); tests pass a wrapper.
    Exit codes: 0 all done, 1 some runs failed (recorded in ``failed/``; the sweep went on),
    130 interrupted (Ctrl-C). A task that Ray gives up on (its worker died more than
    ``max_retries`` times) counts its runs as failed.
    """
    if num_cpus is not None and num_cpus < 1:
        raise InputError(f"--num-cpus = {num_cpus}: allowed is a whole number >= 1")
    sweep = load_sweep(spec_path)
    out = Path(out)
    specs = sweep.runs()
    ids = [spec.run_id for spec in specs]
    if len(set(ids)) < len(ids):  # load_sweep rejects duplicate labels; this guards the rest
        raise InputError(f"{spec_path}: two runs of the sweep are identical, labels included")
    identity = "\n".join([*sorted(ids), f"record={sweep.record}"])
    sweep_id = hashlib.sha256(identity.encode()).hexdigest()[:16]
    manifest = _start_manifest(out, sweep, specs, ids, sweep_id, resume)

    _remove_orphans(out)
    done = _ids_in(out / "runs")
    todo = [spec for spec, run_id in zip(specs, ids, strict=True) if run_id not in done]
    skipped = len(specs) - len(todo)
    if serial or not todo:  # with nothing to run there is no need to start Ray
        executor = SerialExecutor()
    else:
        executor = RayExecutor(address, num_cpus, sweep.max_retries)
    invocation = {
        "started_at": _now(),
        "workers": executor.workers,
        "address": address or ("serial" if serial else "local"),
        "skipped": skipped,
        "provenance": _provenance(),
    }
    first = manifest["provenance"]
    if invocation["provenance"]["git_commit"] != first["git_commit"]:
        print(f"abm: warning: {out} was started at commit {first['git_commit']}; this run is "
              f"at {invocation['provenance']['git_commit']}: results may mix code versions "
              "(each invocation's provenance is in manifest.json)", file=sys.stderr)
    manifest["invocations"].append(invocation)
    manifest["status"] = "running"
    write_json(manifest, out / "manifest.json")

    finished, failures, status = 0, [], "complete"
    batches = plan_batches(todo, executor.workers, sweep.batch_size)
    bar = tqdm(total=len(todo), unit="run", disable=None, desc="runs", dynamic_ncols=True)
    try:
        pending: set[Future] = set()
        batch_of: dict[Future, list[RunSpec]] = {}
        queue = iter(batches)
        while True:
            # Exactly `workers` tasks in flight: more would let Ray run them on CPUs beyond
            # --num-cpus when it joins a bigger cluster.
            while len(pending) < executor.workers and (batch := next(queue, None)):
                future = executor.submit(run_batch, batch, sweep.record == "weekly", run)
                batch_of[future] = batch
                pending.add(future)
            if not pending:
                break
            complete, pending = wait(pending, return_when=FIRST_COMPLETED)
            for future in complete:
                batch = batch_of.pop(future)
                try:
                    results = future.result()
                except Exception as error:  # Ray gave up on the whole task
                    text = f"task failed: {type(error).__name__}: {str(error)[:500]}"
                    results = [("failed", spec, text) for spec in batch]
                failures += _write_part(out, results)
                finished += sum(r[0] == "done" for r in results)
                bar.update(len(results))
    except KeyboardInterrupt:
        status = "interrupted"
        executor.cancel_pending()
    finally:
        bar.close()
        executor.shutdown(wait=False)

    invocation |= {"finished_at": _now(), "status": status, "computed": finished,
                   "failed": len(failures)}
    table = _consolidate(out, specs, sweep)
    done_ids = _ids_in(out / "runs")
    failed_ids = _ids_in(out / "failed") - done_ids
    if len(done_ids) == len(specs):
        status = "complete"
    elif status != "interrupted":
        status = "incomplete"  # some runs failed; running the command again retries them
    invocation["status"] = status
    manifest |= {"status": status,
                 "counts": {"runs": len(specs), "done": len(done_ids), "failed": len(failed_ids),
                            "remaining": len(specs) - len(done_ids)}}
    write_json(manifest, out / "manifest.json")
    if table is not None and status != "interrupted":
        print(format_table(table, baseline=sweep.baseline))
    advice = {"interrupted": " - interrupted; run the same command again to resume",
              "incomplete": " - run the same command again to retry the failed runs"}
    print(f"{finished} runs finished, {len(failures)} failed, {skipped} skipped (already done)"
          + advice.get(status, ""))
    if status == "interrupted":
        return 130
    return 1 if failures else 0


def summarise(folder: str | Path, baseline: str | None = None) -> str:
    """The comparison table of a sweep's results folder (also written as CSV and Parquet)."""
    folder = Path(folder)
    summary = folder / "summary.parquet"
    if not summary.exists():
        raise InputError(f"{folder}: no summary.parquet here: is this a sweep's results folder?")
    results = pd.read_parquet(summary)
    if baseline is None:
        baseline = _read_manifest(folder).get("baseline", results["scenario"].iloc[0])
    if baseline not in set(results["scenario"]):
        raise InputError(f"--baseline '{baseline}' is not among the scenarios of {folder}: "
                         f"allowed are {', '.join(sorted(set(results['scenario'])))}")
    table = summary_table(results, baseline=baseline)
    write_csv(table, folder / "summary_table.csv")
    write_parquet(table, folder / "summary_table.parquet")
    return format_table(table, baseline=baseline)


def _start_manifest(out: Path, sweep: Sweep, specs: list[RunSpec], ids: list[str],
                    sweep_id: str, resume: bool) -> dict:
    """The manifest to continue, or a new one; refuse a folder holding another sweep."""
    existing = _read_manifest(out)
    if existing:
        if existing.get("sweep_id") != sweep_id:
            raise InputError(f"{out} holds results of a different sweep "
                             f"({existing.get('spec_path')}); choose another --out")
        return existing
    if resume:
        raise InputError(f"--resume: nothing to resume in {out} (no manifest.json)")
    if out.exists() and any(out.iterdir()):
        raise InputError(f"{out} is not empty and holds no sweep; choose another --out")
    text = Path(sweep.path).read_text(encoding="utf-8")
    return {
        "schema_version": SCHEMA_VERSION,
        "sweep_id": sweep_id,
        "spec_path": str(sweep.path),
        "spec_sha256": hashlib.sha256(text.encode()).hexdigest(),
        "spec_text": text,
        "baseline": sweep.baseline,
        "resolved": {
            "scenarios": [{"name": s.name, "place": s.place, "rules": list(s.rules),
                           "parameters": dict(s.parameters), "extends": list(s.chain)}
                          for s in sweep.scenarios],
            "places": list(sweep.places) if sweep.places else None,
            "seeds": sweep.seeds,
            "master_seed": sweep.master_seed,
            "seed_values": sweep.seed_values(),
            "years": sweep.years,
            "record": sweep.record,
            "parameters": sweep.parameters,
            "points": list(sweep.points),
        },
        "runs": [{"run_id": run_id, "scenario": s.scenario, "place": s.place, "point": s.point,
                  "seed": s.seed} for s, run_id in zip(specs, ids, strict=True)],
        "provenance": _provenance(),
        "created_at": _now(),
        "invocations": [],
        "files": {"summary": "summary.parquet", "table": "summary_table.csv",
                  "parts": "runs/", "weekly": "weekly/", "failed": "failed/"},
    }


def _write_part(out: Path, results: list[tuple]) -> list[dict]:
    """Write one finished task's rows (weekly first, then summary); return its failures."""
    rows = [r[1] for r in results if r[0] == "done"]
    failures = [{"run_id": spec.run_id, "scenario": spec.scenario, "place": spec.place,
                 "point": spec.point, "seed": spec.seed, "error": error}
                for status, spec, error in results if status == "failed"]
    if rows:
        name = _part_name(r["run_id"] for r in rows)
        series = [r[2] for r in results if r[0] == "done" and r[2] is not None]
        if series:
            write_parquet(pd.concat(series, ignore_index=True), out / "weekly" / f"{name}.parquet")
        write_parquet(rows, out / "runs" / f"{name}.parquet")
    if failures:
        name = _part_name(f["run_id"] for f in failures)
        write_parquet(failures, out / "failed" / f"{name}.parquet")
    return failures


def _part_name(run_ids) -> str:
    """A part file's name, from the runs in it."""
    return "part-" + hashlib.sha256("".join(run_ids).encode()).hexdigest()[:16]


def _read_parts(folder: Path, columns: list[str] | None = None) -> pa.Table | None:
    """All part files of a folder as one table (None if there are none)."""
    parts = sorted(folder.glob("part-*.parquet"))
    if not parts:
        return None
    return pa.concat_tables([pq.read_table(p, columns=columns) for p in parts],
                            promote_options="default")


def _ids_in(folder: Path) -> set[str]:
    """Run ids in a folder's part files: ``runs`` (finished) or ``failed`` (latest attempt
    raised)."""
    table = _read_parts(folder, ["run_id"])
    return set() if table is None else set(table.column("run_id").to_pylist())


def _remove_orphans(out: Path) -> None:
    """Delete weekly parts whose summary part was never written (a task cut off between them)."""
    for weekly in (out / "weekly").glob("part-*.parquet"):
        if not (out / "runs" / weekly.name).exists():
            weekly.unlink()


def _consolidate(out: Path, specs: list[RunSpec], sweep: Sweep) -> pd.DataFrame | None:
    """Rebuild summary.parquet in sweep order (and the table); drop stale failure parts."""
    table = _read_parts(out / "runs")
    if table is None:
        return None
    order = {s.run_id: i for i, s in enumerate(specs)}
    results = table.to_pandas()
    results = results.iloc[results["run_id"].map(order).argsort(kind="stable")]
    results = results.reset_index(drop=True)
    write_parquet(results, out / "summary.parquet")
    done = set(results["run_id"])
    for part in (out / "failed").glob("part-*.parquet"):
        if set(pd.read_parquet(part, columns=["run_id"])["run_id"]) <= done:
            part.unlink()  # every run in it has since succeeded
    table = summary_table(results, baseline=sweep.baseline)
    write_csv(table, out / "summary_table.csv")
    write_parquet(table, out / "summary_table.parquet")
    return table


def _read_manifest(out: Path) -> dict:
    import json

    path = out / "manifest.json"
    return json.loads(path.read_text(encoding="utf-8")) if path.exists() else {}


def _now() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
