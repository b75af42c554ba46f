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

When a model runs several replicates at once, every record has one entry per replicate (a
leading axis), kept apart from the others and summed in the same order as in a run alone
(counts by decile use keys ``replicate * 10 + decile``); :meth:`Accounts.replicate` gives a
replicate's commissioner its own accounts.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import scipy.sparse as sp

from abm.model import kernels
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


def per_person(counts: np.ndarray, people: np.ndarray) -> np.ndarray:
    """``counts / people`` element by element, NaN where there is nobody (a quintile a small
    place has no neighbourhood in)."""
    return np.divide(counts, people, out=np.full(np.shape(counts), np.nan),
                     where=np.asarray(people) > 0)


class Accounts:
    """Payments and policy-period totals of a model's runs (money in GBP): each record has
    one entry per replicate (``model.replicas``)."""

    def __init__(self, model: Any, compiled: bool = False):
        """``compiled``: the per-resident sums of each week in one compiled pass
        (:func:`abm.model.kernels.week_sums` and :func:`~abm.model.kernels.metric_sums`,
        the same numbers bit for bit) rather than numpy's."""
        self.model = model
        rs = model.resident_state
        self.compiled = compiled
        if compiled:
            self._params = kernels.params_for(kernels.AccountParams,
                                              [r.params for r in model.replicas])
        self.replicates = replicates = len(model.replicas)
        #: Residents per replicate.
        self.n = rs.n // replicates
        rep = np.repeat(np.arange(replicates), self.n)
        #: Per resident: replicate x 10 + IMD decile index (0-9), the key of counts by decile.
        self.key = rep * 10 + rs.decile.astype(np.int64) - 1
        #: Sums by replicate and decile as one product: row ``key`` holds that key's residents.
        self._deciles = sp.csr_matrix((np.ones(rs.n), (self.key, np.arange(rs.n))),
                                      shape=(10 * replicates, rs.n))
        self.people_by_decile = self.by_decile(np.ones(rs.n))
        third = np.concatenate([deprivation_thirds(d) for d in rs.deprivation.reshape(
            replicates, self.n)])
        self.third_key = rep * 3 + third
        self.people_by_third = np.bincount(self.third_key, minlength=3 * replicates
                                           ).reshape(replicates, 3).astype(float)
        self.on = False  # the policy period has started
        self.years: list[dict[str, np.ndarray]] = []  # one entry per policy year
        zeros = np.zeros(replicates)
        self.attender_weeks_by_decile = np.zeros((replicates, 10))
        self.dropouts_by_decile = np.zeros((replicates, 10))
        self.referrals, self.followed_up = zeros.copy(), zeros.copy()
        self.referred_starts = np.zeros((replicates, 2))  # [followed up, not]
        self.closures, self.closure_attenders = zeros.copy(), zeros.copy()
        self.displaced_attenders = zeros.copy()
        self.open_provider_weeks = zeros.copy()
        self.other_funders_gbp = zeros.copy()  # actual GBP, not scaled
        self.grant_money = np.zeros((replicates, 2))  # [all, 3+ years], GBP over their term
        self.budget_to_demand: list[list[float]] = [[] for _ in range(replicates)]
        self.open_at_start = np.zeros(0, dtype=bool)
        self.closures_at_start = np.zeros(0, dtype=np.int32)
        #: Staircase steps per decile (counts of simulated residents; in_need in person-weeks).
        self.staircase = {step: np.zeros((replicates, 10)) for step in STAIRCASE}
        self.referred_benefit = np.zeros((replicates, 10))  # referred attenders' benefit
        self.allocation = {"money": np.full((replicates, 5), np.nan),
                           "providers": np.full((replicates, 5), np.nan)}
        self.groups_seeded = zeros.copy()

    def by_decile(self, values: np.ndarray) -> np.ndarray:
        """Per replicate and IMD decile, the sum of ``values`` (one per resident)."""
        return self.by_decile_many({"": values})[""]

    def by_decile_many(self, values: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        """:meth:`by_decile` of several quantities at once (one pass over the residents;
        each sum adds its residents in index order, as ``np.bincount`` would)."""
        columns = np.column_stack([np.asarray(v, dtype=float) for v in values.values()])
        sums = (self._deciles @ columns).reshape(self.replicates, 10, len(values))
        return {name: sums[:, :, k] for k, name in enumerate(values)}

    def replicate(self, index: int) -> ReplicateAccounts:
        """Replicate ``index``'s accounts, as its commissioner books into them."""
        return ReplicateAccounts(self, index)

    # --- booking -------------------------------------------------------------------------------
    def start_policy(self) -> None:
        """The first policy week: start counting; each commissioner starts from an empty
        balance (money left from the burn-in does not carry into the policy)."""
        ps = self.model.provider_state
        self.on = True
        for replica in self.model.replicas:
            replica.commissioner.balance = 0.0
        self.open_at_start = ps.open.copy()
        self.closures_at_start = ps.closures.copy()

    def _year(self) -> dict[str, np.ndarray]:
        """The record of the current policy year."""
        model = self.model
        index = (model.week - model.burn_in_weeks) // WEEKS_PER_YEAR
        hoods = len(model.hoods) // self.replicates
        while len(self.years) <= index:
            self.years.append({"spend": np.zeros((self.replicates, hoods)),  # GBP per hood
                               "wellbeing": np.zeros((self.replicates, 10)),  # point-years
                               "gp": np.zeros((self.replicates, 10)),  # GP consultations
                               "ae": np.zeros((self.replicates, 10))})  # A&E attendances
        return self.years[index]

    def pay(self, replicate: int, hoods: np.ndarray, amounts: np.ndarray) -> None:
        """An ICS payment (GBP) of ``replicate``'s commissioner for something in each of
        ``hoods`` (its own numbering)."""
        self.model.replicas[replicate].commissioner.balance -= float(np.sum(amounts))
        if self.on:
            np.add.at(self._year()["spend"][replicate], hoods, amounts)

    def displaced(self, attenders: np.ndarray) -> None:
        """Attenders who lost their place when their group cut sessions (per replicate)."""
        if self.on:
            self.displaced_attenders += attenders

    def closed(self, providers: np.ndarray, attenders: np.ndarray) -> None:
        """Providers that closed this week and the attenders they leave (per replicate)."""
        if self.on:
            self.closures += providers
            self.closure_attenders += attenders

    def week(self, attending_before: np.ndarray, dropped: np.ndarray,
             new_referrals: np.ndarray) -> None:
        """The week's ICS payments and, in the policy period, its flows (``attending_before``:
        who attended when the week began; ``dropped``: who stopped of their own accord;
        ``new_referrals``: who was referred this week)."""
        model, R = self.model, self.replicates
        ps = model.provider_state
        open_grants = (ps.grant + ps.referral_grant) * ps.open
        by_hood = np.bincount(ps.neighbourhood, weights=open_grants, minlength=len(model.hoods))
        by_hood = by_hood.reshape(R, -1) + np.stack(
            [r.commissioner.ics_link_worker_cost() + r.commissioner.cd_worker_cost()
             for r in model.replicas])
        amounts = by_hood / WEEKS_PER_YEAR
        for replica, paid in zip(model.replicas, amounts, strict=True):
            replica.commissioner.balance -= float(np.sum(paid))
        if not self.on:
            return
        year = self._year()
        year["spend"] += amounts
        sums, counts = self._week_sums(attending_before, dropped, new_referrals)
        year["wellbeing"] += sums["wellbeing"] / WEEKS_PER_YEAR
        year["gp"] += sums["gp"]
        year["ae"] += sums["ae"]
        for step in STAIRCASE:
            self.staircase[step] += sums[step]
        self.referred_benefit += sums["referred_benefit"]
        self.attender_weeks_by_decile += sums["attending"]
        self.dropouts_by_decile += sums["dropped"]
        self.referrals += counts[:, 0]
        self.followed_up += counts[:, 1]
        self.referred_starts += counts[:, 2:]
        self.open_provider_weeks += ps.open.reshape(R, -1).sum(axis=1)
        # Summed slot by slot (bincount), so a replicate's empty slots beyond its own, there
        # when another replicate has more, add exact zeros and change nothing.
        self.other_funders_gbp += np.bincount(
            np.arange(len(ps)) // max(ps.capacity, 1), weights=ps.other_income * ps.open,
            minlength=R) / WEEKS_PER_YEAR

    def _week_sums(self, attending_before: np.ndarray, dropped: np.ndarray,
                   new_referrals: np.ndarray) -> tuple[dict[str, np.ndarray], np.ndarray]:
        """A policy week's sums per replicate and decile (wellbeing, NHS use, attendance,
        drop-outs, the staircase's steps, referred attenders' benefit), and per replicate
        the counts of new referrals, followed-up ones, and referred starters followed up
        and not (R x 4)."""
        rs, R = self.model.resident_state, self.replicates
        if self.compiled:
            sums, counts = kernels.week_sums(
                self._params, self.n, self.key, 10 * R, self.model.week, STILL_ATTENDING_WEEKS,
                rs.state, rs.came_by_referral, rs.followed_up, rs.start_week, attending_before,
                dropped, new_referrals, rs.deprivation, rs.need, rs.wellbeing, rs.benefit)
            sums = sums.reshape(R, 10, len(kernels.WEEK_SUMS))
            return {name: sums[:, :, k] for k, name in enumerate(kernels.WEEK_SUMS)}, counts
        gp, ae = self.nhs_use()
        attending_referred = (rs.state == ATTENDING) & rs.came_by_referral
        sums = self.by_decile_many({
            "wellbeing": rs.wellbeing, "gp": gp, "ae": ae,
            "attending": rs.state == ATTENDING, "dropped": dropped,
            **self._staircase_steps(new_referrals, attending_before, attending_referred),
            "referred_benefit": rs.benefit * attending_referred,
        })
        rows = (R, self.n)
        starts = (rs.state == ATTENDING) & ~attending_before & rs.came_by_referral
        counts = np.column_stack([new_referrals.reshape(rows).sum(axis=1),
                                  (new_referrals & rs.followed_up).reshape(rows).sum(axis=1),
                                  (starts & rs.followed_up).reshape(rows).sum(axis=1),
                                  (starts & ~rs.followed_up).reshape(rows).sum(axis=1)])
        return sums, counts

    def nhs_use(self) -> tuple[np.ndarray, np.ndarray]:
        """This week's expected GP consultations and A&E attendances of each resident: a
        rate set by deprivation, raised by need, and changed for referred attenders by
        social prescribing's direct effect (0 by default, as controlled studies find)."""
        rs = self.model.resident_state
        p = rs.params
        referred = (rs.state == ATTENDING) & rs.came_by_referral
        gp = (p.gp_consultations_per_year / WEEKS_PER_YEAR
              * (1 + p.gp_deprivation_effect * rs.deprivation) * (1 + p.gp_need_effect * rs.need)
              * (1 + p.sp_gp_effect * referred))
        ae = (p.ae_attendances_least_deprived / WEEKS_PER_YEAR
              * (1 + p.ae_deprivation_effect * rs.deprivation) * (1 + p.ae_need_effect * rs.need)
              * (1 + p.sp_ae_effect * referred))
        return gp, ae

    def _staircase_steps(self, new_referrals: np.ndarray, attending_before: np.ndarray,
                         attending_referred: np.ndarray) -> dict[str, np.ndarray]:
        """Who is on each step of the inequality staircase this week (one flag per
        resident per step)."""
        rs, week = self.model.resident_state, self.model.week
        return {
            "in_need": rs.need > rs.params.referral_need_threshold,
            "referred": new_referrals,
            "followed_up": new_referrals & rs.followed_up,
            "started": attending_referred & ~attending_before,
            "attending_12w": attending_referred & (rs.start_week == week - STILL_ATTENDING_WEEKS),
            "referred_attending": attending_referred,
        }

    # --- metrics -------------------------------------------------------------------------------
    def weekly_metrics(self) -> dict[str, np.ndarray]:
        """This week's metrics for the DataCollector (after the week's step): one value per
        replicate each."""
        model, R, n = self.model, self.replicates, self.n
        rs, ps, scale = model.resident_state, model.provider_state, model.place_scale
        week = model.week  # already advanced: the number of weeks run
        sums, state_by_decile, low, sd, in_need, ties = self._metric_sums()
        wellbeing_by_decile, past_year_by_decile = sums["wellbeing"], sums["past_year"]
        connected = sums["connected"]
        people_q = by_quintile(self.people_by_decile)
        open_ = ps.open
        running = open_ & (ps.places > 0)  # a group rounded down to no places is not "full"
        full = running & (ps.attendees(rs.provider) >= ps.places)
        with np.errstate(invalid="ignore", divide="ignore"):  # a place may lack a quintile
            attending_q = by_quintile(state_by_decile[:, :, ATTENDING]) / people_q
            past_year_q = by_quintile(past_year_by_decile) / people_q
            share_full = (full.reshape(R, -1).sum(axis=1)
                          / running.reshape(R, -1).sum(axis=1))
        by_state = state_by_decile.sum(axis=1) / n
        spent = sum((year["spend"].sum(axis=1) for year in self.years), np.zeros(R))
        parts = gap_parts({name: sums[name] for name in sums if name.startswith("gap_part")},
                          self.people_by_decile)
        commissioners = [r.commissioner for r in model.replicas]
        return {
            "week": np.full(R, week),
            "year": np.full(R, (week - model.burn_in_weeks) / WEEKS_PER_YEAR),
            **weekly_equity(wellbeing_by_decile, self.people_by_decile),
            "sd_wellbeing": sd,
            **{f"p_low_ls_{t}": v for t, v in
               zip(THIRDS, (low / self.people_by_third).T, strict=True)},
            "p_attending": by_state[:, ATTENDING],
            **{f"p_attending_{q}": v for q, v in zip(QUINTILES, attending_q.T, strict=True)},
            "p_past_year": past_year_by_decile.sum(axis=1) / n,
            **{f"p_past_year_{q}": v for q, v in zip(QUINTILES, past_year_q.T, strict=True)},
            "p_referred": by_state[:, REFERRED],
            "p_dropped_out": by_state[:, DROPPED_OUT],
            "n_open_providers": open_.reshape(R, -1).sum(axis=1) * scale,
            "n_places": (ps.places * open_).reshape(R, -1).sum(axis=1)
            / model.sample_fraction * scale,
            "share_providers_full": share_full,
            "link_workers": np.array([c.link_workers.sum() for c in commissioners]) * scale,
            "closures": self.closures * scale,
            "spend_gbp": spent * scale,
            **parts,
            "gap_part_need": parts["gap_part_need_untouched"] + parts["gap_part_need_assets"],
            "connectedness": connected.sum(axis=1) / n,
            **{f"connectedness_{q}": v for q, v in zip(
                QUINTILES, per_person(by_quintile(connected), people_q).T, strict=True)},
            "group_ties_per_resident": ties / n,
            "p_in_need": in_need / n,
            "cd_workers": np.array([c.cd_workers.sum() for c in commissioners]) * scale,
        }

    def _metric_sums(self) -> tuple:
        """The weekly metrics' per-resident sums: by replicate and decile (wellbeing,
        past-year attenders, connected residents, the gap's parts), residents by replicate,
        decile and engagement state (R x 10 x 4), low life satisfaction by replicate and
        third (R x 3), and per replicate the standard deviation of wellbeing, residents in
        need and ties made in groups."""
        model, R = self.model, self.replicates
        rs, p = model.resident_state, model.resident_state.params
        past_year_from = model.week - 1 - PAST_YEAR_WEEKS  # the week already advanced
        if self.compiled:
            sums, states, low, sd, in_need, ties = kernels.metric_sums(
                self._params, self.n, self.key, 10 * R, self.third_key, 3 * R,
                past_year_from, LOW_LIFE_SATISFACTION, rs.state, rs.wellbeing,
                rs.last_attended, rs.pull, rs.baseline, rs.need, rs.need_untouched,
                rs.benefit, rs.green_benefit, rs.friends)
            sums = sums.reshape(R, 10, len(kernels.METRIC_SUMS))
            return ({name: sums[:, :, k] for k, name in enumerate(kernels.METRIC_SUMS)},
                    states.reshape(R, 10, 4), low.reshape(R, 3), sd, in_need, ties)
        need_penalty = p.need_wellbeing_penalty
        sums = self.by_decile_many({
            "wellbeing": rs.wellbeing,
            "past_year": rs.last_attended > past_year_from,
            "connected": rs.pull > 0,
            "gap_part_baseline": rs.baseline,
            "gap_part_need_untouched": -need_penalty * rs.need_untouched,
            "gap_part_need_assets": -need_penalty * (rs.need - rs.need_untouched),
            "gap_part_benefit": rs.benefit,
            "gap_part_green": rs.green_benefit,
            "gap_part_lag": rs.wellbeing - rs.target(),
        })
        states = np.bincount(self.key * 4 + rs.state, minlength=40 * R).reshape(R, 10, 4)
        low = np.bincount(self.third_key, weights=rs.wellbeing < LOW_LIFE_SATISFACTION,
                          minlength=3 * R).reshape(R, 3)
        rows = (R, self.n)
        return (sums, states, low, rs.wellbeing.reshape(rows).std(axis=1),
                (rs.need > p.referral_need_threshold).reshape(rows).sum(axis=1),
                (rs.friends >= 0).reshape(R, -1).sum(axis=1))

    def summary(self, r: int, timeseries: pd.DataFrame) -> dict[str, Any]:
        """One row for replicate ``r`` (``timeseries``: its weekly metrics): identity, means
        over the final policy year of the weekly metrics, and policy-period totals scaled to
        the place (money in GBP; wellbeing in life-satisfaction point-years, so two same-seed
        runs differ by WELLBYs)."""
        model = self.model
        replica = model.replicas[r]
        p = replica.params
        years = model.years_run
        last_year = timeseries[(timeseries.year > years - 1) & (timeseries.year > 0)]
        final = last_year.drop(columns=list(RUNNING_TOTALS)).mean()
        per_resident = model.place.population / self.n  # people per agent
        scale = replica.place_scale
        quintile = replica.hoods.quintile
        n = len(self.years)
        spend = np.array([np.bincount(quintile, weights=y["spend"][r], minlength=5)
                          for y in self.years]).reshape(n, 5) * scale
        wellbeing = np.array([by_quintile(y["wellbeing"][r]) for y in self.years]).reshape(
            n, 5) * per_resident
        health_factor = discount_factors(n, p.discount_rate_health)
        cost_factor = discount_factors(n, p.discount_rate_costs)
        attender_years_q = by_quintile(self.attender_weeks_by_decile[r]) / WEEKS_PER_YEAR
        ps = replica.provider_state
        capacity = len(self.open_at_start) // self.replicates
        at_start = slice(r * capacity, r * capacity + min(capacity, len(ps)))
        before = at_start.stop - at_start.start
        open_at_start = self.open_at_start[at_start]
        survived = (open_at_start & ps.open[:before]
                    & (ps.closures[:before] == self.closures_at_start[at_start]))
        open_provider_years = self.open_provider_weeks[r] / WEEKS_PER_YEAR
        closures, referrals, followed = (self.closures[r], self.referrals[r],
                                         self.followed_up[r])
        starts = self.referred_starts[r]
        row: dict[str, Any] = {
            "place": model.place.name,
            "rules": "+".join(model.rules),
            "seed": replica.streams.seed,
            "years": years,
            "n_residents": self.n,
            "population": model.place.population,
            **{f"population_{q}": float(v * per_resident) for q, v in zip(
                QUINTILES, by_quintile(self.people_by_decile[r]), strict=True)},
            "model_version": __version__,
            **{name: float(final[name]) for name in final.index},
        }
        with np.errstate(invalid="ignore", divide="ignore"):
            row |= {f"dropout_rate_{q}": float(v) for q, v in zip(
                QUINTILES, by_quintile(self.dropouts_by_decile[r]) / attender_years_q,
                strict=True)}
            row |= {
                "closures": closures * scale,
                "closures_per_year": closures * scale / years,
                "closure_rate": ratio(closures, open_provider_years),
                "provider_survival": float(survived.sum() / max(open_at_start.sum(), 1)),
                "forced_stops_per_year": (self.closure_attenders[r]
                                          + self.displaced_attenders[r]) * per_resident / years,
                "displaced_per_year": self.displaced_attenders[r] * per_resident / years,
                "referrals": referrals * per_resident,
                "share_referred_3plus_contacts": ratio(followed, referrals),
                "referral_uptake": ratio(starts.sum(), referrals),
                "referral_uptake_followed": ratio(starts[0], followed),
                "referral_uptake_brief": ratio(starts[1], referrals - followed),
                "budget_to_demand": ratio(sum(self.budget_to_demand[r]),
                                          len(self.budget_to_demand[r])),
                "share_grant_funding_3plus_years": ratio(self.grant_money[r, 1],
                                                         self.grant_money[r, 0]),
                "other_funders_gbp": self.other_funders_gbp[r] * scale,
            }
        gp = np.array([by_quintile(y["gp"][r]) for y in self.years]).reshape(n, 5) * per_resident
        ae = np.array([by_quintile(y["ae"][r]) for y in self.years]).reshape(n, 5) * per_resident
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
        row |= self._staircase_summary(r, per_resident)
        for what, shares in self.allocation.items():
            row |= {f"share_ics_{what}_{q}" if what == "money" else f"share_{what}_{q}": float(v)
                    for q, v in zip(QUINTILES, shares[r], strict=True)}
        row["cd_groups_seeded"] = self.groups_seeded[r] * scale
        return row

    def _staircase_summary(self, r: int, per_resident: float) -> dict[str, float]:
        """Replicate ``r``'s staircase per quintile, scaled to the place: person-years in need
        and counts of people at each step; the mean benefit of referred attenders
        (life-satisfaction points)."""
        steps = {step: by_quintile(counts[r]) for step, counts in self.staircase.items()}
        out = {}
        for step in ("in_need", "referred", "followed_up", "started", "attending_12w"):
            scale = per_resident / WEEKS_PER_YEAR if step == "in_need" else per_resident
            out |= {f"{step}_{q}": float(v * scale)
                    for q, v in zip(QUINTILES, steps[step], strict=True)}
        with np.errstate(invalid="ignore", divide="ignore"):
            benefit = by_quintile(self.referred_benefit[r]) / steps["referred_attending"]
        out |= {f"benefit_referred_{q}": float(v) for q, v in zip(QUINTILES, benefit,
                                                                   strict=True)}
        return out


class ReplicateAccounts:
    """One replicate's accounts, as its commissioner (and its founding pool) book into them."""

    def __init__(self, accounts: Accounts, r: int):
        self.accounts, self.r = accounts, r

    def pay(self, hoods: np.ndarray, amounts: np.ndarray) -> None:
        """An ICS payment (GBP) for something in each of ``hoods``."""
        self.accounts.pay(self.r, hoods, amounts)

    def book_grants(self, amounts: np.ndarray, years: int) -> None:
        """Grants awarded this round (GBP a year each) for ``years`` years."""
        if self.accounts.on:
            total = float(np.sum(amounts)) * years
            self.accounts.grant_money[self.r] += [total, total if years >= 3 else 0.0]

    def round(self, budget: float, demand: float) -> None:
        """A funding round's budget and demand (what funding every open provider would cost)."""
        if self.accounts.on and demand > 0:
            self.accounts.budget_to_demand[self.r].append(budget / demand)

    def allocated(self) -> None:
        """After a funding round: the share of the ICS's grant money, and of the open
        providers, in each quintile."""
        accounts = self.accounts
        if not accounts.on:
            return
        replica = accounts.model.replicas[self.r]
        ps, quintile = replica.provider_state, replica.hoods.quintile
        where = quintile[ps.neighbourhood]
        money = np.bincount(where, weights=(ps.grant + ps.referral_grant) * ps.open, minlength=5)
        providers = np.bincount(where, weights=ps.open, minlength=5)
        with np.errstate(invalid="ignore", divide="ignore"):
            accounts.allocation["money"][self.r] = money / money.sum()
            accounts.allocation["providers"][self.r] = providers / providers.sum()

    def seeded(self, groups: int) -> None:
        """Resident-led groups seeded by community development this round."""
        if self.accounts.on:
            self.accounts.groups_seeded[self.r] += groups

    def other_funders(self, amount: float) -> None:
        """Money from other funders (GBP) into groups: founding, and yearly income."""
        if self.accounts.on:
            self.accounts.other_funders_gbp[self.r] += amount
