"""ABC-SMC (pyabc 0.13) for ``abm calibrate``: reproducible, resumable to the same posterior,
and bounded.

- **Reproducible**: :class:`SeededSampler` seeds job k of generation t by (master seed, t, k),
  takes particles in job order and counts the simulations a generation needed in job order,
  so Ray and serial runs, and any number of workers, give the same generations.
- **Resumable exactly**: generations are stored in pyabc's SQLite history (``abc.db``) as
  they finish. pyabc itself, continuing a stored run, starts the epsilon schedule again at
  ``initial_epsilon`` (a calibration killed after generation 1 went on with epsilons [3.0,
  1.72, 3.0, 1.68] instead of [3.0, 1.72, 1.19, 1.14]); :class:`ResumableEpsilon` instead
  takes the next epsilon from the stored generation, exactly as an uninterrupted run does
  (the weighted median of its distances). A generation killed half-way is sampled again
  with the same seeds, finding its model runs in the run store. The history records the
  calibration's id; a history of another calibration is refused, a damaged one (truncated,
  empty, not a file) is set aside as ``abc.db.damaged`` and ABC starts again (the history
  matching waves, whose runs are stored, are kept).
- **Bounded**: ABC stops at the first of: all generations done; ``abc.max_simulations``
  simulations in all; a generation that would accept fewer than ``abc.min_acceptance_rate``
  of its proposals; ``abc.max_minutes``. It ends with one line saying which
  (``abc_stop.json``), and a rerun of a finished ABC reads that line back instead of sampling
  again.
"""

from __future__ import annotations

import contextlib
import json
import logging
import math
import random
import sqlite3
import sys
import time
from concurrent.futures import FIRST_COMPLETED, wait
from pathlib import Path

import cloudpickle
import numpy as np
import pandas as pd
import pyabc
from pyabc.sampler import ConcurrentFutureSampler

from abm.files.errors import InputError, ResourceError, clipped
from abm.files.io import write_csv, write_json
from calibration.folder import STOP
from calibration.problem import point_seed

DB = "abc.db"


class ResumableEpsilon(pyabc.MedianEpsilon):
    """pyabc's median epsilon whose schedule survives a resume: at the first generation
    ``initial_epsilon``; continuing a stored run at generation t, the weighted median of
    generation t-1's distances (what :meth:`update` gives when the run is not interrupted),
    not ``initial_epsilon`` again."""

    def initialize(self, t, get_weighted_distances, get_all_records, max_nr_populations,
                   acceptor_config):
        if t == 0:
            self._look_up = {0: self._initial_epsilon}
            return
        self._update(t, get_weighted_distances())

    def requires_calibration(self) -> bool:
        return False


# --- the history on disk ------------------------------------------------------------------------
def open_history(folder: Path, calibration_id: str) -> int:
    """How many generations ``folder/abc.db`` holds for ``calibration_id`` (0: none, a new
    run). A history that cannot be read (damaged, truncated, empty, not a file, never
    initialised) is set aside with a warning and 0 returned; one of another calibration is
    refused (:class:`InputError`)."""
    db = folder / DB
    if not (db.exists() or db.is_symlink()):
        return 0
    problem, generations = _read_history(db, calibration_id)
    if problem is None:
        return generations
    _set_aside(db, problem)
    return 0


def _read_history(db: Path, calibration_id: str) -> tuple[str | None, int]:
    """(why it cannot be used or None, generations stored)."""
    if db.is_symlink() or not db.is_file():
        return "not a regular file", 0
    if db.stat().st_size == 0:
        return "empty", 0
    try:
        with contextlib.closing(sqlite3.connect(f"file:{db}?mode=ro", uri=True)) as con:
            if con.execute("PRAGMA quick_check").fetchone()[0] != "ok":
                return "damaged (SQLite's check fails)", 0
            rows = con.execute("SELECT json_parameters FROM abc_smc WHERE id = 1").fetchall()
            if not rows:
                return "holds no ABC run (it was never initialised)", 0
            if calibration_id not in str(rows[0][0]):
                raise InputError(f"{db}: the ABC history of another calibration "
                                 f"({clipped(rows[0][0], 120)}), not {calibration_id}: move it "
                                 "away or choose another --out")
            stored = con.execute("SELECT COUNT(*) FROM populations WHERE abc_smc_id = 1 "
                                 "AND t >= 0").fetchone()[0]
            pre = con.execute("SELECT COUNT(*) FROM populations WHERE abc_smc_id = 1 "
                              "AND t = -1").fetchone()[0]
    except sqlite3.Error as error:
        return f"not readable as an ABC history ({clipped(str(error), 120)})", 0
    if pre != 1:
        return "holds no observed data (it was never initialised)", 0
    return None, int(stored)


def _set_aside(db: Path, problem: str) -> None:
    target = db.with_name(db.name + ".damaged")
    n = 1
    while target.exists() or target.is_symlink():
        n += 1
        target = db.with_name(f"{db.name}.damaged-{n}")
    try:
        db.replace(target)
        for suffix in ("-journal", "-wal", "-shm"):
            side = db.with_name(db.name + suffix)
            if side.exists():
                side.replace(target.with_name(target.name + suffix))
    except OSError as error:
        raise ResourceError(f"{db}: {problem}, and it cannot be set aside "
                            f"({error.strerror}): move it away and run the command again"
                            ) from None
    print(f"abm: warning: {db}: {problem}: kept as {target.name}; ABC starts again (the "
          "history-matching waves and every stored run are kept)", file=sys.stderr, flush=True)


# --- the run ---------------------------------------------------------------------------------
def run_abc(model, prior, distance, spec, out: Path, calibration_id: str, observed: dict,
            executor, store, where: str) -> tuple[pd.DataFrame, str]:
    """Run, resume or read back the ABC-SMC of ``spec`` into ``out``; return the last
    generation's weighted particles and the line saying what stopped it."""
    cfg = spec.abc
    logging.getLogger("ABC").setLevel(logging.WARNING)  # pyabc's progress lines: ours instead
    stored = open_history(out, calibration_id)
    url = f"sqlite:///{(out / DB).resolve()}"
    names = list(spec.space.names)
    finished = _read_stop(out, stored)
    if finished is None:
        sampler = SeededSampler(executor, store, spec.master_seed)
        abc = pyabc.ABCSMC(model, prior, distance, population_size=cfg["population"],
                           sampler=sampler,
                           eps=ResumableEpsilon(initial_epsilon=cfg["initial_epsilon"]))
        if stored or (out / DB).exists():
            abc.load(url, 1)
        else:
            abc.new(url, observed, meta_info={"calibration_id": calibration_id})
        remaining = cfg["generations"] - stored
        limit = cfg["max_minutes"]
        sampler.deadline = time.monotonic() + limit * 60 if limit else math.inf
        sampler.budget = cfg["max_simulations"] - abc.history.total_nr_simulations
        if remaining > 0 and sampler.budget > 0:
            abc.run(max_nr_populations=remaining, min_acceptance_rate=cfg["min_acceptance_rate"],
                    max_total_nr_simulations=cfg["max_simulations"])
        finished = _stop_record(abc.history, sampler, cfg, where)
        if finished["reason"] != "time":  # a time limit is lifted by running again
            write_json(finished, out / STOP)
    history = pyabc.History(url)
    if history.max_t < 0:
        raise InputError(finished["line"])
    particles, weights = history.get_distribution(m=0, t=history.max_t)
    particles = particles[names].reset_index(drop=True)
    particles["weight"] = weights
    populations = history.get_all_populations()
    write_csv(populations[populations.t >= 0].reset_index(drop=True), out / "abc_generations.csv")
    return particles, finished["line"]


def _read_stop(out: Path, stored: int) -> dict | None:
    """The stop record of a finished ABC, if it matches the history's generations."""
    path = out / STOP
    if not path.is_file():
        return None
    try:
        record = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(record, dict) or record.get("generations") != stored or stored == 0:
        return None
    return record


def _stop_record(history, sampler: SeededSampler, cfg: dict, where: str) -> dict:
    """Which rule stopped ABC, in one line, with the figures behind it."""
    done = history.max_t + 1
    total = int(history.total_nr_simulations)
    populations = history.get_all_populations()
    populations = populations[populations.t >= 0]
    rate = (cfg["population"] / populations.samples.iloc[-1]) if done else math.nan
    if sampler.stopped_by is not None:
        t, proposed, accepted = sampler.stopped_at
        reason = sampler.stopped_by
        if reason == "budget":
            why = (f"the total of abc.max_simulations = {cfg['max_simulations']:,} "
                   "simulations was reached")
        elif reason == "rate":
            why = (f"it would accept fewer than abc.min_acceptance_rate = "
                   f"{cfg['min_acceptance_rate']:g} of its proposals")
        else:
            why = f"the time limit abc.max_minutes = {cfg['max_minutes']:g} was reached"
        line = (f"ABC stopped during generation {t + 1}: {why} ({accepted:,} of "
                f"{cfg['population']:,} particles accepted in {proposed:,} proposals)")
        if done:
            line += f"; the posterior is generation {done}'s ({total:,} simulations in all)"
        else:
            line = (f"{where}: {line}; no generation was completed, so there is no posterior: "
                    "raise 'abc.initial_epsilon', or check the targets' SDs")
    elif done >= cfg["generations"]:
        reason = "generations"
        line = (f"ABC stopped after all {done} generation(s) asked (abc.generations), "
                f"{total:,} simulations in all")
    elif total >= cfg["max_simulations"]:
        reason = "budget"
        line = (f"ABC stopped after generation {done}: abc.max_simulations = "
                f"{cfg['max_simulations']:,} reached ({total:,} simulations in all)")
    elif rate < cfg["min_acceptance_rate"]:
        reason = "rate"
        line = (f"ABC stopped after generation {done}: its acceptance rate {rate:.3g} fell "
                f"below abc.min_acceptance_rate = {cfg['min_acceptance_rate']:g}")
    else:
        reason = "time"
        line = (f"ABC stopped after generation {done}: the time limit abc.max_minutes = "
                f"{cfg['max_minutes']:g} was reached; run the command again to go on")
    return {"reason": reason, "line": line, "generations": done, "simulations": total,
            "epsilons": [float(e) for e in populations.epsilon]}


# --- pyabc's pieces ------------------------------------------------------------------------------
class ModelStats:
    """pyabc's model: the target outputs of one run per place at a proposed point.

    The run seed comes from the point, so the same point is the same run (same id); a run
    already in the store (``cache``, read when the calibration starts) is not run again.
    The full rows travel back under ``"_rows"`` for :class:`SeededSampler` to store.
    """

    def __init__(self, sim, keys: list[str], cache: dict):
        self.sim, self.keys, self.cache = sim, keys, cache

    def __call__(self, parameter) -> dict:
        from calibration.outputs import simulate

        space = self.sim.spec.space
        point = space.values([parameter[name] for name in space.names])
        seed = point_seed(self.sim.spec.master_seed, "abc",
                          *(f"{point[n]!r}" for n in space.names))
        rows = []
        for run_spec in self.sim.specs(point, seed):
            row = self.cache.get(run_spec.run_id)
            rows.append(row if row is not None else simulate(run_spec)[0])
        stats = self.sim.stats(pd.DataFrame(rows), self.sim.spec.targets)
        return {**stats, "_rows": rows}


class EmulatedStats:
    """pyabc's model when ``abc.simulator`` is ``emulator``: the target outputs of one
    simulated run, drawn from the last wave's Gaussian processes (their mean, plus their own
    uncertainty and the run-to-run noise they learned at that point). No model runs; the
    checks then test the posterior with real runs."""

    def __init__(self, space, emulator, keys: list[str]):
        self.space, self.emulator, self.keys = space, emulator, keys

    def __call__(self, parameter) -> dict:
        x = self.space.to_unit(np.array([[parameter[name] for name in self.space.names]]))
        mean, sd = self.emulator.predict(x)
        spread = np.sqrt(sd[0] ** 2 + self.emulator.noise_sd(x)[0] ** 2)
        draw = mean[0] + spread * np.random.standard_normal(len(spread))
        return dict(zip(self.keys, map(float, draw), strict=True))


class NotRuledOut(pyabc.DistributionBase):
    """Uniform over the plausible box, zero where the last wave's emulator rules a point out
    (or a cross-parameter constraint is broken)."""

    def __init__(self, space, spec, ruled_out):
        self.space, self.spec, self.ruled_out = space, spec, ruled_out
        self.volume = float(np.prod([hi - lo for lo, hi in space.bounds]))

    def _ok(self, x: np.ndarray) -> bool:
        unit = self.space.to_unit(x)
        if np.any(unit < 0) or np.any(unit > 1) or not self.space.allowed(x, self.spec.fixed):
            return False
        return not self.ruled_out(unit[None, :])[0]

    def rvs(self, *args, **kwargs):
        for _ in range(100_000):
            x = self.space.from_unit(np.random.random_sample(self.space.dim))
            if self._ok(x):
                return pyabc.Parameter(dict(zip(self.space.names, map(float, x), strict=True)))
        raise RuntimeError("no point of the plausible box survives history matching")

    def pdf(self, x) -> float:
        values = np.array([float(x[name]) for name in self.space.names])
        return 1.0 / self.volume if self._ok(values) else 0.0


def _seeded_job(simulate_one_pickle: bytes, seed: int, t: int, job: int):
    """One pyabc particle, its proposal seeded by (seed, generation, job)."""
    simulate_one = cloudpickle.loads(simulate_one_pickle)
    job_seed = point_seed(seed, "abc-job", t, job) % 2**32
    random.seed(job_seed)
    np.random.seed(job_seed)
    return simulate_one()


class SeededSampler(ConcurrentFutureSampler):
    """pyabc's ConcurrentFutureSampler on the project's executor, made reproducible and
    bounded: job k of generation t is seeded by (seed, t, k); particles are taken in job
    order until ``n`` are accepted, and the simulations the generation needed are counted
    in job order too (the same whatever the workers); every simulated run (accepted or not)
    is stored by the driver in the run store. A generation stops short (and is not kept)
    at pyabc's ``max_eval`` (the minimum acceptance rate), at ``budget`` simulations, or at
    ``deadline`` (``time.monotonic``); ``stopped_by`` then says which."""

    def __init__(self, executor, store, seed: int):
        super().__init__(executor, client_max_jobs=getattr(executor, "workers", 1))
        self.executor, self.store, self.seed = executor, store, seed
        self.budget: float = math.inf
        self.deadline: float = math.inf
        self.stopped_by: str | None = None
        self.stopped_at: tuple[int, int, int] | None = None

    def sample_until_n_accepted(self, n, simulate_one, t, *, max_eval=np.inf,
                                all_accepted=False, ana_vars=None):
        pickled = cloudpickle.dumps(simulate_one)
        limit = min(max_eval, self.budget)
        results: dict[int, object] = {}
        pending: dict = {}
        next_job, accepted, late = 0, 0, False
        try:
            while accepted < n or pending:
                late = late or time.monotonic() > self.deadline
                while (accepted < n and len(pending) < self.client_max_jobs
                       and next_job < limit and not late):
                    future = self.executor.submit(_seeded_job, pickled, self.seed, t, next_job)
                    pending[future] = next_job
                    next_job += 1
                if not pending:
                    break
                complete, _ = wait(list(pending), return_when=FIRST_COMPLETED)
                for future in complete:
                    job = pending.pop(future)
                    particle = future.result()
                    rows = particle.sum_stat.pop("_rows", [])
                    self.store.add([r for r in rows if r["run_id"] not in self.store.ids()])
                    results[job] = particle
                    accepted += bool(particle.accepted)
        except BaseException:
            cancel = getattr(self.executor, "cancel_pending", None)
            if cancel:
                cancel()
            raise
        sample = self._create_empty_sample()
        taken, used = 0, 0
        for job in sorted(results):
            if taken == n:
                break
            sample.append(results[job])
            taken += bool(results[job].accepted)
            used = job + 1
        if taken < n:
            sample.ok = False
            self.stopped_by = ("time" if late else "budget" if next_job >= self.budget
                               else "rate")
            self.stopped_at = (t, next_job, taken)
            used = next_job
        self.budget -= used
        self.nr_evaluations_ = used
        return sample
