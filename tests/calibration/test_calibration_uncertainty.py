"""Uncertainty in the answers (posterior draws x seeds) and the pattern verdicts."""

from __future__ import annotations

import hashlib
import json
import shutil

import pandas as pd
import pytest

from abm.analysis.compare import compare
from abm.cli import main
from calibration.patterns import PATTERNS, run_patterns
from calibration.uncertainty import (
    paired_effects,
    read_draws,
    run_uncertainty,
    standard_error,
    uncertainty_table,
)
from experiments.executors import SerialExecutor
from experiments.spec import load_sweep

SMALL = "{n_neighbourhoods: 15, residents_per_neighbourhood: 30, burn_in_years: 1}"


def draws_file(tmp_path, values, particles=None):
    """A calibration's posterior: the draws, calibration.json beside them (and particles)."""
    (tmp_path / "calibration.json").write_text(json.dumps(
        {"calibration_id": "cal-test", "parameters": ["uptake_rate"],
         "bounds": {"uptake_rate": [0.005, 0.04]}}))
    if particles is not None:
        pd.DataFrame(particles).to_parquet(tmp_path / "posterior_particles.parquet")
    path = tmp_path / "posterior.parquet"
    pd.DataFrame({"uptake_rate": values}).to_parquet(path)
    return path


def test_probabilities_and_intervals_come_from_the_draws(tmp_path):
    sweep_path = tmp_path / "sweep.yaml"
    sweep_path.write_text("scenarios: [baseline, sustain]\nplaces: [bradford]\nseeds: 2\n"
                          f"master_seed: 3\nyears: 1\nparameters: {SMALL}\n")
    sweep = load_sweep(sweep_path)
    posterior = draws_file(tmp_path, [0.005, 0.015, 0.04])
    draws = read_draws(posterior)
    table, text = run_uncertainty(sweep, draws, tmp_path / "out", SerialExecutor(), posterior)
    row = table.iloc[0]
    assert (row.scenario, row.place, row.draws, row.seeds) == ("sustain", "bradford", 3, 2)
    effects = pd.read_csv(tmp_path / "out/effects.csv")
    per_draw = effects.groupby("draw")["wellby_gain_disc"].mean()
    assert row.p_gains_wellbys == pytest.approx((per_draw > 0).mean())
    k = int((per_draw > 0).sum())  # the Monte Carlo standard error of a share of 3 draws
    assert row.p_gains_wellbys_se == pytest.approx(((k + 1) / 5 * (1 - (k + 1) / 5) / 3) ** 0.5)
    assert row.wellby_gain_disc_lo <= row.wellby_gain_disc <= row.wellby_gain_disc_hi
    assert "P(gains)" in text and "sustain" in text and "(s.e. " in text
    # seeds are written as whole numbers: the 7.829437886636254e+18
    assert effects["seed"].dtype == "int64" and effects["draw"].dtype == "int64"
    assert sorted(set(effects["seed"])) == sorted(sweep.seed_values())
    # a manifest that cites every output by its checksum
    manifest = json.loads((tmp_path / "out/manifest.json").read_text())
    assert manifest["status"] == "complete" and manifest["kind"] == "uncertainty"
    assert (manifest["draws"], manifest["seeds"], manifest["runs"]) == (3, 2, 12)
    assert manifest["posterior"]["calibration_id"] == "cal-test"
    for name in ("effects.csv", "uncertainty_table.csv", "uncertainty_table.txt"):
        digest = hashlib.sha256((tmp_path / "out" / name).read_bytes()).hexdigest()
        assert manifest["files"][name] == digest, name
    assert manifest["files"]["parts"]
    # each effect is the same-draw, same-seed difference
    runs = pd.concat(pd.read_parquet(p) for p in (tmp_path / "out/runs").glob("*.parquet"))
    one = runs[(runs.point == 1) & (runs.seed == runs.seed.min())].set_index("scenario")
    expected = compare(one.loc["sustain"], one.loc["baseline"])["wellby_gain"]
    got = effects[(effects.draw == 1) & (effects.seed == runs.seed.min())]["wellby_gain"]
    assert got.item() == pytest.approx(expected)


def test_a_draw_that_decides_the_sign_moves_the_probability():
    effects = pd.DataFrame({"scenario": "s", "place": "p", "draw": [0, 0, 1, 1, 2, 2],
                            "seed": [1, 2, 1, 2, 1, 2],
                            "wellby_gain_disc": [5.0, 7.0, -1.0, -3.0, 2.0, 1.0],
                            "wellby_gain": 0.0, "extra_spend_gbp_disc": 0.0,
                            "delta_gap_q5_q1": [-0.1, -0.1, -0.1, -0.1, 0.2, 0.1],
                            "delta_sii": 0.0, "net_benefit_gbp": 0.0})
    row = uncertainty_table(effects).iloc[0]
    assert row.p_gains_wellbys == pytest.approx(2 / 3)
    assert row.p_narrows_gap == pytest.approx(2 / 3)


def test_paired_effects_refuse_nothing_and_pair_by_draw_and_seed():
    base = {"scenario": "baseline", "place": "p", "wellby_value_gbp": 13000.0}
    row = {"mean_wellbeing": 7.0, "gap_q5_q1": 0.5, "sii": 0.6, "p_attending_q1": 0.1,
           "p_past_year_q1": 0.3}
    for d in ("", "_disc"):
        row |= {f"wellbeing_years{d}{s}": 100.0 for s in ["", "_q1", "_q2", "_q3", "_q4", "_q5"]}
        row |= {f"spend_gbp{d}{s}": 10.0 for s in ["", "_q1", "_q2", "_q3", "_q4", "_q5"]}
    rows = pd.DataFrame([
        {**base, **row, "point": 0, "seed": 1},
        {**base, **row, "point": 1, "seed": 1, "wellbeing_years": 90.0},
        {**base, **row, "scenario": "x", "point": 0, "seed": 1, "wellbeing_years": 110.0},
        {**base, **row, "scenario": "x", "point": 1, "seed": 1, "wellbeing_years": 110.0},
    ])
    effects = paired_effects(rows, "baseline").set_index("draw")
    assert effects.loc[0, "wellby_gain"] == 10.0 and effects.loc[1, "wellby_gain"] == 20.0


def test_a_bad_posterior_file_is_refused(tmp_path, capsys):
    path = draws_file(tmp_path, [0.01])
    pd.DataFrame({"uptake_rat": [0.01]}).to_parquet(path)
    assert main(["uncertainty", "experiments/main.yaml", "--posterior", str(path),
                 "--out", str(tmp_path / "out")]) == 2
    assert "extra: uptake_rat; missing: uptake_rate" in capsys.readouterr().err
    assert not (tmp_path / "out").exists()


def test_more_draws_than_the_file_holds_come_from_the_particles(tmp_path):
    posterior = draws_file(tmp_path, [0.01, 0.02],
                           particles={"uptake_rate": [0.006, 0.03, 0.039],
                                      "weight": [0.0, 1.0, 3.0]})
    assert list(read_draws(posterior, 2)["uptake_rate"]) == [0.01, 0.02]
    many = read_draws(posterior, 400)
    assert list(many.columns) == ["uptake_rate"] and len(many) == 400
    shares = many["uptake_rate"].value_counts(normalize=True)
    assert 0.006 not in shares.index, "a particle of weight 0 is never drawn"
    assert shares[0.039] == pytest.approx(0.75, abs=0.07)  # weight 3 of 4
    assert read_draws(posterior, 400).equals(many), "drawn with a fixed seed"
    # the same calibration in another folder (a clone elsewhere, a cluster's working
    # directory) resamples the same draws: the seed comes from the particles, not the path
    elsewhere = tmp_path / "another" / "checkout"
    elsewhere.mkdir(parents=True)
    for name in ("posterior.parquet", "posterior_particles.parquet", "calibration.json"):
        shutil.copy(tmp_path / name, elsewhere / name)
    assert read_draws(elsewhere / "posterior.parquet", 400).equals(many)


def test_mc_standard_errors_follow_the_number_of_draws():
    # sqrt(p (1 - p) / n) with p = (k + 1) / (n + 2): 30 of 50 draws -> p = 31/52
    assert standard_error(30, 50) == pytest.approx((31 / 52 * 21 / 52 / 50) ** 0.5)
    assert standard_error(50, 50) > 0, "all of 50 is not certainty"
    assert standard_error(6, 12) > 2 * standard_error(60, 120) * 0.99


def test_the_pattern_table_has_a_verdict_for_each_pattern_and_place(tmp_path):
    draws = pd.DataFrame({"uptake_rate": [0.01, 0.02]})
    fixed = {"n_neighbourhoods": 15, "residents_per_neighbourhood": 30, "burn_in_years": 1}
    table = run_patterns(["bradford", "london"], draws, 1.6, 0, fixed, tmp_path / "out",
                         SerialExecutor())
    assert len(table) == len(PATTERNS) * 2
    assert set(table["verdict"]) <= {"holds", "mixed", "fails", "not measurable"}
    measured = table[table.verdict != "not measurable"]
    assert (measured["lo"] <= measured["mean"]).all() and (measured["mean"] <= measured["hi"]).all()
    assert (tmp_path / "out/patterns.csv").exists()


def test_more_draws_into_the_same_folder_reuse_the_runs_made(tmp_path, monkeypatch):
    from abm.model import runs as model_runs
    from calibration import uncertainty

    sweep_path = tmp_path / "sweep.yaml"
    sweep_path.write_text("scenarios: [baseline, sustain]\nplaces: [bradford]\nseeds: 1\n"
                          f"master_seed: 3\nyears: 1\nparameters: {SMALL}\n")
    sweep = load_sweep(sweep_path)
    posterior = draws_file(tmp_path, [0.005, 0.015, 0.04])
    run_uncertainty(sweep, read_draws(posterior, 2), tmp_path / "out", SerialExecutor(),
                    posterior)
    calls = []
    real = model_runs.execute
    monkeypatch.setattr(uncertainty, "execute",
                        lambda s, w=False: (calls.append(s.point), real(s, w))[1])
    table, _ = run_uncertainty(sweep, read_draws(posterior, 3), tmp_path / "out",
                               SerialExecutor(), posterior)
    assert calls == [2, 2], "only the new draw's two runs"
    assert table.iloc[0].draws == 3
