"""``abm calibrate``: end to end on a small model, resumable, the same on Ray as serially,
and able to recover parameter values the targets were made with."""

from __future__ import annotations

import shutil
from pathlib import Path

import pandas as pd
import pytest

from abm.model.scenarios import load_scenario
from calibration import outputs
from calibration.calibrate import effective_sample_size, run_calibration
from calibration.evaluate import RunStore
from calibration.recovery import synthetic_targets
from calibration.spec import load_calibration_spec
from experiments.executors import RayExecutor, SerialExecutor

SMALL = "{n_neighbourhoods: 15, residents_per_neighbourhood: 30, burn_in_years: 1}"


def write_spec(folder: Path, extra: str = "", targets: str = "") -> Path:
    path = folder / "spec.yaml"
    path.write_text(
        "places: [bradford]\n"
        "parameters: [uptake_rate, wellbeing_least_deprived]\n"
        "ranges: {uptake_rate: [0.005, 0.04], wellbeing_least_deprived: [7.0, 9.0]}\n"
        f"fixed: {SMALL}\n"
        + (targets or "targets: [mean_life_satisfaction, past_year_participation_q1]\n"
                      "held_out: [past_year_participation_q5]\n")
        + "years: 1.6\nmaster_seed: 5\n"
        "history_matching: {waves: 1, points: 8, seeds: 1, candidates: 1000}\n"
        "abc: {population: 6, generations: 2}\n"
        "draws: 4\n" + extra)
    return path


def test_a_calibration_writes_its_results_and_a_usable_parameter_file(tmp_path):
    spec = load_calibration_spec(write_spec(
        tmp_path, targets="targets: [mean_life_satisfaction, start_participation_qaly]\n"
                          "held_out: [past_year_participation_q5]\n"))
    summary = run_calibration(spec, tmp_path / "out", SerialExecutor())
    out = tmp_path / "out"
    posterior = pd.read_parquet(out / "posterior.parquet")
    assert list(posterior.columns) == ["uptake_rate", "wellbeing_least_deprived"]
    assert len(posterior) == 4
    assert posterior["uptake_rate"].between(0.005, 0.04).all()
    report = pd.read_csv(out / "fit_report.csv")
    assert list(report["target"]) == ["mean_life_satisfaction", "start_participation_qaly",
                                      "past_year_participation_q5"]
    assert list(report["fitted"]) == [True, True, False]
    assert (report["calibrated_lo"] <= report["calibrated_hi"]).all()
    calibrated = load_scenario(out / "calibrated.yaml")  # a valid scenario file
    assert set(calibrated.parameters) == {"uptake_rate", "wellbeing_least_deprived"}
    cal_id = summary["calibration_id"]
    assert all(s.startswith(f"calibrated: {cal_id} (bradford;")
               for s in summary["sources"].values())
    assert (out / "fit.png").stat().st_size > 0


def test_a_resumed_calibration_recomputes_nothing_finished(tmp_path, monkeypatch):
    spec = load_calibration_spec(write_spec(tmp_path))
    real = outputs.simulate
    calls: list[str] = []

    def interrupted(run_spec, weekly=False):
        if len(calls) == 11:  # 8 history-matching runs, then 3 into the ABC
            raise KeyboardInterrupt
        calls.append(run_spec.run_id)
        return real(run_spec, weekly)

    monkeypatch.setattr(outputs, "simulate", interrupted)
    with pytest.raises(KeyboardInterrupt):
        run_calibration(spec, tmp_path / "out", SerialExecutor())
    stored = RunStore(tmp_path / "out").ids()
    assert len(stored) == 11

    calls.clear()
    monkeypatch.setattr(outputs, "simulate",
                        lambda s, w=False: (calls.append(s.run_id), real(s, w))[1])
    run_calibration(spec, tmp_path / "out", SerialExecutor())
    assert calls, "the calibration went on"
    assert not stored & set(calls), "a finished run was computed again"
    assert len(calls) == len(set(calls))

    # the same calibration never interrupted gives the same posterior
    fresh = run_calibration(spec, tmp_path / "fresh", SerialExecutor())
    pd.testing.assert_frame_equal(pd.read_parquet(tmp_path / "out/posterior_particles.parquet"),
                                  pd.read_parquet(tmp_path / "fresh/posterior_particles.parquet"))
    assert fresh["runs_stored"] == len(RunStore(tmp_path / "out").ids())

    calls.clear()
    run_calibration(spec, tmp_path / "out", SerialExecutor())
    assert calls == []


def test_ray_and_serial_calibrations_agree(tmp_path, ray_cluster):
    spec = load_calibration_spec(write_spec(tmp_path))
    run_calibration(spec, tmp_path / "serial", SerialExecutor())
    run_calibration(spec, tmp_path / "ray", RayExecutor(num_cpus=2))
    for name in ("posterior_particles.parquet", "history_matching.parquet"):
        pd.testing.assert_frame_equal(pd.read_parquet(tmp_path / "serial" / name),
                                      pd.read_parquet(tmp_path / "ray" / name))


@pytest.mark.slow
def test_known_parameter_values_are_recovered(tmp_path):
    """Targets made by the model at known values: the identifiable parameters' true values
    lie in their posterior 90% intervals; a parameter no target depends on (the founding
    cost of new providers, unused by the status quo) is reported as not identifiable.
    ABC runs on the emulator, as the shipped specs do (``abc.simulator: model`` is covered
    by the resume and Ray tests above)."""
    truth = {"wellbeing_least_deprived": 8.3, "wellbeing_deprivation_gradient": 1.0,
             "founding_cost_gbp": 12_000.0}
    path = tmp_path / "spec.yaml"
    path.write_text(
        "places: [bradford]\n"
        "parameters: [wellbeing_least_deprived, wellbeing_deprivation_gradient, "
        "founding_cost_gbp]\n"
        "fixed: {n_neighbourhoods: 30, residents_per_neighbourhood: 40, burn_in_years: 1}\n"
        "targets_file: targets.yaml\n"
        "targets: [mean_life_satisfaction, wellbeing_gap_q5_q1]\n"
        "years: 1.6\nmaster_seed: 11\n"
        "history_matching: {waves: 2, points: 16, seeds: 2, candidates: 4000}\n"
        "abc: {population: 200, generations: 4, simulator: emulator}\ndraws: 4\n")
    shutil.copy(outputs.__file__.replace("outputs.py", "targets.yaml"), tmp_path / "targets.yaml")
    executor = SerialExecutor()
    synthetic_targets(load_calibration_spec(path), truth, 6, tmp_path / "targets.yaml",
                      RunStore(tmp_path / "truth"), executor)
    spec = load_calibration_spec(path)
    run_calibration(spec, tmp_path / "out", executor)
    table = pd.read_csv(tmp_path / "out/parameters.csv").set_index("parameter")
    for name in ("wellbeing_least_deprived", "wellbeing_deprivation_gradient"):
        row = table.loc[name]
        assert row.lo_90 <= truth[name] <= row.hi_90, (name, row.to_dict())
        assert row.identifiable, (name, row.to_dict())
    assert not table.loc["founding_cost_gbp", "identifiable"]


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
