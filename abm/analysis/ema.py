"""The model as a ready EMA workbench model, so exploratory modellers get it in one line::

    from ema_workbench import SequentialEvaluator
    from abm.analysis.ema import model

    with SequentialEvaluator(model("devon_ics", years=10, seeds=5)) as evaluator:
        experiments, outcomes = evaluator.perform_experiments(scenarios=100, policies=4)

It is an EMA ``ReplicatorModel``: each experiment (a point of the uncertainties and a policy)
is run at every seed of ``seeds`` (EMA's replications), and each run is paired with the status
quo at the same seed and the same point of the uncertainties: the status quo's rules and the
status quo's value of every policy lever (abm/analysis/levers.py), so the effect is the
policy's alone (common random numbers). Outcomes are those paired effects, ``delta_<column>``
= the policy's run summary minus its status quo's: their mean over the seeds (a
``ScalarOutcome``, to be maximised or minimised as the codebook says) and the value at each
seed (``delta_<column>_by_seed``, an ``ArrayOutcome``, for intervals). The status quo run of
a point and seed is made once per process and reused by every policy.

Uncertainties and levers come from the parameter declaration (:mod:`abm.model.parameters`):
the parameters marked ``lever`` (money, the rules' budget shares, targeting, grant lengths)
and the choice of commissioning rules are levers; every other parameter except run size and
valuation is an uncertainty, sampled over its plausible range (``plausible_low`` to
``plausible_high`` where the declaration gives them, its validity bounds otherwise). Place,
policy years and run size are constants.
"""

from __future__ import annotations

import functools
import warnings
from collections.abc import Sequence
from typing import Any

import numpy as np

with warnings.catch_warnings():
    warnings.simplefilter("ignore")  # ema_workbench warns that optional extras are missing
    import ema_workbench as ema

from abm.analysis.codebook import lookup
from abm.analysis.levers import carrying_on
from abm.model.parameters import BY_NAME, PARAMETERS, Parameter

#: Parameter groups that are neither levers nor uncertainties: run size and valuation.
FIXED_GROUPS = ("run size", "valuation")
#: Commissioning rules offered as a lever (combinations as the shipped scenarios use them).
RULE_CHOICES = ("status_quo", "proportionate_universalism", "scale", "embed", "sustain",
                "develop", "scale+embed", "scale+sustain", "embed+sustain",
                "scale+embed+sustain", "develop+scale+embed+sustain")
#: Summary columns whose paired effects (``delta_<column>``) are the outcomes: WELLBYs gained
#: (wellbeing-years, undiscounted and discounted), the q5 - q1 gap and the slope index, mean
#: wellbeing and that of the most deprived fifth, its uptake, and extra spend (GBP,
#: undiscounted and discounted).
EFFECTS = ("wellbeing_years", "wellbeing_years_disc", "gap_q5_q1", "sii", "mean_wellbeing",
           "wellbeing_q1", "p_attending_q1", "spend_gbp", "spend_gbp_disc")
#: Seeds each experiment is run at, unless ``model(seeds=...)`` says otherwise.
DEFAULT_SEEDS = 3


def sampling_range(parameter: Parameter) -> tuple[float, float]:
    """The range to sample: the declared plausible range, else the validity bounds."""
    low = getattr(parameter, "plausible_low", None)
    high = getattr(parameter, "plausible_high", None)
    return (parameter.low if low is None else low), (parameter.high if high is None else high)


def _ema_parameter(parameter: Parameter):
    low, high = sampling_range(parameter)
    if parameter.type is int:
        return ema.IntegerParameter(parameter.name, int(low), int(high))
    return ema.RealParameter(parameter.name, float(low), float(high))


def _typed(parameters: dict[str, Any]) -> dict[str, Any]:
    """EMA's sampled values as the declared types (numpy numbers, whole floats)."""
    return {name: (int(value) if BY_NAME[name].type is int else float(value))
            for name, value in parameters.items()}


def run_summary(place: str, years: float, seed: int, rules: str,
                parameters: tuple[tuple[str, Any], ...]) -> dict[str, float]:
    """One run's summary columns of :data:`EFFECTS`."""
    from abm.model.model import CommunityAssetsModel

    summary = CommunityAssetsModel(place, rules, seed, dict(parameters)).run(years).summary()
    return {name: float(summary.iloc[0][name]) for name in EFFECTS}


@functools.lru_cache(maxsize=4096)
def status_quo_summary(place: str, years: float, seed: int,
                       parameters: tuple[tuple[str, Any], ...]) -> dict[str, float]:
    """The status quo run of a point of the uncertainties at ``seed`` (cached: every policy
    at that point and seed is paired with it)."""
    return run_summary(place, years, seed, "status_quo", parameters)


def paired_effects(place: str, years: float, seed: int, rules: str, **parameters: Any
                   ) -> dict[str, float]:
    """One replication: the policy's run minus its status quo at the same seed and point of
    the uncertainties (``delta_<column>`` for each of :data:`EFFECTS`)."""
    values = _typed(parameters)
    ours = run_summary(place, years, int(seed), rules, tuple(sorted(values.items())))
    today = status_quo_summary(place, years, int(seed),
                               tuple(sorted(carrying_on(values).items())))
    return {f"delta_{name}": ours[name] - today[name] for name in EFFECTS}


def model(place: str = "devon_ics", years: float = 10.0, seeds: int | Sequence[int] =
          DEFAULT_SEEDS, *, uncertainties: Sequence[str] | None = None,
          levers: Sequence[str] | None = None, rules: Sequence[str] = RULE_CHOICES,
          run_size: dict[str, int] | None = None, name: str = "community_assets"
          ) -> ema.ReplicatorModel:
    """The project's model as an EMA workbench ``ReplicatorModel`` of paired effects.

    ``seeds``: how many seeds (1, 2, ...) or which, each a replication; ``uncertainties``/
    ``levers``: parameter names (default: the declaration's levers, and every other
    parameter outside :data:`FIXED_GROUPS`); ``rules``: the commissioning-rule choices
    offered as the ``rules`` lever; ``run_size``: fixed run-size parameters, e.g.
    ``{"n_neighbourhoods": 50}``. Sampled points that break a cross-parameter constraint (two
    awareness rates summing above 1) fail with the model's own message.
    """
    free = [p for p in PARAMETERS if p.group not in FIXED_GROUPS]
    lever_names = list(levers) if levers is not None else [p.name for p in free if p.lever]
    uncertain_names = list(uncertainties) if uncertainties is not None else [
        p.name for p in free if not p.lever]
    unknown = [n for n in (*lever_names, *uncertain_names, *(run_size or {}))
               if n not in BY_NAME]
    if unknown:
        raise ValueError(f"unknown parameters: {', '.join(unknown)} (see `abm parameters`)")
    seed_list = list(range(1, seeds + 1)) if isinstance(seeds, int) else [int(s) for s in seeds]
    if not seed_list:
        raise ValueError("seeds: allowed is at least one seed")
    ema_model = ema.ReplicatorModel(name, function=paired_effects)
    ema_model.replications = [{"seed": seed} for seed in seed_list]
    ema_model.uncertainties = [_ema_parameter(BY_NAME[n]) for n in uncertain_names]
    ema_model.levers = [ema.CategoricalParameter("rules", list(rules)),
                        *(_ema_parameter(BY_NAME[n]) for n in lever_names)]
    ema_model.constants = [ema.Constant("place", place), ema.Constant("years", years),
                           *(ema.Constant(k, v) for k, v in (run_size or {}).items())]
    ema_model.outcomes = [outcome for effect in EFFECTS for outcome in (
        ema.ScalarOutcome(f"delta_{effect}", variable_name=f"delta_{effect}",
                          function=np.mean, kind=_kind(effect)),
        ema.ArrayOutcome(f"delta_{effect}_by_seed", variable_name=f"delta_{effect}"))]
    return ema_model


def _kind(column: str) -> int:
    """Maximise an effect on a column where higher is better, minimise where lower is."""
    better = lookup(column, "summary").better
    return {"higher": ema.ScalarOutcome.MAXIMIZE,
            "lower": ema.ScalarOutcome.MINIMIZE}.get(better, ema.ScalarOutcome.INFO)
