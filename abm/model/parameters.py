"""Every model parameter, declared once.

Each :class:`Parameter` carries its type, unit, the values validation accepts (``low`` to
``high``), the narrower range that sampling explores (``plausible_low`` to
``plausible_high``: calibration priors, sensitivity analysis and uncertainty analysis), its
default, a one-line meaning, a plain-language label and workshop group (for the browser app's
sliders) and the source of its default: a citation with the figure, "calibrated" with the
calibration's id, or "assumption" (its plausible range then says how unsure we are).
Scenario validation, the command line, the browser sliders, the SALib problem and the
calibration priors all read :data:`PARAMETERS`; nothing else declares a parameter.

Settings that are not uncertain quantities (run size, valuation conventions, discount rates)
have no plausible range: samplers leave them alone.

Money is in pounds sterling (GBP) at the prices of its source; wellbeing is life
satisfaction on the ONS 0-10 scale; rates are per week unless the unit says otherwise.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from abm.files.errors import InputError, clipped, shown, unknown_name_message
from abm.files.yamlfile import LineDict

#: Plain-language slider groups of the workshop app, in the order they are shown.
WORKSHOP_GROUPS = ("Place", "Money", "How money is given", "Link workers", "Providers")


class ParameterError(InputError):
    """One or more parameter values were rejected; ``problems`` holds one line each."""


@dataclass(frozen=True)
class Parameter:
    """A model parameter: what it means, its unit, what values it may take and why."""

    name: str
    type: type  # int or float
    default: int | float
    low: int | float  # validation accepts low..high
    high: int | float
    plausible_low: int | float | None  # sampling explores plausible_low..plausible_high
    plausible_high: int | float | None
    unit: str
    meaning: str  # one line; also the help text of sliders and the command line
    source: str
    group: str
    label: str  # plain-language name for sliders and workshop handouts
    workshop: str | None = None  # slider group in the workshop app, or None
    #: A policy lever: something a commissioner chooses (money, the rules' budget shares,
    #: targeting, grant lengths), as against the world the policy acts in (the place, how
    #: people and providers behave, the evidence). Comparisons with "carrying on as today"
    #: keep the status quo's value of every lever and the scenario's value of everything
    #: else; decision support searches over levers.
    lever: bool = False

    @property
    def sampled(self) -> bool:
        """Whether samplers explore this parameter (it has a plausible range)."""
        return self.plausible_low is not None

    def allowed(self) -> str:
        """Describe the allowed values, e.g. 'a number from 0 to 1 (per week)'."""
        kind = "a whole number" if self.type is int else "a number"
        return f"{kind} from {_fmt(self.low)} to {_fmt(self.high)} ({self.unit})"

    def coerce(self, value: Any) -> int | float | None:
        """``value`` as this parameter's type, or None if it is not a number of that kind.

        Numpy integers and floats are accepted (samplers and Mesa's tools pass them), and a
        whole-valued float such as 3.0 for a whole-number parameter; booleans are not.
        """
        if isinstance(value, bool | np.bool_):
            return None
        if isinstance(value, int | np.integer):
            return self.type(int(value))
        if isinstance(value, float | np.floating):
            if self.type is float:
                return float(value)  # NaN and infinities are then out of range
            return int(value) if float(value).is_integer() else None
        return None

    def problem_with(self, value: Any) -> str | None:
        """Return a one-line description of what is wrong with ``value``, or None if it is fine."""
        number = self.coerce(value)
        if number is None:
            return (f"parameter '{self.name}' has the wrong type: got {value!r}, "
                    f"allowed is {self.allowed()}")
        if not self.low <= number <= self.high:
            return (f"parameter '{self.name}' = {value!r} is out of range: "
                    f"allowed is {self.allowed()}")
        return None


def _fmt(x: int | float) -> str:
    return f"{x:,}" if isinstance(x, int) else f"{x:g}"


def _p(name: str, type_: type, default: int | float, valid: tuple, plausible: tuple | None,
       unit: str, meaning: str, source: str, group: str, label: str,
       workshop: str | None = None, lever: bool = False) -> Parameter:
    low, high = valid
    plausible_low, plausible_high = plausible or (None, None)
    return Parameter(name, type_, default, low, high, plausible_low, plausible_high, unit,
                     meaning, source, group, label, workshop, lever)


#: QALY-to-WELLBY conversion, used to put EQ-5D evidence on the life-satisfaction scale.
_QALY = "wellbys_per_qaly"

PARAMETERS: tuple[Parameter, ...] = (
    # --- run size (settings, not sampled) ---------------------------------------------------
    _p("n_neighbourhoods", int, 200, (10, 20_000), None, "neighbourhoods",
       "LSOA-like neighbourhoods simulated, drawn to match the place's IMD decile shares",
       "setting: run size; the place's LSOA count gives a full-size run",
       "run size", "Neighbourhoods simulated"),
    _p("residents_per_neighbourhood", int, 100, (5, 5_000), None, "residents",
       "simulated residents per neighbourhood; each stands for (people per LSOA / this) people",
       "setting: run size; about 1,700 gives one agent per person",
       "run size", "Simulated residents per neighbourhood"),
    _p("burn_in_years", int, 3, (0, 20), None, "years",
       "years run under the status quo before the scenario's rules start; outcomes count after",
       "setting: long enough for engagement and provider finances to settle; some drift "
       "remains (tests/model/test_model.py bounds it), and it cancels in same-seed comparisons",
       "run size", "Warm-up years before the policy starts"),
    _p("policy_years", float, 10.0, (1 / 52, 100.0), None, "years",
       "years the scenario's rules run after the burn-in; the run ends then (Mesa's "
       "model.running turns False)",
       "setting: the consortia compare strategies over ten years",
       "run size", "Years of policy simulated"),
    # --- residents --------------------------------------------------------------------------
    _p("deprivation_spread", float, 0.08, (0.0, 0.5), (0.03, 0.15), "deprivation score, 0-1",
       "standard deviation of a resident's deprivation around their neighbourhood's score",
       "assumption: individual circumstances vary within an LSOA", "residents",
       "How much people differ from their area"),
    _p("capacity_least_deprived", float, 0.85, (0.0, 1.0), (0.7, 0.95), "share, 0-1",
       "mean capacity to take part (time, money, transport, confidence) in the least deprived area",
       "assumption", "residents", "Capacity to take part (affluent areas)"),
    _p("capacity_deprivation_effect", float, 0.4354, (0.0, 1.0), (0.2, 0.6), "share, 0-1",
       "how much lower mean capacity to take part is in the most deprived area",
       "calibrated: cal-ee53ea7ef3 (devon_ics, west_yorkshire; posterior median 0.4354, 90% "
       "interval 0.239 to 0.579); before calibration: assumption guided by arts engagement 82% vs "
       "65% in upper vs lower socio-economic groups (DCMS Taking Part 2009/10)",
       "residents", "Capacity lost to deprivation"),
    _p("capacity_spread", float, 0.15, (0.0, 0.5), (0.05, 0.25), "share, 0-1",
       "standard deviation of capacity to take part between residents",
       "assumption", "residents", "How much capacity varies"),
    _p("ties_per_resident", float, 6.0, (0.0, 50.0), (3.0, 12.0), "ties",
       "mean number of social ties (friends, family, neighbours) per resident",
       "assumption", "residents", "Friends per person"),
    _p("ties_outside_neighbourhood", float, 0.25, (0.0, 1.0), (0.1, 0.5), "share, 0-1",
       "share of ties to residents of nearby neighbourhoods rather than one's own",
       "assumption", "residents", "Friends living further away"),
    # --- wellbeing --------------------------------------------------------------------------
    _p("wellbeing_least_deprived", float, 8.231, (0.0, 10.0), (7.7, 8.6),
       "life satisfaction, 0-10",
       "mean baseline life satisfaction in the least deprived area, without need or asset "
       "benefit",
       "calibrated: cal-ee53ea7ef3 (devon_ics, west_yorkshire; posterior median 8.231, 90% "
       "interval 7.99 to 8.49); before calibration: assumption, checked against the UK mean of "
       "7.45 (ONS personal well-being, year to March 2023; `abm diagnose`)",
       "wellbeing", "Baseline wellbeing (affluent areas)"),
    _p("wellbeing_deprivation_gradient", float, 0.5933, (0.0, 5.0), (0.3, 1.2),
       "life satisfaction points",
       "how much lower baseline life satisfaction is in the most than the least deprived area",
       "calibrated: cal-ee53ea7ef3 (devon_ics, west_yorkshire; posterior median 0.5933, 90% "
       "interval 0.38 to 0.867); before calibration: WEMWBS 48.6 vs 51.5 (men) by area "
       "deprivation, Health Survey for England 2016: 0.33 SD (WEMWBS SD about 8.7), times a "
       "life-satisfaction SD of about 1.9 (ONS) = 0.63",
       "wellbeing", "Wellbeing gap built into deprivation"),
    _p("wellbeing_spread", float, 1.879, (0.0, 3.0), (1.3, 2.2), "life satisfaction points",
       "standard deviation of persistent individual differences in baseline life satisfaction",
       "calibrated: cal-ee53ea7ef3 (devon_ics, west_yorkshire; posterior median 1.879, 90% "
       "interval 1.66 to 2.09); before calibration: assumption: ONS individual life satisfaction "
       "has an SD of about 1.9, of which need adds the rest; checked against low life satisfaction"
       " by deprivation third (Bellis et al. 2012; `abm diagnose`)",
       "wellbeing", "How much wellbeing varies between people"),
    _p("wellbeing_adjust_rate", float, 0.05, (0.001, 1.0), (0.02, 0.2), "per week",
       "share of the distance to its target that wellbeing moves each week",
       "assumption: half-life about 14 weeks", "wellbeing", "Speed wellbeing changes"),
    # --- needs and shocks -------------------------------------------------------------------
    _p("shock_rate", float, 0.004, (0.0, 0.2), (0.002, 0.01), "per week",
       "weekly chance of a life shock (bereavement, job loss, illness) in the least deprived area",
       "assumption: about one shock in five years", "needs", "Life shocks (affluent areas)"),
    _p("shock_deprivation_ratio", float, 2.0, (1.0, 10.0), (1.2, 3.0), "ratio",
       "how many times more often shocks strike in the most than the least deprived area",
       "assumption in line with low life satisfaction 17.1% vs 8.9% in the most vs least "
       "deprived thirds (Bellis et al., BMC Public Health 2012;12:492)",
       "needs", "How much more often shocks hit deprived areas"),
    _p("shock_size", float, 0.6, (0.0, 1.0), (0.3, 0.9), "need, 0-1",
       "need (loneliness, low mood) added by one shock", "assumption", "needs",
       "Size of a shock"),
    _p("need_recovery_rate", float, 0.02, (0.0, 1.0), (0.01, 0.05), "per week",
       "share of need that fades each week", "assumption: half-life about 35 weeks",
       "needs", "Speed of recovery from a shock"),
    _p("need_wellbeing_penalty", float, 2.528, (0.0, 10.0), (1.0, 3.0),
       "life satisfaction points",
       "life satisfaction lost at full need",
       "calibrated: cal-ee53ea7ef3 (devon_ics, west_yorkshire; posterior median 2.528, 90% "
       "interval 1.75 to 2.94); before calibration: assumption: of the order of the loss from "
       "bereavement or unemployment (about 1-2 points in panel studies)",
       "needs", "Wellbeing lost to unmet need"),
    # --- awareness, trust and engagement ----------------------------------------------------
    _p("awareness_initial", float, 0.3, (0.0, 1.0), (0.1, 0.5), "share, 0-1",
       "awareness of and trust in local assets at the start of the burn-in",
       "assumption; the burn-in washes it out", "engagement", "Starting awareness"),
    _p("outreach_awareness_rate", float, 0.03, (0.0, 1.0), (0.01, 0.06), "per week",
       "weekly gain in awareness from local providers' outreach at full outreach",
       "assumption", "engagement", "Reach of providers' outreach"),
    _p("social_awareness_rate", float, 0.05, (0.0, 1.0), (0.02, 0.1), "per week",
       "weekly gain in awareness when all of one's ties attend", "assumption", "engagement",
       "Word of mouth"),
    _p("awareness_decay", float, 0.01, (0.0, 1.0), (0.005, 0.03), "per week",
       "share of awareness and trust forgotten each week", "assumption", "engagement",
       "Forgetting"),
    _p("closure_trust_loss", float, 0.3, (0.0, 1.0), (0.0, 0.5), "share, 0-1",
       "share of awareness and trust lost by a neighbourhood's residents when a local provider "
       "closes",
       "assumption (trust is slow to rebuild after closures: Creating Change, West Yorkshire); "
       "its range spans no loss to half", "engagement", "Trust lost when a group closes"),
    _p("uptake_rate", float, 0.04198, (0.0, 1.0), (0.01, 0.06), "per week",
       "weekly chance of starting for a fully aware, able and motivated resident with a place",
       "calibrated: cal-ee53ea7ef3 (devon_ics, west_yorkshire; posterior median 0.04198, 90% "
       "interval 0.0259 to 0.0575); before calibration: assumption; checked against past-year "
       "participation (Munford et al. 2017: 50% of people 65+ take part; `abm diagnose`)",
       "engagement", "Willingness to start"),
    _p("need_motivation", float, 2.0, (0.0, 10.0), (0.5, 4.0), "ratio",
       "how much need raises the wish to take part: motivation = (1 + this x need) / (1 + this)",
       "assumption", "engagement", "Need as a reason to join"),
    _p("social_pull", float, 1.0, (0.0, 10.0), (0.3, 3.0), "ratio",
       "extra chance of starting when all of one's ties attend (friends pull you in)",
       "assumption", "engagement", "Friends pulling you in"),
    _p("travel_distance_km", float, 2.0, (0.1, 50.0), (1.0, 4.0), "km",
       "distance at which the pull of a provider falls to 1/e (37%)", "assumption",
       "engagement", "How far people travel", "Place"),
    _p("urban_spacing_km", float, 1.0, (0.1, 20.0), (0.7, 1.5), "km",
       "distance between the centres of neighbouring urban neighbourhoods",
       "assumption: an urban LSOA of about 1,700 people covers about 1 km2",
       "engagement", "Distance between urban areas"),
    _p("rural_spacing_km", float, 4.0, (0.1, 50.0), (2.0, 6.0), "km",
       "distance between the centres of neighbouring rural neighbourhoods",
       "assumption: rural LSOAs cover far more ground", "engagement",
       "Distance between rural areas", "Place"),
    _p("dropout_rate", float, 0.02629, (0.0, 1.0), (0.005, 0.03), "per week",
       "weekly chance that an attender with full capacity stops",
       "calibrated: cal-ee53ea7ef3 (devon_ics, west_yorkshire; posterior median 0.02629, 90% "
       "interval 0.0199 to 0.0296); before calibration: assumption",
       "engagement", "Dropping out"),
    _p("dropout_capacity_effect", float, 2.0, (0.0, 20.0), (0.5, 4.0), "ratio",
       "drop-out is multiplied by (1 + this x (1 - capacity))", "assumption", "engagement",
       "Drop-out from low capacity"),
    _p("dropout_memory_weeks", int, 52, (1, 1_040), (26, 104), "weeks",
       "how long a resident who stopped stays reluctant to start again", "assumption",
       "engagement", "Time before trying again"),
    _p("reengage_factor", float, 0.5, (0.0, 1.0), (0.2, 0.8), "ratio",
       "chance of starting again while reluctant after stopping, relative to a first start",
       "assumption", "engagement", "Coming back after dropping out"),
    # --- benefit of attending ---------------------------------------------------------------
    _p("attendance_effect_eq5d", float, 0.04487, (0.0, 0.3), (0.01, 0.06), "EQ-5D utility",
       "mean benefit of regular attendance at full dose, in EQ-5D utility; the model uses it "
       f"in life-satisfaction points, times `{_QALY}`",
       "calibrated: cal-ee53ea7ef3 (devon_ics, west_yorkshire; posterior median 0.04487, 90% "
       "interval 0.0223 to 0.0584); before calibration: community asset participation: EQ-5D "
       "+0.039 (Munford et al., BMJ Open 2017;7:e012374); observational, so the range runs well "
       "below it",
       "benefit", "Benefit of taking part"),
    _p("attendance_effect_spread", float, 0.2, (0.0, 1.0), (0.0, 0.4), "share of the mean",
       "standard deviation of the benefit between providers, as a share of the mean",
       "assumption", "benefit", "How much providers differ"),
    _p("benefit_build_rate", float, 0.05, (0.0, 1.0), (0.02, 0.15), "per week",
       "share of the remaining benefit gained per week of attendance (dose response)",
       "assumption: most of the benefit within about six months", "benefit",
       "Speed benefit builds"),
    _p("benefit_decay_rate", float, 0.05, (0.0, 1.0), (0.02, 0.15), "per week",
       "share of the benefit lost per week after stopping", "assumption", "benefit",
       "Speed benefit fades"),
    _p("forced_stop_need_shock", float, 0.4224, (0.0, 1.0), (0.0, 0.5), "need, 0-1",
       "need added when one loses one's group (it closes or cuts the sessions one went to): "
       "the loss of the group and its friendships. Voluntary stopping adds none",
       "calibrated: cal-ee53ea7ef3 (devon_ics, west_yorkshire; posterior median 0.4224, 90% "
       "interval 0.3 to 0.491); before calibration: assumption, to be estimated against Munford et"
       " al. 2020 (BMJ Open 10:e033186: stopping -0.102 QALY vs starting +0.056 QALY over 18 "
       "months; calibration target); the range includes no harm beyond the lost benefit",
       "benefit",
       "Harm when one loses one's group"),
    # --- taking part changes need (belonging) ------------------------------------------------
    _p("belonging_build_rate", float, 0.1, (0.0, 1.0), (0.03, 0.3), "per week",
       "share of the remaining sense of belonging to a group gained per week of attendance; "
       "belonging protects against need (below)",
       "assumption: closeness in new groups rose within 1 month (singing) to 7 months (other "
       "classes) (Pearce, Launay & Dunbar, R Soc Open Sci 2015;2:150221): a time constant of "
       "about 3 to 33 weeks", "belonging", "Speed belonging builds"),
    _p("belonging_decay_rate", float, 0.026, (0.0, 1.0), (0.009, 0.053), "per week",
       "share of belonging lost per week after one stops attending",
       "assumption: half-life about 6 months (range 3 to 18 months); no direct estimate found "
       "(Munford et al. 2020 see losses for 18 months after stopping)", "belonging",
       "Speed belonging fades"),
    _p("group_shock_protection", float, 0.2307, (0.0, 1.0), (0.0, 0.63), "share, 0-1",
       "share of life shocks avoided at full belonging (fewer new episodes of need); 0 turns "
       "this off",
       "calibrated: cal-ee53ea7ef3 (devon_ics, west_yorkshire; posterior median 0.2307, 90% "
       "interval 0.0306 to 0.533); before calibration: Cruwys et al., Soc Sci Med 2013;98:179 "
       "(ELSA, N 5,055): depressed people with no group who joined one cut their risk of relapse "
       "by 24%, three groups by 63% (observational; the range runs from no effect to the "
       "three-group figure)",
       "belonging",
       "Protection from shocks by belonging"),
    _p("group_recovery_boost", float, 0.347, (0.0, 10.0), (0.0, 2.5), "ratio",
       "recovery from need is (1 + this x belonging) times as fast; 0 turns this off",
       "calibrated: cal-ee53ea7ef3 (devon_ics, west_yorkshire; posterior median 0.347, 90% "
       "interval 0.0462 to 0.729); before calibration: assumption between no effect (controlled "
       "studies of social prescribing: little or no effect on quality of life, Kiely et al., BMJ "
       "Open 2022;12:e062951) and Groups 4 Health (Haslam et al., J Consult Clin Psychol "
       "2019;87:787, RCT n 120: loneliness d -1.04 vs -0.33 with usual care over 2 months, about "
       "three times the recovery; top of the range)",
       "belonging", "Faster recovery by belonging"),
    # --- ties formed in groups ----------------------------------------------------------------
    _p("group_tie_rate", float, 0.077, (0.0, 1.0), (0.019, 0.115), "per week",
       "weekly chance that an attender makes a new friend among the others at their group "
       "(each resident keeps up to 4 such ties); 0 turns ties formed in groups off",
       "assumption: one new tie per 3 months of attendance (range 0.5 to 3 per 6 months); no "
       "published figure found, and controlled studies find little change in social contacts "
       "(Kiely et al. 2022)", "ties", "Friends made in groups"),
    _p("group_tie_decay_rate", float, 0.013, (0.0, 1.0), (0.005, 0.05), "per week",
       "share of a group-made tie's strength lost per week while the two no longer attend the "
       "same group (the tie lasts after a group closes, fading)",
       "assumption: half-life about a year (range 3 months to 3 years)", "ties",
       "Friendships fading after a group"),
    # --- green space ----------------------------------------------------------------------------
    _p("green_space_effect", float, 0.1, (0.0, 3.0), (0.0, 0.3), "life satisfaction points",
       "benefit of visiting green or natural space regularly (green space has no grant and no "
       "places; visits follow access and capacity); 0 turns green space off",
       "assumption: controlled trials of nature-based activities show depressive mood SMD "
       "-0.64 (-1.05 to -0.23) (Coventry et al., SSM Popul Health 2021;16:100934), casual "
       "visits far less; uncontrolled green social prescribing gains (happiness 5.3 to 7.5, "
       "Defra 2024) are far above the range", "green space", "Benefit of green space"),
    _p("green_visit_share", float, 0.7, (0.0, 1.0), (0.5, 0.85), "share, 0-1",
       "share of residents with full capacity and good access who visit green space regularly",
       "People and Nature Survey 2020 (Natural England): 70% of households on GBP 50k or more "
       "visited nature in the last 14 days (44% on GBP 15k or less: a check, not an input)",
       "green space", "Visiting green space"),
    _p("green_access_deprivation_effect", float, 0.3, (0.0, 1.0), (0.2, 0.4), "share, 0-1",
       "how much less green space the most deprived neighbourhoods have within reach than the "
       "least deprived (an input gradient from evidence, not an emergent pattern)",
       "assumption: the most deprived fifth has 0.6 to 0.8 times the accessible green space of "
       "the least deprived (no national figure by IMD found)", "green space",
       "Less green space where deprived"),
    # --- providers --------------------------------------------------------------------------
    _p("providers_per_neighbourhood", float, 4.0, (0.0, 20.0), (2.0, 8.0), "providers",
       "mean number of provider places (slots) per neighbourhood at the start", "assumption",
       "providers", "Groups per neighbourhood", "Providers"),
    _p("provider_location_gradient", float, 0.7417, (0.0, 1.0), (0.2, 0.8), "share, 0-1",
       "how much rarer providers are in the most than the least deprived area",
       "calibrated: cal-ee53ea7ef3 (devon_ics, west_yorkshire; posterior median 0.7417, 90% "
       "interval 0.678 to 0.791); before calibration: assumption: nature-based organisations are "
       "more common in less deprived areas (Robinson et al., IJERPH 2020;17:3460); inverse care "
       "law (Tudor Hart, Lancet 1971)",
       "providers", "Fewer groups in deprived areas"),
    _p("provider_places", int, 112, (1, 1_000), (30, 120), "regular participants",
       "regular participants a provider takes when fully funded (its most sessions)",
       "calibrated: cal-ee53ea7ef3 (devon_ics, west_yorkshire; posterior median 112, 90% interval "
       "95.6 to 119); before calibration: assumption",
       "providers", "Places per group", "Providers"),
    _p("min_places_share", float, 0.2, (0.0, 1.0), (0.1, 0.4), "share, 0-1",
       "fewest sessions a provider runs, as a share of its most, before it is no longer viable",
       "assumption", "providers", "Smallest viable group"),
    _p("fixed_cost_gbp", float, 4_000.0, (0.0, 1_000_000.0), (2_000.0, 10_000.0),
       "GBP per year",
       "core running cost of a provider (venue, coordination, insurance) paid whatever it runs",
       "assumption: about 90% of closing charities have income under GBP 100k (Charity "
       "Commission data as reported)", "providers", "Core cost of a group"),
    _p("place_cost_gbp", float, 500.0, (0.0, 100_000.0), (250.0, 900.0),
       "GBP per place per year",
       "cost of the sessions for one regular participant for a year (facilitators, materials)",
       "assumption", "providers", "Cost of a place for a year", "Providers"),
    _p("fee_income_gbp", float, 100.0, (0.0, 10_000.0), (30.0, 200.0),
       "GBP per participant per year",
       "fees and donations one regular participant brings in the least deprived area",
       "assumption (individuals give about half of small charities' income: NCVO UK Civil "
       "Society Almanac)", "providers", "Fees and donations per participant"),
    _p("fee_deprivation_effect", float, 0.5, (0.0, 1.0), (0.3, 0.8), "share, 0-1",
       "how much lower fees and donations per participant are in the most deprived area",
       "assumption", "providers", "Fees lost to deprivation"),
    _p("other_funding_share", float, 0.5578, (0.0, 1.0), (0.3, 0.6), "share, 0-1",
       "share of a fully funded provider's costs that other funders (trusts, foundations, "
       "lottery, council) meet in the least deprived area",
       "calibrated: cal-ee53ea7ef3 (devon_ics, west_yorkshire; posterior median 0.5578, 90% "
       "interval 0.482 to 0.597); before calibration: assumption (trusts, foundations and "
       "government are the other large income sources of small charities: NCVO UK Civil Society "
       "Almanac)",
       "providers",
       "Other funders (affluent areas)"),
    _p("other_funding_deprivation_effect", float, 0.3, (0.0, 1.0), (0.1, 0.6), "share, 0-1",
       "how much lower (proportionally) other funders' share is in the most deprived area",
       "assumption: fewer local donors and less bid-writing capacity where deprived",
       "providers", "Other funders lost to deprivation"),
    _p("other_funding_spread", float, 0.2, (0.0, 1.0), (0.0, 0.4), "share of the mean",
       "standard deviation of other funders' income between providers, as a share of its mean",
       "assumption", "providers", "How much other funding differs"),
    _p("reserves_months", float, 4.0, (0.0, 36.0), (2.0, 6.0), "months of running cost",
       "reserves a provider starts with",
       "assumption: 3-6 months is common practice (as reported second-hand; the Charity "
       "Commission sets no level)", "providers",
       "Starting reserves", "Providers"),
    _p("reserve_floor_months", float, 1.0, (0.0, 36.0), (0.0, 3.0), "months of running cost",
       "reserves a provider keeps back and will not spend to keep sessions running",
       "assumption: 23% of small charities hold no reserves at all (smallcharitiesdata.org, "
       "2017/18), so the floor is low", "providers", "Reserves kept back"),
    _p("reserve_drawdown_rate", float, 0.5, (0.0, 1.0), (0.2, 1.0), "share per year",
       "share of its reserves above the floor a provider will spend in a year to keep "
       "sessions running when its income falls short",
       "assumption: 27-44% of small charities draw on reserves in a year "
       "(smallcharitiesdata.org)", "providers", "Spending reserves to keep going"),
    _p("other_closure_rate", float, 0.02314, (0.0, 0.5), (0.0, 0.03), "per year",
       "yearly chance that a provider closes for reasons other than money (its organisers "
       "leave, its venue goes)",
       "calibrated: cal-ee53ea7ef3 (devon_ics, west_yorkshire; posterior median 0.02314, 90% "
       "interval 0.012 to 0.0292); before calibration: assumption; with closures for lack of money"
       " it is checked against charity removals of about 2.5% a year (Charity Commission 2022/23)",
       "providers",
       "Groups closing for other reasons"),
    _p("bid_capacity_least_deprived", float, 0.7, (0.0, 1.0), (0.5, 0.9), "score, 0-1",
       "mean bid-writing capacity of providers in the least deprived area", "assumption",
       "providers", "Bid-writing capacity (affluent areas)"),
    _p("bid_capacity_deprivation_effect", float, 0.4, (0.0, 1.0), (0.1, 0.6), "score, 0-1",
       "how much lower mean bid-writing capacity is in the most deprived area", "assumption",
       "providers", "Bid-writing capacity lost to deprivation"),
    _p("bid_capacity_spread", float, 0.15, (0.0, 0.5), (0.05, 0.25), "score, 0-1",
       "standard deviation of bid-writing capacity between providers", "assumption",
       "providers", "How much bid-writing differs"),
    _p("bid_cost_share", float, 0.05, (0.0, 1.0), (0.02, 0.1), "share of the grant sought",
       "cost to a provider of writing one competitive bid, as a share of the grant it asks for",
       "assumption", "providers", "Cost of writing a bid"),
    _p("refounding_delay_years", float, 1.5, (0.1, 20.0), (0.5, 3.0), "years",
       "mean time before a closed provider's slot can host a new provider", "assumption",
       "providers", "Time to re-found a group"),
    _p("founding_cost_gbp", float, 10_000.0, (0.0, 1_000_000.0), (5_000.0, 20_000.0),
       "GBP per provider",
       "money a new provider is founded with, held as its first reserves; paid by other "
       "funders when a slot is re-founded and by the ICS under the scale rule", "assumption",
       "providers",
       "Cost of starting a group"),
    _p("founding_pool_gbp_per_head", float, 0.5, (0.0, 100.0), (0.2, 1.0),
       "GBP per resident per year",
       "money other funders put into founding new groups each year; a closed slot is "
       "re-founded only when this pool can pay for it",
       "assumption", "providers", "Other funders' money for new groups"),
    _p("provider_outreach", float, 0.5, (0.0, 1.0), (0.2, 0.8), "share, 0-1",
       "outreach effort of an open provider in its neighbourhood", "assumption", "providers",
       "Outreach by groups"),
    _p("provider_size_deprivation_effect", float, 0.6299, (0.0, 5.0), (0.0, 1.5), "ratio",
       "providers in the most deprived areas run (1 + this) times the places of those in the "
       "least deprived (fewer, larger organisations where deprived), scaled so that a provider "
       "at the national mean runs `provider_places`; 0 turns this off",
       "calibrated: cal-ee53ea7ef3 (devon_ics, west_yorkshire; posterior median 0.6299, 90% "
       "interval 0.0924 to 1.39); before calibration: assumption guided by Third Sector Trends "
       "2022: charities over GBP 250k are 14.4% of those in the least affluent areas vs 5.4% in "
       "the most affluent",
       "providers",
       "Larger groups where deprived"),
    # --- asset kinds: arts, nature, community, active (share, effect, fees) ----------------------
    _p("kind_share_arts", float, 0.25, (0.0, 1.0), (0.1, 0.4), "weight",
       "weight of arts and creative groups among new providers (weights of the four kinds are "
       "normalised; a place file may give its own mix)",
       "assumption guided by the groups older people in Salford attended (Munford et al., Soc "
       "Sci Med 2020;259:113149: arts/education 8%, sport/gym 21%, religious, charity, social "
       "and older people's groups 60%) and the consortia's arts focus", "kinds",
       "Share of arts groups"),
    _p("kind_share_nature", float, 0.15, (0.0, 1.0), (0.05, 0.3), "weight",
       "weight of nature-based groups (walking groups, conservation, gardening) among new "
       "providers", "assumption (see kind_share_arts)", "kinds", "Share of nature groups"),
    _p("kind_share_community", float, 0.4, (0.0, 1.0), (0.2, 0.6), "weight",
       "weight of community and peer groups (social clubs, peer support, faith-based) among new "
       "providers", "assumption (see kind_share_arts)", "kinds", "Share of community groups"),
    _p("kind_share_active", float, 0.2, (0.0, 1.0), (0.1, 0.35), "weight",
       "weight of physical activity groups among new providers",
       "assumption (see kind_share_arts; sport/gym 21% in Munford et al. 2020)", "kinds",
       "Share of activity groups"),
    _p("kind_effect_arts", float, 1.0, (0.0, 5.0), (0.7, 1.3), "ratio",
       "benefit of attending an arts group relative to `attendance_effect_eq5d`",
       "assumption: arts on referral evidence is uncontrolled (Crone et al., Eur J Public Health "
       "2018)", "kinds", "Benefit of arts groups"),
    _p("kind_effect_nature", float, 1.0, (0.0, 5.0), (0.7, 1.5), "ratio",
       "benefit of attending a nature-based group relative to `attendance_effect_eq5d`",
       "assumption anchored on a meta-analysis of RCTs of nature-based activities (depressive "
       "mood SMD -0.64, Coventry et al. 2021)", "kinds", "Benefit of nature groups"),
    _p("kind_effect_community", float, 0.8, (0.0, 5.0), (0.5, 1.2), "ratio",
       "benefit of attending a community or peer group relative to `attendance_effect_eq5d`",
       "assumption: collective bonding rather than the activity carries the benefit (Pearce et "
       "al., J Community Appl Soc Psychol 2016)", "kinds", "Benefit of community groups"),
    _p("kind_effect_active", float, 0.7, (0.0, 5.0), (0.4, 1.0), "ratio",
       "benefit of attending a physical activity group relative to `attendance_effect_eq5d`",
       "exercise referral: no consistent effect on quality of life in RCTs (Pavey et al., NIHR "
       "HTA 2011: RR 1.11 (0.99-1.25) for activity); assumption for the ratio", "kinds",
       "Benefit of activity groups"),
    _p("kind_fee_arts", float, 1.0, (0.0, 5.0), (0.5, 1.5), "ratio",
       "fees and costs to take part in an arts group relative to `fee_income_gbp` (materials, "
       "tickets); fees put off residents of deprived areas (`fee_barrier`)", "assumption",
       "kinds", "Cost of arts groups"),
    _p("kind_fee_nature", float, 0.3, (0.0, 5.0), (0.0, 0.8), "ratio",
       "fees and costs to take part in a nature-based group relative to `fee_income_gbp` "
       "(mostly free; travel)", "assumption", "kinds", "Cost of nature groups"),
    _p("kind_fee_community", float, 0.5, (0.0, 5.0), (0.2, 1.0), "ratio",
       "fees and costs to take part in a community or peer group relative to `fee_income_gbp` "
       "(donations, subscriptions)", "assumption", "kinds", "Cost of community groups"),
    _p("kind_fee_active", float, 1.3, (0.0, 5.0), (0.8, 2.0), "ratio",
       "fees and costs to take part in a physical activity group relative to `fee_income_gbp` "
       "(subs, kit, venue hire)", "assumption", "kinds", "Cost of activity groups"),
    _p("fee_barrier", float, 0.5, (0.0, 1.0), (0.0, 0.8), "share, 0-1",
       "how much a group's cost to take part (its kind's fee ratio, capped at 1) lowers its pull "
       "on residents of the most deprived areas: pull x (1 - this x fee ratio x deprivation); a "
       "cause of the inverse care law from cost; 0 turns it off",
       "assumption: cost is a reported barrier to arts and sport participation in deprived areas "
       "(DCMS Taking Part; Sport England Active Lives)", "kinds", "Cost putting people off"),
    # --- commissioning ----------------------------------------------------------------------
    _p("budget_gbp_per_head", float, 6.781, (0.0, 1_000.0), (1.0, 10.0),
       "GBP per resident per year",
       "ICS (and council) commissioning budget for community assets under every rule",
       "calibrated: cal-ee53ea7ef3 (devon_ics, west_yorkshire; posterior median 6.781, 90% "
       "interval 2.29 to 9.55); before calibration: assumption: no published figure; results are "
       "shown across the budget-to-demand ratio (`abm diagnose`)",
       "commissioning", "ICS budget per resident", "Money", lever=True),
    _p("budget_uplift", float, 0.0, (0.0, 10.0), None, "share of the budget",
       "extra money on top of the budget, as a share (0.25 = 25% more); the extra-money "
       "scenarios set it",
       "setting: the lever of the extra-money scenarios", "commissioning",
       "Extra money", "Money", lever=True),
    _p("grant_years", int, 1, (1, 10), (1, 2), "years",
       "length of a status quo competitive grant",
       "360Giving 2021/22: only 4.7% of grants (13% of funding) run 3 years or more",
       "commissioning", "Length of a short grant", "How money is given", lever=True),
    _p("grant_reserve_margin", float, 0.05, (0.0, 1.0), (0.0, 0.15), "share, 0-1",
       "share above a provider's funding gap that a grant pays, to rebuild reserves",
       "assumption", "commissioning", "Grant margin for reserves"),
    _p("bid_noise", float, 0.2, (0.0, 2.0), (0.1, 0.4), "score",
       "standard deviation of chance in how bids are scored", "assumption", "commissioning",
       "Luck in bidding"),
    _p("grant_need_priority", float, 0.5286, (0.0, 5.0), (0.0, 0.8), "score per unit deprivation",
       "weight that the status quo's grant scoring gives to the deprivation of a provider's "
       "neighbourhood beside its bid (funders' own priority to need); 0 turns it off",
       "calibrated: cal-ee53ea7ef3 (devon_ics, west_yorkshire; posterior median 0.5286, 90% "
       "interval 0.417 to 0.741); before calibration: assumption, to be calibrated against grant "
       "money per head by IMD quintile (national funders: GBP 19.31 a head in deprived areas other"
       " than the 'left behind' ones and GBP 7.77 in those, against GBP 12.23 in England, OCSI for"
       " the APPG on left-behind neighbourhoods 2021; the National Lottery Community Fund gave "
       "about half its English community funding to the most deprived neighbourhoods, 2021)",
       "commissioning",
       "Funders' priority to need"),
    _p("pu_weight", float, 1.0, (0.0, 10.0), (0.5, 3.0), "weight per unit deprivation",
       "proportionate universalism: each area's share of the grant money is proportional to "
       "its population x (1 + this x deprivation); new providers are placed the same way",
       "assumption (the Marmot Review 2010 sets the principle, not the weight)",
       "commissioning", "Priority to deprived areas", "How money is given", lever=True),
    _p("core_grant_years", int, 3, (1, 10), (2, 5), "years",
       "length of a multi-year core grant under the sustain rule; renewed without a new bid",
       "assumption: the multi-year grants that 4.7% of grants are (360Giving 2021/22)",
       "commissioning", "Length of a core grant", "How money is given", lever=True),
    _p("embed_budget_share", float, 0.15, (0.0, 1.0), (0.05, 0.3), "share, 0-1",
       "share of the budget spent on embedding under the embed rule (link workers and "
       "grants to groups that take referrals)", "assumption", "commissioning",
       "Budget share for embedding", "How money is given", lever=True),
    _p("embed_provider_share", float, 0.3, (0.0, 1.0), (0.0, 0.6), "share, 0-1",
       "share of the embed money paid to providers for the referred people they take, so "
       "referral brings places with it",
       "assumption: link workers are funded, the groups receiving referrals mostly are not "
       "(Voluntary Sector North West)", "commissioning", "Embed money that follows referrals",
       "Link workers", lever=True),
    _p("scale_budget_share", float, 0.15, (0.0, 1.0), (0.05, 0.3), "share, 0-1",
       "share of the budget spent on new providers under the scale rule: founding them and "
       "their grants while supported", "assumption", "commissioning",
       "Budget share for new groups", "How money is given", lever=True),
    _p("scale_support_years", int, 3, (1, 10), (1, 5), "years",
       "years the scale rule funds a provider it founded before it competes for grants",
       "assumption", "commissioning", "Years new groups are funded", "How money is given",
       lever=True),
    _p("develop_budget_share", float, 0.15, (0.0, 1.0), (0.05, 0.3), "share, 0-1",
       "share of the budget spent under the develop rule: community development workers in the "
       "most deprived neighbourhoods and the resident-led groups they seed",
       "assumption (Well Communities' asset-based community development; Well London spent "
       "about GBP 300k per community over 4 years)", "commissioning",
       "Budget share for community development", "How money is given", lever=True),
    _p("scale_kind", int, 0, (0, 4), None, "code",
       "which kind of group the scale rule founds: 0 the place's mix, 1 arts, 2 nature, "
       "3 community, 4 physical activity",
       "setting: a lever (e.g. scale nature activities in Bradford)", "commissioning",
       "Kind of group scale founds", "How money is given", lever=True),
    # --- community development ----------------------------------------------------------------
    _p("cd_worker_cost_gbp", float, 28_000.0, (1_000.0, 500_000.0), (25_000.0, 75_000.0),
       "GBP per FTE per year",
       "cost of one community development worker (community organiser), with on-costs",
       "Community Organisers programme (Ipsos MORI/NEF 2015): GBP 15m for over 540 organisers, "
       "about GBP 28k each; Well London's about GBP 75k per community a year is the top",
       "community development", "Cost of a community worker"),
    _p("cd_workers_per_neighbourhood", float, 1.0, (0.1, 10.0), (0.5, 2.0), "FTE",
       "community development workers per neighbourhood covered; the develop rule covers the "
       "most deprived neighbourhoods first",
       "Community Organisers: about 540 organisers in over 400 communities (Ipsos MORI/NEF "
       "2015)", "community development", "Community workers per area"),
    _p("cd_years_to_effect", float, 3.0, (0.1, 20.0), (1.0, 8.0), "years",
       "time constant of community development's effects (capacity, trust) in a covered "
       "neighbourhood; they build as 1 - exp(-years / this)",
       "assumption: Well London found no population effect at 3-4 years (Phillips et al., JECH "
       "2014;68:606), Big Local hints of one after about 7 years (Popay et al., NIHR PHR "
       "2023;11(9))", "community development", "Time for community work to take effect"),
    _p("cd_capacity_gain", float, 0.1, (0.0, 1.0), (0.0, 0.25), "share, 0-1",
       "capacity to take part (confidence, know-how, someone to go with) added to residents of "
       "a covered neighbourhood at full effect; 0 turns it off",
       "assumption; controlled evaluations find no population wellbeing effect within 4 years "
       "(Well London, WEMWBS -1.52 (-3.93 to 0.88)), so the range starts at 0",
       "community development", "Capacity built by community work"),
    _p("cd_awareness_rate", float, 0.02, (0.0, 1.0), (0.0, 0.05), "per week",
       "weekly gain in awareness of and trust in local groups in a covered neighbourhood at full "
       "effect; 0 turns it off",
       "assumption; Well London raised 'people in this neighbourhood pull together' (RR 1.92, "
       "1.12-3.29; Phillips et al. 2014)", "community development",
       "Trust built by community work"),
    _p("cd_groups_per_worker_year", float, 1.0, (0.0, 20.0), (0.3, 3.0), "groups per FTE-year",
       "resident-led groups a community development worker helps found each year where need "
       "is; 0 turns seeding off",
       "assumption: Community Organisers about 3 projects per organiser-year (1,500 projects, "
       "540 organisers), of which some become lasting groups", "community development",
       "Groups seeded by community work"),
    _p("resident_led_cost_share", float, 0.5, (0.05, 1.0), (0.25, 1.0), "share, 0-1",
       "running costs (core and per place) of a resident-led group seeded by community "
       "development, relative to a typical provider's (volunteers run it)",
       "assumption", "community development", "Running cost of resident-led groups"),
    # --- link workers and referral ----------------------------------------------------------
    _p("link_workers_per_100k", float, 6.0, (0.0, 100.0), (4.0, 8.0), "FTE per 100,000 people",
       "nationally funded social prescribing link workers, under every rule",
       "assumption: about 3,500 link workers for 56 million people in England",
       "referral", "Link workers already in place", "Link workers"),
    _p("link_worker_need_gradient", float, 0.0, (-1.0, 1.0), (-0.5, 0.0), "ratio",
       "placement of the nationally funded link workers: weight 1 + this x (deprivation - "
       "0.5); 0 follows population, below 0 places fewer where need is higher",
       "assumption: 0 by default; the range covers provision inversely related to need "
       "(Wilding et al., BJGP 2024: negative and significant from July 2022)", "referral",
       "Link workers where need is greatest"),
    _p("link_worker_cost_gbp", float, 38_000.0, (1_000.0, 500_000.0), (36_000.0, 45_000.0),
       "GBP per FTE per year", "cost of one link worker, with on-costs", "assumption",
       "referral", "Cost of a link worker"),
    _p("link_worker_contacts_per_week", float, 20.0, (0.0, 200.0), (12.0, 30.0),
       "contacts per FTE per week",
       "contacts (meetings, calls) one link worker holds each week",
       "assumption giving about 235 new people a year per FTE at today's follow-up (NHS "
       "England suggests caseloads of about 200-250, as reported second-hand)", "referral",
       "Contacts per link worker"),
    _p("contacts_per_followed_client", float, 8.0, (3.0, 50.0), (6.0, 12.0), "contacts",
       "link-worker contacts with a person who is followed up (3 or more by definition)",
       "assumption", "referral", "Contacts when followed up"),
    _p("contacts_per_brief_client", float, 1.5, (1.0, 2.9), (1.0, 2.0), "contacts",
       "link-worker contacts with a person who is not followed up (fewer than 3)",
       "assumption", "referral", "Contacts without follow-up"),
    _p("referral_need_threshold", float, 0.3, (0.0, 1.0), (0.15, 0.5), "need, 0-1",
       "need above which a resident not attending may be referred", "assumption", "referral",
       "Need that leads to referral"),
    _p("referral_weeks", int, 12, (1, 104), (8, 16), "weeks",
       "how long a referral stays open", "assumption", "referral", "Length of a referral"),
    _p("follow_up_share", float, 0.45, (0.0, 1.0), (0.35, 0.55), "share, 0-1",
       "share of referred residents who get follow-up (3+ link worker contacts)",
       "45% saw the link worker 3+ times (Mercer et al., Ann Fam Med 2019)", "referral",
       "Follow-up after referral", "Link workers"),
    _p("embed_follow_up_share", float, 0.8, (0.0, 1.0), (0.6, 0.9), "share, 0-1",
       "share of referred residents followed up under the embed rule (each takes more "
       "link-worker time, so fewer people are seen)", "assumption", "referral",
       "Follow-up when embedded", "Link workers", lever=True),
    _p("referral_boost_followed", float, 5.283, (1.0, 100.0), (2.0, 8.0), "ratio",
       "how many times likelier a followed-up referred resident is to start",
       "calibrated: cal-ee53ea7ef3 (devon_ics, west_yorkshire; posterior median 5.283, 90% "
       "interval 2.69 to 7.59); before calibration: assumption",
       "referral", "Effect of a followed-up referral"),
    _p("referral_boost_unfollowed", float, 1.3, (1.0, 100.0), (1.0, 2.0), "ratio",
       "how many times likelier a referred resident without follow-up is to start",
       "assumption: referral alone gave no effect (Mercer et al., Ann Fam Med 2019)",
       "referral", "Effect of a referral alone"),
    _p("follow_up_capacity_boost", float, 0.3, (0.0, 1.0), (0.1, 0.5), "share, 0-1",
       "capacity to take part added by link worker help (transport, confidence) while followed up",
       "assumption", "referral", "Practical help from link workers"),
    _p("link_worker_awareness_gain", float, 0.3, (0.0, 1.0), (0.1, 0.5), "share, 0-1",
       "share of the gap to full awareness of local groups closed when a link worker sees "
       "someone", "assumption", "referral", "What link workers tell people"),
    # --- NHS use -----------------------------------------------------------------------------
    _p("gp_consultations_per_year", float, 5.0, (0.0, 50.0), (4.7, 5.7), "per person per year",
       "general practice consultations (all staff) of a resident of the least deprived area "
       "without need",
       "Vestesson et al., JMIR Public Health Surveill 2023;9:e44944 (CPRD Aurum, England): "
       "4.92 a person in 2018/19, 5.66 in 2021/22", "nhs", "GP consultations a year"),
    _p("gp_deprivation_effect", float, 0.09, (0.0, 2.0), (0.0, 0.2), "ratio",
       "GP consultations are (1 + this x deprivation) times as many",
       "Vestesson et al. 2023: the most deprived quintile had 0.36 more consultations a year "
       "than the least (age-sex adjusted), about 7% over 0.8 of the deprivation score",
       "nhs", "More GP visits where deprived"),
    _p("gp_need_effect", float, 0.3, (0.0, 5.0), (0.1, 0.5), "ratio",
       "GP consultations are (1 + this x need) times as many (need: loneliness, low mood)",
       "loneliness and GP visits: IRR 1.08-1.49 unadjusted, 1.03 per UCLA-3 point after "
       "adjusting for health (NICOLA, Front Public Health 2021;9:620264; TILDA, Burns et al., J "
       "Public Health 2020)", "nhs", "More GP visits with need"),
    _p("ae_attendances_least_deprived", float, 0.29, (0.0, 10.0), (0.25, 0.33),
       "per person per year", "A&E attendances of a resident of the least deprived area without "
       "need",
       "NHS Digital, Hospital Accident and Emergency Activity 2018-19: 28,700 per 100,000 in the "
       "least deprived decile (55,600 in the most deprived)", "nhs", "A&E visits a year"),
    _p("ae_deprivation_effect", float, 0.6, (0.0, 5.0), (0.4, 1.0), "ratio",
       "A&E attendances are (1 + this x deprivation) times as many, beside need",
       "most vs least deprived decile 1.94 times (NHS Digital 2018-19); adjusted odds 1.7, 1.4 "
       "after adjusting for health (ONS, Inequalities in A&E attendance 2021-22): the rest is "
       "need", "nhs", "More A&E visits where deprived"),
    _p("ae_need_effect", float, 0.5, (0.0, 5.0), (0.16, 0.98), "ratio",
       "A&E attendances are (1 + this x need) times as many",
       "loneliness and emergency department visits: IRR 1.16-1.98 unadjusted (NICOLA, Front "
       "Public Health 2021)", "nhs", "More A&E visits with need"),
    _p("sp_gp_effect", float, 0.0, (-1.0, 1.0), (-0.28, 0.1), "share",
       "change in GP consultations of a referred resident while attending a group, beyond what "
       "their lower need gives (social prescribing's direct effect)",
       "controlled studies: little or no effect on primary-care visits (Kiely et al., BMJ Open "
       "2022;12:e062951: 3 RCTs, n 3,873); uncontrolled evaluations: -28% (Polley et al. 2017, "
       "the range's top) to a rise (Torbay, Elston et al. 2019)", "nhs",
       "Social prescribing and GP visits"),
    _p("sp_ae_effect", float, 0.0, (-1.0, 1.0), (-0.24, 0.1), "share",
       "change in A&E attendances of a referred resident while attending a group, beyond what "
       "their lower need gives",
       "controlled evidence: hospital use very low certainty (Kiely et al. 2022); uncontrolled: "
       "-24% (Polley et al. 2017, the range's top)", "nhs", "Social prescribing and A&E visits"),
    _p("gp_consultation_cost_gbp", float, 42.0, (0.0, 1_000.0), (33.0, 65.0), "GBP",
       "NHS cost of one general practice consultation",
       "assumption anchored on PSSRU Unit Costs (GBP 33-44 per consultation, 2015; GBP 65 in the "
       "CLASSIC study at 2014/15 prices); the 2023 figure was not checked", "nhs",
       "Cost of a GP consultation"),
    _p("ae_attendance_cost_gbp", float, 160.0, (0.0, 5_000.0), (114.0, 250.0), "GBP",
       "NHS cost of one A&E attendance",
       "assumption anchored on NHS Reference Costs 2013/14 (GBP 114 not admitted, 138 admitted) "
       "at later prices; the National Cost Collection 2022/23 figure was not checked", "nhs",
       "Cost of an A&E visit"),
    # --- valuation (settings, except the QALY conversion) -----------------------------------
    _p("wellby_value_gbp", float, 13_000.0, (0.0, 1_000_000.0), None,
       "GBP per WELLBY (2019 prices)",
       "value of one WELLBY (one point of life satisfaction for one person for one year)",
       "setting: HM Treasury Green Book wellbeing guidance, 2021 (GBP 13,000; its range "
       "GBP 10,000-16,000 changes values, not WELLBYs)", "valuation", "Value of a WELLBY"),
    _p(_QALY, float, 7.0, (1.0, 20.0), (3.5, 8.0), "WELLBYs per QALY",
       "WELLBYs equivalent to one QALY: puts EQ-5D evidence (attendance effect, Munford "
       "2020) on the life-satisfaction scale, and gives QALY equivalents in reports",
       "HM Treasury Wellbeing Guidance for Appraisal (2021): one QALY is about 7 WELLBYs; "
       "5.4 is the ratio of the Green Book's GBP 70,000 QALY to its GBP 13,000 WELLBY",
       "valuation", "WELLBYs per QALY"),
    _p("discount_rate_health", float, 0.015, (0.0, 0.2), None, "per year",
       "discount rate for WELLBYs (and QALYs)",
       "setting: HM Treasury Green Book (2022): 1.5% for health and wellbeing effects; NICE "
       "uses 3.5%",
       "valuation", "Discount rate for wellbeing"),
    _p("discount_rate_costs", float, 0.035, (0.0, 0.2), None, "per year",
       "discount rate for money",
       "setting: HM Treasury Green Book (2022) social time preference rate, 3.5%, as NICE "
       "uses for costs", "valuation", "Discount rate for money"),
)

BY_NAME: dict[str, Parameter] = {p.name: p for p in PARAMETERS}


@dataclass(frozen=True)
class Constraint:
    """A rule that involves more than one parameter: at most ``limit`` for the sum of
    ``names``. Validation refuses a set that breaks it; samplers reject such draws."""

    names: tuple[str, ...]
    limit: float
    why: str

    def holds(self, values: Mapping[str, Any]) -> bool:
        """Whether ``values`` (a complete or partial set; defaults fill the gaps) keeps it."""
        return self.total(values) <= self.limit + 1e-12

    def total(self, values: Mapping[str, Any]) -> float:
        return sum(float(values.get(n, BY_NAME[n].default)) for n in self.names)

    def describe(self) -> str:
        return f"{' + '.join(self.names)} <= {self.limit:g} ({self.why})"


CONSTRAINTS: tuple[Constraint, ...] = (
    Constraint(("outreach_awareness_rate", "social_awareness_rate"), 1.0,
               "awareness could otherwise exceed 1"),
    Constraint(("embed_budget_share", "scale_budget_share", "develop_budget_share"), 1.0,
               "together they may take at most the whole budget"),
)


def _cross_problems(values: Mapping[str, Any]) -> list[str]:
    """Problems that involve more than one parameter."""
    return [
        f"parameters {' + '.join(repr(n) for n in c.names)} = {c.total(values):g} exceed "
        f"{c.limit:g}: {c.why}"
        for c in CONSTRAINTS if not c.holds(values)
    ]


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


def parameter_values(data: LineDict, key: str, path: Path) -> tuple[dict, list[str]]:
    """The parameter changes under ``data[key]`` that the declaration accepts, and one problem
    line (file, line, name, value, what is allowed) for each it does not."""
    raw = data.get(key)
    if raw is None:
        return {}, []
    if not isinstance(raw, dict):
        return {}, [f"{path}:{data.line_of(key)}: '{key}' = {shown(raw)}: allowed is a mapping of "
                    "parameter names to values"]
    values, found = {}, []
    for name, value in raw.items():
        line = raw.line_of(name) if isinstance(raw, LineDict) else data.line_of(key)
        if name not in BY_NAME:
            message = unknown_name_message("parameter", clipped(name), BY_NAME, "abm parameters")
            found.append(f"{path}:{line}: {message}")
        elif (problem := parameter_problem(name, value)) is not None:
            found.append(f"{path}:{line}: {problem}")
        else:
            values[name] = value
    return values, found


def parameter_problem(name: str, value: object) -> str | None:
    """What is wrong with ``value`` for the declared parameter ``name`` (None if nothing), with
    a value that is not a number (text, a list, a mapping: perhaps huge) shown shortened."""
    parameter = BY_NAME[name]
    if isinstance(value, int | float):  # bools too: the declaration names their type
        return parameter.problem_with(value)
    return (f"parameter '{name}' has the wrong type: got {shown(value)}, "
            f"allowed is {parameter.allowed()}")


def defaults() -> dict[str, int | float]:
    """Every parameter at its default."""
    return {p.name: p.default for p in PARAMETERS}


def levers() -> list[Parameter]:
    """The policy levers, in declaration order (see :attr:`Parameter.lever`)."""
    return [p for p in PARAMETERS if p.lever]


def sampled(names: list[str] | None = None) -> list[Parameter]:
    """The parameters samplers explore (those with a plausible range), optionally only
    ``names`` (in that order); a name without a plausible range is refused."""
    if names is None:
        return [p for p in PARAMETERS if p.sampled]
    found = []
    for name in names:
        parameter = BY_NAME.get(name)
        if parameter is None:
            raise ParameterError(unknown_name_message("parameter", name, BY_NAME,
                                                      "abm parameters"))
        if not parameter.sampled:
            raise ParameterError(f"parameter '{name}' is a setting with no plausible range: "
                                 "samplers do not explore it")
        found.append(parameter)
    return found


def from_unit(parameter: Parameter, u: float) -> int | float:
    """The value at quantile ``u`` (0-1) of ``parameter``'s plausible range (uniform; whole
    numbers equally likely for integer parameters)."""
    low, high = parameter.plausible_low, parameter.plausible_high
    if parameter.type is int:
        return min(int(low + math.floor(u * (high - low + 1))), int(high))
    return float(low + u * (high - low))


class Params(Mapping[str, Any]):
    """A validated, complete and read-only set of parameter values.

    Read values as attributes (``params.shock_rate``) or as a mapping (``params["shock_rate"]``).
    Values may be given as Python or numpy numbers; each is stored as its declared type.
    """

    __slots__ = ("_values",)

    def __init__(self, overrides: Mapping[str, Any] | None = None):
        overrides = dict(overrides or {})
        found = problems(overrides)
        if found:
            raise ParameterError(found)
        values = defaults()
        for name, value in overrides.items():
            values[name] = BY_NAME[name].coerce(value)
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
        return f"Params({self.overridden()})"

    def replace(self, **changes: Any) -> Params:
        """A copy with some values changed (validated)."""
        return Params({**self.overridden(), **changes})

    def overridden(self) -> dict[str, Any]:
        """The values that differ from their defaults."""
        return {k: v for k, v in self._values.items() if v != BY_NAME[k].default}

    def noting_reads(self) -> tuple[Params, set[str]]:
        """These values in a Params that notes the name of every value read from it, and the
        set it notes them in.

        A deterministic computation given the returned Params depended on no other parameter:
        any Params with the same values for the noted names gives the same computation (the
        workshop app shares burn-ins this way). Every way of reading a value is noted, so
        reading all values (``dict(params)``, ``overridden``) notes them all.
        """
        read: set[str] = set()
        noting = object.__new__(Params)
        object.__setattr__(noting, "_values", _NotingReads(self._values, read))
        return noting, read

    @property
    def attendance_effect(self) -> float:
        """Benefit of regular attendance at full dose, in life-satisfaction points."""
        return self.attendance_effect_eq5d * self.wellbys_per_qaly

    @property
    def budget_per_head(self) -> float:
        """The budget with any extra money, GBP per resident per year."""
        return self.budget_gbp_per_head * (1 + self.budget_uplift)


class _NotingReads(Mapping[str, Any]):
    """Read-only parameter values that add each name read to ``read``."""

    __slots__ = ("_read", "_values")

    def __init__(self, values: dict[str, Any], read: set[str]):
        self._values, self._read = values, read

    def __getitem__(self, name: str) -> Any:
        value = self._values[name]
        self._read.add(name)
        return value

    def __iter__(self) -> Iterator[str]:
        return iter(self._values)

    def __len__(self) -> int:
        return len(self._values)


class ReplicateParams:
    """The parameter values of R replicates run together, read as vectorised rules need them.

    A value is read as a plain number when every replicate has the same one (so a single run,
    or replicates that differ only in their seed, compute exactly as one run does), and
    otherwise as an array with ``per_replicate`` entries for each replicate in turn (one per
    resident, neighbourhood or provider slot of that replicate), each holding its replicate's
    value. With one replicate every read goes to its :class:`Params`, so a Params that notes
    its reads (:meth:`Params.noting_reads`) still notes them.
    """

    __slots__ = ("_cache", "_params", "_per")

    def __init__(self, params: list[Params], per_replicate: int):
        object.__setattr__(self, "_params", params)
        object.__setattr__(self, "_per", per_replicate)
        object.__setattr__(self, "_cache", {})

    def __getattr__(self, name: str) -> Any:
        if name.startswith("_"):  # not a parameter (copying asks for such names first)
            raise AttributeError(name)
        params = self._params
        if len(params) == 1:
            return getattr(params[0], name)
        cache = self._cache
        if name not in cache:
            values = [getattr(p, name) for p in params]
            cache[name] = (values[0] if all(v == values[0] for v in values)
                           else np.repeat(np.asarray(values), self._per))
        return cache[name]

    def __getitem__(self, name: str) -> Any:
        if name not in BY_NAME:
            raise KeyError(name)
        return self.__getattr__(name)

    def __setattr__(self, name: str, value: Any) -> None:
        raise AttributeError("ReplicateParams are read-only")

    def __deepcopy__(self, memo: dict) -> ReplicateParams:
        """Parameters are read-only: a copied model shares them."""
        return self
