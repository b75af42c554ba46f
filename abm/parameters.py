"""Every model parameter, declared once.

Each :class:`Parameter` carries its type, unit, allowed range, default, a one-line meaning,
a plain-language label (for workshop sliders) and the source of its default: a citation,
"calibrated" or "assumption". Scenario validation, the command line, the browser sliders
and the sensitivity-analysis problem all read :data:`PARAMETERS`; nothing else declares a
parameter, so they cannot drift apart.

Money is in pounds sterling (GBP) at the prices of its source; wellbeing is life
satisfaction on the ONS 0-10 scale; rates are per week unless the unit says otherwise.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from abm.errors import InputError


class ParameterError(InputError):
    """One or more parameter values were rejected; ``problems`` holds one line each."""


@dataclass(frozen=True)
class Parameter:
    """A model parameter: what it means, its unit, what values it may take and why."""

    name: str
    type: type  # int or float
    default: int | float
    low: int | float
    high: int | float
    unit: str
    meaning: str
    source: str
    group: str
    label: str  # plain-language name for sliders and workshop handouts

    def allowed(self) -> str:
        """Describe the allowed values, e.g. 'a number from 0 to 1 (per week)'."""
        kind = "a whole number" if self.type is int else "a number"
        return f"{kind} from {_fmt(self.low)} to {_fmt(self.high)} ({self.unit})"

    def problem_with(self, value: Any) -> str | None:
        """Return a one-line description of what is wrong with ``value``, or None if it is fine."""
        ok_type = (
            isinstance(value, int) and not isinstance(value, bool)
            if self.type is int
            else isinstance(value, int | float) and not isinstance(value, bool)
        )
        if not ok_type:
            return (
                f"parameter '{self.name}' has the wrong type: got {value!r}, "
                f"allowed is {self.allowed()}"
            )
        if not self.low <= value <= self.high:
            return (f"parameter '{self.name}' = {value!r} is out of range: "
                    f"allowed is {self.allowed()}")
        return None


def _fmt(x: int | float) -> str:
    return f"{x:,}" if isinstance(x, int) else f"{x:g}"


def _p(name, type_, default, low, high, unit, meaning, source, group, label) -> Parameter:
    return Parameter(name, type_, default, low, high, unit, meaning, source, group, label)


PARAMETERS: tuple[Parameter, ...] = (
    # --- run size -------------------------------------------------------------------------
    _p("n_neighbourhoods", int, 200, 10, 20_000, "neighbourhoods",
       "LSOA-like neighbourhoods simulated, drawn to match the place's IMD decile shares",
       "assumption: run size; the place's LSOA count gives a full-size run",
       "run size", "Neighbourhoods simulated"),
    _p("residents_per_neighbourhood", int, 100, 5, 5_000, "residents",
       "simulated residents per neighbourhood; each stands for (people per LSOA / this) people",
       "assumption: run size; about 1,700 gives one agent per person",
       "run size", "Simulated residents per neighbourhood"),
    _p("burn_in_years", int, 3, 0, 20, "years",
       "years run under the status quo before the scenario's rules start; outcomes count after",
       "assumption: long enough for engagement and provider finances to settle",
       "run size", "Warm-up years before the policy starts"),
    # --- residents ------------------------------------------------------------------------
    _p("deprivation_spread", float, 0.08, 0.0, 0.5, "deprivation score, 0-1",
       "standard deviation of a resident's deprivation around their neighbourhood's score",
       "assumption", "residents", "How much people differ from their area"),
    _p("capacity_least_deprived", float, 0.85, 0.0, 1.0, "share, 0-1",
       "mean capacity to take part (time, money, transport, confidence) in the least deprived area",
       "assumption", "residents", "Capacity to take part (affluent areas)"),
    _p("capacity_deprivation_effect", float, 0.4, 0.0, 1.0, "share, 0-1",
       "how much lower mean capacity to take part is in the most deprived area",
       "assumption guided by arts engagement 82% vs 65% in upper vs lower socio-economic groups "
       "(DCMS Taking Part 2009/10)",
       "residents", "Capacity lost to deprivation"),
    _p("capacity_spread", float, 0.15, 0.0, 0.5, "share, 0-1",
       "standard deviation of capacity to take part between residents",
       "assumption", "residents", "How much capacity varies"),
    _p("ties_per_resident", float, 6.0, 0.0, 50.0, "ties",
       "mean number of social ties (friends, family, neighbours) per resident",
       "assumption", "residents", "Friends per person"),
    _p("ties_outside_neighbourhood", float, 0.25, 0.0, 1.0, "share, 0-1",
       "share of ties to residents of nearby neighbourhoods rather than one's own",
       "assumption", "residents", "Friends living further away"),
    # --- wellbeing ------------------------------------------------------------------------
    _p("wellbeing_least_deprived", float, 8.05, 0.0, 10.0, "life satisfaction, 0-10",
       "baseline life satisfaction in the least deprived area, without needs or asset benefit",
       "calibrated by hand so the mean is near the UK's 7.45 (ONS personal well-being, "
       "year to March 2023)",
       "wellbeing", "Baseline wellbeing (affluent areas)"),
    _p("wellbeing_deprivation_gradient", float, 0.6, 0.0, 5.0, "life satisfaction points",
       "how much lower baseline life satisfaction is in the most than the least deprived area",
       "assumption scaled from the WEMWBS gap by area deprivation, men 48.6 vs 51.5 "
       "(Health Survey for England 2016)",
       "wellbeing", "Wellbeing gap built into deprivation"),
    _p("wellbeing_spread", float, 1.0, 0.0, 3.0, "life satisfaction points",
       "standard deviation of baseline life satisfaction between residents",
       "assumption", "wellbeing", "How much wellbeing varies"),
    _p("wellbeing_adjust_rate", float, 0.05, 0.001, 1.0, "per week",
       "share of the distance to its target that wellbeing moves each week",
       "assumption: half-life about 14 weeks", "wellbeing", "Speed wellbeing changes"),
    # --- needs and shocks -----------------------------------------------------------------
    _p("shock_rate", float, 0.004, 0.0, 0.2, "per week",
       "weekly chance of a life shock (bereavement, job loss, illness) in the least deprived area",
       "assumption: about one shock in five years", "needs", "Life shocks (affluent areas)"),
    _p("shock_deprivation_ratio", float, 2.0, 1.0, 10.0, "ratio",
       "how many times more often shocks strike in the most than the least deprived area",
       "assumption in line with low life satisfaction 17.1% vs 8.9% in the most vs least "
       "deprived thirds (Bellis et al., BMC Public Health 2012;12:492)",
       "needs", "How much more often shocks hit deprived areas"),
    _p("shock_size", float, 0.6, 0.0, 1.0, "need, 0-1",
       "need (loneliness, low mood) added by one shock", "assumption", "needs",
       "Size of a shock"),
    _p("need_recovery_rate", float, 0.02, 0.0, 1.0, "per week",
       "share of need that fades each week", "assumption: half-life about 35 weeks",
       "needs", "Speed of recovery from a shock"),
    _p("need_wellbeing_penalty", float, 2.0, 0.0, 10.0, "life satisfaction points",
       "life satisfaction lost at full need", "assumption", "needs",
       "Wellbeing lost to unmet need"),
    # --- awareness, trust and engagement --------------------------------------------------
    _p("awareness_initial", float, 0.3, 0.0, 1.0, "share, 0-1",
       "awareness of and trust in local assets at the start of the burn-in",
       "assumption; the burn-in washes it out", "engagement", "Starting awareness"),
    _p("outreach_awareness_rate", float, 0.03, 0.0, 1.0, "per week",
       "weekly gain in awareness from local providers' outreach at full outreach",
       "assumption", "engagement", "Reach of providers' outreach"),
    _p("social_awareness_rate", float, 0.05, 0.0, 1.0, "per week",
       "weekly gain in awareness when all of one's ties attend", "assumption", "engagement",
       "Word of mouth"),
    _p("awareness_decay", float, 0.01, 0.0, 1.0, "per week",
       "share of awareness and trust forgotten each week", "assumption", "engagement",
       "Forgetting"),
    _p("closure_trust_loss", float, 0.3, 0.0, 1.0, "share, 0-1",
       "share of awareness and trust lost by a neighbourhood's residents when a local provider "
       "closes",
       "assumption: trust is slow to rebuild after closures", "engagement",
       "Trust lost when a group closes"),
    _p("uptake_rate", float, 0.015, 0.0, 1.0, "per week",
       "weekly chance of starting for a fully aware, able and motivated resident with a place",
       "assumption; to be calibrated", "engagement", "Willingness to start"),
    _p("need_motivation", float, 2.0, 0.0, 10.0, "ratio",
       "how much need raises the wish to take part: motivation = (1 + this x need) / (1 + this)",
       "assumption", "engagement", "Need as a reason to join"),
    _p("social_pull", float, 1.0, 0.0, 10.0, "ratio",
       "extra chance of starting when all of one's ties attend (friends pull you in)",
       "assumption", "engagement", "Friends pulling you in"),
    _p("travel_distance_km", float, 2.0, 0.1, 50.0, "km",
       "distance at which the pull of a provider falls to 1/e (37%)", "assumption",
       "engagement", "How far people travel"),
    _p("urban_spacing_km", float, 1.0, 0.1, 20.0, "km",
       "distance between the centres of neighbouring urban neighbourhoods", "assumption",
       "engagement", "Distance between urban areas"),
    _p("rural_spacing_km", float, 4.0, 0.1, 50.0, "km",
       "distance between the centres of neighbouring rural neighbourhoods",
       "assumption: rural LSOAs cover far more ground", "engagement",
       "Distance between rural areas"),
    _p("dropout_rate", float, 0.01, 0.0, 1.0, "per week",
       "weekly chance that an attender with full capacity stops", "assumption",
       "engagement", "Dropping out"),
    _p("dropout_capacity_effect", float, 2.0, 0.0, 20.0, "ratio",
       "drop-out is multiplied by (1 + this x (1 - capacity))", "assumption", "engagement",
       "Drop-out from low capacity"),
    _p("dropout_memory_weeks", int, 52, 1, 1_040, "weeks",
       "how long a resident who stopped stays reluctant to start again", "assumption",
       "engagement", "Time before trying again"),
    _p("reengage_factor", float, 0.5, 0.0, 1.0, "ratio",
       "chance of starting again while reluctant after stopping, relative to a first start",
       "assumption", "engagement", "Coming back after dropping out"),
    # --- benefit of attending -------------------------------------------------------------
    _p("attendance_effect", float, 0.5, 0.0, 3.0, "life satisfaction points",
       "mean benefit of regular attendance at full dose",
       "assumption; community asset participation gives EQ-5D +0.039 (Munford et al., "
       "BMJ Open 2017;7:e012374)", "benefit", "Benefit of taking part"),
    _p("attendance_effect_spread", float, 0.1, 0.0, 1.0, "life satisfaction points",
       "standard deviation of the benefit between providers", "assumption", "benefit",
       "How much providers differ"),
    _p("benefit_build_rate", float, 0.05, 0.0, 1.0, "per week",
       "share of the remaining benefit gained per week of attendance (dose response)",
       "assumption", "benefit", "Speed benefit builds"),
    _p("benefit_decay_rate", float, 0.05, 0.0, 1.0, "per week",
       "share of the benefit lost per week after stopping", "assumption", "benefit",
       "Speed benefit fades"),
    _p("stop_need_shock", float, 0.25, 0.0, 1.0, "need, 0-1",
       "need added when one's group closes (loss of the group and its friendships)",
       "assumption sized so that stopping costs more than starting gains: -0.102 vs +0.056 "
       "QALY at 18 months (Munford et al., BMJ Open 2020;10:e033186)",
       "benefit", "Harm when a group closes"),
    # --- providers ------------------------------------------------------------------------
    _p("providers_per_neighbourhood", float, 2.0, 0.0, 20.0, "providers",
       "mean number of provider places (slots) per neighbourhood at the start", "assumption",
       "providers", "Groups per neighbourhood"),
    _p("provider_location_gradient", float, 0.5, 0.0, 1.0, "share, 0-1",
       "how much rarer providers are in the most than the least deprived area",
       "assumption: inverse care law (Tudor Hart, Lancet 1971)", "providers",
       "Fewer groups in deprived areas"),
    _p("provider_capacity", int, 100, 1, 1_000, "participants",
       "regular participants one provider can take when it has an ICS grant", "assumption",
       "providers", "Places per group"),
    _p("unfunded_capacity_share", float, 0.6, 0.0, 1.0, "share, 0-1",
       "share of its places a provider keeps running without an ICS grant (fewer sessions); "
       "attenders beyond that lose their place when a grant ends",
       "assumption: short grants end in cliff edges (Creating Change, West Yorkshire)",
       "providers", "Places kept without a grant"),
    _p("provider_running_cost_gbp", float, 40_000.0, 1_000.0, 1_000_000.0, "GBP per year",
       "running cost of one provider",
       "assumption: about 90% of charities that close have income under GBP 100k (Charity "
       "Commission data as reported)", "providers", "Running cost of a group"),
    _p("earned_income_share", float, 0.95, 0.0, 1.0, "share, 0-1",
       "share of running costs met by fees, donations and other funders in the least deprived "
       "area", "assumption", "providers", "Own income (affluent areas)"),
    _p("earned_income_deprivation_effect", float, 0.4, 0.0, 1.0, "share, 0-1",
       "how much lower that share is in the most deprived area (proportionally)",
       "assumption", "providers", "Own income lost to deprivation"),
    _p("reserves_months", float, 4.0, 0.0, 36.0, "months of running cost",
       "reserves a provider starts with", "assumption", "providers", "Starting reserves"),
    _p("bid_capacity_least_deprived", float, 0.7, 0.0, 1.0, "score, 0-1",
       "mean bid-writing capacity of providers in the least deprived area", "assumption",
       "providers", "Bid-writing capacity (affluent areas)"),
    _p("bid_capacity_deprivation_effect", float, 0.4, 0.0, 1.0, "score, 0-1",
       "how much lower mean bid-writing capacity is in the most deprived area", "assumption",
       "providers", "Bid-writing capacity lost to deprivation"),
    _p("bid_capacity_spread", float, 0.15, 0.0, 0.5, "score, 0-1",
       "standard deviation of bid-writing capacity between providers", "assumption",
       "providers", "How much bid-writing differs"),
    _p("bid_cost_share", float, 0.05, 0.0, 1.0, "share of the grant sought",
       "cost to a provider of writing one competitive bid, as a share of the grant it asks for",
       "assumption", "providers", "Cost of writing a bid"),
    _p("refounding_delay_years", float, 1.5, 0.1, 20.0, "years",
       "mean time before a closed provider's place is taken by a new one", "assumption",
       "providers", "Time to re-found a group"),
    _p("provider_outreach", float, 0.5, 0.0, 1.0, "share, 0-1",
       "outreach effort of an open provider in its neighbourhood", "assumption", "providers",
       "Outreach by groups"),
    # --- commissioning --------------------------------------------------------------------
    _p("budget_gbp_per_head", float, 10.0, 0.0, 1_000.0, "GBP per resident per year",
       "ICS commissioning budget for community assets", "assumption", "commissioning",
       "ICS budget per resident"),
    _p("grant_years", int, 1, 1, 10, "years",
       "length of a status quo competitive grant",
       "360Giving 2021/22: only 4.7% of grants (13% of funding) run 3 years or more",
       "commissioning", "Length of a short grant"),
    _p("grant_reserve_margin", float, 0.1, 0.0, 1.0, "share, 0-1",
       "share above a provider's funding gap that a grant pays, to rebuild reserves",
       "assumption", "commissioning", "Grant margin for reserves"),
    _p("bid_noise", float, 0.2, 0.0, 2.0, "score",
       "standard deviation of chance in how bids are scored", "assumption", "commissioning",
       "Luck in bidding"),
    _p("pu_weight", float, 1.0, 0.0, 10.0, "score per unit deprivation",
       "weight of catchment deprivation under proportionate universalism: added to grant "
       "scores, and new providers are placed in proportion to 1 + this x deprivation",
       "assumption (Marmot Review 2010 sets the principle, not the weight)", "commissioning",
       "Priority to deprived areas"),
    _p("core_grant_years", int, 3, 1, 10, "years",
       "length of a multi-year core grant under the sustain rule", "assumption",
       "commissioning", "Length of a core grant"),
    _p("embed_budget_share", float, 0.15, 0.0, 1.0, "share, 0-1",
       "share of the budget spent on link workers under the embed rule", "assumption",
       "commissioning", "Budget share for link workers"),
    _p("scale_budget_share", float, 0.15, 0.0, 1.0, "share, 0-1",
       "share of the budget spent founding new providers under the scale rule", "assumption",
       "commissioning", "Budget share for new groups"),
    _p("founding_cost_gbp", float, 10_000.0, 0.0, 1_000_000.0, "GBP per provider",
       "one-off cost of founding a new provider under the scale rule", "assumption",
       "commissioning", "Cost of starting a group"),
    # --- link workers and referral --------------------------------------------------------
    _p("link_workers_per_100k", float, 6.0, 0.0, 100.0, "FTE per 100,000 people",
       "nationally funded social prescribing link workers, under every rule, spread by "
       "population",
       "assumption: about 3,500 link workers for 56 million people in England",
       "referral", "Link workers already in place"),
    _p("link_worker_cost_gbp", float, 40_000.0, 1_000.0, 500_000.0, "GBP per FTE per year",
       "cost of one link worker, with on-costs", "assumption", "referral",
       "Cost of a link worker"),
    _p("referrals_per_link_worker", float, 7.0, 0.0, 100.0, "referrals per FTE per week",
       "new referrals one link worker takes each week",
       "1.3 million referrals in England in 2023 (Bu et al., Lancet Public Health 2025) "
       "over about 3,500 link workers", "referral", "Referrals per link worker"),
    _p("referral_need_threshold", float, 0.3, 0.0, 1.0, "need, 0-1",
       "need above which a resident not attending may be referred", "assumption", "referral",
       "Need that leads to referral"),
    _p("referral_weeks", int, 12, 1, 104, "weeks",
       "how long a referral stays open", "assumption", "referral", "Length of a referral"),
    _p("follow_up_share", float, 0.45, 0.0, 1.0, "share, 0-1",
       "share of referred residents who get follow-up (3+ link worker contacts)",
       "45% saw the link worker 3+ times (Mercer et al., Ann Fam Med 2019)", "referral",
       "Follow-up after referral"),
    _p("embed_follow_up_share", float, 0.8, 0.0, 1.0, "share, 0-1",
       "share of referred residents followed up under the embed rule", "assumption",
       "referral", "Follow-up when embedded"),
    _p("referral_boost_followed", float, 6.0, 1.0, 100.0, "ratio",
       "how many times likelier a followed-up referred resident is to start", "assumption",
       "referral", "Effect of a followed-up referral"),
    _p("referral_boost_unfollowed", float, 1.3, 1.0, 100.0, "ratio",
       "how many times likelier a referred resident without follow-up is to start",
       "assumption: referral alone gave no effect (Mercer et al., Ann Fam Med 2019)",
       "referral", "Effect of a referral alone"),
    _p("follow_up_capacity_boost", float, 0.3, 0.0, 1.0, "share, 0-1",
       "capacity to take part added by link worker help (transport, confidence) while followed up",
       "assumption", "referral", "Practical help from link workers"),
    # --- valuation ------------------------------------------------------------------------
    _p("wellby_value_gbp", float, 13_000.0, 0.0, 1_000_000.0, "GBP per WELLBY (2019 prices)",
       "value of one WELLBY (one point of life satisfaction for one person for one year)",
       "HM Treasury Green Book wellbeing guidance, 2021", "valuation", "Value of a WELLBY"),
)

BY_NAME: dict[str, Parameter] = {p.name: p for p in PARAMETERS}


def _cross_problems(values: Mapping[str, Any]) -> list[str]:
    """Problems that involve more than one parameter."""
    total = values["outreach_awareness_rate"] + values["social_awareness_rate"]
    if total > 1:
        return [f"parameters 'outreach_awareness_rate' + 'social_awareness_rate' = {total:g} "
                "exceed 1: awareness could otherwise exceed 1"]
    return []


def problems(overrides: Mapping[str, Any]) -> list[str]:
    """Check parameter overrides against the declaration; return one line per problem."""
    found = []
    for name, value in overrides.items():
        parameter = BY_NAME.get(name)
        if parameter is None:
            found.append(unknown_name_message("parameter", name, BY_NAME, "abm parameters"))
        elif (problem := parameter.problem_with(value)) is not None:
            found.append(problem)
    if not found:
        found = _cross_problems({**defaults(), **overrides})
    return found


def unknown_name_message(what: str, name: object, allowed: Mapping[str, Any] | list[str],
                         list_command: str | None = None) -> str:
    """One line saying ``name`` is not a known ``what``, with the closest match if there is one.

    Long lists are replaced by a pointer to ``list_command`` (e.g. ``abm parameters``).
    """
    names = sorted(allowed)
    close = difflib.get_close_matches(str(name), names, n=1)
    hint = f"did you mean '{close[0]}'? " if close else ""
    if list_command and len(names) > 12:
        listing = f"see `{list_command}` for the full list"
    else:
        listing = "allowed are " + ", ".join(names)
    return f"unknown {what} '{name}': {hint}{listing}"


def defaults() -> dict[str, int | float]:
    """Every parameter at its default."""
    return {p.name: p.default for p in PARAMETERS}


class Params(Mapping[str, Any]):
    """A validated, complete and read-only set of parameter values.

    Read values as attributes (``params.shock_rate``) or as a mapping (``params["shock_rate"]``).
    """

    __slots__ = ("_values",)

    def __init__(self, overrides: Mapping[str, Any] | None = None):
        overrides = dict(overrides or {})
        found = problems(overrides)
        if found:
            raise ParameterError(found)
        values = defaults()
        for name, value in overrides.items():
            values[name] = BY_NAME[name].type(value)
        object.__setattr__(self, "_values", values)

    def __getattr__(self, name: str) -> Any:
        try:
            return self._values[name]
        except KeyError:
            raise AttributeError(name) from None

    def __setattr__(self, name: str, value: Any) -> None:
        raise AttributeError("Params are read-only; make a new Params with the change")

    def __getitem__(self, name: str) -> Any:
        return self._values[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self._values)

    def __len__(self) -> int:
        return len(self._values)

    def __repr__(self) -> str:
        changed = {k: v for k, v in self._values.items() if v != BY_NAME[k].default}
        return f"Params({changed})"

    def replace(self, **changes: Any) -> Params:
        """A copy with some values changed (validated)."""
        return Params({**self.overridden(), **changes})

    def overridden(self) -> dict[str, Any]:
        """The values that differ from their defaults."""
        return {k: v for k, v in self._values.items() if v != BY_NAME[k].default}
