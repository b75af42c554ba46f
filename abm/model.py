"""The model: community assets and health disparities in one place, one step per week."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any, Self

import mesa
import numpy as np
import pandas as pd
import scipy.sparse as sp

from abm import __version__
from abm.commissioning import Commissioner, make_plan, parse_rules
from abm.errors import InputError
from abm.metrics import QUINTILES, WEEKLY_METRICS, by_quintile, weekly_equity
from abm.parameters import Params
from abm.places import Place, load_place, synthesise
from abm.providers import WEEKS_PER_YEAR, Provider, ProviderState, initial_slot_neighbourhoods
from abm.randomness import Streams
from abm.residents import (
    ATTENDING,
    DROPPED_OUT,
    NOT_ENGAGED,
    REFERRED,
    Resident,
    ResidentState,
    WeekContext,
)

ENGINES = ("fast", "agents")
MAX_YEARS = 100


def rank_among_equals(sorted_keys: np.ndarray) -> np.ndarray:
    """For keys sorted ascending, each entry's position among equal keys: 0, 1, 2, 0, 1, ..."""
    return np.arange(len(sorted_keys)) - np.searchsorted(sorted_keys, sorted_keys, side="left")


class CommunityAssetsModel(mesa.Model):
    """Residents, asset providers and an ICS commissioner in one place; one step is one week.

    Each step:

    1. Commissioning: at the start of each year the commissioner holds a funding round, under
       the status quo during the burn-in and under the scenario's rules after it. Providers
       left without a grant run fewer places; attenders beyond them, chosen at random, stop.
    2. Context: the week's random draws; each neighbourhood's outreach, access to providers
       with a free place, and link-worker referral capacity.
    3. Residents decide: needs and shocks -> awareness and trust -> referral -> drop out, or
       try to start at a provider.
    4. Places: where a provider is full, places go to those asking in random priority order.
    5. Wellbeing moves towards baseline - need penalty + benefit of attending.
    6. Providers' finances: those out of money close (attenders lose the group, trust falls);
       slots whose re-founding delay is over get a new provider.
    7. Accounts (spend, wellbeing-years) and weekly metrics (Mesa DataCollector).

    ``engine="fast"`` applies the resident and provider rules to arrays; ``engine="agents"``
    applies the same rules one Mesa agent at a time (the reference; slow).

    Use: ``CommunityAssetsModel("devon_ics", "scale+embed", seed=1).run(years=10).summary()``.
    """

    def __init__(
        self,
        place: str | Place = "devon_ics",
        rules: str | Iterable[str] = "status_quo",
        seed: int = 0,
        parameters: Mapping[str, Any] | None = None,
        *,
        engine: str = "fast",
        **parameter_values: Any,
    ):
        if engine not in ENGINES:
            raise InputError(f"unknown engine '{engine}': allowed are {', '.join(ENGINES)}")
        params = Params({**(parameters or {}), **parameter_values})
        place = place if isinstance(place, Place) else load_place(place)
        self.rules = parse_rules(rules)
        make_plan(self.rules, params)  # refuse rules that would spend more than the budget
        self.streams = Streams.from_seed(seed)
        super().__init__(rng=self.streams.mesa)
        self.params, self.place, self.engine, self.seed = params, place, engine, int(seed)
        self.week = 0
        self.burn_in_weeks = params.burn_in_years * WEEKS_PER_YEAR
        self.years_run = 0.0

        setup = self.streams.setup
        self.hoods = synthesise(place, params, setup)
        self.people_represented = len(self.hoods) * place.people_per_neighbourhood
        #: Multiply a total for the simulated neighbourhoods by this to get the place's total.
        self.place_scale = place.population / self.people_represented
        self.resident_state = ResidentState(self.hoods, params, setup)
        #: Simulated residents per real person.
        self.sample_fraction = params.residents_per_neighbourhood / place.people_per_neighbourhood
        self.provider_state = ProviderState(self.hoods, params, place.people_per_neighbourhood)
        self.commissioner = Commissioner(self)
        self.add_providers(initial_slot_neighbourhoods(self.provider_state, setup), week=0,
                           rng=setup)
        self._resident_agents: list[Resident] | None = None
        if engine == "agents":
            self._make_resident_agents()

        rs = self.resident_state
        self._decile_index = rs.decile.astype(np.int64) - 1
        self._people_by_decile = np.bincount(self._decile_index, minlength=10).astype(float)
        n_hoods = len(self.hoods)
        # Policy-period accounts, in the simulated sample's own units (scaled in summary()):
        self.spend_by_hood = np.zeros(n_hoods)  # GBP, for the simulated neighbourhoods
        self.wellbeing_years_by_decile = np.zeros(10)  # point-years, simulated residents
        self.attender_weeks_by_decile = np.zeros(10)  # simulated residents x weeks
        self.dropouts_by_decile = np.zeros(10)  # simulated residents
        self.referrals = 0
        self.closures = 0
        self.displaced = 0  # attenders who lost their place to a cut in sessions
        self._open_at_policy_start = np.zeros(0, dtype=bool)
        self._closures_at_policy_start = np.zeros(0, dtype=np.int32)
        self.latest: dict[str, float] = {}
        self.datacollector = mesa.DataCollector(
            model_reporters={name: (lambda m, k=name: m.latest[k]) for name in WEEKLY_METRICS}
        )

    # --- agents -------------------------------------------------------------------------------
    @property
    def residents(self) -> mesa.agentset.AgentSet:
        """All residents as Mesa agents (views of the arrays), made on first use."""
        if self._resident_agents is None:
            self._make_resident_agents()
        return self.agents_by_type[Resident]

    @property
    def providers(self) -> mesa.agentset.AgentSet:
        """All provider slots as Mesa agents (views of the arrays), open or closed."""
        return self.agents_by_type.get(Provider) or mesa.agentset.AgentSet([], random=self.random)

    def _make_resident_agents(self) -> None:
        self._resident_agents = [Resident(self, i) for i in range(self.resident_state.n)]

    def add_providers(self, hoods: np.ndarray, week: int,
                      rng: np.random.Generator | None = None) -> np.ndarray:
        """Add provider slots in ``hoods``, each with a newly founded provider; return the slots."""
        new = self.provider_state.add_slots(hoods, week, rng or self.streams.providers)
        for index in new:
            Provider(self, int(index))
        return new

    # --- running ------------------------------------------------------------------------------
    @property
    def policy_started(self) -> bool:
        """Whether the burn-in is over and the scenario's rules are in force."""
        return self.week >= self.burn_in_weeks

    def run(self, years: float = 10) -> Self:
        """Run the burn-in (if not yet done) and then ``years`` of the policy. Returns the model."""
        if isinstance(years, bool) or not isinstance(years, int | float) or not (
            0 < years <= MAX_YEARS
        ):
            raise InputError(
                f"years = {years!r}: allowed is a number above 0 and at most {MAX_YEARS}")
        end = self.burn_in_weeks + round((self.years_run + years) * WEEKS_PER_YEAR)
        if end <= self.burn_in_weeks + round(self.years_run * WEEKS_PER_YEAR):
            raise InputError(f"years = {years!r}: allowed is at least one week "
                             f"({1 / WEEKS_PER_YEAR:.4f} years)")
        while self.week < end:
            self.step()
        self.years_run += years
        return self

    def step(self) -> None:
        """Advance one week (see the class docstring for the order)."""
        week, rs, ps = self.week, self.resident_state, self.provider_state
        if week == self.burn_in_weeks:
            self._open_at_policy_start = ps.open.copy()
            self._closures_at_policy_start = ps.closures.copy()
        # 1. Commissioning.
        if week % WEEKS_PER_YEAR == 0:
            rules = self.rules if self.policy_started else ("status_quo",)
            self.commissioner.funding_round(week, rules)
            self.cut_places()
        # 2. Context.
        ctx = self.week_context()
        # 3. Residents decide.
        if self.engine == "fast":
            starters, picks = rs.decide(ctx)
        else:
            intents = [x for x in self.residents.map("decide", ctx) if x is not None]
            starters = np.array([i for i, _ in intents], dtype=np.int64)
            picks = np.array([j for _, j in intents], dtype=np.int32)
        dropped = ctx.attending_at_start & (rs.state == DROPPED_OUT)
        referred = (rs.state == REFERRED) & (rs.state_until == week + self.params.referral_weeks)
        # 4. Places.
        priority = self.streams.rationing.random(len(starters))
        self._admit(starters, picks, priority)
        # 5. Wellbeing.
        if self.engine == "fast":
            rs.update_wellbeing(ps.effect)
        else:
            self.residents.do("update_wellbeing", ps.effect)
        # 6. Providers' finances, closures and re-founding.
        if self.engine == "fast":
            closing = ps.pay_week()
        else:
            closing = np.array([p.index for p in self.providers if p.step()], dtype=np.int64)
        if len(closing):
            self.close_providers(closing)
        ps.found(ps.due_to_reopen(week), week, self.streams.providers)
        # 7. Accounts and metrics.
        self._account(dropped, referred)
        self.week += 1
        self.datacollector.collect(self)

    def week_context(self) -> WeekContext:
        """This week's draws and each neighbourhood's surroundings (shared by both engines)."""
        rs, ps, p = self.resident_state, self.provider_state, self.params
        n_hoods = len(self.hoods)
        u_shock = self.streams.shocks.random(rs.n)
        u_act = self.streams.engagement.random(rs.n)
        u_ref = self.streams.referral.random(rs.n)
        is_open = ps.open
        outreach = np.bincount(ps.neighbourhood[is_open], weights=ps.outreach[is_open],
                               minlength=n_hoods)
        with_space = np.flatnonzero(is_open & (ps.attendees(rs.provider) < ps.places_now()))
        located = sp.csr_matrix(
            (np.ones(len(with_space)), (ps.neighbourhood[with_space], with_space)),
            shape=(n_hoods, len(ps)),
        )
        candidates = (self.hoods.access @ located).tocsr()
        candidates.sort_indices()
        eligible = ((rs.state == NOT_ENGAGED) | (rs.state == DROPPED_OUT)) & (
            rs.need > p.referral_need_threshold
        )
        eligible_per_hood = np.bincount(rs.neighbourhood[eligible], minlength=n_hoods)
        referral_slots = (
            self.commissioner.link_workers * p.referrals_per_link_worker * self.sample_fraction
        )
        return WeekContext(
            week=self.week,
            u_shock=u_shock,
            u_act=u_act,
            u_ref=u_ref,
            attending_at_start=rs.state == ATTENDING,
            outreach=np.minimum(outreach, 1.0),
            access=np.minimum(np.asarray(candidates.sum(axis=1)).ravel(), 1.0),
            candidates=candidates,
            referral_prob=np.minimum(referral_slots / np.maximum(eligible_per_hood, 1), 1.0),
            follow_up_share=self.commissioner.plan.follow_up_share,
        )

    def _admit(self, starters: np.ndarray, picks: np.ndarray, priority: np.ndarray) -> None:
        """Give places to starters in priority order until each provider is full."""
        rs, ps = self.resident_state, self.provider_state
        spare = ps.places_now() - ps.attendees(rs.provider)
        if self.engine == "fast":
            order = np.lexsort((priority, picks))  # by provider, then by priority
            wanted = picks[order]
            ok = rank_among_equals(wanted) < spare[wanted]
            rs.start(starters[order][ok], wanted[ok])
            return
        for k in np.argsort(priority, kind="stable"):
            resident, provider = self._resident_agents[starters[k]], int(picks[k])
            if spare[provider] > 0:
                spare[provider] -= 1
                resident.state, resident.provider = ATTENDING, provider

    def cut_places(self) -> None:
        """Providers running fewer places than they have attenders (a grant ended) let the
        excess go, chosen at random: those attenders stop, as when a group closes."""
        rs, ps = self.resident_state, self.provider_state
        places = ps.places_now()
        over = ps.attendees(rs.provider) > places
        if not over.any():
            return
        attenders = rs.attenders_of(over)
        priority = self.streams.rationing.random(len(attenders))
        order = np.lexsort((priority, rs.provider[attenders]))  # by provider, then priority
        ranked = attenders[order]
        group = rs.provider[ranked]
        losing = np.sort(ranked[rank_among_equals(group) >= places[group]])
        if self.policy_started:
            self.displaced += len(losing)
        if self.engine == "fast":
            rs.lose_places(losing, self.week)
        else:
            for index in losing:
                self._resident_agents[index].lose_provider(self.week)

    def close_providers(self, closing: np.ndarray) -> None:
        """Close providers (slot indices, ascending) now: their attenders lose the group and
        their neighbourhoods lose trust. Called when money runs out; also usable to ask
        "what if these groups closed?"."""
        rs, ps, week = self.resident_state, self.provider_state, self.week
        closing = np.asarray(closing, dtype=np.int64)
        hoods = ps.neighbourhood[closing]
        ps.close(closing, week, self.streams.providers)
        if self.policy_started:
            self.closures += len(closing)
        if self.engine == "fast":
            rs.lose_providers(closing, hoods, len(ps), week)
            return
        per_hood = self.params.residents_per_neighbourhood
        for provider, hood in zip(closing, hoods, strict=True):
            for resident in self._resident_agents:
                if resident.provider == provider:
                    resident.lose_provider(week)
            for resident in self._resident_agents[hood * per_hood:(hood + 1) * per_hood]:
                resident.lose_trust()

    def book_spend(self, hoods: np.ndarray, amounts: np.ndarray) -> None:
        """Record one-off ICS spending (GBP) in the given neighbourhoods, if the policy is on."""
        if self.policy_started:
            np.add.at(self.spend_by_hood, hoods, amounts)

    def _account(self, dropped: np.ndarray, referred: np.ndarray) -> None:
        """Weekly accounts (policy period only) and the metrics the DataCollector records."""
        rs, ps, p = self.resident_state, self.provider_state, self.params
        wellbeing_by_decile = np.bincount(self._decile_index, weights=rs.wellbeing, minlength=10)
        state_by_decile = np.bincount(
            self._decile_index * 4 + rs.state, minlength=40
        ).reshape(10, 4)
        if self.policy_started:
            self.wellbeing_years_by_decile += wellbeing_by_decile / WEEKS_PER_YEAR
            self.attender_weeks_by_decile += state_by_decile[:, ATTENDING]
            self.dropouts_by_decile += np.bincount(self._decile_index[dropped], minlength=10)
            self.referrals += int(referred.sum())
            grants = np.bincount(ps.neighbourhood, weights=ps.grant * ps.open,
                                 minlength=len(self.hoods))
            link_workers = self.commissioner.ics_link_workers * p.link_worker_cost_gbp
            self.spend_by_hood += (grants + link_workers) / WEEKS_PER_YEAR
        people = self._people_by_decile
        with np.errstate(invalid="ignore", divide="ignore"):  # a place may lack a quintile
            attending = by_quintile(state_by_decile[:, ATTENDING]) / by_quintile(people)
        self.latest = {
            "week": self.week + 1,
            "year": (self.week + 1 - self.burn_in_weeks) / WEEKS_PER_YEAR,
            **weekly_equity(wellbeing_by_decile, people),
            "p_attending": state_by_decile[:, ATTENDING].sum() / rs.n,
            **{f"p_attending_{q}": float(v) for q, v in zip(QUINTILES, attending, strict=True)},
            "p_referred": state_by_decile[:, REFERRED].sum() / rs.n,
            "p_dropped_out": state_by_decile[:, DROPPED_OUT].sum() / rs.n,
            "n_open_providers": ps.open.sum() * self.place_scale,
            "link_workers": self.commissioner.link_workers.sum() * self.place_scale,
            "closures": self.closures * self.place_scale,
            "spend_gbp": self.spend_by_hood.sum() * self.place_scale,
        }

    # --- results ------------------------------------------------------------------------------
    def timeseries(self) -> pd.DataFrame:
        """Weekly metrics (one row per week, burn-in included: ``year`` <= 0 there)."""
        return self.datacollector.get_model_vars_dataframe()

    def summary(self) -> pd.DataFrame:
        """One row describing the run: identity, final-year outcomes and policy-period totals.

        State outcomes (wellbeing, gap, SII, uptake) are means over the final year; totals
        (spend, wellbeing-years, closures, referrals) cover the whole policy period and are
        scaled to the place's population. Money is GBP; wellbeing-years are life-satisfaction
        point-years, so the difference between two same-seed runs is WELLBYs gained.
        """
        if self.years_run == 0:
            raise RuntimeError("run the model first: model.run(years=...)")
        ts = self.timeseries()
        running_totals = ["week", "year", "closures", "spend_gbp"]  # reported as totals below
        last_year = ts[(ts.year > self.years_run - 1) & (ts.year > 0)].drop(
            columns=running_totals)
        final = last_year.mean()
        policy_years = (self.week - self.burn_in_weeks) / WEEKS_PER_YEAR
        per_resident = self.place.population / self.resident_state.n  # people per agent
        spend_q = np.bincount(self.hoods.quintile, weights=self.spend_by_hood, minlength=5)
        wellbeing_years_q = by_quintile(self.wellbeing_years_by_decile)
        attender_years_q = by_quintile(self.attender_weeks_by_decile) / WEEKS_PER_YEAR
        dropouts_q = by_quintile(self.dropouts_by_decile)
        ps, before = self.provider_state, len(self._open_at_policy_start)
        survived = (self._open_at_policy_start & ps.open[:before]
                    & (ps.closures[:before] == self._closures_at_policy_start))
        row: dict[str, Any] = {
            "place": self.place.name,
            "rules": "+".join(self.rules),
            "seed": self.seed,
            "years": self.years_run,
            "n_residents": self.resident_state.n,
            "population": self.place.population,
            "model_version": __version__,
            **{name: float(final[name]) for name in final.index},
        }
        with np.errstate(invalid="ignore", divide="ignore"):
            row |= {f"dropout_rate_{q}": float(v)
                    for q, v in zip(QUINTILES, dropouts_q / attender_years_q, strict=True)}
        row |= {
            "closures": self.closures * self.place_scale,
            "closures_per_year": self.closures * self.place_scale / policy_years,
            "provider_survival": float(survived.sum() / max(self._open_at_policy_start.sum(), 1)),
            "referrals": self.referrals * per_resident,
            "displaced_per_year": self.displaced * per_resident / policy_years,
            "spend_gbp": float(self.spend_by_hood.sum() * self.place_scale),
            **{f"spend_gbp_{q}": float(v * self.place_scale)
               for q, v in zip(QUINTILES, spend_q, strict=True)},
            "wellbeing_years": float(self.wellbeing_years_by_decile.sum() * per_resident),
            **{f"wellbeing_years_{q}": float(v * per_resident)
               for q, v in zip(QUINTILES, wellbeing_years_q, strict=True)},
        }
        return pd.DataFrame([row])
