"""The model: community assets and health disparities in one place, one step per week."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any, Self

import mesa
import numpy as np
import pandas as pd
import scipy.sparse as sp

from abm.files.errors import InputError
from abm.model.accounts import Accounts
from abm.model.commissioning import Commissioner, make_plan, parse_rules
from abm.model.engines import ENGINES, rank_among_equals
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
    kind_values,
)
from abm.model.randomness import Streams, seed_from
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
        seed: int | None = None,
        parameters: Mapping[str, Any] | None = None,
        *,
        rng: Any = None,
        scenario: Any = None,
        engine: str = "fast",
        **parameter_values: Any,
    ):
        if engine not in ENGINES:
            raise InputError(f"unknown engine '{engine}': allowed are {', '.join(ENGINES)}")
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
        params = (parameters if isinstance(parameters, Params) and not parameter_values
                  else Params({**(parameters or {}), **parameter_values}))
        place = place if isinstance(place, Place) else load_place(place)
        self.rules = parse_rules(rules)
        make_plan(self.rules, params)  # refuse rules that would spend more than the budget
        self.streams = Streams(seed if seed is not None else seed_from(rng))
        super().__init__(rng=self.streams.mesa)
        if scenario is not None:
            self.scenario = scenario
        self.params, self.place, self.seed = params, place, self.streams.seed
        self.week = 0
        self.burn_in_weeks = params.burn_in_years * WEEKS_PER_YEAR
        #: The week the run ends (``running`` turns False), unless ``run`` asks for more.
        self.end_week = self.burn_in_weeks + round(params.policy_years * WEEKS_PER_YEAR)

        setup = self.streams.setup
        self.hoods = synthesise(place, params, setup)
        self.people_represented = len(self.hoods) * place.people_per_neighbourhood
        #: Multiply a total for the simulated neighbourhoods by this to get the place's total.
        self.place_scale = place.population / self.people_represented
        #: Simulated residents per real person.
        self.sample_fraction = params.residents_per_neighbourhood / place.people_per_neighbourhood
        self.resident_state = ResidentState(self.hoods, params, setup)
        for index in range(self.resident_state.n):
            Resident(self, index)
        self.provider_state = ProviderState(self.hoods, params, self.sample_fraction,
                                            place.asset_mix)
        self.commissioner = Commissioner(self)
        self.accounts = Accounts(self)
        self.engine = ENGINES[engine](self)
        self.founding_pool = 0.0  # GBP other funders hold for founding groups
        #: Residents who cannot take a place (none unless an experiment says so).
        self.barred = np.zeros(self.resident_state.n, dtype=bool)
        initial = initial_slot_neighbourhoods(self.hoods, params, setup)
        self.add_providers(initial, 0)
        self.latest: dict[str, float] = {}
        self.datacollector = mesa.DataCollector(
            model_reporters={name: (lambda m, k=name: m.latest[k]) for name in WEEKLY_METRICS}
        )

    # --- agents -------------------------------------------------------------------------------
    @property
    def residents(self) -> mesa.agentset.AgentSet:
        """All residents as Mesa agents (views of the arrays)."""
        return self.agents_by_type[Resident]

    @property
    def providers(self) -> mesa.agentset.AgentSet:
        """All provider slots as Mesa agents (views of the arrays), open or closed."""
        return self.agents_by_type.get(Provider) or mesa.agentset.AgentSet([], random=self.random)

    def add_providers(self, hoods: np.ndarray, week: int, reserves: float | None = None,
                      kind: int | None = None, resident_led: bool = False) -> np.ndarray:
        """Add slots in ``hoods``, each with a newly founded provider (see
        :meth:`ProviderState.found` for ``reserves``, ``kind`` and ``resident_led``); return
        the new slot indices."""
        ps = self.provider_state
        new = ps.add_slots(np.asarray(hoods, dtype=np.int32))
        for index in new:
            Provider(self, int(index))
        self._found(new, week, reserves, kind, resident_led)
        return new

    def _found(self, slots: np.ndarray, week: int, reserves: float | None,
               kind: int | None = None, resident_led: bool = False) -> None:
        """Found a provider in each of ``slots`` (traits from stream ``founding``) and let it
        plan its places."""
        ps = self.provider_state
        u = self.streams.uniforms("founding", week, len(ps), FOUNDING_DRAWS)[slots]
        ps.found(slots, u, reserves, kind, resident_led)
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
            self.commissioner.funding_round(week, rules)
            self.engine.plan()
            self.cut_places()
        # 2. Context.
        ctx = self.week_context()
        # 3. Residents decide.
        starters, picks = self.engine.decide(ctx)
        dropped = ctx.attending_at_start & (rs.state == DROPPED_OUT)
        new_referrals = (rs.state == REFERRED) & (
            rs.state_until == week + self.params.referral_weeks)
        # 4. Places.
        starters, picks = starters[~self.barred[starters]], picks[~self.barred[starters]]
        first = (rs.state[starters] == REFERRED) & rs.followed_up[starters] & (
            self.commissioner.plan.referral_priority)
        priority = self.streams.uniforms("admission", week, rs.n)[starters]
        self.engine.admit(starters, picks, first, priority, week)
        # 5. Wellbeing.
        self.engine.update_wellbeing(week)
        # 6. Ties.
        self.engine.update_ties(ctx.u_tie)
        # 7. Providers' finances, closures and re-founding.
        u = self.streams.uniforms("closures", week, len(ps), CLOSURE_DRAWS)
        broke = self.engine.pay_week()
        other = ps.closing_for_other_reasons(u[:, 0])
        closing = np.union1d(broke, other)
        if len(closing):
            self.close_providers(closing, u[closing, 1])
        self.refound(week)
        # 8. Accounts and metrics.
        self.accounts.week(ctx.attending_at_start, dropped, new_referrals)
        self.week += 1
        self.latest = self.accounts.weekly_metrics()
        self.datacollector.collect(self)
        if self.week >= self.end_week:
            self.running = False

    def week_context(self) -> WeekContext:
        """This week's draws and each neighbourhood's surroundings (shared by both engines)."""
        rs, ps, p = self.resident_state, self.provider_state, self.params
        n_hoods, week = len(self.hoods), self.week
        is_open = ps.open
        outreach = np.bincount(ps.neighbourhood[is_open], weights=ps.outreach[is_open],
                               minlength=n_hoods)
        with_space = np.flatnonzero(is_open & (ps.attendees(rs.provider) < ps.places))
        located = sp.csr_matrix(
            (np.ones(len(with_space)), (ps.neighbourhood[with_space], with_space)),
            shape=(n_hoods, len(ps)),
        )
        candidates = (self.hoods.access @ located).tocsr()
        candidates.sort_indices()
        if p.fee_barrier > 0 and candidates.nnz:  # what taking part costs puts people off
            fee = np.minimum(kind_values(p, "fee"), 1.0)[ps.kind[candidates.indices]]
            dep = np.repeat(self.hoods.deprivation, np.diff(candidates.indptr))
            candidates.data *= 1 - p.fee_barrier * fee * dep
        eligible = ((rs.state == NOT_ENGAGED) | (rs.state == DROPPED_OUT)) & (
            rs.need > p.referral_need_threshold
        )
        eligible_per_hood = np.bincount(rs.neighbourhood[eligible], minlength=n_hoods)
        follow_up = self.commissioner.plan.follow_up_share
        new_clients = self.commissioner.new_clients_per_week(follow_up) * self.sample_fraction
        return WeekContext(
            week=week,
            u_shock=self.streams.uniforms("shocks", week, rs.n),
            u_act=self.streams.uniforms("engagement", week, rs.n),
            u_ref=self.streams.uniforms("referral", week, rs.n),
            attending_at_start=rs.state == ATTENDING,
            outreach=np.minimum(outreach, 1.0),
            access=np.minimum(np.asarray(candidates.sum(axis=1)).ravel(), 1.0),
            candidates=candidates,
            referral_prob=np.minimum(new_clients / np.maximum(eligible_per_hood, 1), 1.0),
            follow_up_share=follow_up,
            u_tie=self.streams.uniforms("ties", week, rs.n),
            cd_coverage=self.commissioner.cd_coverage(),
        )

    def cut_places(self) -> None:
        """Providers running fewer places than they have attenders (a grant ended, money is
        short) let the excess go, chosen at random (stream ``cuts``): a forced stop for them."""
        rs, ps = self.resident_state, self.provider_state
        over = ps.attendees(rs.provider) > ps.places
        if not over.any():
            return
        attenders = rs.attenders_of(over)
        priority = self.streams.uniforms("cuts", self.week, rs.n)[attenders]
        order = np.lexsort((priority, rs.provider[attenders]))  # by provider, then priority
        ranked = attenders[order]
        group = rs.provider[ranked]
        losing = np.sort(ranked[rank_among_equals(group) >= ps.places[group]])
        self.accounts.displaced(len(losing))
        self.engine.lose_places(losing, self.week)

    def close_providers(self, closing: np.ndarray, u_delay: np.ndarray | None = None) -> None:
        """Close providers (slot indices, ascending) now: their attenders lose the group and
        their neighbourhoods lose trust. Called when money runs out or a group stops for
        other reasons; also usable to ask "what if these groups closed?" (``u_delay``: one
        uniform per slot for its re-founding delay; default the ``closures`` stream's)."""
        rs, ps, week = self.resident_state, self.provider_state, self.week
        closing = np.asarray(closing, dtype=np.int64)
        if u_delay is None:
            u_delay = self.streams.uniforms("closures", week, len(ps), CLOSURE_DRAWS)[closing, 1]
        is_closing = np.zeros(len(ps), dtype=bool)
        is_closing[closing] = True
        attenders = rs.attenders_of(is_closing)
        ps.close(closing, week, u_delay)
        self.accounts.closed(len(closing), len(attenders))
        self.engine.lose_places(attenders, week)
        self.engine.lose_trust(ps.neighbourhood[closing])

    def refound(self, week: int) -> None:
        """Re-found slots whose delay is over, longest waiting first, while other funders'
        founding pool (topped up weekly, at most one year's money held) can pay for them."""
        p, ps = self.params, self.provider_state
        yearly = p.founding_pool_gbp_per_head * self.people_represented
        self.founding_pool = min(self.founding_pool + yearly / WEEKS_PER_YEAR, yearly)
        waiting = ps.waiting_to_reopen(week)
        if not len(waiting) or p.founding_cost_gbp > self.founding_pool:
            return
        affordable = len(waiting) if p.founding_cost_gbp == 0 else int(
            self.founding_pool // p.founding_cost_gbp)
        slots = np.sort(waiting[:affordable])
        self.founding_pool -= p.founding_cost_gbp * len(slots)
        self.accounts.other_funders(p.founding_cost_gbp * len(slots))
        self._found(slots, week, p.founding_cost_gbp)

    # --- results ------------------------------------------------------------------------------
    def timeseries(self) -> pd.DataFrame:
        """Weekly metrics (one row per week, burn-in included: ``year`` <= 0 there)."""
        return self.datacollector.get_model_vars_dataframe()

    def summary(self) -> pd.DataFrame:
        """One row describing the run: identity, final-year outcomes and policy-period totals
        (see :meth:`abm.model.accounts.Accounts.summary`)."""
        if self.years_run == 0:
            raise RuntimeError("run the model first: model.run()")
        return pd.DataFrame([self.accounts.summary(self.timeseries())])
