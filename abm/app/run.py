"""The workshop app's simulation: a scenario run beside its same-seed "carrying on as today" twin.

The room should watch the policy years, not the warm-up, so a run starts where the burn-in
ends. The burn-in runs under the status quo's rules whatever the scenario's rules are; it is
cached per place and seed together with the parameter values it read: settings that agree
on those get the same burn-in, so changing the strategies, or a parameter that only a
strategy reads (how much of the budget embed takes, say), reuses it, and going back to an
earlier slider position costs nothing. Runs are copies of a cached burn-in with their rules
set (:func:`fork`).

The twin (the grey "carrying on as today" line) is what the room's choice is compared with:
the room's *world* (the place, and every parameter that is not a policy lever: how people
and providers behave, the evidence) with the status quo's *levers* (its rules, and its
value of every parameter marked ``lever`` in abm/model/parameters.py: money, the rules'
budget shares, targeting, grant lengths), and the same seed (same people, same luck). So
extra money, or longer grants, show their effect against today's money and grants. The
twin is exactly the status-quo run a modeller would make from the command line with the
room's world (``abm run baseline --seed S --set ...``); its burn-in is the one of those
settings, shared with the room's run whenever the burn-in read no lever the room moved
(abm/analysis/levers.py says which values it keeps).

The uncertainty of the headline comes from a few more seeds, each a scenario/status-quo
pair run to the end in a background process (:class:`SeedPairs`, abm/app/background.py);
the readout says how many are done and how the range is computed.

Nothing here imports Solara: the background processes and the tests use it directly.
"""

from __future__ import annotations

import copy
import math
import threading
from collections.abc import Mapping, Sequence
from concurrent.futures import Future
from dataclasses import dataclass
from typing import Any

import numpy as np

from abm.analysis.compare import interval
from abm.analysis.levers import carrying_on, status_quo_levers
from abm.app.background import background
from abm.app.why import Why, why
from abm.files.errors import InputError
from abm.model.commissioning import RULES, make_plan, parse_rules
from abm.model.metrics import QUINTILES
from abm.model.model import CommunityAssetsModel
from abm.model.parameters import BY_NAME, Parameter, Params, levers
from abm.model.places import place_names, unknown_place
from abm.model.providers import WEEKS_PER_YEAR

#: Run size in the workshop: small enough to play at projector speed (see benchmarks/app.py),
#: large enough that each deprivation fifth has a few hundred simulated residents.
WORKSHOP_SIZE: dict[str, int] = {"n_neighbourhoods": 100, "residents_per_neighbourhood": 30}
#: Extra seeds run in the background for the readout's range.
EXTRA_SEEDS = 4
#: Burned-in models kept (each a few MB at workshop size).
BURN_IN_CACHE_SIZE = 32
#: Policy weeks the readout averages over (the past year), fewer early in the run.
READOUT_WEEKS = WEEKS_PER_YEAR


@dataclass(frozen=True)
class Settings:
    """What the room chose: place, strategies, parameter changes from the defaults, seed."""

    place: str
    rules: tuple[str, ...]
    changes: tuple[tuple[str, Any], ...]  # sorted (name, value) pairs; run size excluded
    seed: int = 1

    @classmethod
    def make(cls, place: str, rules, changes: Mapping[str, Any] | None = None,
             seed: int = 1) -> Settings:
        """Checked settings; raise :class:`InputError` saying what is wrong in plain words."""
        if place not in place_names():
            raise InputError(unknown_place(place))
        changes = {name: value for name, value in (changes or {}).items()
                   if name not in WORKSHOP_SIZE}
        for name, value in changes.items():  # the declared type, so equal settings are equal
            if name in BY_NAME and BY_NAME[name].problem_with(value) is None:
                changes[name] = BY_NAME[name].type(value)
        settings = cls(place, parse_rules(rules), tuple(sorted(changes.items())), int(seed))
        make_plan(settings.rules, settings.params)  # refuse plans that spend over the budget
        return settings

    @property
    def params(self) -> Params:
        """The full parameter set of a workshop run (validated)."""
        return Params({**dict(self.changes), **WORKSHOP_SIZE})

    @property
    def values(self) -> dict[str, Any]:
        """Parameter changes from the defaults, run size excluded."""
        return dict(self.changes)

    def changed(self, *, place: str | None = None, rules=None, seed: int | None = None,
                **values: Any) -> Settings:
        """These settings with some things changed (checked)."""
        return Settings.make(place or self.place, self.rules if rules is None else rules,
                             {**self.values, **values}, self.seed if seed is None else seed)

    @property
    def policy_weeks(self) -> int:
        """Weeks of policy the app runs (``policy_years`` of the declaration)."""
        return round(self.params.policy_years * WEEKS_PER_YEAR)

    def carrying_on(self) -> Settings:
        """What these settings are compared with: the same place, seed and world (every
        parameter that is not a policy lever), with the status quo's rules and the status
        quo's value of every lever (:func:`abm.analysis.levers.carrying_on`)."""
        return Settings.make(self.place, ("status_quo",), carrying_on(dict(self.changes)),
                             self.seed)

    def levers_kept(self) -> list[tuple[Parameter, Any, Any]]:
        """The levers the room moved away from the status quo: (parameter, the room's value,
        the status quo's value), in declaration order. Carrying on as today keeps the
        latter."""
        mine, today = self.params, status_quo_levers()
        return [(p, mine[p.name], today[p.name]) for p in levers()
                if mine[p.name] != today[p.name]]


def funded_providers(model: CommunityAssetsModel) -> float:
    """Providers open with an ICS grant now, scaled to the place (like ``n_open_providers``)."""
    ps = model.provider_state
    return float((ps.open & (ps.grant > 0)).sum() * model.place_scale)


@dataclass
class _BurnedIn:
    place: str
    seed: int
    depends_on: dict[str, Any]  # the parameter values the burn-in read, by name
    model: CommunityAssetsModel
    funded: list[float]  # funded_providers after each burn-in week

    def serves(self, place: str, seed: int, params: Params) -> bool:
        """Whether this is the burn-in of a run with this place, seed and parameters: the
        same place and seed, and the same values of every parameter the burn-in read (it
        read no others)."""
        return (place, seed) == (self.place, self.seed) and all(
            params[name] == value for name, value in self.depends_on.items())


_burn_ins: list[_BurnedIn] = []  # most recently used last
_burn_ins_lock = threading.Lock()


def _burned_in(settings: Settings) -> _BurnedIn:
    """The model at the end of the burn-in for this place, seed and parameters (cached).

    The rules are not part of the key: the burn-in runs the status quo whatever they are.
    Nor are parameters the burn-in did not read (:meth:`Params.noting_reads` notes them).
    """
    params = settings.params
    with _burn_ins_lock:
        for k, cached in enumerate(_burn_ins):
            if cached.serves(settings.place, settings.seed, params):
                _burn_ins.append(_burn_ins.pop(k))
                return cached
    noting, read = params.noting_reads()
    model = CommunityAssetsModel(settings.place, "status_quo", settings.seed, noting,
                                 record_from=unshown_weeks(params))
    funded = []
    while model.week < model.burn_in_weeks:
        model.step()
        funded.append(funded_providers(model))
    depends_on = {name: params[name] for name in sorted(read)}
    start = _BurnedIn(settings.place, settings.seed, depends_on, model, funded)
    with _burn_ins_lock:
        _burn_ins.append(start)
        del _burn_ins[:-BURN_IN_CACHE_SIZE]
    return start


def unshown_weeks(params: Params) -> int:
    """Warm-up weeks the app never shows, so never records (``record_from``): all but the
    last warm-up year and the week before it (whose closures count starts the chart's)."""
    return max(params["burn_in_years"] * WEEKS_PER_YEAR - WEEKS_PER_YEAR - 1, 0)


def recorded(model: CommunityAssetsModel, name: str, start: int) -> np.ndarray:
    """A weekly metric of ``model`` from week ``start`` on (weeks counted from the start of
    the run, whatever the model left out of its series: ``record_from``)."""
    return np.asarray(model.datacollector.model_vars[name][start - model.record_from:],
                      dtype=float)


def fork(model: CommunityAssetsModel, rules: tuple[str, ...],
         params: Params | None = None) -> CommunityAssetsModel:
    """An independent copy of ``model`` that runs ``rules``, and ``params`` (default: the
    model's own), once its policy starts.

    Valid only before the policy starts: the model reads ``rules`` at each funding round
    and uses the status quo until then (tests/app/test_app_run.py checks that a fork gives the
    same weekly results as a model built with those rules). ``params`` must agree with the
    model's on every parameter the burn-in read (:meth:`_BurnedIn.serves`): a burn-in cached
    for one set of settings serves others that differ only in parameters it did not read,
    and each fork must then run on its own settings' values (every reference to the burned-in
    model's parameters in the copy is replaced). The parameters and the place are immutable,
    so the copy shares them.
    """
    if model.week > model.burn_in_weeks:
        raise ValueError("a model can only be forked before its policy has run")
    copied = copy.deepcopy(model, {id(model.params): model.params if params is None else params,
                                   id(model.place): model.place})
    copied.rules = parse_rules(rules)
    return copied


@dataclass(frozen=True)
class Frame:
    """A snapshot of a run for drawing: weekly series from the last burn-in year on.

    ``years`` are policy years (0 = the policy starts; negative = the warm-up under the
    status quo). Wellbeing is life satisfaction (0-10), uptake a share (0-1), provider
    counts are scaled to the whole place.
    """

    years: np.ndarray
    wellbeing: np.ndarray  # (5, weeks), q1 (most deprived) .. q5
    gap: np.ndarray  # q5 - q1 wellbeing, points
    gap_status_quo: np.ndarray  # the same-seed "carrying on as today" twin's gap
    attending: np.ndarray  # (5, weeks) share attending
    attending_status_quo_q1: np.ndarray
    open_providers: np.ndarray
    funded_providers: np.ndarray
    closures: np.ndarray  # closures in each week
    hood_x: np.ndarray
    hood_y: np.ndarray
    hood_quintile: np.ndarray  # 0 = most deprived fifth
    provider_hood: np.ndarray  # each provider slot's neighbourhood
    provider_open: np.ndarray
    provider_attenders: np.ndarray  # simulated residents attending each slot
    policy_weeks: int  # weeks of policy run so far
    horizon_weeks: int
    gap_other: np.ndarray | None = None  # the compared choice's gap (None: no comparison)

    @property
    def policy_year(self) -> float:
        return self.policy_weeks / WEEKS_PER_YEAR


class WorkshopRun:
    """The room's choice and its same-seed "carrying on as today" twin (see the module
    docstring), started at the end of cached burn-ins; optionally a second choice to
    compare with (``compare``: run with the same seed, and its own twin, shared when the
    two choices' worlds agree).

    ``advance`` and ``frame`` may be called from different threads (the play loop and the
    page): both hold the run's lock.
    """

    def __init__(self, settings: Settings, compare: Settings | None = None):
        self.settings = settings
        self.today = settings.carrying_on()
        start = _burned_in(settings)
        self.model = fork(start.model, settings.rules, settings.params)
        self.status_quo = fork(_burned_in(self.today).model, self.today.rules, self.today.params)
        self.funded = list(start.funded)
        self.horizon_weeks = settings.policy_weeks
        self.lock = threading.Lock()
        self.compared: Settings | None = None
        self.other = self.other_status_quo = None
        if compare is not None:
            self.compared = compare.changed(seed=settings.seed)  # same seed: same people, luck
            self.other = fork(_burned_in(self.compared).model, self.compared.rules,
                              self.compared.params)
            other_today = self.compared.carrying_on()
            self.other_status_quo = (self.status_quo if other_today == self.today else
                                     fork(_burned_in(other_today).model, other_today.rules,
                                          other_today.params))

    @property
    def models(self) -> list[CommunityAssetsModel]:
        """Every model this run steps, each once."""
        found = [self.model, self.status_quo, self.other, self.other_status_quo]
        return [m for k, m in enumerate(found)
                if m is not None and all(m is not n for n in found[:k])]

    @property
    def policy_weeks(self) -> int:
        """Weeks of policy run so far."""
        return self.model.week - self.model.burn_in_weeks

    @property
    def finished(self) -> bool:
        return self.policy_weeks >= self.horizon_weeks

    def advance(self, weeks: int) -> int:
        """Run every model ``weeks`` more weeks (less at the end); return the weeks run."""
        with self.lock:
            weeks = max(0, min(weeks, self.horizon_weeks - self.policy_weeks))
            models = self.models
            for _ in range(weeks):
                for model in models:
                    model.step()
                self.funded.append(funded_providers(self.model))
            return weeks

    def series(self, name: str, model: CommunityAssetsModel | None = None) -> np.ndarray:
        """A weekly metric from the last burn-in year on (see :class:`Frame`)."""
        model = model or self.model
        return recorded(model, name, max(model.burn_in_weeks - WEEKS_PER_YEAR, 0))

    def frame(self) -> Frame:
        """A snapshot of the run now (copies: drawing may go on while the run advances)."""
        with self.lock:
            model, ps = self.model, self.model.provider_state
            start = max(model.burn_in_weeks - WEEKS_PER_YEAR, 0)
            closures = np.diff(self.series("closures"), prepend=self._closures_before(start))
            return Frame(
                years=self.series("year"),
                wellbeing=np.array([self.series(f"wellbeing_{q}") for q in QUINTILES]),
                gap=self.series("gap_q5_q1"),
                gap_status_quo=self.series("gap_q5_q1", self.status_quo),
                attending=np.array([self.series(f"p_attending_{q}") for q in QUINTILES]),
                attending_status_quo_q1=self.series("p_attending_q1", self.status_quo),
                open_providers=self.series("n_open_providers"),
                funded_providers=np.array(self.funded[start:]),
                closures=closures,
                hood_x=model.hoods.x.copy(),
                hood_y=model.hoods.y.copy(),
                hood_quintile=np.asarray(model.hoods.quintile).copy(),
                provider_hood=ps.neighbourhood.copy(),
                provider_open=ps.open.copy(),
                provider_attenders=ps.attendees(model.resident_state.provider),
                policy_weeks=self.policy_weeks,
                horizon_weeks=self.horizon_weeks,
                gap_other=(None if self.other is None
                           else self.series("gap_q5_q1", self.other)),
            )

    def _closures_before(self, start: int) -> float:
        return float(recorded(self.model, "closures", start - 1)[0]) if start > 0 else 0.0

    def gap_difference(self) -> np.ndarray:
        """Scenario minus carrying-on-as-today gap (points) in each policy week so far."""
        with self.lock:
            return _policy_gap_difference(self.model, self.status_quo)

    def other_gap_difference(self) -> np.ndarray | None:
        """The compared choice's gap minus its own twin's, each policy week (None: none)."""
        if self.other is None:
            return None
        with self.lock:
            return _policy_gap_difference(self.other, self.other_status_quo)

    def why(self) -> Why:
        """The numbers of the "why" views for this choice and carrying on as today."""
        with self.lock:
            return why(self.model, self.status_quo)

    def wellbys(self) -> float:
        """WELLBYs gained so far against carrying on as today: wellbeing-years, undiscounted,
        scaled to the place (:func:`wellbeing_years`)."""
        with self.lock:
            return wellbeing_years(self.model) - wellbeing_years(self.status_quo)

    def other_wellbys(self) -> float | None:
        """The compared choice's WELLBYs so far against its own twin (None: no comparison)."""
        if self.other is None:
            return None
        with self.lock:
            return wellbeing_years(self.other) - wellbeing_years(self.other_status_quo)


def wellbeing_years(model: CommunityAssetsModel) -> float:
    """Life-satisfaction point-years lived in the policy period so far, undiscounted, scaled
    to the place (the run summary's ``wellbeing_years`` once the run has ended): two
    same-seed runs differ by WELLBYs."""
    per_resident = model.place.population / model.resident_state.n
    return float(sum(year["wellbeing"].sum() for year in model.accounts.years) * per_resident)


def _policy_gap_difference(model: CommunityAssetsModel, twin: CommunityAssetsModel) -> np.ndarray:
    start = model.burn_in_weeks
    return recorded(model, "gap_q5_q1", start) - recorded(twin, "gap_q5_q1", start)


def seed_pair(settings: Settings) -> np.ndarray:
    """Run a scenario/status-quo pair to the end; its weekly gap difference (a worker task)."""
    run = WorkshopRun(settings)
    run.advance(run.horizon_weeks)
    return run.gap_difference()


def seed_pairs(settings: Sequence[Settings]) -> list[np.ndarray]:
    """:func:`seed_pair` for several seeds of the same choice at once (a worker task): the
    choices run as the replicates of one model and carrying on as today as those of another
    (:mod:`abm.model.replicas`), each replicate exactly its seed's run alone, so each result
    is exactly that seed's :func:`seed_pair`, in less time than one pair after another."""
    if len(settings) == 1:
        return [seed_pair(settings[0])]
    gaps = []
    for chosen in (settings, [s.carrying_on() for s in settings]):
        model = CommunityAssetsModel(chosen[0].place, chosen[0].rules,
                                     [s.seed for s in chosen], [s.params for s in chosen])
        model.run(years=chosen[0].policy_weeks / WEEKS_PER_YEAR)
        series = model.timeseries()
        gaps.append([series["gap_q5_q1"][series.replicate == r].to_numpy(dtype=float)
                     [model.burn_in_weeks:] for r in range(len(chosen))])
    return [ours - theirs for ours, theirs in zip(*gaps, strict=True)]


def warm_up() -> None:
    """Make the background worker ready (a worker task, submitted when a server starts): the
    model imported and its compiled kernels loaded, by a few weeks of a tiny model."""
    CommunityAssetsModel("devon_ics", "status_quo", 1, {
        "n_neighbourhoods": 10, "residents_per_neighbourhood": 10, "burn_in_years": 1},
        record="final year").run(years=0.1)


class SeedPairs:
    """More seeds of the same settings, each a scenario/status-quo pair, run in the
    background for the readout's range (seeds ``seed + 1`` .. ``seed + EXTRA_SEEDS``), all
    in one task (:func:`seed_pairs`)."""

    def __init__(self, settings: Settings, n: int = EXTRA_SEEDS):
        self.seeds = [settings.seed + 1 + i for i in range(n)]
        self.futures: list[Future] = background().submit_batch(
            seed_pairs, [([settings.changed(seed=seed) for seed in self.seeds],)])

    def done(self) -> list[np.ndarray]:
        """Gap differences of the pairs finished so far."""
        return [pair for f in self.futures if f.done() and not f.cancelled()
                and f.exception() is None for pair in f.result()]

    @property
    def pending(self) -> list[Future]:
        return [f for f in self.futures if not f.done()]

    def cancel(self) -> None:
        """Drop pairs not yet started (the settings changed)."""
        for future in self.futures:
            future.cancel()


def past_year_mean(differences: np.ndarray, policy_weeks: int) -> float:
    """Mean of the weekly differences over the past year of policy up to ``policy_weeks``."""
    window = differences[max(policy_weeks - READOUT_WEEKS, 0):policy_weeks]
    return float(window.mean()) if len(window) else math.nan


@dataclass(frozen=True)
class Readout:
    """The plain-language summary shown above the charts."""

    headline: str
    range: str
    method: str
    uptake: str
    wellbys: str = ""


def points(value: float) -> str:
    """A number of life-satisfaction points, unsigned, to two decimals, or to three when
    smaller than 0.01 (so a small change does not read as 0.00)."""
    value = abs(value)
    return f"{value:.2f}" if value >= 0.01 or value == 0 else f"{value:.3f}"


def change_in_words(change: float) -> str:
    """A change in the q5-q1 gap (points) in words: 'narrower by 0.04 points' etc."""
    if math.isnan(change):
        return "not known yet"
    if abs(change) < 0.005:
        return "about the same (within 0.01 points)"
    word = "narrower" if change < 0 else "wider"
    return f"{word} by {abs(change):.2f} points"


def range_in_words(lo: float, hi: float) -> str:
    """A 95% range of changes in the gap (points, ``lo`` <= ``hi``) in words."""
    if hi < 0:
        return f"narrower by {points(hi)} to {points(lo)} points"
    if lo > 0:
        return f"wider by {points(lo)} to {points(hi)} points"
    return (f"from {points(lo)} points narrower to {points(hi)} points wider: "
            "too uncertain to say which way")


def rounded(value: float, digits: int = 2) -> float:
    """``value`` to ``digits`` significant figures (0 stays 0)."""
    if value == 0 or not math.isfinite(value):
        return value
    return round(value, digits - 1 - math.floor(math.log10(abs(value))))


def wellbys_in_words(wellbys: float) -> str:
    """WELLBYs gained against carrying on as today, in words, with their basis."""
    if math.isnan(wellbys):
        return ""
    amount = rounded(abs(wellbys))
    if amount == 0:
        return ("So far as many wellbeing-years (WELLBYs, undiscounted, whole place) as "
                "carrying on as today.")
    word = "more" if wellbys > 0 else "fewer"
    return (f"So far about {amount:,.0f} {word} wellbeing-years (WELLBYs, undiscounted, whole "
            "place) than carrying on as today.")


def compared_with(settings: Settings) -> str:
    """What the grey line and every "compared with carrying on as today" mean, in words."""
    kept = settings.levers_kept()
    today = RULES["status_quo"].summary
    text = (f"Compared with carrying on as today: the same place, people and luck (seed "
            f"{settings.seed}) and the same assumptions, with today's commissioning ({today})")
    if not kept:
        return text + " and today's money and grants."
    shown = "; ".join(f"{p.label.lower()} {_value(p, sq)} instead of {_value(p, mine)} "
                      f"{p.unit}" for p, mine, sq in kept)
    return f"{text} and today's money and grants where this choice differs: {shown}."


def _value(parameter: Parameter, value: Any) -> str:
    return f"{value:,}" if parameter.type is int else f"{value:g}"


def readout(frame: Frame, this_run: np.ndarray, others: list[np.ndarray],
            extra_seeds: int, wellbys: float = math.nan) -> Readout:
    """What the room should take away, in words, at the frame's policy week.

    ``this_run`` and ``others`` are weekly scenario-minus-twin gap differences (this run's
    seed and the extra seeds finished so far); ``wellbys`` the WELLBYs gained so far against
    the twin (undiscounted).
    """
    weeks = frame.policy_weeks
    if weeks == 0:
        headline = ("The policy starts now. Press play to watch ten years: the thin grey line "
                    "is carrying on as today with the same people and the same luck.")
        return Readout(headline, "", "", _uptake_in_words(frame))
    years = f"{frame.policy_year:.1f} year{'s' if weeks != WEEKS_PER_YEAR else ''}"
    change = past_year_mean(this_run, weeks)
    headline = (f"After {years}, the gap in wellbeing between the most and the least deprived "
                f"fifth is {change_in_words(change)}, compared with carrying on as today.")
    values = [change] + [past_year_mean(d, weeks) for d in others]
    _, lo, hi = interval(values)
    if len(values) < 2:
        span = f"Range: waiting for the extra seeds (0 of {extra_seeds} done)."
    else:
        span = (f"95% range over {len(values)} seeds: {range_in_words(lo, hi)} "
                f"({len(others)} of {extra_seeds} extra seeds done).")
    method = ("How: the change is the past year's average gap minus that of carrying on as "
              "today with the same seed; the range is a 95% t-interval of that change over "
              "this run's seed and the extra seeds run in the background. Gap = life "
              "satisfaction (0-10) of the least minus the most deprived fifth.")
    return Readout(headline, span, method, _uptake_in_words(frame), wellbys_in_words(wellbys))


def _uptake_in_words(frame: Frame) -> str:
    ours, theirs = frame.attending[0, -1], frame.attending_status_quo_q1[-1]
    if math.isnan(ours):
        return ""
    return (f"In the most deprived fifth {ours:.0%} take part in a group now "
            f"({theirs:.0%} if we carried on as today).")
