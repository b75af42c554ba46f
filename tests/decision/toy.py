"""A toy model with a known frontier, run through the real search in place of the model.

Two objectives with an analytic trade-off over two budget shares that together take at most
the whole budget (the declared constraint): WELLBYs gained W = e (the embed share), the gap
narrowed by N = 1 - (1 - d)^2 (d the develop share). On e + d <= 1 the best mixes put all the
money into the two (e + d = 1), so the frontier is N = 1 - W^2 for W from 0 to 1. Two
distractions the search must learn to avoid: the scale share s and the sustain switch each
cost both objectives (s, and 0.3). Each run adds noise that depends only on the seed, as
common random numbers do, so it cancels in the paired changes.
"""

from __future__ import annotations

import numpy as np

from abm.model.runs import RunSpec


def values(spec: RunSpec) -> tuple[float, float]:
    """(W, N) of a run's mix."""
    p = spec.params
    e = p.embed_budget_share if "embed" in spec.rules else 0.0
    d = p.develop_budget_share if "develop" in spec.rules else 0.0
    s = p.scale_budget_share if "scale" in spec.rules else 0.0
    penalty = s + (0.3 if "sustain" in spec.rules else 0.0)
    return e - penalty, 1 - (1 - d) ** 2 - penalty


def frontier_n(w: np.ndarray) -> np.ndarray:
    """The true frontier: the most narrowing possible at WELLBYs ``w``."""
    return 1 - np.asarray(w) ** 2


def run(spec: RunSpec, weekly: bool = False) -> tuple[dict, None]:
    """A row like :func:`abm.model.runs.execute`'s, with the two outcomes the objectives read."""
    w, n = values(spec)
    noise = np.random.default_rng(spec.seed).normal(size=2)
    return {"run_id": spec.run_id, "scenario": spec.scenario, "point": spec.point,
            "place": spec.place, "rules": "+".join(spec.rules), "seed": spec.seed,
            **dict(spec.params),
            "wellbeing_years_disc": 100.0 + w + noise[0],
            "gap_q5_q1": 0.6 - n + noise[1]}, None
