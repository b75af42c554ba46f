"""The compiled engine's rules (abm.model.kernels) against the numpy engine's.

    python -m benchmarks.kernels                 # speed-ups at 3,000 and 100,000 residents
    python -m benchmarks.kernels --compile       # compile time, the cache in a fresh process
                                                 # and in a Ray worker
    python -m benchmarks.kernels --float32       # the rules on float32 storage: are they
                                                 # limited by memory?

Speed-ups: for each part, both implementations are applied to copies of the same state of
the throughput benchmark's model (warmed up into the policy period), each timed alone,
fastest of ``--repeats`` in CPU time (the machines are shared: CPU time leaves out the
moments other processes take the core, and the fastest is the least disturbed); making the
copies is not timed. The kernels give the same numbers bit for bit
(``tests/model/test_kernels.py``).

Compile time: in a child process with an empty numba cache (``NUMBA_CACHE_DIR``), the first
call of each kernel less its second; then in a second child with that cache filled, and in
a Ray worker started with the same cache folder, the first calls again, with numba's own
count of cache hits.
"""

from __future__ import annotations

import os

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import argparse  # noqa: E402
import copy  # noqa: E402
import json  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from collections.abc import Callable  # noqa: E402

import numpy as np  # noqa: E402

from abm.model.engines import ArrayEngine, CompiledEngine  # noqa: E402
from abm.model.randomness import ReplicateStreams  # noqa: E402
from abm.model.residents import (  # noqa: E402
    ATTENDING,
    DROPPED_OUT,
    REFERRED,
    ResidentState,
)

#: The streams drawn for every resident each week (cuts only at a funding round).
RESIDENT_STREAMS = ("shocks", "engagement", "referral", "admission", "ties")


def clone(state: ResidentState) -> ResidentState:
    """A copy whose arrays are its own."""
    twin = copy.copy(state)
    for name, value in vars(state).items():
        if isinstance(value, np.ndarray):
            setattr(twin, name, value.copy())
    return twin


def fastest(run: Callable, setup: Callable, repeats: int) -> float:
    """CPU seconds of the fastest of ``repeats`` calls ``run(setup())`` (setup not timed;
    reading the CPU clock costs about a microsecond, which the smallest parts at 3,000
    residents feel)."""
    best = np.inf
    for _ in range(repeats):
        argument = setup()
        start = time.process_time()
        run(argument)
        best = min(best, time.process_time() - start)
    return best


def parts(model) -> dict[str, tuple[Callable, Callable, Callable]]:
    """Per part: (setup, numpy, compiled), each run on what setup returns: the numpy
    engine's rule and the compiled engine's, on copies of the same resident state."""
    from abm.model import kernels

    rs, week = model.resident_state, model.week
    ctx = model.week_context()
    by_numpy, by_kernel = ArrayEngine(model), CompiledEngine(model)
    decided = clone(rs)
    by_numpy.rs = decided
    starters, picks = by_numpy.decide(ctx)
    first = (decided.state[starters] == REFERRED) & decided.followed_up[starters]
    priority = model.replicas[0].streams.uniforms("admission", week, rs.n)[starters]

    def on(engine, rule):
        def run(state):
            engine.rs = state
            return rule(engine)
        return run

    def numpy_draws(_):
        return [model.replicas[0].streams.uniforms(name, week, rs.n)
                for name in RESIDENT_STREAMS]

    streams = ReplicateStreams([model.replicas[0].streams])

    def kernel_draws(_):
        return [by_kernel.uniforms(streams, name, week, rs.n) for name in RESIDENT_STREAMS]

    acc = model.accounts
    before = rs.state == ATTENDING
    dropped, referred = rs.state == DROPPED_OUT, rs.state == REFERRED

    def accounts(compiled: bool, sums: str) -> Callable:
        def run(_):
            was, acc.compiled = acc.compiled, compiled
            try:
                return (acc._week_sums(before, dropped, referred) if sums == "week"
                        else acc._metric_sums())
            finally:
                acc.compiled = was
        return run

    attending = ctx.attending_at_start
    return {
        "decide (rules 0-4, provider choice)": (
            lambda: clone(rs), on(by_numpy, lambda e: e.decide(ctx)),
            on(by_kernel, lambda e: e.decide(ctx))),
        "  of which share of ties attending": (
            lambda: clone(rs), lambda s: ResidentState.share_of_ties_attending(s, attending),
            lambda s: kernels.share_of_ties_attending(
                attending, s._counted, s.ties_attending, s.ties.indptr, s.ties.indices,
                s.degree, s.friends, s.tie_strength, s.pull)),
        "admit (places at full groups)": (
            lambda: clone(decided),
            on(by_numpy, lambda e: e.admit(starters, picks, first, priority, week)),
            on(by_kernel, lambda e: e.admit(starters, picks, first, priority, week))),
        "update_wellbeing (rule 5)": (
            lambda: clone(decided), on(by_numpy, lambda e: e.update_wellbeing(week)),
            on(by_kernel, lambda e: e.update_wellbeing(week))),
        "update_ties (rule 6)": (
            lambda: clone(decided), on(by_numpy, lambda e: e.update_ties(ctx.u_tie)),
            on(by_kernel, lambda e: e.update_ties(ctx.u_tie))),
        "keyed draws, 5 streams (replicates' path)": (lambda: None, numpy_draws, kernel_draws),
        "accounts: a policy week's sums": (
            lambda: None, accounts(False, "week"), accounts(True, "week")),
        "weekly metrics' per-resident sums": (
            lambda: None, accounts(False, "metrics"), accounts(True, "metrics")),
    }


def speedups(residents: int, repeats: int) -> None:
    from benchmarks.week_profile import warmed_model

    model = warmed_model(residents)
    for setup, _, kernel in parts(model).values():  # compile (or load) before timing
        kernel(setup())
    print(f"\n{residents:,} residents (fastest of {repeats})")
    print(f"{'part':40s} {'numpy ms':>9s} {'kernel ms':>9s} {'speed-up':>8s}")
    totals = [0.0, 0.0]
    for label, (setup, numpy_part, kernel) in parts(model).items():
        a, b = (fastest(f, setup, repeats) * 1e3 for f in (numpy_part, kernel))
        if not label.startswith(" "):
            totals[0], totals[1] = totals[0] + a, totals[1] + b
        print(f"{label:40s} {a:9.3f} {b:9.3f} {a / b:7.1f}x")
    print(f"{'all of the above':40s} {totals[0]:9.3f} {totals[1]:9.3f} "
          f"{totals[0] / totals[1]:7.1f}x")


#: The per-resident rules :func:`narrower_state` times (labels of :func:`parts`).
RULES = ("decide (rules 0-4, provider choice)", "  of which share of ties attending",
         "update_wellbeing (rule 5)", "update_ties (rule 6)")


def narrower_state(residents: int, repeats: int) -> None:
    """Are the kernels limited by memory? The same compiled rules on the same state, with
    its per-resident float64 arrays stored as float32 instead (half the bytes each rule
    reads and writes; numba compiles the kernels for them). Timing only: the results are
    not the model's."""
    from benchmarks.week_profile import warmed_model

    model = warmed_model(residents)
    rs = model.resident_state
    times = {}
    for storage in ("float64", "float32"):
        if storage == "float32":
            for name in ResidentState.PER_RESIDENT:
                if getattr(rs, name).dtype == np.float64:
                    setattr(rs, name, getattr(rs, name).astype(np.float32))
        rules = parts(model)
        for label in RULES:
            setup, _, kernel = rules[label]
            kernel(setup())  # compile (or load) before timing
            times[label, storage] = fastest(kernel, setup, repeats) * 1e3
    print(f"\n{residents:,} residents, the state's floats as float64 and as float32 "
          f"(fastest of {repeats})")
    print(f"{'part':40s} {'float64 ms':>10s} {'float32 ms':>10s} {'gain':>6s}")
    for label in RULES:
        a, b = times[label, "float64"], times[label, "float32"]
        print(f"{label:40s} {a:10.3f} {b:10.3f} {a / b:5.2f}x")


def first_calls() -> dict:
    """In this process: import time, and each compiled rule's first and second call on a
    small model's state (CPU seconds: compiling is single-threaded), with numba's cache hits and
    misses."""
    start = time.process_time()
    from abm.model import kernels
    imported = time.process_time() - start
    from abm import Model

    model = Model("london", "develop+scale+sustain", 4,
                  {"n_neighbourhoods": 40, "residents_per_neighbourhood": 50,
                   "burn_in_years": 1}, engine="numpy").run(years=1)
    timings = {}
    for label, (setup, _, kernel) in parts(model).items():
        calls = []
        for _ in range(2):
            argument = setup()
            begin = time.process_time()
            kernel(argument)
            calls.append(time.process_time() - begin)
        timings[label.strip()] = calls
    dispatchers = [value for value in vars(kernels).values() if hasattr(value, "stats")]
    hits = sum(sum(d.stats.cache_hits.values()) for d in dispatchers)
    misses = sum(sum(d.stats.cache_misses.values()) for d in dispatchers)
    return {"import_s": imported, "calls": timings, "cache_hits": hits, "cache_misses": misses}


def compile_report() -> None:
    with tempfile.TemporaryDirectory() as cache:
        env = {**os.environ, "NUMBA_CACHE_DIR": cache}
        runs = {}
        for name in ("empty cache", "cache filled"):
            out = subprocess.run([sys.executable, "-m", "benchmarks.kernels", "--child"],
                                 env=env, capture_output=True, text=True, check=True).stdout
            runs[name] = json.loads(out.strip().splitlines()[-1])
        runs["Ray worker, cache filled"] = ray_first_calls(cache)
    print(f"{'first call of (s)':36s}" + "".join(f"{name:>26s}" for name in runs))
    print(f"{'import abm.model.kernels':36s}"
          + "".join(f"{run['import_s']:26.2f}" for run in runs.values()))
    for label in runs["empty cache"]["calls"]:
        print(f"{label[:36]:36s}" + "".join(
            f"{run['calls'][label][0]:26.3f}" for run in runs.values()))
    print(f"{'sum of first calls less seconds':36s}" + "".join(
        f"{sum(a - b for a, b in run['calls'].values()):26.2f}" for run in runs.values()))
    print(f"{'numba cache hits / misses':36s}" + "".join(
        f"{run['cache_hits']:>20d} / {run['cache_misses']:<3d}" for run in runs.values()))


def ray_first_calls(cache: str) -> dict:
    """:func:`first_calls` in a Ray worker of a new local cluster that reads ``cache``."""
    import ray

    ray.init(address="local", num_cpus=1, include_dashboard=False, log_to_driver=False,
             runtime_env={"env_vars": {"NUMBA_CACHE_DIR": cache}})
    try:
        return ray.get(ray.remote(first_calls).remote())
    finally:
        ray.shutdown()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--residents", type=int, nargs="*", default=[3_000, 100_000])
    parser.add_argument("--repeats", type=int, default=10)
    parser.add_argument("--compile", action="store_true",
                        help="compile time and the cache (fresh process, Ray worker)")
    parser.add_argument("--float32", action="store_true",
                        help="the rules on the state stored as float32 (timing only)")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(first_calls()))
        return
    if args.compile:
        compile_report()
        return
    for residents in args.residents:
        (narrower_state if args.float32 else speedups)(residents, args.repeats)


if __name__ == "__main__":
    main()
