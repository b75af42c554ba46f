"""The posterior by the targets' Gaussian likelihood on an emulator (``abc.kernel: gaussian``,
calibration.likelihood), on emulators whose exact posterior is known, and end to end."""

from __future__ import annotations

import re
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest

from abm.files.errors import InputError
from calibration.calibrate import run_calibration
from calibration.likelihood import gaussian_posterior, log_likelihood
from calibration.posterior import parameter_table, weighted_quantiles
from calibration.problem import Space
from calibration.spec import load_calibration_spec
from experiments.executors import SerialExecutor
from tests.calibration.test_calibration import write_spec

SPACE = Space.of(["uptake_rate", "wellbeing_least_deprived"],
                 {"uptake_rate": [0.0, 0.05], "wellbeing_least_deprived": [7.0, 9.0]})


class LinearEmulator:
    """Outputs straight lines in the unit parameters, with a fixed emulator SD and run noise:
    ``a`` = 10 x the first unit parameter; ``b`` = 0 whatever the point (sees neither), or,
    with ``far_below``, 100 where the second unit parameter is below it (about 100 target SDs
    away: a cut of 50 rules those points out, and no point by ``a``, at most 16 SDs away)."""

    def __init__(self, sd: float = 0.0, noise: float = 0.0, far_below: float = 0.0):
        self.sd, self.noise, self.far_below = sd, noise, far_below

    def predict(self, unit):
        far = np.where(unit[:, 1] < self.far_below, 100.0, 0.0)
        mean = np.column_stack([10.0 * unit[:, 0], far])
        return mean, np.full(mean.shape, self.sd)

    def noise_sd(self, unit):
        return np.full((len(unit), 2), self.noise)


def spec(candidates: int = 20_000, population: int = 2_000, seed: int = 3, steps: int = 5_000):
    return SimpleNamespace(space=SPACE, fixed={}, master_seed=seed, path=Path("toy.yaml"),
                           abc={"candidates": candidates, "population": population,
                                "steps": steps})


#: History matching's cut that rules nothing out.
NO_CUT = np.inf


def test_the_posterior_is_the_exact_one_of_a_linear_gaussian_output():
    """a = 10 u, target 5 with SD 0.3, emulator SD 0.3 and noise 0.2 besides: the posterior
    of u is normal with mean 0.5 and SD sqrt(0.3^2 + 0.3^2 + 0.2^2) / 10 (well inside the
    box, so the uniform prior does not cut it); the unseen parameter keeps its prior."""
    z, sd = np.array([5.0, 0.0]), np.array([0.3, 1.0])
    particles, record = gaussian_posterior(spec(), LinearEmulator(0.3, 0.2), z, sd, NO_CUT)
    total_sd = np.sqrt(0.3**2 + 0.3**2 + 0.2**2) / 10 * 0.05  # in uptake_rate's units
    w = particles["weight"].to_numpy()
    lo, mid, hi = weighted_quantiles(particles["uptake_rate"].to_numpy(), w, [0.05, 0.5, 0.95])
    assert mid == pytest.approx(0.025, abs=0.15 * total_sd)
    assert (hi - lo) == pytest.approx(2 * 1.6449 * total_sd, rel=0.12)
    seen = parameter_table(SimpleNamespace(space=SPACE), particles).set_index("parameter")
    assert seen.loc["wellbeing_least_deprived", "width_ratio"] == pytest.approx(1.0, abs=0.12)
    assert w.sum() == pytest.approx(1.0) and len(particles) == 2_000
    assert record["reason"] == "likelihood" and record["not_ruled_out"] == 20_000
    assert record["walkers"] == 32 and 0.2 < record["acceptance"] < 0.9
    assert record["effective_sample_size"] > 500
    assert "autocorrelation time" in record["line"] and "warning" not in record["line"]


def test_the_likelihood_adds_the_variances_and_penalises_their_size():
    unit = np.array([[0.5, 0.5], [0.6, 0.5]])
    z, sd = np.array([5.0, 0.0]), np.array([0.3, 1.0])
    exact = log_likelihood(LinearEmulator(), unit, z, sd)
    # at the target: only the log-variance terms; one unit of a away: -(1 / 0.09) / 2 more
    assert exact[0] == pytest.approx(-0.5 * (np.log(0.09) + np.log(1.0)))
    assert exact[0] - exact[1] == pytest.approx(0.5 / 0.09)
    wider = log_likelihood(LinearEmulator(0.4), unit, z, sd)
    assert wider[0] - wider[1] == pytest.approx(0.5 / (0.09 + 0.16))


def test_the_same_spec_gives_the_same_particles_and_ruled_out_points_get_none():
    z, sd = np.array([5.0, 0.0]), np.array([0.3, 1.0])
    emulator = LinearEmulator(0.1)
    first, _ = gaussian_posterior(spec(5_000, 500, steps=300), emulator, z, sd, NO_CUT)
    again, _ = gaussian_posterior(spec(5_000, 500, steps=300), emulator, z, sd, NO_CUT)
    pd.testing.assert_frame_equal(first, again, check_exact=True)
    other, _ = gaussian_posterior(spec(5_000, 500, seed=4, steps=300), emulator, z, sd,
                                  NO_CUT)
    assert not first.equals(other)

    left_half_out = LinearEmulator(0.1, far_below=0.5)
    kept, record = gaussian_posterior(spec(5_000, 500, steps=300), left_half_out, z, sd, 50.0)
    assert kept["wellbeing_least_deprived"].min() >= 8.0, "no step into a ruled-out point"
    assert record["not_ruled_out"] == pytest.approx(2_500, rel=0.1)
    _, none = gaussian_posterior(spec(5_000, 500, steps=300), emulator, z, sd, 0.0)
    assert none["reason"] == "ruled out" and "no posterior" in none["line"]


def test_a_chain_too_short_for_its_autocorrelation_says_so():
    z, sd = np.array([5.0, 0.0]), np.array([0.3, 1.0])
    _, record = gaussian_posterior(spec(2_000, 100, steps=100), LinearEmulator(), z, sd,
                                   NO_CUT)
    assert "warning: the chain kept is shorter than 50 autocorrelation times; raise " \
        "abc.steps" in record["line"]


def test_the_spec_refuses_a_gaussian_kernel_without_an_emulator(tmp_path):
    path = write_spec(tmp_path, abc="{population: 10, simulator: model, kernel: gaussian}")
    with pytest.raises(InputError, match=re.escape("'abc.kernel' = 'gaussian' needs "
                                                   "'abc.simulator' = 'emulator'")):
        load_calibration_spec(path)
    path = write_spec(tmp_path, abc="{population: 10, simulator: emulator, kernel: box}")
    with pytest.raises(InputError, match=re.escape("'abc.kernel' = 'box': allowed are "
                                                   "threshold, gaussian")):
        load_calibration_spec(path)


def test_a_calibration_with_the_gaussian_kernel_end_to_end(tmp_path):
    """On the real model: the posterior, its record and the summary's effective sample size
    (the importance weights', not the particles'); rerun in the same folder, the same
    particles."""
    spec_path = write_spec(
        tmp_path, abc="{population: 200, simulator: emulator, kernel: gaussian, "
                      "candidates: 5000, steps: 400}",
        checks="{ppc_seeds: 1, coverage_truths: 1, validation_folds: 4}")
    summary = run_calibration(load_calibration_spec(spec_path), tmp_path / "out",
                              SerialExecutor())
    out = tmp_path / "out"
    assert summary["abc_stop"].startswith("posterior by the targets' Gaussian likelihood")
    assert summary["effective_sample_size"] > 50, "independent draws in the chain kept"
    particles = pd.read_parquet(out / "posterior_particles.parquet")
    assert particles["weight"].sum() == pytest.approx(1.0)
    assert particles["uptake_rate"].between(0.005, 0.04).all()
    assert not (out / "abc_generations.csv").exists() and (out / "abc_stop.json").is_file()
    # the coverage check computes each synthetic truth's posterior the calibration's way
    coverage = pd.read_csv(out / "coverage.csv")
    assert len(coverage) == 2 and coverage["lo_90"].le(coverage["hi_90"]).all()
    again = run_calibration(load_calibration_spec(spec_path), out, SerialExecutor())
    assert again["abc_stop"] == summary["abc_stop"]
    pd.testing.assert_frame_equal(pd.read_parquet(out / "posterior_particles.parquet"),
                                  particles, check_exact=True)


def test_the_coverage_check_uses_the_calibrations_own_posterior_when_given(tmp_path):
    """checks.coverage with ``posterior_for``: each truth's interval is that posterior's."""
    from calibration import checks
    from calibration.calibrate import Simulator
    from calibration.emulator import Emulator
    from calibration.evaluate import RunStore

    spec = load_calibration_spec(write_spec(
        tmp_path, abc="{population: 50, simulator: emulator, kernel: gaussian}",
        checks="{ppc_seeds: 1, coverage_truths: 2, validation_folds: 4}"))
    rng = np.random.default_rng(0)
    unit = rng.random((8, 2))
    emulator = Emulator(unit, rng.random((8, 1, 2)), seed=1)
    particles = pd.DataFrame({"uptake_rate": [0.01, 0.02], "wellbeing_least_deprived": [7.5, 8.5],
                              "weight": [0.5, 0.5]})
    asked = []

    def posterior_for(targets, k):
        asked.append((k, len(targets)))
        return pd.DataFrame({"uptake_rate": np.linspace(0.0, 0.04, 101),
                             "wellbeing_least_deprived": np.linspace(7.0, 9.0, 101),
                             "weight": np.full(101, 1 / 101)})

    table = checks.coverage(spec, Simulator(spec), emulator, particles, RunStore(tmp_path / "r"),
                            SerialExecutor(), posterior_for)
    assert asked == [(0, 2), (1, 2)], "each truth's own outputs, one target per place"
    wide = table[table.parameter == "uptake_rate"]
    assert wide["lo_90"].to_numpy() == pytest.approx([0.002, 0.002], abs=1e-3)
    assert wide["hi_90"].to_numpy() == pytest.approx([0.038, 0.038], abs=1e-3)
