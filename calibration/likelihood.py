"""The posterior on the emulator under the targets' Gaussian errors (``abc.kernel: gaussian``).

ABC-SMC with a threshold (``abc.kernel: threshold``) accepts a point when the root mean
square of its targets' z-scores falls below epsilon. With many targets that is lenient about
any one of them: a parameter seen by a single target, moving it 2 SDs, moves the RMS over
13 targets by little, so the posterior stays close to the prior, wider than the targets'
precision allows (the recovery runs of issue 23 moved medians 0.1-0.3 of the way where the
linear-Gaussian bound, :mod:`calibration.identifiability`, said 0.8 was possible).

With an emulator the likelihood itself is cheap, so it can be used as it stands: each
target is the model's output plus an error of the target's SD (sampling and discrepancy,
``targets.yaml``), and the model's output at a point is what the last wave's emulator says,
with its own uncertainty and the run-to-run noise it learned there (all Gaussian, targets
independent)::

    log L(x) = -1/2 sum_k [ (m_k(x) - z_k)^2 / v_k(x) + log v_k(x) ],
    v_k(x) = sd_k^2 + emulator sd_k(x)^2 + run-to-run noise sd_k(x)^2

(Kennedy & O'Hagan, J R Stat Soc B 2001; the same variance as the implausibility of history
matching, Vernon et al., Bayesian Anal 2010). The posterior is this times the prior: uniform
over the plausible box, zero where history matching ruled a point out (or a cross-parameter
constraint is broken). It is sampled by Markov chain Monte Carlo with emcee's ensemble
sampler (Foreman-Mackey et al., PASP 2013; differential-evolution moves), started from the
``walkers`` most likely of ``abc.candidates`` uniform points of the box, run ``abc.steps``
steps, the first half discarded; ``abc.population`` particles are taken evenly from the rest.
(Importance sampling from the prior alone fails here: with 19 parameters, 400,000 candidates
left an effective sample size of 24.) Everything is seeded by the master seed and nothing is
stored in between, so a resumed calibration computes the same particles. How far to trust it
is the chain's integrated autocorrelation time: the line reports it, the number of
independent draws it leaves, and warns when the chain kept is shorter than 50
autocorrelation times (emcee's guidance).
"""

from __future__ import annotations

import logging

import emcee
import numpy as np
import pandas as pd

from calibration.problem import point_seed

#: Candidates predicted at once (the emulator's chunks are of this order too).
CHUNK = 20_000
#: Fewest walkers of the ensemble (otherwise four per parameter).
MIN_WALKERS = 32
#: Differential-evolution proposals (ter Braak & Vrugt, Stat Comput 2008), as emcee's
#: documentation mixes them: on the shipped calibration's 19-parameter emulator they halved
#: the autocorrelation time of emcee's default stretch move (118 against 251 steps).
MOVES = [(emcee.moves.DEMove(), 0.8), (emcee.moves.DESnookerMove(), 0.2)]
#: The kept chain should be this many autocorrelation times long (emcee's documentation).
SHORTEST = 50


def residuals(emulator, unit_x: np.ndarray, z: np.ndarray, target_sd: np.ndarray
              ) -> tuple[np.ndarray, np.ndarray]:
    """Per point (rows of ``unit_x``) and target: the emulator's prediction less the target
    ``z``, and the variance of that difference (the target's SD ``target_sd``, the emulator's
    uncertainty and the run-to-run noise it learned). History matching's implausibility and
    the likelihood are both made of these, from one prediction."""
    mean, sd = emulator.predict(unit_x)
    return mean - z, target_sd**2 + sd**2 + emulator.noise_sd(unit_x) ** 2


def implausibility_of(difference: np.ndarray, variance: np.ndarray) -> np.ndarray:
    """Per point, the largest over targets of |difference| / SD (from :func:`residuals`)."""
    return np.max(np.abs(difference) / np.sqrt(variance), axis=1)


def log_likelihood(emulator, unit_x: np.ndarray, z: np.ndarray, target_sd: np.ndarray
                   ) -> np.ndarray:
    """Per point (rows of ``unit_x``), the log-likelihood of the targets ``z`` (SDs
    ``target_sd``) given the emulator's prediction there (see the module docstring)."""
    return _log_likelihood(*residuals(emulator, unit_x, z, target_sd))


def _log_likelihood(difference: np.ndarray, variance: np.ndarray) -> np.ndarray:
    return -0.5 * np.sum(difference**2 / variance + np.log(variance), axis=1)


def gaussian_posterior(spec, emulator, z: np.ndarray, target_sd: np.ndarray, cut: float
                       ) -> tuple[pd.DataFrame, dict]:
    """``abc.population`` particles of the posterior (see the module docstring), weight
    1 / population each, and the record of how they were made (the line and its figures, as
    ``abc_stop.json``); no particles when history matching ruled out every candidate (its
    implausibility, against these targets, at ``cut`` or above)."""
    space, cfg = spec.space, spec.abc
    rng = np.random.default_rng(point_seed(spec.master_seed, "gaussian-posterior"))

    def log_posterior(unit: np.ndarray) -> np.ndarray:
        inside = np.all((unit >= 0) & (unit <= 1), axis=1)
        inside[inside] = [space.allowed(x, spec.fixed) for x in space.from_unit(unit[inside])]
        out = np.full(len(unit), -np.inf)
        if inside.any():
            difference, variance = residuals(emulator, unit[inside], z, target_sd)
            kept = implausibility_of(difference, variance) < cut
            out[np.flatnonzero(inside)[kept]] = _log_likelihood(difference[kept],
                                                                 variance[kept])
        return out

    kept, log_p = [], []
    for start in range(0, cfg["candidates"], CHUNK):
        unit = rng.random((min(CHUNK, cfg["candidates"] - start), space.dim))
        values = log_posterior(unit)
        kept.append(unit[np.isfinite(values)])
        log_p.append(values[np.isfinite(values)])
    unit, log_p = np.concatenate(kept), np.concatenate(log_p)
    walkers = max(4 * space.dim, MIN_WALKERS)
    if len(unit) < walkers:
        return pd.DataFrame(), {
            "reason": "ruled out", "generations": 0, "simulations": 0, "epsilons": [],
            "line": f"{spec.path}: history matching left {len(unit):,} of "
                    f"{cfg['candidates']:,} candidate points, fewer than the {walkers} the "
                    "sampler starts from: there is no posterior (check the targets and their "
                    "SDs, or raise abc.candidates)"}
    start = unit[np.argsort(-log_p, kind="stable")[:walkers]]
    sampler = emcee.EnsembleSampler(walkers, space.dim, log_posterior, vectorize=True,
                                    moves=MOVES)
    sampler.random_state = np.random.RandomState(
        point_seed(spec.master_seed, "emcee") % 2**32).get_state()
    sampler.run_mcmc(start, cfg["steps"], progress=False)
    burn = cfg["steps"] // 2
    chain = sampler.get_chain(discard=burn, flat=True)
    logging.getLogger("emcee").setLevel(logging.ERROR)  # the line below says it instead
    tau = float(np.max(sampler.get_autocorr_time(discard=burn, quiet=True)))
    independent = len(chain) / tau
    picked = np.linspace(0, len(chain) - 1, cfg["population"]).round().astype(int)
    particles = pd.DataFrame(space.from_unit(chain[picked]), columns=list(space.names))
    particles["weight"] = 1.0 / cfg["population"]
    acceptance = float(np.mean(sampler.acceptance_fraction))
    line = (f"posterior by the targets' Gaussian likelihood on the emulator (abc.kernel: "
            f"gaussian): emcee, {walkers} walkers x {cfg['steps']:,} steps from the most likely "
            f"of {len(unit):,} points not ruled out, acceptance {acceptance:.2f}, "
            f"autocorrelation time {tau:.0f} steps: about {independent:,.0f} independent draws; "
            f"{cfg['population']:,} particles kept")
    if cfg["steps"] - burn < SHORTEST * tau:
        line += (f" (warning: the chain kept is shorter than {SHORTEST} autocorrelation times; "
                 "raise abc.steps)")
    return particles, {"reason": "likelihood", "line": line, "generations": 0,
                       "simulations": 0, "epsilons": [], "walkers": walkers,
                       "steps": cfg["steps"], "acceptance": acceptance,
                       "autocorrelation_time": tau, "effective_sample_size": independent,
                       "not_ruled_out": len(unit)}
