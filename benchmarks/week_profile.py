"""What one week of the fast model costs, part by part.

    python -m benchmarks.week_profile                  # 100,000 and 3,000 residents
    python -m benchmarks.week_profile --residents 3000 --weeks 104

Each named part of the step (the engine's rules, the context's draws and sparse matrices,
the accounts, the weekly metrics, the random streams, ...) is wrapped in a timer for the
length of the run, and its time is reported per week, *exclusive* of the named parts it
calls (so the rows add up to the step; "step (own lines)" is what the step spends between
named parts). The model is the throughput benchmark's (Devon ICS, scale+embed+sustain,
warmed up a year and eight weeks so the policy is in force); each timed stretch of 52 weeks
includes one funding round, so yearly work is spread over its weeks. Timed and untimed
stretches alternate ``--repeats`` times and the fastest of each is kept. The timers cost about 0.2
microseconds a call, a few hundred calls a week: negligible at 100,000 residents, about 5%
at 3,000.

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
from collections import defaultdict  # noqa: E402
from collections.abc import Callable, Iterator  # noqa: E402

import numpy as np  # noqa: E402
import scipy.sparse as sp  # noqa: E402

from abm import Model  # noqa: E402
from abm.model import accounts, commissioning, engines, model, providers, randomness  # noqa: E402
from abm.model import residents as residents_module  # noqa: E402

#: (label, owner, attribute): what is timed. Owners are classes (every instance) or modules
#: (a function looked up by name in that module at call time).
PARTS: tuple[tuple[str, object, str], ...] = (
    ("funding round (yearly)", commissioning.Commissioner, "funding_round"),
    ("providers plan", engines.ArrayEngine, "plan"),
    ("cut places (yearly)", model.CommunityAssetsModel, "cut_places"),
    ("week_context (own lines)", model.CommunityAssetsModel, "week_context"),
    ("decide (own lines)", engines.ArrayEngine, "decide"),
    ("  share_of_ties_attending", residents_module.ResidentState, "share_of_ties_attending"),
    ("  pick_providers", residents_module, "pick_providers"),
    ("admit", engines.ArrayEngine, "admit"),
    ("update_wellbeing", engines.ArrayEngine, "update_wellbeing"),
    ("  target", residents_module.ResidentState, "target"),
    ("update_ties", engines.ArrayEngine, "update_ties"),
    ("pay_week", engines.ArrayEngine, "pay_week"),
    ("closures and re-founding", model.CommunityAssetsModel, "close_providers"),
    ("refound", model.CommunityAssetsModel, "refound"),
    ("accounts.week (own lines)", accounts.Accounts, "week"),
    ("  nhs_use", accounts.Accounts, "nhs_use"),
    ("  staircase (_climb)", accounts.Accounts, "_climb"),
    ("weekly_metrics (own lines)", accounts.Accounts, "weekly_metrics"),
    ("  gap_parts", accounts, "gap_parts"),
    ("  weekly_equity", accounts, "weekly_equity"),
    ("DataCollector.collect", None, "collect"),
    ("ProviderState.attendees", providers.ProviderState, "attendees"),
    ("keyed streams: draws", randomness.Streams, "uniforms"),
    ("keyed streams: SeedSequence+PCG64", randomness.Streams, "generator"),
)

SIZES = {100_000: {"n_neighbourhoods": 1000, "residents_per_neighbourhood": 100},
         3_000: {"n_neighbourhoods": 100, "residents_per_neighbourhood": 30},
         20_000: {"n_neighbourhoods": 200, "residents_per_neighbourhood": 100}}


class Timers:
    """Exclusive and inclusive time and calls per label, with a stack so that a part's
    exclusive time leaves out the named parts it calls."""

    def __init__(self):
        self.exclusive: dict[str, float] = defaultdict(float)
        self.inclusive: dict[str, float] = defaultdict(float)
        self.calls: dict[str, int] = defaultdict(int)
        self._stack: list[float] = []  # time spent in children of each open call

    def wrap(self, label: str, function: Callable) -> Callable:
        def timed(*args, **kwargs):
            self._stack.append(0.0)
            start = time.perf_counter()
            try:
                return function(*args, **kwargs)
            finally:
                spent = time.perf_counter() - start
                children = self._stack.pop()
                self.inclusive[label] += spent
                self.exclusive[label] += spent - children
                self.calls[label] += 1
                if self._stack:
                    self._stack[-1] += spent
        return timed


@contextlib.contextmanager
def timed_parts(timers: Timers, the_model: Model) -> Iterator[None]:
    """Wrap every part in :data:`PARTS` (and the model's DataCollector) while inside."""
    undo = []
    for label, owner, name in PARTS:
        target = the_model.datacollector if owner is None else owner
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
    rs, ps, p, hoods = the_model.resident_state, the_model.provider_state, the_model.params, (
        the_model.hoods)
    n_hoods = len(hoods)
    with_space = np.flatnonzero(ps.open & (ps.attendees(rs.provider) < ps.places))
    located = sp.csr_matrix((np.ones(len(with_space)), (ps.neighbourhood[with_space],
                                                        with_space)), shape=(n_hoods, len(ps)))
    candidates = (hoods.access @ located).tocsr()
    candidates.sort_indices()
    if p.fee_barrier > 0 and candidates.nnz:
        fee = np.minimum(providers.kind_values(p, "fee"), 1.0)[ps.kind[candidates.indices]]
        dep = np.repeat(hoods.deprivation, np.diff(candidates.indptr))
        candidates.data *= 1 - p.fee_barrier * fee * dep
    np.minimum(np.asarray(candidates.sum(axis=1)).ravel(), 1.0)


def warmed_model(residents: int) -> Model:
    """The throughput benchmark's model at ``residents``, a year and eight weeks in."""
    the_model = Model("devon_ics", "scale+embed+sustain", 1,
                      {**SIZES[residents], "burn_in_years": 1})
    for _ in range(60):
        the_model.step()
    return the_model


def profile(residents: int, weeks: int, repeats: int) -> tuple[float, Timers, float, float]:
    """Time ``weeks`` steps without timers and ``weeks`` with them, ``repeats`` times in
    turn on the same model (the policy is in force throughout), keeping the fastest of
    each (the machines are shared: the fastest is the least disturbed); return ms per week
    without timers, the timers of the fastest timed repeat, ms per week with them, and the
    replayed sparse-matrix lines' ms per call (fastest of 20)."""
    the_model = warmed_model(residents)
    bare, best, with_timers = np.inf, Timers(), np.inf
    for _ in range(repeats):
        start = time.perf_counter()
        for _ in range(weeks):
            the_model.step()
        bare = min(bare, (time.perf_counter() - start) / weeks * 1e3)
        timers = Timers()
        with timed_parts(timers, the_model):
            start = time.perf_counter()
            for _ in range(weeks):
                the_model.step()
            spent = (time.perf_counter() - start) / weeks * 1e3
        if spent < with_timers:
            best, with_timers = timers, spent
    sparse_ms = np.inf
    for _ in range(20):
        start = time.perf_counter()
        sparse_context(the_model)
        sparse_ms = min(sparse_ms, (time.perf_counter() - start) * 1e3)
    return bare, best, with_timers, sparse_ms


def report(residents: int, weeks: int, repeats: int) -> None:
    bare, timers, with_timers, sparse_ms = profile(residents, weeks, repeats)
    step_total = with_timers
    named = sum(timers.exclusive.values()) / weeks * 1e3
    print(f"\n{residents:,} residents, {weeks} weeks: {bare:.2f} ms a week without timers "
          f"({bare / residents * 1e6:.0f} ns per resident-step), {with_timers:.2f} with")
    print(f"{'part':36s} {'ms/week':>8s} {'share':>6s} {'calls/week':>10s}")
    rows = [(label, timers.exclusive[label] / weeks * 1e3, timers.calls[label] / weeks)
            for label, _, _ in PARTS]
    rows.append(("step (own lines)", step_total - named, 1.0))
    for label, ms, calls in rows:
        print(f"{label:36s} {ms:8.3f} {ms / step_total:6.1%} {calls:10.1f}")
    print(f"{'(inside week_context) sparse lines':36s} {sparse_ms:8.3f} "
          f"{sparse_ms / step_total:6.1%}   replayed")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--residents", type=int, choices=sorted(SIZES), nargs="*",
                        default=[100_000, 3_000])
    parser.add_argument("--weeks", type=int, default=52)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    for residents in args.residents:
        report(residents, args.weeks, args.repeats)


if __name__ == "__main__":
    main()
