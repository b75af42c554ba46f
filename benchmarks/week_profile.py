"""What one week of the fast model costs, part by part.

    python -m benchmarks.week_profile                  # 100,000 and 3,000 residents
    python -m benchmarks.week_profile --engine numpy   # the same on the numpy engine
    python -m benchmarks.week_profile --residents 3000 --weeks 104

Each named part of the step (the engine's rules, the context's draws and sparse matrices,
the accounts, the weekly metrics, the random streams, ...) is wrapped in a timer for the
length of the run, and its time is reported per week, *exclusive* of the named parts it
calls (so the rows add up to the step; "step (own lines)" is what the step spends between
named parts). The model is the throughput benchmark's (Devon ICS, scale+embed+sustain,
warmed up a year and eight weeks so the policy is in force); each timed stretch of 52 weeks
includes one funding round, so yearly work is spread over its weeks. Timed and untimed
stretches alternate ``--repeats`` times. Each part's figure is its median over the weeks
(the mean for parts run only in some weeks), and the week's is the CPU time of the untimed
stretches: the machines are shared, and medians and CPU time ignore the moments another
process took the core (the median wall-clock week is printed beside it). The
timers read the CPU clock (``time.process_time``) twice a call, a few dozen calls a week:
their cost is printed (negligible at 100,000 residents, a few percent at 3,000).

The sparse matrices of ``week_context`` are built inline in the model (not a function of
their own), so they are timed by replaying the same lines on the same state, after the run.
"""

from __future__ import annotations

import os

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import argparse  # noqa: E402
import contextlib  # noqa: E402
import time  # noqa: E402
import timeit  # noqa: E402
from collections import defaultdict  # noqa: E402
from collections.abc import Callable, Iterator  # noqa: E402

import numpy as np  # noqa: E402
import scipy.sparse as sp  # noqa: E402

from abm import Model  # noqa: E402
from abm.model import (  # noqa: E402
    accounts,
    commissioning,
    model,
    providers,
    randomness,
    replicas,
)
from abm.model import residents as residents_module  # noqa: E402

#: Stands for the class of the model's engine (``--engine``) in :data:`PARTS`.
ENGINE = "engine"
#: (label, owner, attribute): what is timed. Owners are classes (every instance), modules
#: (a function looked up by name in that module at call time) or :data:`ENGINE`.
PARTS: tuple[tuple[str, object, str], ...] = (
    ("funding round (yearly)", commissioning.Commissioner, "funding_round"),
    ("providers plan", ENGINE, "plan"),
    ("cut places (yearly)", model.CommunityAssetsModel, "cut_places"),
    ("week_context (own lines)", model.CommunityAssetsModel, "week_context"),
    ("decide (own lines)", ENGINE, "decide"),
    ("  share_of_ties_attending (numpy)", residents_module.ResidentState,
     "share_of_ties_attending"),
    ("  pick_providers (numpy)", residents_module, "pick_providers"),
    ("admit", ENGINE, "admit"),
    ("update_wellbeing", ENGINE, "update_wellbeing"),
    ("  target (numpy)", residents_module.ResidentState, "target"),
    ("update_ties", ENGINE, "update_ties"),
    ("pay_week", ENGINE, "pay_week"),
    ("closures", model.CommunityAssetsModel, "close_providers"),
    ("refound", replicas.Replica, "refound"),
    ("accounts.week (own lines)", accounts.Accounts, "week"),
    ("  a policy week's sums", accounts.Accounts, "_week_sums"),
    ("  nhs_use (numpy)", accounts.Accounts, "nhs_use"),
    ("weekly_metrics (own lines)", accounts.Accounts, "weekly_metrics"),
    ("  the metrics' per-resident sums", accounts.Accounts, "_metric_sums"),
    ("  gap_parts", accounts, "gap_parts"),
    ("  weekly_equity", accounts, "weekly_equity"),
    ("DataCollector.collect", None, "collect"),
    ("ProviderState.attendees", providers.ProviderState, "attendees"),
    ("keyed streams: draws", randomness.Streams, "uniforms"),
    ("keyed streams: building generators", randomness.Streams, "generator"),
)

SIZES = {100_000: {"n_neighbourhoods": 1000, "residents_per_neighbourhood": 100},
         3_000: {"n_neighbourhoods": 100, "residents_per_neighbourhood": 30},
         20_000: {"n_neighbourhoods": 200, "residents_per_neighbourhood": 100}}


class Timers:
    """Exclusive CPU time and calls per label and week, with a stack so that a part's
    exclusive time leaves out the named parts it calls. CPU time (``time.process_time``),
    because on a shared machine a part of tens of milliseconds is interrupted by other
    processes in most weeks; reading that clock costs about a microsecond (printed)."""

    def __init__(self):
        self.weeks: list[dict[str, float]] = []  # exclusive seconds per label, one per week
        self.calls: dict[str, int] = defaultdict(int)
        self._stack: list[float] = []  # time spent in children of each open call
        self.new_week()

    def new_week(self) -> None:
        self.weeks.append(defaultdict(float))

    def wrap(self, label: str, function: Callable) -> Callable:
        def timed(*args, **kwargs):
            self._stack.append(0.0)
            start = time.process_time()
            try:
                return function(*args, **kwargs)
            finally:
                spent = time.process_time() - start
                children = self._stack.pop()
                self.weeks[-1][label] += spent - children
                self.calls[label] += 1
                if self._stack:
                    self._stack[-1] += spent
        return timed

    def typical(self, label: str) -> float:
        """CPU seconds a week: the median over weeks for a part run every week, the mean
        for one run only in some weeks (a funding round, closures)."""
        values = np.array([week.get(label, 0.0) for week in self.weeks if week])
        every_week = (values > 0).all()
        return float(np.median(values) if every_week else values.mean())


@contextlib.contextmanager
def timed_parts(timers: Timers, the_model: Model) -> Iterator[None]:
    """Wrap every part in :data:`PARTS` (and the model's DataCollector) while inside."""
    undo = []
    for label, owner, name in PARTS:
        target = (the_model.datacollector if owner is None
                  else type(the_model.engine) if owner == ENGINE else owner)
        original = getattr(target, name)
        setattr(target, name, timers.wrap(label, original))
        undo.append((target, name, original))
    try:
        yield
    finally:
        for target, name, original in reversed(undo):
            if target is the_model.datacollector:
                delattr(target, name)
            else:
                setattr(target, name, original)


def sparse_context(the_model: Model) -> None:
    """The sparse-matrix lines of ``CommunityAssetsModel.week_context``, replayed."""
    rs, ps, hoods = the_model.resident_state, the_model.provider_state, the_model.hoods
    hp = rs.hood_params
    n_hoods = len(hoods)
    with_space = np.flatnonzero(ps.open & (ps.attendees(rs.provider) < ps.places))
    located = sp.csr_matrix((np.ones(len(with_space)), (ps.neighbourhood[with_space],
                                                        with_space)), shape=(n_hoods, len(ps)))
    candidates = (hoods.access @ located).tocsr()
    candidates.sort_indices()
    if np.any(hp.fee_barrier > 0) and candidates.nnz:
        rows = np.repeat(np.arange(n_hoods), np.diff(candidates.indptr))
        barrier = hp.fee_barrier if np.ndim(hp.fee_barrier) == 0 else hp.fee_barrier[rows]
        fee = np.minimum(ps.fee_ratio[candidates.indices], 1.0)
        candidates.data *= 1 - barrier * fee * hoods.deprivation[rows]
    np.minimum(np.asarray(candidates.sum(axis=1)).ravel(), 1.0)


def warmed_model(residents: int, engine: str | None = None) -> Model:
    """The throughput benchmark's model at ``residents``, a year and eight weeks in."""
    the_model = Model("devon_ics", "scale+embed+sustain", 1,
                      {**SIZES[residents], "burn_in_years": 1}, engine=engine)
    for _ in range(60):
        the_model.step()
    return the_model


def profile(residents: int, weeks: int, repeats: int,
            engine: str) -> tuple[float, float, Timers, float]:
    """Time ``repeats`` x ``weeks`` steps without timers and as many with them, in turn on
    the same model (the policy is in force throughout). Returns the median week without
    timers and its CPU time per week (ms), the timers, and the replayed sparse-matrix
    lines' fastest of 20 (ms)."""
    the_model = warmed_model(residents, engine)
    bare, cpu, timers = [], 0.0, Timers()
    for _ in range(repeats):
        cpu_start = time.process_time()
        for _ in range(weeks):
            start = time.perf_counter()
            the_model.step()
            bare.append(time.perf_counter() - start)
        cpu += time.process_time() - cpu_start
        with timed_parts(timers, the_model):
            for _ in range(weeks):
                timers.new_week()
                the_model.step()
    sparse_ms = np.inf
    for _ in range(20):
        start = time.perf_counter()
        sparse_context(the_model)
        sparse_ms = min(sparse_ms, (time.perf_counter() - start) * 1e3)
    return (float(np.median(bare)) * 1e3, cpu / (repeats * weeks) * 1e3, timers, sparse_ms)


def report(residents: int, weeks: int, repeats: int, engine: str) -> None:
    bare, cpu, timers, sparse_ms = profile(residents, weeks, repeats, engine)
    rows = [(label, timers.typical(label) * 1e3, timers.calls[label] / (weeks * repeats))
            for label, _, _ in PARTS]
    named = sum(ms for _, ms, _ in rows)
    print(f"\nengine {engine!r}, {residents:,} residents, {repeats} x {weeks} weeks without "
          f"timers: {cpu:.2f} ms of CPU a week ({cpu / residents * 1e6:.0f} ns per "
          f"resident-step; median wall-clock week {bare:.2f} ms); the named parts' medians "
          f"add up to {named:.2f} ms")
    print(f"{'part (exclusive of the parts below it)':40s} {'ms/week':>8s} {'share':>6s} "
          f"{'calls/week':>10s}")
    for label, ms, calls in rows:
        print(f"{label:40s} {ms:8.3f} {ms / cpu:6.1%} {calls:10.1f}")
    print(f"{'the rest (CPU week less named parts)':40s} {cpu - named:8.3f} "
          f"{(cpu - named) / cpu:6.1%}")
    print(f"{'(inside week_context) sparse lines':40s} {sparse_ms:8.3f} "
          f"{sparse_ms / cpu:6.1%}   replayed, fastest of 20")
    calls = sum(timers.calls.values()) / (weeks * repeats)
    clock = min(timeit.repeat(time.process_time, number=1000, repeat=5)) / 1000
    print(f"(timers: {calls:.0f} calls a week, two clock readings each at "
          f"{clock * 1e6:.1f} microseconds: {2 * calls * clock * 1e3:.3f} ms a week)")


def numpy_route(self, stream: str, week: int) -> np.random.Generator:
    """How the streams built each generator before the seed words were worked out in bulk
    (the same values): ``PCG64(SeedSequence(seed, spawn_key=(stream, week)))``."""
    key = randomness.STREAM_NAMES.index(stream)
    return np.random.Generator(np.random.PCG64(
        np.random.SeedSequence(self.seed, spawn_key=(key, int(week)))))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--residents", type=int, choices=sorted(SIZES), nargs="*",
                        default=[100_000, 3_000])
    parser.add_argument("--weeks", type=int, default=52)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--engine", choices=("fast", "numpy"), default="fast")
    parser.add_argument("--streams-before", action="store_true",
                        help="build each week's generators as before issue 20 (numpy's "
                             "SeedSequence every time): the profile before")
    args = parser.parse_args()
    if args.streams_before:
        randomness.Streams.generator = numpy_route
    for residents in args.residents:
        report(residents, args.weeks, args.repeats, args.engine)


if __name__ == "__main__":
    main()
