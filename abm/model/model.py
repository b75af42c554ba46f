"""The model: community assets and health disparities in one place, one step per week, for
one run or for several replicates at once."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any, Self

import mesa
import numpy as np
import pandas as pd

from abm.files.errors import InputError
from abm.model.accounts import Accounts
from abm.model.commissioning import make_plan, parse_rules
from abm.model.engines import ARRAY_ENGINES, ENGINES, engine_named, rank_among_equals
from abm.model.metrics import WEEKLY_METRICS
from abm.model.parameters import Params
from abm.model.places import Place, load_place, synthesise
from abm.model.providers import (
    CLOSURE_DRAWS,
    FOUNDING_DRAWS,
    WEEKS_PER_YEAR,
    Provider,
    ProviderState,
    initial_slot_neighbourhoods,
)
from abm.model.randomness import ReplicateStreams, Streams, seed_from
from abm.model.replicas import Replica, per_replicate
from abm.model.residents import (
    ATTENDING,
    DROPPED_OUT,
    NOT_ENGAGED,
    REFERRED,
    Resident,
    ResidentState,
    WeekContext,
)

MAX_YEARS = 100
#: What a model records: every week's metrics, or only the final policy year's (all its
#: summary reads; weekly metrics cost more than a week's rules at small sizes).
RECORD = ("weekly", "final year")
#: Keys of a Mesa ``Scenario`` that are not model parameters.
SCENARIO_KEYS = ("place", "rules")


class CommunityAssetsModel(mesa.Model):
    """Residents, asset providers and an ICS commissioner in one place; one step is one week.

    Each step:

    1. Commissioning: at the start of each year the commissioner holds a funding round, under
       the status quo during the burn-in and under the scenario's rules after it; providers
       then plan this year's places. Attenders beyond a provider's places lose them.
    2. Context: the week's random draws; each neighbourhood's outreach, access to providers
       with a free place (less where what a group costs to take part puts people off), the
       link workers' free time for new referrals, and community development's coverage.
    3. Residents decide: community development's effect builds -> needs and shocks (belonging
       protects) -> awareness and trust -> referral -> drop out, or try to start at a
       provider.
    4. Places: where a provider is full, places go to those asking in random priority order
       (followed-up referrals first under embed).
    5. Wellbeing moves towards baseline - need penalty + benefit of attending + benefit of
       green space; belonging builds while attending.
    6. Ties: ties made in groups are kept while both attend and fade otherwise; attenders
       make new ties at their group.
    7. Providers' finances: those out of money, or closing for other reasons, close
       (attenders lose the group, trust falls); slots waiting long enough are re-founded
       when other funders' founding pool can pay.
    8. Accounts (payments, wellbeing-years, NHS use) and weekly metrics (Mesa
       DataCollector).

    **Recording.** ``record="weekly"`` (the default) keeps every week's metrics
    (``timeseries()``); ``record="final year"`` only those of the final policy year, which is
    all ``summary()`` reads (sweeps without weekly series run this way). ``record_from=W``
    leaves the first W weeks out of the weekly series (their metrics are not computed; the
    series' ``week`` column says which week a row is): the workshop app shows only the last
    warm-up year, and a new warm-up is on screen sooner without the earlier years' metrics.

    **Replicates.** ``seed`` may be a list of seeds (and ``parameters`` a list of parameter
    sets, one per seed, differing in anything but the run size): the model then runs R
    replicates of the same place and rules at once, as one set of arrays (residents,
    neighbourhoods and provider slots of replicate r after those of replicate r - 1; see
    :mod:`abm.model.replicas`), and every result of replicate r is exactly that of a run
    with its seed and parameters alone (``tests/model/test_replicates.py``). ``summary()``
    and ``timeseries()`` then have one row (one series) per replicate. A single run is the
    case R = 1, with Mesa agents viewing the arrays.

    Mesa conventions: ``rng=`` (an int seed, a numpy Generator or SeedSequence) or ``seed=``
    sets the run seed (neither: a fresh one, kept in ``model.seed``); ``scenario=`` a Mesa
    ``Scenario`` whose attributes are parameter values (and optionally ``place`` and
    ``rules``); ``model.running`` turns False after ``burn_in_years + policy_years``, so
    ``mesa.batch_run`` stops by itself.

    Use: ``CommunityAssetsModel("devon_ics", "scale+embed", seed=1).run().summary()``.
    """

    def __init__(
        self,
        place: str | Place = "devon_ics",
        rules: str | Iterable[str] = "status_quo",
        seed: int | Sequence[int] | None = None,
        parameters: Mapping[str, Any] | Sequence[Mapping[str, Any]] | None = None,
        *,
        rng: Any = None,
        scenario: Any = None,
        engine: str | None = None,
        record: str = "weekly",
        record_from: int = 0,
        **parameter_values: Any,
    ):
        engine = engine_named(engine)
        if record not in RECORD:
            raise InputError(f"record = {record!r}: allowed are {', '.join(map(repr, RECORD))}")
        if not (isinstance(record_from, int) and record_from >= 0):
            raise InputError(f"record_from = {record_from!r}: allowed is a whole number of "
                             "weeks, 0 or more")
        self.record = record
        #: Weeks left out at the start of the weekly series (row k is week record_from + k + 1).
        self.record_from = record_from
        if scenario is not None:
            values = {k: v for k, v in scenario.to_dict().items()
                      if k not in ("rng", "model", "_scenario_id")}
            place = values.pop("place", place)
            rules = values.pop("rules", rules)
            parameter_values = {**values, **parameter_values}
            rng = scenario.rng if rng is None and seed is None else rng
        if seed is not None and rng is not None:
            raise InputError("give the seed as seed= or rng=, not both")
        if seed is None and rng is None:
            seed = int(np.random.SeedSequence().entropy % (2**63))
        seeds = (list(seed) if isinstance(seed, Sequence | np.ndarray)
                 else [seed if seed is not None else seed_from(rng)])
        params = _replicate_params(parameters, parameter_values, len(seeds))
        if len(seeds) > 1 and engine not in ARRAY_ENGINES:
            raise InputError(f"replicates run on the array engines only "
                             f"({', '.join(ARRAY_ENGINES)}), not '{engine}'")
        place = place if isinstance(place, Place) else load_place(place)
        self.rules = parse_rules(rules)
        for p in params:
            make_plan(self.rules, p)  # refuse rules that would spend more than the budget
        streams = [Streams(s) for s in seeds]
        super().__init__(rng=streams[0].mesa)
        if scenario is not None:
            self.scenario = scenario
        self.place = place
        self.week = 0
        first = params[0]
        self.burn_in_weeks = first.burn_in_years * WEEKS_PER_YEAR
        #: The week the run ends (``running`` turns False), unless ``run`` asks for more.
        self.end_week = self.burn_in_weeks + round(first.policy_years * WEEKS_PER_YEAR)
        self._stop_week = self.end_week  # where the current run() stops (see ``record``)
        #: Simulated residents per real person.
        self.sample_fraction = first.residents_per_neighbourhood / place.people_per_neighbourhood
        #: Simulated residents of each replicate.
        self.residents_each = first.n_neighbourhoods * first.residents_per_neighbourhood

        hoods = [synthesise(place, p, s.setup) for p, s in zip(params, streams, strict=True)]
        residents = [ResidentState(h, p, s.setup)
                     for h, p, s in zip(hoods, params, streams, strict=True)]
        initial = [initial_slot_neighbourhoods(h, p, s.setup)
                   for h, p, s in zip(hoods, params, streams, strict=True)]
        self.replicas = [Replica(self, r, p, h, s)
                         for r, (p, h, s) in enumerate(zip(params, hoods, streams, strict=True))]
        self._streams = ReplicateStreams(streams)
        self.hoods = hoods[0] if len(seeds) == 1 else self.replicas[0].stacked_hoods(hoods)
        self.resident_state = (residents[0] if len(seeds) == 1
                               else ResidentState.concatenate(residents, hoods))
        self.provider_state = ProviderState(self.hoods, params, self.sample_fraction,
                                            place.asset_mix)
        self.accounts = Accounts(self, compiled=engine == "fast")
        self.engine = ENGINES[engine](self)
        #: Residents who cannot take a place (none unless an experiment says so).
        self.barred = np.zeros(self.resident_state.n, dtype=bool)
        for replica, slots in zip(self.replicas, initial, strict=True):
            replica.add_providers(slots, 0)
        self.latest: dict[str, float] = {}
        self.datacollector = mesa.DataCollector(
            model_reporters={name: (lambda m, k=name: m.latest[k]) for name in WEEKLY_METRICS}
        )
        self._weekly: list[np.ndarray] = []  # replicates' weekly metrics, when more than one

    # --- a single run -------------------------------------------------------------------------
    @property
    def single(self) -> Replica:
        """The one replicate of a single run (an error when there are several)."""
        if len(self.replicas) != 1:
            raise AttributeError(f"this model runs {len(self.replicas)} replicates: use "
                                 "model.replicas[r]")
        return self.replicas[0]

    @property
    def params(self) -> Params:
        """The parameters of a single run."""
        return self.single.params

    @property
    def seed(self) -> int:
        """The seed of a single run."""
        return self.single.streams.seed

    @property
    def streams(self) -> Streams:
        """The random streams of a single run."""
        return self.single.streams

    @property
    def commissioner(self):
        """The ICS commissioner of a single run."""
        return self.single.commissioner

    @property
    def founding_pool(self) -> float:
        """GBP other funders hold for founding groups (a single run)."""
        return self.single.founding_pool

    @founding_pool.setter
    def founding_pool(self, gbp: float) -> None:
        self.single.founding_pool = gbp

    @property
    def people_represented(self) -> float:
        """People the simulated neighbourhoods stand for."""
        return self.replicas[0].people_represented

    @property
    def place_scale(self) -> float:
        """Multiply a total for the simulated neighbourhoods by this to get the place's."""
        return self.replicas[0].place_scale

    # --- agents -------------------------------------------------------------------------------
    @property
    def residents(self) -> mesa.agentset.AgentSet:
        """All residents as Mesa agents (views of the arrays; a single run only), made the
        first time they are asked for: the array engines never need them, and making 1.2
        million Mesa agents takes 6 of a 1:1 Devon ICS run's 8 seconds of set-up."""
        if Resident not in self.agents_by_type:
            if len(self.replicas) != 1:
                raise ValueError("residents as Mesa agents exist for a single run only; this "
                                 f"model runs {len(self.replicas)} replicates")
            for index in range(self.resident_state.n):
                Resident(self, index)
        return self.agents_by_type[Resident]

    @property
    def providers(self) -> mesa.agentset.AgentSet:
        """All provider slots as Mesa agents (views of the arrays), open or closed."""
        return self.agents_by_type.get(Provider) or mesa.agentset.AgentSet([], random=self.random)

    def add_providers(self, hoods: np.ndarray, week: int, reserves: float | None = None,
                      kind: int | None = None, resident_led: bool = False) -> np.ndarray:
        """Add slots in ``hoods`` of a single run, each with a newly founded provider (see
        :meth:`Replica.add_providers`); return the new slot indices."""
        return self.single.add_providers(hoods, week, reserves, kind, resident_led)

    def _new_slots(self, replica: Replica, hoods: np.ndarray) -> np.ndarray:
        """Closed, empty slots for ``replica`` in its ``hoods`` (local indices); their global
        indices. Mesa agents view a single run's new slots."""
        ps, rs = self.provider_state, self.resident_state
        before = ps.capacity
        new = ps.add_slots(replica.index, np.asarray(hoods, dtype=np.int32)
                           + replica.index * len(replica.hoods))
        if ps.capacity != before:  # slots were re-laid: residents' providers follow
            attending = rs.provider >= 0
            rep = rs.provider[attending] // before
            rs.provider[attending] += rep * (ps.capacity - before)
        if len(self.replicas) == 1:
            for index in new:
                Provider(self, int(index))
        return new

    def _found(self, replica: Replica, slots: np.ndarray, week: int, reserves: float | None,
               kind: int | None = None, resident_led: bool = False) -> None:
        """Found a provider in each of ``slots`` (global indices of ``replica``'s slots;
        traits from its stream ``founding``) and let it plan its places."""
        ps = self.provider_state
        local = slots - replica.index * ps.capacity
        u = replica.streams.uniforms("founding", week, ps.capacity, FOUNDING_DRAWS)[local]
        ps.found(slots, u, replica.params, reserves, kind, resident_led)
        self.engine.plan(slots)

    # --- running ------------------------------------------------------------------------------
    @property
    def policy_started(self) -> bool:
        """Whether the burn-in is over and the scenario's rules are in force."""
        return self.week >= self.burn_in_weeks

    @property
    def years_run(self) -> float:
        """Policy years simulated so far."""
        return max(self.week - self.burn_in_weeks, 0) / WEEKS_PER_YEAR

    def run(self, years: float | None = None) -> Self:
        """Run the burn-in (if not yet done) and then ``years`` more policy years (default:
        to the end of ``policy_years``). Returns the model."""
        if years is None:
            end = self.end_week
        else:
            if isinstance(years, bool) or not isinstance(years, int | float) or not (
                    0 < years <= MAX_YEARS):
                raise InputError(
                    f"years = {years!r}: allowed is a number above 0 and at most {MAX_YEARS}")
            end = max(self.week, self.burn_in_weeks) + round(years * WEEKS_PER_YEAR)
            self.end_week = max(self.end_week, end)
        if end <= max(self.week, self.burn_in_weeks):
            raise InputError(f"years = {years!r}: allowed is at least one week "
                             f"({1 / WEEKS_PER_YEAR:.4f} years) beyond what has run")
        self._stop_week = end
        while self.week < end:
            self.step()
        return self

    def step(self) -> None:
        """Advance one week (see the class docstring for the order)."""
        week, rs, ps = self.week, self.resident_state, self.provider_state
        if week == self.burn_in_weeks:
            self.accounts.start_policy()
        # 1. Commissioning.
        if week % WEEKS_PER_YEAR == 0:
            rules = self.rules if self.policy_started else ("status_quo",)
            for replica in self.replicas:
                replica.commissioner.funding_round(week, rules)
            self.engine.plan()
            self.cut_places()
        # 2. Context.
        ctx = self.week_context()
        # 3. Residents decide.
        starters, picks = self.engine.decide(ctx)
        dropped = ctx.attending_at_start & (rs.state == DROPPED_OUT)
        new_referrals = (rs.state == REFERRED) & (rs.state_until == week + rs.params.referral_weeks)
        # 4. Places.
        starters, picks = starters[~self.barred[starters]], picks[~self.barred[starters]]
        priority_first = self._per_resident([r.commissioner.plan.referral_priority
                                             for r in self.replicas])
        first = (rs.state[starters] == REFERRED) & rs.followed_up[starters] & (
            priority_first if np.ndim(priority_first) == 0 else priority_first[starters])
        priority = self._uniforms("admission", self.residents_each)[starters]
        self.engine.admit(starters, picks, first, priority, week)
        # 5. Wellbeing.
        self.engine.update_wellbeing(week)
        # 6. Ties.
        self.engine.update_ties(ctx.u_tie)
        # 7. Providers' finances, closures and re-founding.
        u = self._uniforms("closures", ps.capacity, CLOSURE_DRAWS)
        broke = self.engine.pay_week()
        other = ps.closing_for_other_reasons(u[:, 0])
        closing = np.union1d(broke, other)
        if len(closing):
            self.close_providers(closing, u[closing, 1])
        for replica, waiting in zip(self.replicas, ps.replicates_waiting(week), strict=True):
            replica.refound(week, waiting)
        # 8. Accounts and metrics.
        self.accounts.week(ctx.attending_at_start, dropped, new_referrals)
        self.week += 1
        if self.week > self.record_from and (
                self.record == "weekly" or self.week > self._stop_week - WEEKS_PER_YEAR):
            self._collect()
        if self.week >= self.end_week:
            self.running = False

    def _collect(self) -> None:
        """This week's metrics into the DataCollector (a single run) or the replicates'
        series."""
        metrics = self.accounts.weekly_metrics()
        if len(self.replicas) == 1:
            self.latest = {name: values[0] for name, values in metrics.items()}
            self.datacollector.collect(self)
        else:
            self._weekly.append(np.column_stack([metrics[name] for name in WEEKLY_METRICS]))

    def _uniforms(self, stream: str, per_replicate: int, per_item: int = 1) -> np.ndarray:
        """This week's uniforms of ``stream`` for every replicate, replicate after replicate
        (each exactly what its seed's run alone draws; several replicates' drawn by the
        engine in one go)."""
        if len(self.replicas) == 1:
            return self.replicas[0].streams.uniforms(stream, self.week, per_replicate, per_item)
        return self.engine.uniforms(self._streams, stream, self.week, per_replicate, per_item)

    def _per_resident(self, values: list) -> Any:
        """One value per replicate as the resident rules read it (see :func:`per_replicate`)."""
        return per_replicate(values, self.residents_each)

    def week_context(self) -> WeekContext:
        """This week's draws and each neighbourhood's surroundings (shared by both engines)."""
        rs, ps = self.resident_state, self.provider_state
        n_hoods, week = len(self.hoods), self.week
        p, hp = rs.params, rs.hood_params
        is_open = ps.open
        outreach = np.bincount(ps.neighbourhood[is_open], weights=ps.outreach[is_open],
                               minlength=n_hoods)
        with_space = np.flatnonzero(is_open & (ps.attendees(rs.provider) < ps.places))
        candidates = self.engine.candidates(with_space)
        if np.any(hp.fee_barrier > 0) and candidates.nnz:  # what taking part costs puts off
            rows = np.repeat(np.arange(n_hoods), np.diff(candidates.indptr))
            barrier = hp.fee_barrier if np.ndim(hp.fee_barrier) == 0 else hp.fee_barrier[rows]
            fee = np.minimum(ps.fee_ratio[candidates.indices], 1.0)
            candidates.data *= 1 - barrier * fee * self.hoods.deprivation[rows]
        eligible = ((rs.state == NOT_ENGAGED) | (rs.state == DROPPED_OUT)) & (
            rs.need > p.referral_need_threshold
        )
        eligible_per_hood = np.bincount(rs.neighbourhood[eligible], minlength=n_hoods)
        follow_up = [r.commissioner.plan.follow_up_share for r in self.replicas]
        new_clients = np.concatenate([r.commissioner.new_clients_per_week(share)
                                      for r, share in zip(self.replicas, follow_up,
                                                          strict=True)]) * self.sample_fraction
        return WeekContext(
            week=week,
            u_shock=self._uniforms("shocks", self.residents_each),
            u_act=self._uniforms("engagement", self.residents_each),
            u_ref=self._uniforms("referral", self.residents_each),
            attending_at_start=rs.state == ATTENDING,
            outreach=np.minimum(outreach, 1.0),
            access=np.minimum(self.engine.row_sums(candidates), 1.0),
            candidates=candidates,
            referral_prob=np.minimum(new_clients / np.maximum(eligible_per_hood, 1), 1.0),
            follow_up_share=self._per_resident(follow_up),
            u_tie=self._uniforms("ties", self.residents_each),
            cd_coverage=np.concatenate([r.commissioner.cd_coverage() for r in self.replicas]),
        )

    def cut_places(self) -> None:
        """Providers running fewer places than they have attenders (a grant ended, money is
        short) let the excess go, chosen at random (stream ``cuts``): a forced stop for them."""
        rs, ps = self.resident_state, self.provider_state
        over = ps.attendees(rs.provider) > ps.places
        if not over.any():
            return
        attenders = rs.attenders_of(over)
        priority = self._uniforms("cuts", self.residents_each)[attenders]
        order = np.lexsort((priority, rs.provider[attenders]))  # by provider, then priority
        ranked = attenders[order]
        group = rs.provider[ranked]
        losing = np.sort(ranked[rank_among_equals(group) >= ps.places[group]])
        self.accounts.displaced(self._count_by_replicate(losing, rs.n))
        self.engine.lose_places(losing, self.week)

    def close_providers(self, closing: np.ndarray, u_delay: np.ndarray | None = None) -> None:
        """Close providers (slot indices, ascending) now: their attenders lose the group and
        their neighbourhoods lose trust. Called when money runs out or a group stops for
        other reasons; also usable to ask "what if these groups closed?" (``u_delay``: one
        uniform per slot for its re-founding delay; default the ``closures`` stream's)."""
        rs, ps, week = self.resident_state, self.provider_state, self.week
        closing = np.asarray(closing, dtype=np.int64)
        if u_delay is None:
            u_delay = self._uniforms("closures", ps.capacity, CLOSURE_DRAWS)[closing, 1]
        is_closing = np.zeros(len(ps), dtype=bool)
        is_closing[closing] = True
        attenders = rs.attenders_of(is_closing)
        ps.close(closing, week, u_delay)
        self.accounts.closed(self._count_by_replicate(closing, len(ps)),
                             self._count_by_replicate(attenders, rs.n))
        self.engine.lose_places(attenders, week)
        self.engine.lose_trust(ps.neighbourhood[closing])

    def _count_by_replicate(self, items: np.ndarray, total: int) -> np.ndarray:
        """How many of ``items`` (indices into arrays of ``total`` entries laid out replicate
        after replicate) belong to each replicate."""
        per = total // len(self.replicas)
        return np.bincount(np.asarray(items, dtype=np.int64) // per,
                           minlength=len(self.replicas))

    # --- results ------------------------------------------------------------------------------
    def timeseries(self) -> pd.DataFrame:
        """Weekly metrics (one row per week, burn-in included: ``year`` <= 0 there); with
        several replicates, one series after another, with a ``replicate`` column."""
        if len(self.replicas) == 1:
            return self.datacollector.get_model_vars_dataframe()
        weeks = np.stack(self._weekly)  # week x replicate x metric
        frames = [pd.DataFrame(weeks[:, r, :], columns=list(WEEKLY_METRICS)).assign(replicate=r)
                  for r in range(len(self.replicas))]
        # the week is a count, as in a single run's DataCollector (results folders hold both)
        return pd.concat(frames, ignore_index=True).astype({"week": "int64"})

    def summary(self) -> pd.DataFrame:
        """One row per replicate (one for a single run): identity, final-year outcomes and
        policy-period totals (see :meth:`abm.model.accounts.Accounts.summary`)."""
        if self.years_run == 0:
            raise RuntimeError("run the model first: model.run()")
        first_needed = max(self.week - WEEKS_PER_YEAR, self.burn_in_weeks) + 1
        if self.record_from >= first_needed:
            raise RuntimeError(f"the summary reads the weekly metrics of the final policy year "
                               f"(weeks {first_needed}-{self.week}), but record_from = "
                               f"{self.record_from} left weeks {first_needed}-"
                               f"{self.record_from} out")
        series = self.timeseries()
        if len(self.replicas) == 1:
            return pd.DataFrame([self.accounts.summary(0, series)])
        return pd.DataFrame([self.accounts.summary(r, series[series.replicate == r]
                                                   .drop(columns="replicate"))
                             for r in range(len(self.replicas))])


def _replicate_params(parameters: Mapping | Sequence[Mapping] | None,
                      parameter_values: Mapping, replicates: int) -> list[Params]:
    """One Params per replicate from ``parameters`` (one mapping for all, or one each) and
    keyword values (for all); the run size must be the same in every one."""
    if isinstance(parameters, Sequence) and not isinstance(parameters, str | Mapping):
        if len(parameters) != replicates:
            raise InputError(f"{len(parameters)} parameter sets for {replicates} seeds: give "
                             "one set for all, or one per seed")
        sets = list(parameters)
    else:
        sets = [parameters] * replicates
    params = [p if isinstance(p, Params) and not parameter_values
              else Params({**(p or {}), **parameter_values}) for p in sets]
    for name in ("n_neighbourhoods", "residents_per_neighbourhood", "burn_in_years",
                 "policy_years"):
        if len({p[name] for p in params}) > 1:
            raise InputError(f"replicates run together must share '{name}'")
    return params
