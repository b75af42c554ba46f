"""The ICS commissioner and its commissioning rules.

Once a year the commissioner holds a funding round. Its rules shape a :class:`FundingPlan`
(how the budget is split and how grants are given), then the commissioner carries it out:

1. grants that end this round stop; multi-year grants still running are committed money;
2. link workers: ``embed_share`` of the budget pays link workers placed by need (on top of
   the nationally funded ones, spread by population, that every rule has);
3. new providers: ``scale_share`` of the budget founds providers (founding cost plus their
   first-year grant), placed where founders already are, or by need under proportionate
   universalism;
4. grants: what is left funds open providers without a grant, best score first, each grant
   paying the provider's funding gap plus a margin for reserves. The score is bid-writing
   capacity plus chance (the status quo favours providers that write good bids), plus
   catchment deprivation under proportionate universalism. Under sustain, providers whose
   grant just ended are renewed first, without a new bid; everyone else pays to bid, and a
   provider whose reserves cannot cover the bid's cost does not apply.

Rules combine: each changes its own part of the plan, so ``scale+embed+sustain`` is the
status quo with all three changes; a plan whose budget shares exceed the budget is refused.
A new rule is a :class:`Rule` added to :data:`RULES`.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import mesa
import numpy as np

from abm.errors import InputError
from abm.parameters import Params, unknown_name_message
from abm.providers import WEEKS_PER_YEAR


@dataclass
class FundingPlan:
    """How one funding round splits the budget and gives grants."""

    targeting: str  # "bids": score on bid-writing capacity; "need": add catchment deprivation
    grant_years: int  # length of grants given this round
    renew_incumbents: bool  # renew grants that end this round first, without a new bid
    embed_share: float  # share of the budget for link workers placed by need
    scale_share: float  # share of the budget for founding new providers
    follow_up_share: float  # share of referrals followed up (3+ link-worker contacts)

    @classmethod
    def status_quo(cls, params: Params) -> FundingPlan:
        """Short competitive grants scored on bid-writing capacity; nothing else."""
        return cls("bids", params.grant_years, False, 0.0, 0.0, params.follow_up_share)


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


class Scale(Rule):
    def shape(self, plan: FundingPlan, params: Params) -> None:
        plan.scale_share = params.scale_budget_share


RULES: dict[str, Rule] = {
    rule.name: rule
    for rule in (
        Rule("status_quo", "short competitive grants that favour providers good at writing bids"),
        ProportionateUniversalism(
            "proportionate_universalism",
            "grants and new providers weighted towards deprived neighbourhoods",
        ),
        Scale("scale", "more providers and places: part of the budget founds new groups"),
        Embed("embed", "link workers placed by need, with more follow-up after referral"),
        Sustain("sustain", "multi-year core grants, renewed without a new bid"),
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
    if plan.embed_share + plan.scale_share > 1:
        raise InputError(
            f"rules {'+'.join(rules)}: 'embed_budget_share' + 'scale_budget_share' = "
            f"{plan.embed_share + plan.scale_share:g} exceed 1: together they may take at most "
            "the whole budget")
    return plan


class Commissioner(mesa.Agent):
    """The ICS commissioner: an annual budget, spent by the rules in force at each round."""

    def __init__(self, model: mesa.Model):
        super().__init__(model)
        p = model.params
        self.budget_per_year = p.budget_gbp_per_head * model.people_represented
        self.plan = FundingPlan.status_quo(p)
        hoods = model.hoods
        people = model.place.people_per_neighbourhood
        #: Link workers (FTE) per neighbourhood funded nationally, under every rule.
        self.national_link_workers = np.full(len(hoods), p.link_workers_per_100k * people / 1e5)
        #: Link workers (FTE) per neighbourhood funded from this budget (embed).
        self.ics_link_workers = np.zeros(len(hoods))

    @property
    def link_workers(self) -> np.ndarray:
        """All link workers (FTE) per neighbourhood."""
        return self.national_link_workers + self.ics_link_workers

    def funding_round(self, week: int, rules: Iterable[str]) -> None:
        """Spend the year's budget as the rules say (see the module docstring for the order)."""
        model, p = self.model, self.model.params
        plan = self.plan = make_plan(rules, p)
        ps = model.provider_state
        budget = self.budget_per_year
        # 1. Grants that end now stop; the rest are committed.
        ending = ps.open & (ps.grant > 0) & (ps.grant_end <= week)
        ps.grant[ps.grant_end <= week] = 0.0
        committed = ps.grant[ps.open].sum()
        # 2. Link workers placed by need.
        lw_budget = plan.embed_share * budget
        dep = model.hoods.deprivation
        self.ics_link_workers = lw_budget / p.link_worker_cost_gbp * dep / dep.sum()
        # 3. New providers.
        scale_spent = self._found_providers(plan, plan.scale_share * budget, week)
        # 4. Grants.
        self._award_grants(plan, budget - lw_budget - scale_spent - committed, ending, week)

    def _found_providers(self, plan: FundingPlan, money: float, week: int) -> float:
        """Found as many providers as ``money`` pays for; return what was spent."""
        model, p = self.model, self.model.params
        if money <= 0:
            return 0.0
        ps = model.provider_state
        weights = ps.location_weights(plan.targeting)
        first_grant = ps.grant_at(model.hoods.deprivation)  # per neighbourhood
        cost = p.founding_cost_gbp + first_grant
        most = int(money // cost.min()) + 1
        hoods = model.streams.funding.choice(len(weights), size=most, p=weights / weights.sum())
        fits = np.cumsum(cost[hoods]) <= money
        hoods = hoods[fits]
        if len(hoods) == 0:
            return 0.0
        new = model.add_providers(hoods.astype(np.int32), week)
        ps.grant[new] = first_grant[hoods]
        ps.grant_end[new] = week + plan.grant_years * WEEKS_PER_YEAR
        model.book_spend(hoods, np.full(len(hoods), p.founding_cost_gbp))
        return float(cost[hoods].sum())

    def _award_grants(self, plan: FundingPlan, money: float, ending: np.ndarray, week: int) -> None:
        """Fund applicants in score order while the money lasts; applicants pay to bid."""
        model, p = self.model, self.model.params
        ps = model.provider_state
        candidates = np.flatnonzero(ps.open & (ps.grant == 0))
        deprivation = model.hoods.deprivation[ps.neighbourhood[candidates]]
        sought = ps.grant_at(deprivation)
        renewing = ending[candidates] & plan.renew_incumbents
        bid_cost = np.where(renewing, 0.0, p.bid_cost_share * sought)
        affords = bid_cost <= ps.reserves[candidates]  # a provider cannot spend what it lacks
        applicants, sought, renewing, deprivation = (
            x[affords] for x in (candidates, sought, renewing, deprivation))
        ps.reserves[applicants] -= bid_cost[affords]
        score = ps.bid_capacity[applicants] + model.streams.funding.normal(
            0, p.bid_noise, len(applicants)
        )
        if plan.targeting == "need":
            score += p.pu_weight * deprivation
        order = np.lexsort((-score, ~renewing))  # renewals first, then best score
        ranked, amount = applicants[order], sought[order]
        funded = ranked[np.cumsum(amount) <= max(money, 0.0)]
        ps.grant[funded] = amount[: len(funded)]
        ps.grant_end[funded] = week + plan.grant_years * WEEKS_PER_YEAR
