"""Why the lines move: the numbers behind the workshop app's "why" views.

Three views, each for the room's choice beside carrying on as today (the same-seed twin,
abm/app/run.py):

- **Where the ICS money goes**: the ICS's yearly money now (grants to open groups, referral
  grants, ICS link workers, community development workers) per resident of each national
  deprivation fifth, GBP a year. Computed from the model's state, so it works on any model.
- **The staircase of the most deprived fifth** (Core20: national IMD deciles 1-2): from
  need to taking part, over the policy years so far, scaled to the place: people in need
  (on average at any time), referred (seen by a link worker), followed up (3+ contacts),
  started a group, still attending 12 weeks after starting (each a year).
- **What makes up the gap**: the q5 - q1 gap split into its parts (the part built into
  deprivation, need, the benefit of taking part, green space, wellbeing still catching up),
  past-year means; the parts community groups can touch are need and the benefit of taking
  part (:data:`TOUCHABLE`).

The staircase and the gap's parts are outputs of Model v3 (the model's ``accounts.staircase``
and the weekly ``gap_part_*`` metrics). Their names are kept here, in :data:`STAIRCASE` and
:data:`GAP_PARTS`, so a rename is a one-line change; a model without them gives ``None`` for
that view, and the page says it waits for the model.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from abm.model.model import CommunityAssetsModel
from abm.model.providers import WEEKS_PER_YEAR

#: Staircase steps (keys of the model's ``accounts.staircase``, per IMD decile) and their
#: words. "in_need" is counted in person-weeks, the others in people.
STAIRCASE = (
    ("in_need", "in need"),
    ("referred", "seen by a link worker"),
    ("followed_up", "followed up (3+ contacts)"),
    ("started", "started a group"),
    ("attending_12w", "still going after 12 weeks"),
)
#: Parts of the gap (weekly metrics, q5 minus q1, life-satisfaction points; they sum to the
#: gap) and their words.
GAP_PARTS = (
    ("gap_part_baseline", "built into deprivation"),
    ("gap_part_need", "need (loneliness, low mood)"),
    ("gap_part_benefit", "benefit of taking part"),
    ("gap_part_green", "green space"),
    ("gap_part_lag", "wellbeing still catching up"),
)
#: The parts of the gap community groups act on: need (belonging and protection lower it,
#: forced stops raise it) and the benefit of taking part.
TOUCHABLE = ("gap_part_need", "gap_part_benefit")
#: The deciles of the most deprived fifth nationally (Core20), as indices 0-9.
CORE20_DECILES = (0, 1)


@dataclass(frozen=True)
class Why:
    """The numbers of the three views; index 0 is the room's choice, 1 carrying on as today.

    ``money``: (2, 5) GBP per resident a year by fifth (q1 = most deprived; NaN where the
    place has no neighbourhood of that fifth). ``staircase``: (2, len(STAIRCASE)) people a
    year in the most deprived fifth (the first step: people in need on average), or None.
    ``parts``: part name -> (choice, today), past-year means, or None. ``gap``: (choice,
    today) past-year mean gap. ``weeks``: policy weeks so far.
    """

    money: np.ndarray
    staircase: np.ndarray | None
    parts: dict[str, tuple[float, float]] | None
    gap: tuple[float, float]
    weeks: int

    def touchable(self, which: int) -> float:
        """The part of the gap community groups can touch (points; 0 choice, 1 today)."""
        if self.parts is None:
            return math.nan
        return sum(self.parts[name][which] for name in TOUCHABLE)

    def sentence(self) -> str:
        """The decomposition in words: how much of the gap groups can touch, and how much
        this choice moved it, against carrying on as today."""
        if self.parts is None:
            return ("What makes up the gap: waits for a model that reports the gap's parts "
                    "(Model v3).")
        gap, touch = self.gap[1], self.touchable(1)
        built_in = self.parts["gap_part_baseline"][1]
        text = (f"Of the {gap:.2f}-point gap (carrying on as today, past year), community "
                f"groups can touch about {touch:.2f} points (need and the benefit of taking "
                f"part); {built_in:.2f} is built into deprivation.")
        if self.weeks == 0:
            return text + " Press play to see what this choice moves."
        moved = self.touchable(0) - touch
        if abs(moved) < 0.0005:
            return text + " This choice moved it by less than 0.001 points so far."
        word = "narrowing" if moved < 0 else "widening"
        return (text + f" This choice moved it by {abs(moved):.3f} points ({word} the gap) "
                "so far.")


def money_per_head(model: CommunityAssetsModel) -> np.ndarray:
    """The ICS's yearly money now per resident of each deprivation fifth (GBP a year): grants
    and referral grants of open providers, ICS link workers and community development
    workers, by the neighbourhood they are in."""
    ps, commissioner = model.provider_state, model.commissioner
    hoods = len(model.hoods)
    money = (np.bincount(ps.neighbourhood, weights=(ps.grant + ps.referral_grant) * ps.open,
                         minlength=hoods)
             + commissioner.ics_link_worker_cost() + commissioner.cd_worker_cost())
    quintile = np.asarray(model.hoods.quintile)
    people = np.bincount(quintile, minlength=5) * model.place.people_per_neighbourhood
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.bincount(quintile, weights=money, minlength=5) / np.where(people, people,
                                                                            np.nan)


def staircase_core20(model: CommunityAssetsModel) -> np.ndarray | None:
    """The staircase of the most deprived fifth so far, people a year scaled to the place
    (the first step: people in need on average); None where the model has no staircase."""
    steps = getattr(model.accounts, "staircase", None)
    if steps is None or any(name not in steps for name, _ in STAIRCASE):
        return None
    weeks = model.week - model.burn_in_weeks
    if weeks <= 0:
        return np.zeros(len(STAIRCASE))
    per_resident = model.place.population / model.resident_state.n
    core20 = list(CORE20_DECILES)
    values = []
    for name, _ in STAIRCASE:
        count = float(np.asarray(steps[name])[0, core20].sum()) * per_resident  # 1 replicate
        values.append(count / weeks if name == "in_need" else count * WEEKS_PER_YEAR / weeks)
    return np.array(values)


def gap_parts(model: CommunityAssetsModel) -> dict[str, float] | None:
    """Past-year means of the gap's parts (the last warm-up week before the policy); None
    where the model does not report them."""
    collected = model.datacollector.model_vars
    if any(name not in collected for name, _ in GAP_PARTS):
        return None
    return {name: _past_year(collected[name], model) for name, _ in GAP_PARTS}


def _past_year(values: list, model: CommunityAssetsModel) -> float:
    """Mean over the past year of policy (the last value before the policy starts)."""
    weeks = model.week - model.burn_in_weeks
    window = values[-min(weeks, WEEKS_PER_YEAR):] if weeks > 0 else values[-1:]
    return float(np.mean(window))


def why(choice: CommunityAssetsModel, today: CommunityAssetsModel) -> Why:
    """The three views for the room's choice and carrying on as today."""
    stairs = [staircase_core20(choice), staircase_core20(today)]
    parts = [gap_parts(choice), gap_parts(today)]
    gaps = tuple(_past_year(m.datacollector.model_vars["gap_q5_q1"], m) for m in (choice, today))
    return Why(
        money=np.array([money_per_head(choice), money_per_head(today)]),
        staircase=None if stairs[0] is None or stairs[1] is None else np.array(stairs),
        parts=(None if parts[0] is None or parts[1] is None
               else {name: (parts[0][name], parts[1][name]) for name, _ in GAP_PARTS}),
        gap=gaps,
        weeks=choice.week - choice.burn_in_weeks,
    )
