"""A run's accounts: what the ICS pays, what residents gain, week by week, and the summary.

Every ICS payment goes through here and is taken from the commissioner's balance (so money
not spent one year is spent the next): grants and referral grants week by week while their
provider is open, ICS link workers week by week, founding costs under the scale rule at
once. From the first policy week on, the accounts also record, per policy year:

- ICS spend per neighbourhood (GBP) and wellbeing-years per IMD decile (life-satisfaction
  point-years of simulated residents), so totals can be given discounted and undiscounted;
- attendance, voluntary drop-outs, referrals (and how many were followed up), providers
  closing and the attenders they leave, attenders displaced when groups cut places, money
  from other funders (their yearly income to providers and founding groups), grant money by
  grant length, and each round's budget against demand;
- NHS use per IMD decile and policy year: expected GP consultations and A&E attendances of
  every resident given their deprivation and need (and, for referred attenders, the direct
  effect of social prescribing), and their cost;
- the inequality staircase per decile: person-years in need (need above the referral
  threshold), referrals (seen by a link worker), followed up, referred people who started,
  still attending 12 weeks after starting, and the benefit of referred attenders;
- where the ICS's grant money and the open providers are, per quintile, at each round.

:meth:`Accounts.summary` turns them into one row per run, scaled to the whole place:
neighbourhood-level totals (providers, spend) by ``place_scale``, resident-level totals
(wellbeing-years, referrals, people) by people per simulated resident.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from abm.model.metrics import (
    LOW_LIFE_SATISFACTION,
    PAST_YEAR_WEEKS,
    QUINTILES,
    RUNNING_TOTALS,
    THIRDS,
    by_quintile,
    deprivation_thirds,
    discount_factors,
    gap_parts,
    weekly_equity,
)
from abm.model.providers import WEEKS_PER_YEAR
from abm.model.residents import ATTENDING, DROPPED_OUT, REFERRED
from abm.model.simulation import Simulation
from abm.version import __version__

#: Steps of the inequality staircase (after Bu et al., Br J Psychiatry 2024: referred ->
#: seen by a link worker -> any activity), per decile: person-weeks in need; referrals (the
#: model's referral is a link worker seeing someone); followed up (3+ contacts); referred
#: people who started a group; of them, still attending 12 weeks after starting; and
#: attender-weeks of referred people (to average their benefit over).
STAIRCASE = ("in_need", "referred", "followed_up", "started", "attending_12w",
             "referred_attending")
#: Weeks after starting at which a referred starter is counted as still attending.
STILL_ATTENDING_WEEKS = 12


def ratio(numerator: float, denominator: float) -> float:
    """``numerator / denominator``, or NaN when there is nothing to divide by."""
    return float(numerator) / denominator if denominator else float("nan")


class Accounts:
    """Payments and policy-period totals of one run (money in GBP)."""

    def __init__(self, model: Simulation):
        self.model = model
        rs = model.resident_state
        self.decile_index = rs.decile.astype(np.int64) - 1
        self.people_by_decile = np.bincount(self.decile_index, minlength=10).astype(float)
        self.third = deprivation_thirds(rs.deprivation)
        self.people_by_third = np.bincount(self.third, minlength=3).astype(float)
        self.on = False  # the policy period has started
        self.years: list[dict[str, np.ndarray]] = []  # one entry per policy year
        self.attender_weeks_by_decile = np.zeros(10)
        self.dropouts_by_decile = np.zeros(10)
        self.referrals = self.followed_up = 0
        self.referred_starts = np.zeros(2, dtype=np.int64)  # [followed up, not]
        self.closures = self.closure_attenders = self.displaced_attenders = 0
        self.open_provider_weeks = 0.0
        self.other_funders_gbp = 0.0  # actual GBP, not scaled
        self.grant_money = np.zeros(2)  # [all grants, grants of 3+ years], GBP over their term
        self.budget_to_demand: list[float] = []
        self.open_at_start = np.zeros(0, dtype=bool)
        self.closures_at_start = np.zeros(0, dtype=np.int32)
        #: Staircase steps per decile (counts of simulated residents; in_need in person-weeks).
        self.staircase = {step: np.zeros(10) for step in STAIRCASE}
        self.referred_benefit = np.zeros(10)  # benefit of referred attenders, summed weekly
        self.allocation = {"money": np.full(5, np.nan), "providers": np.full(5, np.nan)}
        self.groups_seeded = 0

    # --- booking -------------------------------------------------------------------------------
    def start_policy(self) -> None:
        """The first policy week: start counting; the commissioner starts from an empty
        balance (money left from the burn-in does not carry into the policy)."""
        ps = self.model.provider_state
        self.on = True
        self.model.commissioner.balance = 0.0
        self.open_at_start = ps.open.copy()
        self.closures_at_start = ps.closures.copy()

    def _year(self) -> dict[str, np.ndarray]:
        """The record of the current policy year."""
        index = (self.model.week - self.model.burn_in_weeks) // WEEKS_PER_YEAR
        while len(self.years) <= index:
            self.years.append({"spend": np.zeros(len(self.model.hoods)),  # GBP per hood
                               "wellbeing": np.zeros(10),  # point-years per decile
                               "gp": np.zeros(10),  # GP consultations per decile
                               "ae": np.zeros(10)})  # A&E attendances per decile
        return self.years[index]

    def pay(self, hoods: np.ndarray, amounts: np.ndarray) -> None:
        """An ICS payment (GBP) for something in each of ``hoods``."""
        self.model.commissioner.balance -= float(np.sum(amounts))
        if self.on:
            np.add.at(self._year()["spend"], hoods, amounts)

    def book_grants(self, amounts: np.ndarray, years: int) -> None:
        """Grants awarded this round (GBP a year each) for ``years`` years."""
        if self.on:
            total = float(np.sum(amounts)) * years
            self.grant_money += [total, total if years >= 3 else 0.0]

    def allocated(self) -> None:
        """After a funding round: the share of the ICS's grant money, and of the open
        providers, in each quintile."""
        if not self.on:
            return
        ps, quintile = self.model.provider_state, self.model.hoods.quintile
        where = quintile[ps.neighbourhood]
        money = np.bincount(where, weights=(ps.grant + ps.referral_grant) * ps.open, minlength=5)
        providers = np.bincount(where, weights=ps.open, minlength=5)
        with np.errstate(invalid="ignore", divide="ignore"):
            self.allocation = {"money": money / money.sum(),
                               "providers": providers / providers.sum()}

    def seeded(self, groups: int) -> None:
        """Resident-led groups seeded by community development this round."""
        if self.on:
            self.groups_seeded += groups

    def round(self, budget: float, demand: float) -> None:
        """A funding round's budget and demand (what funding every open provider would cost)."""
        if self.on and demand > 0:
            self.budget_to_demand.append(budget / demand)

    def displaced(self, attenders: int) -> None:
        """Attenders who lost their place when their group cut sessions."""
        if self.on:
            self.displaced_attenders += attenders

    def closed(self, providers: int, attenders: int) -> None:
        """Providers that closed this week and the attenders they leave."""
        if self.on:
            self.closures += providers
            self.closure_attenders += attenders

    def other_funders(self, amount: float) -> None:
        """Money from other funders (GBP) into groups: founding, and yearly income."""
        if self.on:
            self.other_funders_gbp += amount

    def week(self, attending_before: np.ndarray, dropped: np.ndarray,
             new_referrals: np.ndarray) -> None:
        """The week's ICS payments and, in the policy period, its flows (``attending_before``:
        who attended when the week began; ``dropped``: who stopped of their own accord;
        ``new_referrals``: who was referred this week)."""
        model = self.model
        ps, rs = model.provider_state, model.resident_state
        open_grants = (ps.grant + ps.referral_grant) * ps.open
        by_hood = (np.bincount(ps.neighbourhood, weights=open_grants, minlength=len(model.hoods))
                   + model.commissioner.ics_link_worker_cost()
                   + model.commissioner.cd_worker_cost())
        self.pay(np.arange(len(model.hoods)), by_hood / WEEKS_PER_YEAR)
        if not self.on:
            return
        year = self._year()
        d = self.decile_index
        year["wellbeing"] += np.bincount(d, weights=rs.wellbeing, minlength=10) / WEEKS_PER_YEAR
        gp, ae = self.nhs_use()
        year["gp"] += np.bincount(d, weights=gp, minlength=10)
        year["ae"] += np.bincount(d, weights=ae, minlength=10)
        self._climb(new_referrals, attending_before)
        self.attender_weeks_by_decile += np.bincount(
            self.decile_index, weights=rs.state == ATTENDING, minlength=10)
        self.dropouts_by_decile += np.bincount(self.decile_index[dropped], minlength=10)
        self.referrals += int(new_referrals.sum())
        self.followed_up += int((new_referrals & rs.followed_up).sum())
        referred_starts = (rs.state == ATTENDING) & ~attending_before & rs.came_by_referral
        self.referred_starts += [int((referred_starts & rs.followed_up).sum()),
                                 int((referred_starts & ~rs.followed_up).sum())]
        self.open_provider_weeks += int(ps.open.sum())
        self.other_funders((ps.other_income * ps.open).sum() / WEEKS_PER_YEAR)

    def nhs_use(self) -> tuple[np.ndarray, np.ndarray]:
        """This week's expected GP consultations and A&E attendances of each resident: a
        rate set by deprivation, raised by need, and changed for referred attenders by
        social prescribing's direct effect (0 by default, as controlled studies find)."""
        p, rs = self.model.params, self.model.resident_state
        referred = (rs.state == ATTENDING) & rs.came_by_referral
        gp = (p.gp_consultations_per_year / WEEKS_PER_YEAR
              * (1 + p.gp_deprivation_effect * rs.deprivation) * (1 + p.gp_need_effect * rs.need)
              * (1 + p.sp_gp_effect * referred))
        ae = (p.ae_attendances_least_deprived / WEEKS_PER_YEAR
              * (1 + p.ae_deprivation_effect * rs.deprivation) * (1 + p.ae_need_effect * rs.need)
              * (1 + p.sp_ae_effect * referred))
        return gp, ae

    def _climb(self, new_referrals: np.ndarray, attending_before: np.ndarray) -> None:
        """This week's steps of the inequality staircase, per decile."""
        p, rs, week = self.model.params, self.model.resident_state, self.model.week
        d, steps = self.decile_index, self.staircase
        attending_referred = (rs.state == ATTENDING) & rs.came_by_referral
        counts = {
            "in_need": rs.need > p.referral_need_threshold,
            "referred": new_referrals,
            "followed_up": new_referrals & rs.followed_up,
            "started": attending_referred & ~attending_before,
            "attending_12w": attending_referred & (rs.start_week == week - STILL_ATTENDING_WEEKS),
        }
        for step, who in counts.items():
            steps[step] += np.bincount(d, weights=who, minlength=10)
        steps["referred_attending"] += np.bincount(d, weights=attending_referred, minlength=10)
        self.referred_benefit += np.bincount(d, weights=rs.benefit * attending_referred,
                                             minlength=10)

    # --- metrics -------------------------------------------------------------------------------
    def weekly_metrics(self) -> dict[str, float]:
        """This week's metrics for the DataCollector (after the week's step)."""
        model = self.model
        rs, ps, scale = model.resident_state, model.provider_state, model.place_scale
        week = model.week  # already advanced: the number of weeks run
        d = self.decile_index
        wellbeing_by_decile = np.bincount(d, weights=rs.wellbeing, minlength=10)
        # Residents by decile and engagement state, and by decile and past-year attendance.
        state_by_decile = np.bincount(d * 4 + rs.state, minlength=40).reshape(10, 4)
        past_year = rs.last_attended > week - 1 - PAST_YEAR_WEEKS
        past_year_by_decile = np.bincount(d, weights=past_year, minlength=10)
        low = np.bincount(self.third, weights=rs.wellbeing < LOW_LIFE_SATISFACTION, minlength=3)
        people_q = by_quintile(self.people_by_decile)
        open_ = ps.open
        attendees = ps.attendees(rs.provider)[open_]
        with np.errstate(invalid="ignore", divide="ignore"):  # a place may lack a quintile
            attending_q = by_quintile(state_by_decile[:, ATTENDING]) / people_q
            past_year_q = by_quintile(past_year_by_decile) / people_q
            running = ps.places[open_] > 0  # a group rounded down to no places is not "full"
            full = ((attendees[running] >= ps.places[open_][running]).mean() if running.any()
                    else np.nan)
        by_state = state_by_decile.sum(axis=0) / rs.n
        spent = sum(year["spend"].sum() for year in self.years)
        p = model.params
        need_penalty = p.need_wellbeing_penalty
        parts = gap_parts({
            "gap_part_baseline": rs.baseline,
            "gap_part_need_untouched": -need_penalty * rs.need_untouched,
            "gap_part_need_assets": -need_penalty * (rs.need - rs.need_untouched),
            "gap_part_benefit": rs.benefit,
            "gap_part_green": rs.green_benefit,
            "gap_part_lag": rs.wellbeing - rs.target(),
        }, d, self.people_by_decile)
        connected = np.bincount(d, weights=rs.pull > 0, minlength=10)
        return {
            "week": week,
            "year": (week - model.burn_in_weeks) / WEEKS_PER_YEAR,
            **weekly_equity(wellbeing_by_decile, self.people_by_decile),
            "sd_wellbeing": float(rs.wellbeing.std()),
            **{f"p_low_ls_{t}": float(v) for t, v in
               zip(THIRDS, low / self.people_by_third, strict=True)},
            "p_attending": float(by_state[ATTENDING]),
            **{f"p_attending_{q}": float(v) for q, v in zip(QUINTILES, attending_q, strict=True)},
            "p_past_year": float(past_year_by_decile.sum() / rs.n),
            **{f"p_past_year_{q}": float(v) for q, v in zip(QUINTILES, past_year_q, strict=True)},
            "p_referred": float(by_state[REFERRED]),
            "p_dropped_out": float(by_state[DROPPED_OUT]),
            "n_open_providers": open_.sum() * scale,
            "n_places": ps.places[open_].sum() / model.sample_fraction * scale,
            "share_providers_full": float(full),
            "link_workers": model.commissioner.link_workers.sum() * scale,
            "closures": self.closures * scale,
            "spend_gbp": spent * scale,
            **parts,
            "gap_part_need": parts["gap_part_need_untouched"] + parts["gap_part_need_assets"],
            "connectedness": float(connected.sum() / rs.n),
            **{f"connectedness_{q}": float(v) for q, v in zip(
                QUINTILES, by_quintile(connected) / people_q, strict=True)},
            "group_ties_per_resident": float((rs.friends >= 0).sum() / rs.n),
            "p_in_need": float((rs.need > p.referral_need_threshold).mean()),
            "cd_workers": model.commissioner.cd_workers.sum() * scale,
        }

    def summary(self, timeseries: pd.DataFrame) -> dict[str, Any]:
        """One row: identity, means over the final policy year of the weekly metrics, and
        policy-period totals scaled to the place (money in GBP; wellbeing in
        life-satisfaction point-years, so two same-seed runs differ by WELLBYs)."""
        model, p = self.model, self.model.params
        years = model.years_run
        last_year = timeseries[(timeseries.year > years - 1) & (timeseries.year > 0)]
        final = last_year.drop(columns=list(RUNNING_TOTALS)).mean()
        per_resident = model.place.population / model.resident_state.n  # people per agent
        scale = model.place_scale
        quintile = model.hoods.quintile
        n = len(self.years)
        spend = np.array([np.bincount(quintile, weights=y["spend"], minlength=5)
                          for y in self.years]).reshape(n, 5) * scale
        wellbeing = np.array([by_quintile(y["wellbeing"]) for y in self.years]).reshape(
            n, 5) * per_resident
        health_factor = discount_factors(n, p.discount_rate_health)
        cost_factor = discount_factors(n, p.discount_rate_costs)
        attender_years_q = by_quintile(self.attender_weeks_by_decile) / WEEKS_PER_YEAR
        ps, before = model.provider_state, len(self.open_at_start)
        survived = (self.open_at_start & ps.open[:before]
                    & (ps.closures[:before] == self.closures_at_start))
        open_provider_years = self.open_provider_weeks / WEEKS_PER_YEAR
        row: dict[str, Any] = {
            "place": model.place.name,
            "rules": "+".join(model.rules),
            "seed": model.seed,
            "years": years,
            "n_residents": model.resident_state.n,
            "population": model.place.population,
            **{f"population_{q}": float(v * per_resident) for q, v in zip(
                QUINTILES, by_quintile(self.people_by_decile), strict=True)},
            "model_version": __version__,
            **{name: float(final[name]) for name in final.index},
        }
        with np.errstate(invalid="ignore", divide="ignore"):
            row |= {f"dropout_rate_{q}": float(v) for q, v in zip(
                QUINTILES, by_quintile(self.dropouts_by_decile) / attender_years_q, strict=True)}
            row |= {
                "closures": self.closures * scale,
                "closures_per_year": self.closures * scale / years,
                "closure_rate": ratio(self.closures, open_provider_years),
                "provider_survival": float(survived.sum() / max(self.open_at_start.sum(), 1)),
                "forced_stops_per_year": (self.closure_attenders + self.displaced_attenders)
                * per_resident / years,
                "displaced_per_year": self.displaced_attenders * per_resident / years,
                "referrals": self.referrals * per_resident,
                "share_referred_3plus_contacts": ratio(self.followed_up, self.referrals),
                "referral_uptake": ratio(self.referred_starts.sum(), self.referrals),
                "referral_uptake_followed": ratio(self.referred_starts[0], self.followed_up),
                "referral_uptake_brief": ratio(self.referred_starts[1],
                                               self.referrals - self.followed_up),
                "budget_to_demand": ratio(sum(self.budget_to_demand),
                                          len(self.budget_to_demand)),
                "share_grant_funding_3plus_years": ratio(self.grant_money[1],
                                                         self.grant_money[0]),
                "other_funders_gbp": self.other_funders_gbp * scale,
            }
        gp = np.array([by_quintile(y["gp"]) for y in self.years]).reshape(n, 5) * per_resident
        ae = np.array([by_quintile(y["ae"]) for y in self.years]).reshape(n, 5) * per_resident
        nhs_cost = gp * p.gp_consultation_cost_gbp + ae * p.ae_attendance_cost_gbp
        for name, counts in (("gp_consultations", gp), ("ae_attendances", ae)):
            row[name] = float(counts.sum())
            row |= {f"{name}_{q}": float(v) for q, v in zip(QUINTILES, counts.sum(0),
                                                            strict=True)}
        for name, per_year, factor in (("spend_gbp", spend, cost_factor),
                                       ("wellbeing_years", wellbeing, health_factor),
                                       ("nhs_cost_gbp", nhs_cost, cost_factor)):
            row[name] = float(per_year.sum())
            row |= {f"{name}_{q}": float(v) for q, v in zip(QUINTILES, per_year.sum(0),
                                                            strict=True)}
            discounted = factor @ per_year
            row[f"{name}_disc"] = float(discounted.sum())
            row |= {f"{name}_disc_{q}": float(v) for q, v in zip(QUINTILES, discounted,
                                                                 strict=True)}
        row |= self._staircase_summary(per_resident)
        for what, shares in self.allocation.items():
            row |= {f"share_ics_{what}_{q}" if what == "money" else f"share_{what}_{q}": float(v)
                    for q, v in zip(QUINTILES, shares, strict=True)}
        row["cd_groups_seeded"] = self.groups_seeded * scale
        return row

    def _staircase_summary(self, per_resident: float) -> dict[str, float]:
        """The staircase per quintile, scaled to the place: person-years in need and counts of
        people at each step; the mean benefit of referred attenders (life-satisfaction
        points)."""
        steps = {step: by_quintile(counts) for step, counts in self.staircase.items()}
        out = {}
        for step in ("in_need", "referred", "followed_up", "started", "attending_12w"):
            scale = per_resident / WEEKS_PER_YEAR if step == "in_need" else per_resident
            out |= {f"{step}_{q}": float(v * scale)
                    for q, v in zip(QUINTILES, steps[step], strict=True)}
        with np.errstate(invalid="ignore", divide="ignore"):
            benefit = by_quintile(self.referred_benefit) / steps["referred_attending"]
        out |= {f"benefit_referred_{q}": float(v) for q, v in zip(QUINTILES, benefit,
                                                                   strict=True)}
        return out
