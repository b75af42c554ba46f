"""The ICS commissioner and its commissioning rules.

Once a year the commissioner holds a funding round. Its rules shape a :class:`FundingPlan`
(how the budget is split and how grants are given); the commissioner carries it out:

1. **Money.** The year's budget (``budget_gbp_per_head`` x people, plus any
   ``budget_uplift`` from the first policy round on) is added to what is left from earlier
   rounds (money a provider did not
   draw because it closed, or an amount too small for the next grant): the commissioner
   spends its budget, so rules compared with the same money spend the same money.
   Grants that end now stop; multi-year grants still running are paid first.
2. **Embed** (``embed_budget_share`` of the year's budget): link workers placed by need,
   and grants to providers for the referred people they take (``embed_provider_share``),
   so that referral brings places with it; follow-up rises to ``embed_follow_up_share`` and
   followed-up referrals are admitted first when a group is full.
3. **Scale** (``scale_budget_share``): new providers, founded and then funded for
   ``scale_support_years`` at the ask of a typical provider where they are. Each year the
   scale money first pays the supported providers already founded; what is left founds more
   (founding cost plus the first year's grant), at most one per neighbourhood a round. The
   number of groups it supports at once is therefore bounded by what its money sustains;
   once their support ends they compete for grants like any other group.
4. **Develop** (``develop_budget_share``): community development workers
   (``cd_worker_cost_gbp`` each) in the most deprived neighbourhoods first,
   ``cd_workers_per_neighbourhood`` in each neighbourhood covered. Where they work, residents'
   capacity to take part and their awareness and trust build over ``cd_years_to_effect``
   (:class:`~abm.model.residents.ResidentState`), and each worker seeds
   ``cd_groups_per_worker_year`` resident-led groups a year where need is (founded with
   ``founding_cost_gbp`` x ``resident_led_cost_share`` of the develop money, cheaper to run;
   then they live on other funders, fees and grants like any group). The develop money pays
   the workers and the seeds' founding, nothing else.
5. **Grants**: the rest funds open providers without a grant, best score first, each
   getting its ask (what it needs to run all its places). The score is bid-writing
   capacity, plus ``grant_need_priority`` x the deprivation of the provider's neighbourhood
   (funders' own priority to need), plus chance (the status quo favours providers that
   write good bids). Everyone
   pays to bid, and a provider whose reserves cannot cover the cost does not apply.
   *Sustain*: grants last ``core_grant_years`` and providers whose grant just ended are
   renewed first, without a new bid. *Proportionate universalism*: the money is first
   divided between deprivation quintiles in proportion to population x (1 + ``pu_weight``
   x deprivation), and each quintile's pot funds its own providers by score; what a pot
   cannot use is then given by score across all quintiles. New providers under scale are
   placed by the same weights. Scale founds groups of the kind ``scale_kind`` says (0: the
   place's mix).

Rules combine: each changes its own part of the plan, so ``scale+embed+sustain`` is the
status quo with all three changes; a plan whose budget shares exceed the budget is refused.
A new rule is a :class:`Rule` added to :data:`RULES`.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import numpy as np

from abm.files.errors import InputError, unknown_name_message
from abm.model.parameters import Params
from abm.model.providers import (
    WEEKS_PER_YEAR,
    kind_shares,
    kind_values,
    location_weights,
    size_factor,
)
from abm.model.randomness import normal


@dataclass
class FundingPlan:
    """How one funding round splits the budget and gives grants."""

    targeting: str  # "bids": money follows scores; "need": pots weighted by deprivation
    grant_years: int  # length of grants given this round
    renew_incumbents: bool  # renew grants that end this round first, without a new bid
    embed_share: float  # share of the budget for embedding (link workers, referral grants)
    scale_share: float  # share of the budget for founding and supporting new providers
    develop_share: float  # share of the budget for community development
    follow_up_share: float  # share of referrals followed up (3+ link-worker contacts)
    referral_priority: bool  # followed-up referrals are admitted first at full groups

    @classmethod
    def status_quo(cls, params: Params) -> FundingPlan:
        """Short competitive grants scored on bid-writing capacity; nothing else."""
        return cls("bids", params.grant_years, False, 0.0, 0.0, 0.0, params.follow_up_share,
                   False)


@dataclass(frozen=True)
class Rule:
    """A commissioning rule: a name, a plain-language summary and how it changes the plan."""

    name: str
    summary: str

    def shape(self, plan: FundingPlan, params: Params) -> None:
        """Change ``plan`` in place; the status quo changes nothing."""


class ProportionateUniversalism(Rule):
    def shape(self, plan: FundingPlan, params: Params) -> None:
        plan.targeting = "need"


class Sustain(Rule):
    def shape(self, plan: FundingPlan, params: Params) -> None:
        plan.grant_years = params.core_grant_years
        plan.renew_incumbents = True


class Embed(Rule):
    def shape(self, plan: FundingPlan, params: Params) -> None:
        plan.embed_share = params.embed_budget_share
        plan.follow_up_share = params.embed_follow_up_share
        plan.referral_priority = True


class Scale(Rule):
    def shape(self, plan: FundingPlan, params: Params) -> None:
        plan.scale_share = params.scale_budget_share


class Develop(Rule):
    def shape(self, plan: FundingPlan, params: Params) -> None:
        plan.develop_share = params.develop_budget_share


RULES: dict[str, Rule] = {
    rule.name: rule
    for rule in (
        Rule("status_quo", "short competitive grants that favour providers good at writing bids"),
        ProportionateUniversalism(
            "proportionate_universalism",
            "grant money divided by need: more for deprived areas, then by bid",
        ),
        Scale("scale", "more providers and places: part of the budget founds and funds new "
                       "groups"),
        Embed("embed", "link workers placed by need with more follow-up, and money that "
                       "follows referrals to the groups that take them"),
        Sustain("sustain", "multi-year core grants, renewed without a new bid"),
        Develop("develop", "community development workers in the most deprived neighbourhoods "
                           "build capacity and trust and seed resident-led groups"),
    )
}


def parse_rules(spec: str | Iterable[str]) -> tuple[str, ...]:
    """Rule names from ``"scale+embed"`` or a list, checked, in a canonical order.

    ``status_quo`` alone means no change; listed with other rules it is redundant and dropped.
    """
    names = spec.split("+") if isinstance(spec, str) else list(spec)
    names = [str(n).strip() for n in names]
    unknown = [n for n in names if n not in RULES]
    if unknown or not names:
        raise InputError(unknown_name_message("rule", unknown[0] if unknown else "", RULES))
    chosen = tuple(name for name in RULES if name in names and name != "status_quo")
    return chosen or ("status_quo",)


def make_plan(rules: Iterable[str], params: Params) -> FundingPlan:
    """The status quo plan, changed by each rule in turn; refuse one that spends over budget."""
    plan = FundingPlan.status_quo(params)
    for name in rules:
        RULES[name].shape(plan, params)
    shares = {"embed_budget_share": plan.embed_share, "scale_budget_share": plan.scale_share,
              "develop_budget_share": plan.develop_share}
    used = {name: share for name, share in shares.items() if share > 0}
    if sum(used.values()) > 1 + 1e-12:
        raise InputError(
            f"rules {'+'.join(rules)}: {' + '.join(repr(n) for n in used)} = "
            f"{sum(used.values()):g} exceed 1: together they may take at most the whole budget")
    return plan


def greedy(asks: np.ndarray, money: float) -> np.ndarray:
    """Indices of ``asks`` (in the order given) funded one after another while each still
    fits in what is left of ``money``; an ask that does not fit is skipped."""
    funded, left = [], money
    for k, amount in enumerate(asks):
        if amount <= left:
            funded.append(k)
            left -= amount
    return np.asarray(funded, dtype=np.int64)


class Commissioner:
    """The ICS commissioner: an annual budget, spent by the rules in force at each round.

    Money is in GBP. ``balance`` is what the commissioner holds: each round adds the year's
    budget, and every payment (grants week by week, link workers, founding costs) is taken
    from it, so money not spent in one year is spent in the next.

    ``model`` is the commissioner's replicate (:class:`abm.model.replicas.Replica`): its
    parameters, neighbourhoods, streams, residents and providers, numbered as in a run alone.
    The commissioner is an institution, not a Mesa agent in space: it is not in the model's
    AgentSets.
    """

    def __init__(self, model: Any):
        self.model = model
        p = model.params
        self.balance = 0.0
        self.plan = FundingPlan.status_quo(p)
        dep = model.hoods.deprivation
        people = model.place.people_per_neighbourhood
        placement = np.maximum(1 + p.link_worker_need_gradient * (dep - 0.5), 0.0)
        #: Link workers (FTE) per neighbourhood funded nationally, under every rule.
        self.national_link_workers = (p.link_workers_per_100k * people / 1e5 * len(dep)
                                      * placement / max(placement.sum(), 1e-12))
        #: Link workers (FTE) per neighbourhood funded from this budget (embed).
        self.ics_link_workers = np.zeros(len(dep))
        #: Community development workers (FTE) per neighbourhood (develop).
        self.cd_workers = np.zeros(len(dep))
        #: Yearly demand: what funding every open provider's ask would cost (GBP).
        self.demand = 0.0

    @property
    def base_budget(self) -> float:
        """The yearly budget (GBP) under the status quo."""
        return self.model.params.budget_gbp_per_head * self.model.people_represented

    @property
    def budget_per_year(self) -> float:
        """The yearly budget (GBP) from the first policy round on: with any extra money,
        which comes with the scenario's rules."""
        return self.model.params.budget_per_head * self.model.people_represented

    @property
    def link_workers(self) -> np.ndarray:
        """All link workers (FTE) per neighbourhood."""
        return self.national_link_workers + self.ics_link_workers

    def new_clients_per_week(self, follow_up_share: float) -> np.ndarray:
        """New people the link workers of each neighbourhood can take on each week (real
        people): their contact time divided by the mean contacts a person needs, which rises
        with the share followed up."""
        p = self.model.params
        contacts = (follow_up_share * p.contacts_per_followed_client
                    + (1 - follow_up_share) * p.contacts_per_brief_client)
        return self.link_workers * p.link_worker_contacts_per_week / contacts

    def ics_link_worker_cost(self) -> np.ndarray:
        """Yearly cost of the ICS-funded link workers per neighbourhood (GBP)."""
        return self.ics_link_workers * self.model.params.link_worker_cost_gbp

    def cd_worker_cost(self) -> np.ndarray:
        """Yearly cost of the community development workers per neighbourhood (GBP)."""
        if not self.cd_workers.any():
            return self.cd_workers
        return self.cd_workers * self.model.params.cd_worker_cost_gbp

    def cd_coverage(self) -> np.ndarray:
        """Per neighbourhood, how fully community development covers it (0-1): its workers
        against ``cd_workers_per_neighbourhood``."""
        if not self.cd_workers.any():
            return self.cd_workers
        return np.minimum(self.cd_workers / self.model.params.cd_workers_per_neighbourhood, 1.0)

    def funding_round(self, week: int, rules: Iterable[str]) -> None:
        """Spend the year's money as the rules say (see the module docstring for the order)."""
        model, p = self.model, self.model.params
        plan = self.plan = make_plan(rules, p)
        ps = model.provider_state
        budget = self.budget_per_year if model.policy_started else self.base_budget
        self.balance += budget
        # 1. Grants that end now stop; running grants are paid first.
        ending = ps.open & (ps.grant > 0) & (ps.grant_end <= week)
        ps.grant[ps.grant_end <= week] = 0.0
        ps.referral_grant[:] = 0.0
        supported = ps.open & (ps.supported_until > week)
        committed = ps.grant[ps.open].sum()
        self.demand = float(ps.ask(ps.open).sum())
        model.accounts.round(budget, self.demand)
        # 2. Embed, from what is not already committed.
        embed_money = min(plan.embed_share * budget, max(self.balance - committed, 0.0))
        # Read only when embed has money, so that burn-ins do not depend on it (the app
        # shares them between settings that differ in what a burn-in does not read).
        referral_share = p.embed_provider_share if embed_money > 0 else 0.0
        self._embed(embed_money * (1 - referral_share), embed_money * referral_share)
        # 3. Scale: its share pays the groups it supports first; founding costs are paid
        # from the balance at once.
        free = self.balance - committed - embed_money
        scale_money = min(plan.scale_share * budget - ps.grant[supported].sum(), free)
        new_grants = self._found_providers(plan, scale_money, week)
        # 4. Develop: workers are paid week by week, seeded groups' founding at once.
        develop_money = min(plan.develop_share * budget,
                            max(self.balance - committed - embed_money - new_grants, 0.0))
        self._develop(develop_money, week)
        ps = model.provider_state  # read afresh: founding may have added slots
        ending = np.pad(ending, (0, len(ps) - len(ending)))  # new slots' grants do not end now
        # 5. Grants from what is left.
        grant_money = self.balance - committed - embed_money - develop_money - new_grants
        self._award_grants(plan, grant_money, ending, week)
        model.accounts.allocated()

    def _embed(self, link_worker_money: float, referral_money: float) -> None:
        """Link workers placed by need; referral grants to providers by referred attenders."""
        model, p = self.model, self.model.params
        dep = model.hoods.deprivation
        self.ics_link_workers = link_worker_money / p.link_worker_cost_gbp * dep / dep.sum()
        if referral_money <= 0:
            return
        ps, rs = model.provider_state, model.resident_state
        referred = np.bincount(rs.provider[rs.came_by_referral & (rs.provider >= 0)],
                               minlength=len(ps)).astype(float)
        if referred.sum() == 0:  # no referred attenders yet: by need where providers are open
            referred = ps.open * ps.deprivation()
        if referred.sum() > 0:
            ps.referral_grant[:] = referral_money * referred / referred.sum()

    def _develop(self, money: float, week: int) -> None:
        """Community development: workers in the most deprived neighbourhoods first, and the
        resident-led groups they seed this year where need is (stream ``develop``)."""
        model = self.model
        if money <= 0:
            self.cd_workers = np.zeros(len(model.hoods))
            return
        p = model.params
        seed_cost = p.founding_cost_gbp * p.resident_led_cost_share
        workers = money / (p.cd_worker_cost_gbp + p.cd_groups_per_worker_year * seed_cost)
        order = np.argsort(-model.hoods.deprivation, kind="stable")
        filled = np.minimum(np.maximum(workers - np.arange(len(order))
                                       * p.cd_workers_per_neighbourhood, 0.0),
                            p.cd_workers_per_neighbourhood)
        self.cd_workers = np.zeros(len(order))
        self.cd_workers[order] = filled
        first = model.streams.uniforms("develop", week, 1)[0]
        seeds = int(workers * p.cd_groups_per_worker_year + first)
        if seeds == 0:
            return
        u = model.streams.uniforms("develop", week, 1 + seeds)
        rs = model.resident_state
        in_need = np.bincount(rs.neighbourhood[rs.need > p.referral_need_threshold],
                              minlength=len(order))
        weights = self.cd_workers * (in_need + 1)  # where need is, among covered areas
        cumulative = np.cumsum(weights / weights.sum())
        hoods = np.minimum(np.searchsorted(cumulative, u[1:1 + seeds], side="right"),
                           len(order) - 1).astype(np.int32)
        model.add_providers(np.sort(hoods), week, reserves=seed_cost, resident_led=True)
        model.accounts.pay(np.sort(hoods), np.full(seeds, seed_cost))
        model.accounts.seeded(seeds)

    def _found_providers(self, plan: FundingPlan, money: float, week: int) -> float:
        """Found as many providers as ``money`` pays for (founding cost and the first year's
        grant), placed by the plan's location weights; pay the founding costs and return the
        new providers' yearly grants (GBP)."""
        model, p = self.model, self.model.params
        if money <= 0:
            return 0.0
        ps = model.provider_state
        weights = location_weights(model.hoods, p, plan.targeting)
        grant_by_hood = self._ask_in(np.arange(len(weights)), p.scale_kind)
        cost_by_hood = p.founding_cost_gbp + grant_by_hood
        # At most one new group per neighbourhood a round (also when founding costs nothing).
        most = len(weights) if cost_by_hood.min() <= 0 else min(
            int(money // cost_by_hood.min()) + 1, len(weights))
        u = model.streams.uniforms("scale", week, most)
        cumulative = np.cumsum(weights / weights.sum())
        hoods = np.minimum(np.searchsorted(cumulative, u, side="right"), len(weights) - 1)
        hoods = hoods[np.cumsum(cost_by_hood[hoods]) <= money].astype(np.int32)
        if len(hoods) == 0:
            return 0.0
        kind = p.scale_kind - 1 if p.scale_kind > 0 else None
        new = model.add_providers(hoods, week, reserves=p.founding_cost_gbp, kind=kind)
        ps = model.provider_state  # read afresh: the slots' arrays may have grown
        ps.grant[new] = grant_by_hood[hoods]  # what the scale money planned for each
        ps.grant_end[new] = week + p.scale_support_years * WEEKS_PER_YEAR
        ps.grant_years[new] = p.scale_support_years
        ps.supported_until[new] = week + p.scale_support_years * WEEKS_PER_YEAR
        model.accounts.pay(ps.neighbourhood[new], np.full(len(new), p.founding_cost_gbp))
        model.accounts.book_grants(ps.grant[new], p.scale_support_years)
        return float(ps.grant[new].sum())

    def _ask_in(self, hoods: np.ndarray, scale_kind: int) -> np.ndarray:
        """The ask of a typical new provider in each neighbourhood (GBP a year): its traits
        at their means, of the kind ``scale_kind`` says (0: the mean over the place's mix).
        The scale rule plans and pays this grant for each group it founds, so it never
        spends more than its share."""
        model, p = self.model, self.model.params
        dep = model.hoods.deprivation[hoods]
        places = p.provider_places * size_factor(dep, p)
        full = p.fixed_cost_gbp + p.place_cost_gbp * places
        other = p.other_funding_share * full * (1 - p.other_funding_deprivation_effect * dep)
        shares = kind_shares(p, model.place.asset_mix)
        fee_ratio = (kind_values(p, "fee") @ shares if scale_kind == 0
                     else kind_values(p, "fee")[scale_kind - 1])
        fees = p.fee_income_gbp * fee_ratio * (1 - p.fee_deprivation_effect * dep)
        need = p.fixed_cost_gbp + np.maximum(p.place_cost_gbp - fees, 0) * places
        return np.maximum(need - other, 0.0) * (1 + p.grant_reserve_margin)

    def _award_grants(self, plan: FundingPlan, money: float, ending: np.ndarray,
                      week: int) -> None:
        """Fund applicants by score while the money lasts (by need-weighted pots under
        proportionate universalism); applicants pay to bid."""
        model, p = self.model, self.model.params
        ps = model.provider_state
        candidates = np.flatnonzero(ps.open & (ps.grant == 0))
        sought = ps.ask(candidates)
        renewing = ending[candidates] & plan.renew_incumbents
        bid_cost = np.where(renewing, 0.0, p.bid_cost_share * sought)
        affords = (bid_cost <= ps.reserves[candidates]) & (sought > 0)
        applicants, sought, renewing = candidates[affords], sought[affords], renewing[affords]
        ps.reserves[applicants] -= bid_cost[affords]
        u = model.streams.uniforms("funding", week, len(ps))[applicants]
        need_priority = p.grant_need_priority * ps.deprivation(applicants)
        score = normal(u, ps.bid_capacity[applicants] + need_priority, p.bid_noise)
        order = np.lexsort((applicants, -score, ~renewing))  # renewals, best score, slot
        applicants, sought = applicants[order], sought[order]
        if plan.targeting == "need":
            funded = self._by_need(applicants, sought, max(money, 0.0))
        else:
            funded = greedy(sought, max(money, 0.0))
        winners = applicants[funded]
        ps.grant[winners] = sought[funded]
        ps.grant_end[winners] = week + plan.grant_years * WEEKS_PER_YEAR
        ps.grant_years[winners] = plan.grant_years
        model.accounts.book_grants(ps.grant[winners], plan.grant_years)

    def _by_need(self, applicants: np.ndarray, sought: np.ndarray, money: float) -> np.ndarray:
        """Proportionate universalism: each quintile's pot (population x (1 + pu_weight x
        mean deprivation)) funds its applicants in the order given; leftovers then fund the
        rest in that order. Returns positions in ``applicants``."""
        model, p = self.model, self.model.params
        hoods = model.hoods
        quintile = hoods.quintile[model.provider_state.neighbourhood[applicants]]
        people = np.bincount(hoods.quintile, minlength=5).astype(float)
        dep = np.bincount(hoods.quintile, weights=hoods.deprivation, minlength=5)
        weight = people + p.pu_weight * dep  # = people x (1 + pu_weight x mean deprivation)
        pots = money * weight / weight.sum()
        funded = []
        for q in range(5):
            mine = np.flatnonzero(quintile == q)
            chosen = mine[greedy(sought[mine], pots[q])]
            funded.extend(chosen.tolist())
        left = money - sought[funded].sum()
        rest = np.setdiff1d(np.arange(len(applicants)), funded)  # still in score order
        funded.extend(rest[greedy(sought[rest], left)].tolist())
        return np.sort(np.asarray(funded, dtype=np.int64))
