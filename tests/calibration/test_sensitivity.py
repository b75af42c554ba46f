"""Sensitivity analysis: the pipeline reproduces known indices, reads the declaration, and a
resumed analysis recomputes nothing finished."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from abm.files.errors import InputError
from abm.model.parameters import BY_NAME
from abm.model.runs import execute
from calibration import sensitivity
from calibration.evaluate import RunStore
from calibration.problem import Space, plausible_range
from calibration.sensitivity import morris_indices, sobol_indices
from calibration.spec import load_sensitivity_spec
from experiments.executors import SerialExecutor

#: Ishigami function (a = 7, b = 0.1) on [-pi, pi]^3: analytic indices (Sobol' & Levitan 1999).
A, B = 7.0, 0.1
VARIANCE = A**2 / 8 + B * math.pi**4 / 5 + B**2 * math.pi**8 / 18 + 0.5
V1 = 0.5 * (1 + B * math.pi**4 / 5) ** 2
V2 = A**2 / 8
V13 = B**2 * math.pi**8 * (1 / 18 - 1 / 50)
S1 = {"x1": V1 / VARIANCE, "x2": V2 / VARIANCE, "x3": 0.0}
ST = {"x1": (V1 + V13) / VARIANCE, "x2": V2 / VARIANCE, "x3": V13 / VARIANCE}


def ishigami(x: np.ndarray) -> pd.DataFrame:
    y = np.sin(x[:, 0]) + A * np.sin(x[:, 1]) ** 2 + B * x[:, 2] ** 4 * np.sin(x[:, 0])
    return pd.DataFrame({"y": y})


ISHIGAMI = Space(("x1", "x2", "x3"), ((-math.pi, math.pi),) * 3)


def test_sobol_reproduces_the_analytic_ishigami_indices():
    table = sobol_indices(ISHIGAMI, ishigami, n=4096, seed=1).set_index("parameter")
    for name in ISHIGAMI.names:
        assert abs(table.loc[name, "S1"] - S1[name]) < 0.02, (name, table.loc[name, "S1"])
        assert abs(table.loc[name, "ST"] - ST[name]) < 0.02, (name, table.loc[name, "ST"])
        assert table.loc[name, "S1_conf"] > 0 and table.loc[name, "ST_conf"] > 0


def test_the_emulated_sobol_indices_agree_with_the_analytic_ones():
    # 150 function points stand in for 128 x 5 = 640: the emulator path must still find
    # x1 and x2 as the main effects and x3 as acting only through its interaction.
    table = sobol_indices(ISHIGAMI, ishigami, n=128, seed=1, method="emulator", design=150,
                          draws=3).set_index("parameter")
    for name in ISHIGAMI.names:
        assert abs(table.loc[name, "ST"] - ST[name]) < 0.1, (name, table.loc[name, "ST"])
        assert abs(table.loc[name, "S1"] - S1[name]) < 0.1, (name, table.loc[name, "S1"])


def test_morris_mu_star_of_a_linear_function_is_its_slope_times_the_range():
    space = Space(("a", "b", "c"), ((0.0, 1.0), (0.0, 2.0), (0.0, 1.0)))

    def linear(x):
        return pd.DataFrame({"y": 3 * x[:, 0] - 2 * x[:, 1]})

    table = morris_indices(space, linear, trajectories=10, seed=3).set_index("parameter")
    assert table.loc["a", "mu_star"] == pytest.approx(3.0)
    assert table.loc["b", "mu_star"] == pytest.approx(4.0)  # |-2| x range 2
    assert table.loc["c", "mu_star"] == pytest.approx(0.0, abs=1e-12)
    assert table["sigma"].max() == pytest.approx(0.0, abs=1e-9)  # no interactions


def test_the_salib_problem_comes_from_the_declaration():
    names = ["uptake_rate", "provider_places", "attendance_effect_eq5d"]
    problem = Space.of(names).salib_problem()
    assert problem["names"] == names
    for name, bounds in zip(names, problem["bounds"], strict=True):
        p = BY_NAME[name]
        assert tuple(bounds) == plausible_range(name) == (p.plausible_low, p.plausible_high)
    with pytest.raises(InputError, match="'n_neighbourhoods' is a setting with no plausible"):
        Space.of(["n_neighbourhoods"])


SMALL = {"n_neighbourhoods": 15, "residents_per_neighbourhood": 30, "burn_in_years": 1}


def small_spec(tmp_path):
    path = tmp_path / "sensitivity.yaml"
    path.write_text(
        "place: bradford\nscenarios: [baseline, sustain]\n"
        "parameters: [uptake_rate, attendance_effect_eq5d]\n"
        f"fixed: {SMALL}\nyears: 1\nseeds: 2\nmaster_seed: 4\n"
        "morris: {trajectories: 2}\n")
    return load_sensitivity_spec(path)


def test_policy_effects_are_paired_differences_against_the_same_seed_status_quo(tmp_path):
    spec = small_spec(tmp_path)
    morris, _ = sensitivity.run_sensitivity(spec, tmp_path / "out", SerialExecutor())
    assert set(morris["outcome"]) >= {"mean_wellbeing", "sustain:wellby_gain_disc",
                                      "sustain:delta_gap_q5_q1"}
    rows = pd.concat([pd.read_parquet(p) for p in (tmp_path / "out/runs").glob("*.parquet")])
    rows["scenario"] = rows["scenario"].str.rsplit("@", n=1).str[0]
    effects = sensitivity.policy_outcomes(rows, "baseline", ["sustain"])
    point = rows[rows.point == 0]
    base = point[point.scenario == "baseline"].set_index("seed")
    run = point[point.scenario == "sustain"].set_index("seed")
    expected = (run["wellbeing_years_disc"] - base["wellbeing_years_disc"]).mean()
    assert effects.loc[0, "sustain:wellby_gain_disc"] == pytest.approx(expected)


def test_a_resumed_sensitivity_analysis_recomputes_nothing_finished(tmp_path, monkeypatch):
    spec = small_spec(tmp_path)
    calls: list[str] = []

    def counting(run_spec, weekly=False):
        if len(calls) == 7:
            raise KeyboardInterrupt  # Ctrl-C in the middle of the analysis
        calls.append(run_spec.run_id)
        return execute(run_spec, weekly)

    monkeypatch.setattr(sensitivity, "execute", counting)
    with pytest.raises(KeyboardInterrupt):
        sensitivity.run_sensitivity(spec, tmp_path / "out", SerialExecutor())
    stored = RunStore(tmp_path / "out").ids()
    assert 0 < len(stored) <= 7  # the task in flight when interrupted is lost, no more
    calls.clear()
    monkeypatch.setattr(sensitivity, "execute", lambda s, w=False: (calls.append(s.run_id),
                                                                     execute(s, w))[1])
    sensitivity.run_sensitivity(spec, tmp_path / "out", SerialExecutor())
    total = 2 * 3 * 2 * 2  # 2 trajectories x (2 + 1) points x 2 scenarios x 2 seeds
    assert not stored & set(calls), "a finished run was computed again"
    assert len(calls) == total - len(stored)
    calls.clear()
    sensitivity.run_sensitivity(spec, tmp_path / "out", SerialExecutor())
    assert calls == []
