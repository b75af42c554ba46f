"""The model as a ready EMA workbench model, so exploratory modellers get it in one line::

    from ema_workbench import SequentialEvaluator
    from abm.analysis.ema import model

    with SequentialEvaluator(model("devon_ics", years=10)) as evaluator:
        experiments, outcomes = evaluator.perform_experiments(scenarios=100, policies=4)

Uncertainties and levers come from the parameter declaration (:mod:`abm.model.parameters`): the
commissioning parameters and the choice of commissioning rules are levers (what an ICS
decides); every other parameter except run size and valuation is an uncertainty, sampled
over its plausible range (``plausible_low``/``plausible_high`` where the declaration gives
them, its validity bounds ``low``/``high`` otherwise). Outcomes are the run summary's key
columns, to be maximised or minimised as the codebook says. Place, policy years, seed and run
size are constants: every experiment uses the same seed (common random numbers).
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from typing import Any

with warnings.catch_warnings():
    warnings.simplefilter("ignore")  # ema_workbench warns that optional extras are missing
    import ema_workbench as ema

from abm.analysis.codebook import lookup
from abm.model.parameters import BY_NAME, PARAMETERS, Parameter

#: Parameter groups that are neither levers nor uncertainties: run size and valuation.
FIXED_GROUPS = ("run size", "valuation")
#: Parameter groups an ICS decides: levers.
LEVER_GROUPS = ("commissioning",)
#: Commissioning rules offered as a lever (combinations as the shipped scenarios use them).
RULE_CHOICES = ("status_quo", "proportionate_universalism", "scale", "embed", "sustain",
                "scale+embed", "scale+sustain", "embed+sustain", "scale+embed+sustain")
#: Summary columns reported as outcomes.
OUTCOMES = ("mean_wellbeing", "gap_q5_q1", "sii", "wellbeing_q1", "wellbeing_q5",
            "p_attending_q1", "p_attending_q5", "provider_survival", "closures_per_year",
            "spend_gbp", "wellbeing_years")


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


def run_experiment(place: str, years: float, seed: int, rules: str, **parameters: Any
                   ) -> dict[str, float]:
    """One experiment: run the model and return the outcome columns of its summary."""
    from abm.model.model import CommunityAssetsModel

    values = {name: (BY_NAME[name].type(value) if BY_NAME[name].type is int else float(value))
              for name, value in parameters.items()}
    summary = CommunityAssetsModel(place, rules, seed, values).run(years).summary().iloc[0]
    return {name: float(summary[name]) for name in OUTCOMES}


def model(place: str = "devon_ics", years: float = 10.0, seed: int = 0, *,
          uncertainties: Sequence[str] | None = None, levers: Sequence[str] | None = None,
          rules: Sequence[str] = RULE_CHOICES, run_size: dict[str, int] | None = None,
          name: str = "community_assets") -> ema.Model:
    """The project's model as an EMA workbench ``Model``.

    ``uncertainties``/``levers``: parameter names (default: every parameter outside
    :data:`FIXED_GROUPS`, commissioning ones as levers); ``rules``: the commissioning-rule
    choices offered as the ``rules`` lever; ``run_size``: fixed run-size parameters, e.g.
    ``{"n_neighbourhoods": 50}``. Sampled points that break a cross-parameter constraint (two
    awareness rates summing above 1) fail with the model's own message.
    """
    free = [p for p in PARAMETERS if p.group not in FIXED_GROUPS]
    lever_names = list(levers) if levers is not None else [
        p.name for p in free if p.group in LEVER_GROUPS]
    uncertain_names = list(uncertainties) if uncertainties is not None else [
        p.name for p in free if p.group not in LEVER_GROUPS]
    unknown = [n for n in (*lever_names, *uncertain_names, *(run_size or {}))
               if n not in BY_NAME]
    if unknown:
        raise ValueError(f"unknown parameters: {', '.join(unknown)} (see `abm parameters`)")
    ema_model = ema.Model(name, function=run_experiment)
    ema_model.uncertainties = [_ema_parameter(BY_NAME[n]) for n in uncertain_names]
    ema_model.levers = [ema.CategoricalParameter("rules", list(rules)),
                        *(_ema_parameter(BY_NAME[n]) for n in lever_names)]
    ema_model.constants = [ema.Constant("place", place), ema.Constant("years", years),
                           ema.Constant("seed", seed),
                           *(ema.Constant(k, v) for k, v in (run_size or {}).items())]
    ema_model.outcomes = [ema.ScalarOutcome(n, kind=_kind(n)) for n in OUTCOMES]
    return ema_model


def _kind(column: str) -> int:
    better = lookup(column, "summary").better
    return {"higher": ema.ScalarOutcome.MAXIMIZE,
            "lower": ema.ScalarOutcome.MINIMIZE}.get(better, ema.ScalarOutcome.INFO)
