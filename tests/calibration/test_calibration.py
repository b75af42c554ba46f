"""``abm calibrate``: end to end on a small model, with its checks and its bounds."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from abm.model.scenarios import load_scenario
from calibration.calibrate import run_calibration
from calibration.evaluate import RunStore
from calibration.posterior import effective_sample_size
from calibration.spec import load_calibration_spec
from experiments.executors import SerialExecutor

SMALL = "{n_neighbourhoods: 15, residents_per_neighbourhood: 30, burn_in_years: 1}"


def write_spec(folder: Path, extra: str = "", targets: str = "",
               abc: str = "{population: 6, generations: 2}",
               hm: str = "{waves: 1, points: 8, seeds: 1, candidates: 1000}",
               checks: str = "{ppc_seeds: 2, coverage_truths: 2, validation_folds: 4}",
               name: str = "spec.yaml") -> Path:
    path = folder / name
    path.write_text(
        "places: [bradford]\n"
        "parameters: [uptake_rate, wellbeing_least_deprived]\n"
        "ranges: {uptake_rate: [0.005, 0.04], wellbeing_least_deprived: [7.0, 9.0]}\n"
        f"fixed: {SMALL}\n"
        + (targets or "targets: [mean_life_satisfaction, past_year_participation_q1]\n"
                      "held_out: [past_year_participation_q5]\n")
        + f"years: 1.6\nmaster_seed: 5\nhistory_matching: {hm}\nabc: {abc}\n"
        f"draws: 4\nchecks: {checks}\n" + extra)
    return path


def test_a_calibration_writes_its_results_checks_and_a_usable_parameter_file(tmp_path):
    spec = load_calibration_spec(write_spec(
        tmp_path, targets="targets: [mean_life_satisfaction, start_participation_qaly]\n"
                          "held_out: [past_year_participation_q5]\n",
        abc="{population: 40, generations: 1, initial_epsilon: 2.0, simulator: emulator}"))
    summary = run_calibration(spec, tmp_path / "out", SerialExecutor())
    out = tmp_path / "out"
    posterior = pd.read_parquet(out / "posterior.parquet")
    assert list(posterior.columns) == ["uptake_rate", "wellbeing_least_deprived"]
    assert len(posterior) == 4
    assert posterior["uptake_rate"].between(0.005, 0.04).all()
    # the posterior predictive check: every target, draws x seeds runs on the model
    report = pd.read_csv(out / "fit_report.csv")
    assert list(report["target"]) == ["mean_life_satisfaction", "start_participation_qaly",
                                      "past_year_participation_q5"]
    assert list(report["fitted"]) == [True, True, False]
    assert (report["runs"] == 4 * 2).all(), "4 draws x 2 seeds"
    assert (report["calibrated_lo"] <= report["calibrated_hi"]).all()
    assert report["share_within_2sd"].between(0, 1).all()
    # the emulator's leave-out validation and the coverage over synthetic truths
    validation = pd.read_csv(out / "emulator_validation.csv")
    assert list(validation["output"]) == ["bradford:mean_life_satisfaction",
                                          "bradford:start_participation_qaly"]
    assert (validation["points"] == 8).all() and validation["coverage_90"].between(0, 1).all()
    coverage = pd.read_csv(out / "coverage.csv")
    assert len(coverage) == 2 * 2 and coverage["inside_90"].isin([True, False]).all()
    assert set(summary["checks"]) == {"ppc", "identifiability", "emulator", "coverage"}
    # per parameter: prior and posterior intervals and how far the data moved it
    table = pd.read_csv(out / "parameters.csv").set_index("parameter")
    assert table.loc["uptake_rate", "prior_median"] == pytest.approx(0.0225)
    assert table.loc["uptake_rate", "prior_lo_90"] == pytest.approx(0.005 + 0.05 * 0.035)
    assert ((table.width_ratio > 0) & (table.width_ratio <= 1.2)).all()
    # and how far any calibration could narrow it with these targets (from the design)
    bound = pd.read_csv(out / "identifiability.csv").set_index("parameter")
    assert list(bound.index) == ["uptake_rate", "wellbeing_least_deprived"]
    assert bound["best_width_ratio"].between(0, 1).all()
    assert set(summary["checks"]) >= {"identifiability"}
    calibrated = load_scenario(out / "calibrated.yaml")  # a valid scenario file
    assert set(calibrated.parameters) == {"uptake_rate", "wellbeing_least_deprived"}
    cal_id = summary["calibration_id"]
    assert all(s.startswith(f"calibrated: {cal_id} (bradford;")
               for s in summary["sources"].values())
    assert summary["bounds"] == {"uptake_rate": [0.005, 0.04],
                                 "wellbeing_least_deprived": [7.0, 9.0]}
    assert summary["abc_stop"].startswith("ABC stopped after all 1 generation(s) asked")
    assert (out / "fit.png").stat().st_size > 0


def test_the_checks_are_printed_by_abm_calibrate(tmp_path, capsys):
    """Run again into its folder, a finished calibration recomputes nothing and prints the
    stopping rule and its checks."""
    from abm.cli import main

    path = write_spec(tmp_path, abc="{population: 20, generations: 1, simulator: emulator}",
                      checks="{ppc_seeds: 1, coverage_truths: 0}")
    assert main(["calibrate", str(path), "--out", str(tmp_path / "out"), "--serial"]) == 0
    stored = len(RunStore(tmp_path / "out").ids())
    capsys.readouterr()
    assert main(["calibrate", str(path), "--out", str(tmp_path / "out"), "--serial"]) == 0
    printed = capsys.readouterr().out
    assert len(RunStore(tmp_path / "out").ids()) == stored
    assert "ABC stopped after all 1 generation(s) asked (abc.generations)" in printed
    assert "posterior predictive check on the model (4 runs per target and place" in printed
    assert "emulator leave-out validation (2 outputs, homoscedastic noise" in printed
    assert "what these targets could tell, however many runs" in printed
    assert "  uptake_rate: best width " in printed
    assert "; at the posterior median, " in printed


def test_a_damaged_stored_run_is_reported_and_run_again(tmp_path, capsys):
    """The run store's part files carry the runner's checksum: a flipped byte makes the part
    untrusted, so its runs count as missing (and are run again), with a warning naming it."""
    store = RunStore(tmp_path)
    store.add([{"run_id": "a", "x": 1.0}, {"run_id": "b", "x": 2.0}])
    assert RunStore(tmp_path).ids() == {"a", "b"}
    (part,) = (tmp_path / "runs").glob("part-*.parquet")
    data = bytearray(part.read_bytes())
    data[len(data) // 2] ^= 0xFF
    part.write_bytes(bytes(data))
    assert RunStore(tmp_path).ids() == set()
    assert part.name in capsys.readouterr().err


def test_stored_seeds_stay_whole_numbers(tmp_path):
    # The case: 7829437886636254564 came back as 7.829437886636254e+18, because the
    # first rows were added to an empty store.
    store = RunStore(tmp_path)
    store.add([{"run_id": "a", "seed": 7829437886636254564}])
    assert store.rows()["seed"].dtype == "int64"
    assert store.get(["a"])["seed"].item() == 7829437886636254564
    assert RunStore(tmp_path).rows()["seed"].item() == 7829437886636254564


def test_effective_sample_size_counts_equally_weighted_draws():
    # Kish: 1 / sum(w^2) of normalised weights. Four equal weights are worth four draws;
    # weights (0.7, 0.1, 0.1, 0.1) are worth 1 / (0.49 + 0.03) = 1.923 draws.
    assert effective_sample_size(pd.Series([2.0, 2.0, 2.0, 2.0])) == pytest.approx(4.0)
    assert effective_sample_size(pd.Series([7.0, 1.0, 1.0, 1.0])) == pytest.approx(1 / 0.52)


@pytest.mark.parametrize("command", [
    ["calibrate", "calibration/specs/quick/devon_ics.yaml"],
    ["sensitivity", "calibration/specs/quick/sensitivity.yaml"],
    ["diagnose", "--place", "bradford"],
])
def test_a_folder_in_use_is_refused_before_any_work(tmp_path, capsys, command):
    # Two calibrations into one folder at once would mix their outputs: the folder is locked
    # as a sweep's is, and the second command stops in one line naming the holder.
    from abm.cli import main
    from experiments.lock import FolderLock

    root = Path(__file__).resolve().parents[2]
    command = [str(root / c) if c.endswith(".yaml") else c for c in command]
    with FolderLock(tmp_path / "out"):
        code = main([*command, "--out", str(tmp_path / "out"), "--serial"])
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2 and len(err) == 1 and "in use" in err[0], err
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == [".lock"]


def test_an_unreachable_epsilon_stops_in_one_line_naming_the_field(tmp_path, capsys):
    """The issue's hang: abc.initial_epsilon at its allowed minimum ran forever. Now the
    first generation gives up after population / min_acceptance_rate proposals."""
    from abm.cli import main

    path = write_spec(tmp_path, hm="{waves: 1, points: 6, seeds: 1, candidates: 500}",
                      abc="{population: 10, generations: 2, initial_epsilon: 0.01, "
                          "min_acceptance_rate: 0.05, simulator: emulator}")
    assert main(["calibrate", str(path), "--out", str(tmp_path / "out"), "--serial"]) == 2
    errors = [line for line in capsys.readouterr().err.splitlines()
              if line.startswith("abm: error:")]
    assert len(errors) == 1, errors
    assert (f"{path}: ABC stopped during generation 1: it would accept fewer than "
            "abc.min_acceptance_rate = 0.05 of its proposals (") in errors[0]
    assert "in 200 proposals); no generation was completed, so there is no posterior: raise " \
           "'abc.initial_epsilon'" in errors[0]


def test_the_simulation_budget_stops_abc_and_says_so(tmp_path):
    path = write_spec(tmp_path, hm="{waves: 1, points: 6, seeds: 1, candidates: 500}",
                      abc="{population: 10, generations: 6, max_simulations: 40, "
                          "simulator: emulator}",
                      checks="{ppc_seeds: 1, coverage_truths: 0}")
    summary = run_calibration(load_calibration_spec(path), tmp_path / "out", SerialExecutor())
    generations = pd.read_csv(tmp_path / "out/abc_generations.csv")
    assert generations["samples"].sum() <= 40 and len(generations) < 6
    assert "abc.max_simulations = 40" in summary["abc_stop"], summary["abc_stop"]
    assert summary["abc_stop"].startswith("ABC stopped ")
