"""The sweep runner: every run of a sweep file, in parallel, resumable, written atomically.

Layout of a results folder::

    .lock                the folder's lock: who runs a sweep here now (see experiments.lock)
    manifest.json        the sweep, its resolved runs, provenance, times and counts
    runs/part-<batch>-<checksum>.parquet     summary rows of one finished task
    weekly/part-<batch>-<checksum>.parquet   weekly series of the same runs, when recorded
    failed/part-<batch>-<checksum>.parquet   runs that raised, with the error text
    summary.parquet      every finished run's row, in sweep order (rebuilt at the end)
    summary_table.csv    per place x scenario: levels and paired changes with 95% intervals
    summary_table.parquet  the same table as Parquet

Integrity, in order: every input is checked before anything is written or started (the sweep
file, the run count, ``--out``, the Ray address); then the folder is locked (a second sweep is
refused, naming the holder), the manifest is read and a different sweep refused, and the
manifest is written, all before Ray starts. Part files carry the checksum of their bytes in
their names; results are taken for exactly the manifest's run ids, once each, from trusted
parts only (:mod:`experiments.results`). A run's rows are in exactly one trusted ``runs``
part, or in none. Re-running the same command (or ``--resume``) runs only what is missing,
so an interrupted sweep loses at most the tasks in flight and never computes a finished run
twice. A full disk or a folder that cannot be written stops the sweep with one line (exit 2),
leaving the folder resumable and the manifest saying "stopped".
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import math
import sys
from collections.abc import Callable
from concurrent.futures import FIRST_COMPLETED, Future, wait
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from abm.analysis.compare import format_table, summary_table
from abm.analysis.tables import spreadsheet_safe
from abm.files.checks import is_number, is_whole
from abm.files.errors import InputError, ResourceError, clipped, printable, printable_text, shown
from abm.files.io import check_out_folder, write_csv, write_json, write_parquet, write_part
from abm.files.provenance import provenance as _provenance
from abm.model.runs import RunSpec, execute, execute_together
from experiments.executors import (
    CONNECT_TIMEOUT_S,
    RayExecutor,
    SerialExecutor,
    check_address,
    check_reachable,
)
from experiments.lock import LOCK_NAME, FolderLock, describe, holder
from experiments.progress import Progress
from experiments.results import (
    DERIVED,
    DIFFERS,
    MANIFEST,
    SUMMARY,
    Contents,
    DamagedManifest,
    IncompleteSweep,
    Trusted,
    batch_key,
    contents,
    counts,
    holds_exactly,
    read_manifest,
    read_summary,
    summary_problem,
    trusted,
)
from experiments.spec import Sweep, load_sweep

__all__ = ["IncompleteSweep", "run_sweep", "summarise", "summarise_folder"]
SCHEMA_VERSION = 2
#: Resident-weeks a second one core runs (measured by benchmarks.throughput); sizes batches.
RESIDENT_WEEKS_PER_SECOND = 15e6
#: Aim for tasks of about this many seconds: long enough to amortise Ray's overhead.
TARGET_TASK_SECONDS = 1.0


def run_batch(specs: list[RunSpec], weekly: bool, run: Callable = execute) -> list[tuple]:
    """Run specs in a worker with ``run`` (:func:`abm.model.runs.execute`): with it, specs
    that can share a model run as its replicates (:func:`abm.model.runs.execute_together`,
    each result exactly its run's alone); with another ``run``, one after another.

    A run that raises is reported, not fatal (a batch of replicates that raises is run again
    spec by spec, to say which). Returns ``("done", row, series)`` or
    ``("failed", spec, error_text)`` per spec.
    """
    if run is execute and len(specs) > 1:
        try:
            return [("done", row, series) for row, series in execute_together(specs, weekly)]
        except Exception:  # some replicate raised: run each spec alone to say which
            pass
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
              max_runs: int | None = None, connect_timeout: float = CONNECT_TIMEOUT_S,
              run: Callable = execute) -> int:
    """Run (or resume) a sweep into ``out``; print the summary table; return an exit code.

    ``run`` executes one spec (default :func:`abm.model.runs.execute`); tests pass a wrapper.
    Exit codes: 0 all done, 1 some runs failed (recorded in ``failed/``; the sweep went on),
    130 interrupted (Ctrl-C). A task that Ray gives up on (its worker died more than
    ``max_retries`` times) counts its runs as failed. Bad input raises :class:`InputError`
    before anything is written; a full disk, a folder that cannot be written or a Ray that
    cannot be started or reached raises :class:`ResourceError` after marking the manifest.
    """
    # 1. Everything that can be checked is checked before anything is written or started.
    if num_cpus is not None and not (is_whole(num_cpus) and 1 <= num_cpus <= 100_000):
        raise InputError(f"--num-cpus = {shown(num_cpus)}: allowed is a whole number from 1 "
                         "to 100,000")
    if not (is_number(connect_timeout) and 0 < connect_timeout <= 3600):
        raise InputError(f"--connect-timeout = {shown(connect_timeout)}: allowed is a number "
                         "of seconds above 0 and at most 3600")
    if serial and address is not None:
        raise InputError("--serial runs in this process without Ray: leave out --address")
    address = check_address(address)
    sweep = load_sweep(spec_path, max_runs=max_runs)
    specs = sweep.runs()
    ids = [spec.run_id for spec in specs]
    if len(set(ids)) < len(ids):  # load_sweep rejects duplicate labels; this guards the rest
        raise InputError(f"{spec_path}: two runs of the sweep are identical, labels included")
    identity = "\n".join([*sorted(ids), f"record={sweep.record}"])
    sweep_id = hashlib.sha256(identity.encode()).hexdigest()[:16]
    out = check_out_folder(out)
    if (running := holder(out)) is not None:  # the lock says it again, race-free, below
        raise InputError(f"{out} is in use by another sweep ({describe(running)}): wait for it "
                         "to finish, or choose another --out")
    _existing_manifest(out, sweep_id, resume, locked=False)
    if address not in (None, "auto") and not serial:
        check_reachable(address, connect_timeout)

    # 2. Hold the folder, then check and write the manifest: all before Ray starts.
    with FolderLock(out) as lock:
        if lock.warning:
            _warn(lock.warning)
        manifest = (_existing_manifest(out, sweep_id, resume, locked=True)
                    or _new_manifest(sweep, specs, ids, sweep_id))
        invocation = {"started_at": _now(), "address": address or ("serial" if serial
                                                                     else "local"),
                      "provenance": _provenance()}
        first = manifest["provenance"]["git_commit"]
        if invocation["provenance"]["git_commit"] != first:
            _warn(f"{out} was started at commit {first}; this run is at "
                  f"{invocation['provenance']['git_commit']}: results may mix code versions "
                  "(each invocation's provenance is in manifest.json)")
        manifest["invocations"].append(invocation)
        manifest |= {"schema_version": SCHEMA_VERSION, "status": "running"}
        write_json(manifest, out / MANIFEST)
        try:
            return _execute(out, sweep, specs, ids, manifest, invocation, address=address,
                            num_cpus=num_cpus, serial=serial, connect_timeout=connect_timeout,
                            run=run)
        except KeyboardInterrupt:
            _mark(out, manifest, invocation, "interrupted", "interrupted while finishing", sweep)
            raise
        except BaseException as error:
            _mark(out, manifest, invocation, "stopped", _error_text(error), sweep)
            raise


def _execute(out: Path, sweep: Sweep, specs: list[RunSpec], ids: list[str], manifest: dict,
             invocation: dict, *, address: str | None, num_cpus: int | None, serial: bool,
             connect_timeout: float, run: Callable) -> int:
    """Run what is missing, consolidate, and record the outcome in the manifest."""
    weekly = sweep.record == "weekly"
    found = contents(out, ids, weekly, fix=True)
    for warning in found.warnings:
        _warn(warning)
    summary_check = _summary_check(out, found, ids, manifest)
    todo = [spec for spec, run_id in zip(specs, ids, strict=True) if run_id not in found.done]
    skipped = len(specs) - len(todo)
    if serial or not todo:  # with nothing to run there is no need to start Ray
        executor = SerialExecutor()
    else:
        executor = RayExecutor(address, num_cpus, sweep.max_retries, connect_timeout)
    invocation |= {"workers": executor.workers, "skipped": skipped,
                   "ray_address": getattr(executor, "address_used", None)}
    cpus = f"{executor.workers} CPU{'s' if executor.workers > 1 else ''}"
    if not todo:
        _say(f"planned {len(specs):,} runs: all already done, nothing to run")
    else:
        where = " (in this process, without Ray)" if serial else ""
        _say(f"planned {len(specs):,} runs on {cpus}{where}: {skipped:,} already done, "
             f"{len(todo):,} to run")

    finished, failures, state = 0, [], "complete"
    progress = Progress(len(todo))
    try:
        pending: set[Future] = set()
        batch_of: dict[Future, list[RunSpec]] = {}
        queue = iter(plan_batches(todo, executor.workers, sweep.batch_size))
        while True:
            # Exactly `workers` tasks in flight: more would let Ray run them on CPUs beyond
            # --num-cpus when it joins a bigger cluster.
            while len(pending) < executor.workers and (batch := next(queue, None)):
                future = executor.submit(run_batch, batch, weekly, run)
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
                new_failures = _write_part(out, results)
                failures += new_failures
                finished += len(results) - len(new_failures)
                progress.update(len(results) - len(new_failures), len(new_failures))
    except KeyboardInterrupt:
        state = "interrupted"
        executor.cancel_pending()
    except BaseException:
        executor.cancel_pending()
        raise
    finally:
        progress.close()
        executor.shutdown(wait=False)

    invocation |= {"finished_at": _now(), "computed": finished, "failed": len(failures)}
    after = contents(out, ids, weekly, fix=True)
    for warning in after.warnings:
        if warning not in found.warnings:
            _warn(warning)
    table = _consolidate(out, after, ids, sweep)
    if note := summary_check(after.runs.frame({run_id: i for i, run_id in enumerate(ids)})):
        _warn(f"{out / SUMMARY} {note}: rebuilt from the checksummed parts")
    tally = counts(manifest, after)
    if tally["done"] == len(specs):
        state = "complete"
    elif state != "interrupted":
        state = "incomplete"  # some runs failed; running the command again retries them
    invocation["status"] = state
    manifest |= {"status": state, "counts": tally}
    write_json(manifest, out / MANIFEST)
    if table is not None and state != "interrupted":
        print(printable_text(format_table(table, baseline=sweep.baseline)))
    advice = {"interrupted": " - interrupted; run the same command again to resume",
              "incomplete": " - run the same command again to retry the failed runs"}
    print(f"{finished} runs finished, {len(failures)} failed, {skipped} skipped (already done)"
          + advice.get(state, ""))
    if state == "interrupted":
        return 130
    return 1 if failures else 0


@dataclass
class Summarised:
    """A results folder read for people: its trusted contents, the baseline and the
    comparison table (nothing written yet)."""

    trusted: Trusted
    baseline: str
    table: pd.DataFrame


def summarise_folder(folder: str | Path, baseline: str | None = None,
                     allow_incomplete: bool = False, weekly: bool = False,
                     purpose: str = "summarise") -> Summarised:
    """Read a sweep's results folder from its trusted parts and build the comparison table,
    writing nothing: every input is checked here (folder, manifest, completeness, baseline).

    Raises :class:`InputError` for bad input and :class:`IncompleteSweep` for a sweep with
    runs missing (unless ``allow_incomplete``).
    """
    found = trusted(folder, allow_incomplete, weekly, purpose)
    results = found.results
    scenarios = sorted(set(results["scenario"]))
    if baseline is None:
        named = found.manifest.get("baseline")
        baseline = named if named in scenarios else results["scenario"].iloc[0]
    if baseline not in scenarios:
        raise InputError(f"--baseline '{clipped(baseline)}' is not among the scenarios of "
                         f"{found.folder} with runs done: allowed are "
                         f"{clipped(', '.join(scenarios), 300)}")
    return Summarised(found, baseline, summary_table(results, baseline=baseline))


def write_summary_files(summarised: Summarised) -> list[str]:
    """Write the derived files of a results folder from its trusted parts: the comparison
    table (CSV, spreadsheet-safe, and Parquet) and, where it is missing, damaged or differs
    from the parts, ``summary.parquet`` (atomically). Nothing is written while a sweep holds
    the folder. Returns what was rebuilt, in words, for the caller to say."""
    found = summarised.trusted
    if found.running:
        return []
    notes = []
    if (problem := summary_problem(found.folder, found.results)) is not None:
        write_parquet(found.results, found.folder / SUMMARY)
        notes.append(f"{found.folder / SUMMARY} {problem}: rebuilt from the "
                     f"{len(found.results):,} runs in the checksummed parts")
    write_csv(spreadsheet_safe(summarised.table), found.folder / "summary_table.csv")
    write_parquet(summarised.table, found.folder / "summary_table.parquet")
    return notes


def summarise(folder: str | Path, baseline: str | None = None,
              allow_incomplete: bool = False) -> str:
    """The comparison table of a sweep's results folder (also written as CSV and Parquet,
    with ``summary.parquet`` rebuilt if it does not match the parts, unless a sweep is
    writing the folder now).

    Results come from the trusted part files of the manifest's runs, not from what the folder
    says. A sweep with runs missing raises :class:`IncompleteSweep` (done, failed and missing
    counts) unless ``allow_incomplete``; then the table says it covers only the runs done.
    """
    summarised = summarise_folder(folder, baseline, allow_incomplete)
    for warning in summarised.trusted.warnings:
        _warn(warning)
    for note in write_summary_files(summarised):
        _warn(note)
    text = format_table(summarised.table, baseline=summarised.baseline)
    if summarised.trusted.incomplete:
        text = (f"Incomplete: {summarised.trusted.incomplete}. The table covers only the runs "
                f"done.\n\n{text}")
    return printable_text(text)


def _existing_manifest(out: Path, sweep_id: str, resume: bool, locked: bool) -> dict | None:
    """The manifest to continue, or None for a new sweep; refuse a folder holding another
    sweep, an unrelated non-empty folder, and ``--resume`` with nothing to resume.

    Called once before the lock (so that bad input writes nothing) and once holding it (the
    check that counts). Holding the lock, a damaged manifest is set aside as
    ``manifest.json.damaged`` with a warning and a new one started: parts are checked against
    it run by run, so parts of other sweeps are ignored, never merged.
    """
    try:
        existing = read_manifest(out)
    except DamagedManifest as error:
        if locked:
            damaged = out / f"{MANIFEST}.damaged"
            try:
                (out / MANIFEST).replace(damaged)
            except OSError as failure:
                raise ResourceError(f"cannot set aside {out / MANIFEST}: "
                                    f"{failure.strerror}") from None
            _warn(f"{error}: kept as {damaged.name}; starting a new manifest (finished runs "
                  "in this folder are kept if they belong to this sweep)")
        return None
    if existing is not None:
        if existing["sweep_id"] != sweep_id:
            raise InputError(f"{out} holds results of a different sweep "
                             f"({clipped(str(existing.get('spec_path')), 200)}); choose another "
                             "--out")
        return existing
    if resume:
        raise InputError(f"--resume: nothing to resume in {out} (no manifest.json)")
    if out.is_dir() and any(p.name != LOCK_NAME and not p.name.endswith(".damaged")
                            for p in out.iterdir()):
        raise InputError(f"{out} is not empty and holds no sweep; choose another --out")
    return None


def _new_manifest(sweep: Sweep, specs: list[RunSpec], ids: list[str], sweep_id: str) -> dict:
    return {
        "schema_version": SCHEMA_VERSION,
        "sweep_id": sweep_id,
        "spec_path": str(sweep.path),
        "spec_sha256": hashlib.sha256(sweep.text.encode()).hexdigest(),
        "spec_text": sweep.text,
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
        batch = batch_key(r["run_id"] for r in rows)
        series = [r[2] for r in results if r[0] == "done" and r[2] is not None]
        if series:
            write_part(pd.concat(series, ignore_index=True), out / "weekly", batch)
        write_part(rows, out / "runs", batch)
    if failures:
        write_part(failures, out / "failed", batch_key(f["run_id"] for f in failures))
    return failures


def _summary_check(out: Path, found: Contents, ids: list[str], manifest: dict
                   ) -> Callable[[pd.DataFrame | None], str | None]:
    """Read ``summary.parquet`` as this invocation starts; return a check that, given the
    runs at the end, says what was wrong with it (damaged, edited, or missing after a sweep
    that had consolidated it), to say once it is rebuilt. A file that holds the runs of the
    start or of the end is fine (a part set aside and run again, failed runs retried)."""
    before = found.runs.frame({run_id: i for i, run_id in enumerate(ids)})
    table, problem = read_summary(out)
    earlier = manifest.get("invocations", [])[:-1]
    last = earlier[-1].get("status") if earlier and isinstance(earlier[-1], dict) else None

    def check(after: pd.DataFrame | None) -> str | None:
        if after is None:
            return None
        if table is not None:
            fine = holds_exactly(table, before) or holds_exactly(table, after)
            return None if fine else DIFFERS
        if problem == "was missing" and (before is None
                                         or last not in ("complete", "incomplete")):
            return None  # a new sweep, or one interrupted or stopped (it removes the file)
        return problem

    return check


def _consolidate(out: Path, found: Contents, ids: list[str], sweep: Sweep
                 ) -> pd.DataFrame | None:
    """Rebuild summary.parquet (exactly the trusted runs, in sweep order) and the table; drop
    failure parts whose runs have all since succeeded."""
    results = found.runs.frame({run_id: i for i, run_id in enumerate(ids)})
    for path, table in found.failed.tables.items():
        if set(table.column("run_id").to_pylist()) <= found.done:
            path.unlink(missing_ok=True)  # every run in it has since succeeded
    if results is None:
        _remove_derived(out)
        return None
    write_parquet(results, out / SUMMARY)
    table = summary_table(results, baseline=sweep.baseline)
    write_csv(spreadsheet_safe(table), out / "summary_table.csv")
    write_parquet(table, out / "summary_table.parquet")
    return table


def _mark(out: Path, manifest: dict, invocation: dict, state: str, error: str,
          sweep: Sweep) -> None:
    """Record that this invocation ended early (``state``: stopped or interrupted), why, and
    the counts of what the folder holds now.

    Derived outputs are removed first: they would no longer match the parts, and on a full
    disk their space lets the manifest be written. If even that fails, the manifest still
    says "running", which readers correct from the lock (:func:`experiments.results.status`).
    """
    _remove_derived(out)
    invocation |= {"finished_at": _now(), "status": state, "error": error}
    manifest["status"] = state
    try:
        ids = [r["run_id"] for r in manifest["runs"]]
        manifest["counts"] = counts(manifest, contents(out, ids, sweep.record == "weekly"))
    except Exception:  # counting is a courtesy here: the error being reported matters more
        manifest.pop("counts", None)
    with contextlib.suppress(ResourceError):
        write_json(manifest, out / MANIFEST)


def _remove_derived(out: Path) -> None:
    for name in DERIVED:
        with contextlib.suppress(OSError):
            (out / name).unlink(missing_ok=True)


def _error_text(error: BaseException) -> str:
    if isinstance(error, InputError):
        return "; ".join(error.problems)
    return clipped(f"{type(error).__name__}: {error}", 500)


def _say(text: str) -> None:
    print(f"abm: {printable(text)}", file=sys.stderr, flush=True)


def _warn(text: str) -> None:
    print(f"abm: warning: {printable(text)}", file=sys.stderr, flush=True)


def _now() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
