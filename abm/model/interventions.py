"""Controlled experiments inside the model, as the studies behind its targets ran them.

:func:`start_stop_effects` repeats the design of Munford et al. 2020 (BMJ Open
10:e033186): follow people who start taking part in a community group, and people who stop,
for 18 months, and compare each with the same people had nothing changed. The model does
it with common random numbers: three runs with the same seed, identical until week 26 of
the policy period; then one run makes a set of non-attenders start, one closes a set of
groups (a forced stop for their attenders), and one changes nothing. Each effect is the mean
difference in wellbeing-years per person over the next 78 weeks (WELLBYs per person; the
study's QALYs times ``wellbys_per_qaly`` are comparable).

This is a calibration target, not something the defaults are tuned to: the study's stoppers
mostly stopped voluntarily, the model's stoppers here lost their group.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from abm.model.model import CommunityAssetsModel
from abm.model.residents import ATTENDING, REFERRED

#: Weeks of follow-up: 18 months, as in Munford et al. 2020.
FOLLOW_UP_WEEKS = 78
#: Weeks into the policy period at which the experiment starts.
START_WEEK = 26


@dataclass(frozen=True)
class StartStop:
    """WELLBYs per person over 18 months: gained by starting, lost by losing one's group."""

    start_gain: float
    stop_loss: float
    starters: int
    stoppers: int

    @property
    def ratio(self) -> float:
        """How many times larger the loss from stopping is than the gain from starting."""
        return self.stop_loss / self.start_gain if self.start_gain > 0 else float("nan")


def start_stop_effects(place: str = "devon_ics", seed: int = 0,
                       parameters: dict[str, Any] | None = None,
                       share_closed: float = 0.5, window_weeks: int = 8) -> StartStop:
    """Run the Munford-style experiment (see the module docstring) and return its effects.

    Starting: the residents who start at a group within ``window_weeks`` of the start in the
    unchanged run, against a run where those same residents cannot take a place. Stopping:
    ``share_closed`` of the open providers (chosen with a generator of their own, so the
    model's streams are untouched) close at the start; their attenders lose their group.
    """
    def run(barred=None, close=False):
        model = CommunityAssetsModel(place, "status_quo", seed, parameters)
        for _ in range(model.burn_in_weeks + START_WEEK):
            model.step()
        rs, ps = model.resident_state, model.provider_state
        attending_before = rs.state == ATTENDING
        stoppers = np.zeros(0, dtype=np.int64)
        if barred is not None:
            model.barred[barred] = True
        if close:
            shut = np.flatnonzero(ps.open)
            shut = shut[np.random.default_rng(seed).random(len(shut)) < share_closed]
            stoppers = np.flatnonzero(np.isin(rs.provider, shut))
            model.close_providers(shut)
        years = np.zeros(rs.n)
        started = np.zeros(rs.n, dtype=bool)
        for week in range(FOLLOW_UP_WEEKS):
            model.step()
            years += rs.wellbeing / 52
            if week < window_weeks:
                started |= (rs.state == ATTENDING) & ~attending_before
        return years, np.flatnonzero(started), stoppers

    plain, starters, _ = run()
    barred, _, _ = run(barred=starters)
    closed, _, stoppers = run(close=True)
    return StartStop(
        start_gain=_mean(plain[starters] - barred[starters]),
        stop_loss=_mean(plain[stoppers] - closed[stoppers]),
        starters=len(starters),
        stoppers=len(stoppers),
    )


def _mean(values: np.ndarray) -> float:
    """The mean, or NaN when nobody started or stopped (a run too small to have any)."""
    return float(values.mean()) if len(values) else float("nan")


@dataclass(frozen=True)
class Trial:
    """A controlled comparison run inside the model: the mean outcome per person in the
    treated and control arms, and the people in each."""

    treated: float
    control: float
    n_treated: int
    n_control: int

    @property
    def difference(self) -> float:
        """Treated minus control."""
        return self.treated - self.control

    @property
    def relative(self) -> float:
        """Treated over control, minus 1 (e.g. -0.1: 10% fewer)."""
        return self.treated / self.control - 1 if self.control else float("nan")


def referral_trial(place: str = "devon_ics", seed: int = 0,
                   parameters: dict[str, Any] | None = None, window_weeks: int = 8,
                   follow_up_weeks: int = 52) -> Trial:
    """A trial of social prescribing as the controlled studies ran it (Kiely et al., BMJ
    Open 2022;12:e062951: primary-care visits, little or no effect): residents referred in
    ``window_weeks`` from policy week 26 are randomised (a generator of their own, so the
    model's streams are untouched) to keep their referral or to have no group place (the
    control arm: usual care); the outcome is expected GP consultations per person over the
    next ``follow_up_weeks``. Both arms come from the same run, so the comparison is within
    one model world, as in a trial."""
    model = CommunityAssetsModel(place, "status_quo", seed, parameters)
    for _ in range(model.burn_in_weeks + START_WEEK):
        model.step()
    rs = model.resident_state
    arm = np.random.default_rng(seed).random(rs.n) < 0.5  # True: treated
    enrolled = np.zeros(rs.n, dtype=bool)
    gp = np.zeros(rs.n)
    for week in range(window_weeks + follow_up_weeks):
        before = rs.state.copy()
        model.barred = enrolled & ~arm  # the control arm gets no place while enrolled
        model.step()
        if week < window_weeks:
            enrolled |= (rs.state == REFERRED) & (before != REFERRED)
        else:
            gp += model.accounts.nhs_use()[0] * enrolled
    treated, control = enrolled & arm, enrolled & ~arm
    return Trial(_mean(gp[treated]), _mean(gp[control]), int(treated.sum()),
                 int(control.sum()))


def develop_trial(place: str = "london", seed: int = 0,
                  parameters: dict[str, Any] | None = None, years: float = 4.0) -> Trial:
    """Community development as Well London tested it (Phillips et al., JECH 2014;68:606:
    a cluster RCT in deprived London neighbourhoods, WEMWBS -1.52 (-3.93 to 0.88) after
    about 4 years): mean life satisfaction, after ``years`` of the develop rule, of the
    residents of the neighbourhoods it covered, against the same neighbourhoods in a
    same-seed run without it."""
    treated = CommunityAssetsModel(place, "develop", seed, parameters).run(years=years)
    control = CommunityAssetsModel(place, "status_quo", seed, parameters).run(years=years)
    covered = treated.commissioner.cd_workers[treated.resident_state.neighbourhood] > 0
    return Trial(_mean(treated.resident_state.wellbeing[covered]),
                 _mean(control.resident_state.wellbeing[covered]), int(covered.sum()),
                 int(covered.sum()))
