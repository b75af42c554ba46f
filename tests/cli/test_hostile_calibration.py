"""Hostile inputs to the calibration commands (calibrate, recovery, sensitivity, uncertainty,
patterns, robustness, diagnose, targets): each is refused with exit code 2 and one line naming
the file or option and what is allowed, writes nothing, and takes little time. The harness
is the one of ``test_hostile_inputs.py``.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pandas as pd
import pytest

from tests.cli.test_hostile_inputs import Case, assert_refused_writing_nothing

ROOT = Path(__file__).resolve().parents[2]
QUICK = ROOT / "calibration" / "specs" / "quick"
SMALL = "{n_neighbourhoods: 15, residents_per_neighbourhood: 30, burn_in_years: 1}"
SPEC = ("places: [bradford]\nparameters: [uptake_rate]\n"
        f"fixed: {SMALL}\ntargets: [mean_life_satisfaction]\nyears: 1.6\n")
SWEEP = (f"scenarios: [baseline, sustain]\nplaces: [bradford]\nseeds: 2\nyears: 1\n"
         f"parameters: {SMALL}\n")
TARGET = ("targets:\n  t:\n    value: 7.4\n    sampling_sd: {sd}\n    discrepancy_sd: 0\n"
          "    output: mean_wellbeing\n    places: all\n    source: a survey\n")


def write(folder: Path, name: str, content: str) -> str:
    path = folder / name
    path.write_text(content, encoding="utf-8")
    return str(path)


def out(folder: Path) -> str:
    return str(folder.parent / "out")


def calibrate(content: str, *options: str, targets: str | None = None):
    def make(folder: Path) -> list[str]:
        if targets is not None:
            write(folder, "targets.yaml", targets)
        return ["calibrate", write(folder, "spec.yaml", content), "--out", out(folder),
                "--serial", *options]
    return make


def quick(command: str, spec: str, *options: str):
    return lambda f: [command, str(QUICK / spec), "--out", out(f), *options]


def posterior(frame: dict | None = None, summary: dict | None = None, raw: bytes | None = None,
              *options: str, command: str = "uncertainty"):
    """A posterior file beside a calibration.json (uptake_rate calibrated over its plausible
    range unless ``summary`` says otherwise)."""
    def make(folder: Path) -> list[str]:
        cal = folder / "cal"
        cal.mkdir()
        if summary is not False:
            (cal / "calibration.json").write_text(json.dumps(
                summary or {"calibration_id": "cal-x", "parameters": ["uptake_rate"],
                            "bounds": {"uptake_rate": [0.005, 0.04]}}))
        path = cal / "posterior.parquet"
        if raw is not None:
            path.write_bytes(raw)
        elif frame is not None:
            pd.DataFrame(frame).to_parquet(path)
        if command == "patterns":
            return ["patterns", "--posterior", str(path), "--place", "bradford", "--draws", "1",
                    "--out", out(folder), *options]
        return ["uncertainty", write(folder, "sweep.yaml", SWEEP), "--posterior", str(path),
                "--draws", "1", "--out", out(folder), *options]
    return make


def posterior_folder(folder: Path) -> list[str]:
    cal = folder / "cal"
    (cal / "posterior.parquet").mkdir(parents=True)
    (cal / "calibration.json").write_text(json.dumps({"parameters": ["uptake_rate"]}))
    return ["uncertainty", write(folder, "sweep.yaml", SWEEP), "--posterior",
            str(cal / "posterior.parquet"), "--out", out(folder)]


def posterior_fifo(folder: Path) -> list[str]:
    cal = folder / "cal"
    cal.mkdir()
    (cal / "calibration.json").write_text(json.dumps({"parameters": ["uptake_rate"]}))
    os.mkfifo(cal / "posterior.parquet")
    return ["uncertainty", write(folder, "sweep.yaml", SWEEP), "--posterior",
            str(cal / "posterior.parquet"), "--out", out(folder)]


def used_folder(record: str | None, stray: bool = False):
    """A calibration into a folder that holds another analysis, no record, or a damaged one."""
    def make(folder: Path) -> list[str]:
        target = folder / "results"
        target.mkdir()
        if record is not None:
            (target / "analysis.json").write_text(record)
        if stray:
            (target / "notes.txt").write_text("x")
        return ["calibrate", write(folder, "spec.yaml", SPEC), "--out", str(target), "--serial"]
    return make


RECOVERY = ("calibration: spec.yaml\npinned: [uptake_rate]\n"
            "truths:\n  - {name: a, values: {uptake_rat: 0.01}}\n")


def recovery(folder: Path) -> list[str]:
    write(folder, "spec.yaml", SPEC)
    return ["recovery", write(folder, "recovery.yaml", RECOVERY), "--out", out(folder)]


CASES = [
    # --- SDs whose squares underflow (or overflow): ABC could never accept a particle ------
    Case("target_sd_1e_300",
         lambda f: ["targets", write(f, "t.yaml", TARGET.format(sd="1.0e-300"))],
         ("t.yaml:4: target 't': 'sampling_sd' = 1e-300: allowed is 0 or a number from "
          "1.5e-154 to 1e+150",)),
    Case("target_sd_1e_200_in_a_spec",
         calibrate(SPEC + "targets_file: targets.yaml\n", targets=TARGET.format(sd="1.0e-200")),
         ("targets.yaml:4: target 't'", "'sampling_sd' = 1e-200", "must neither underflow")),
    Case("target_sd_overflows",
         lambda f: ["targets", write(f, "t.yaml", TARGET.format(sd="1.0e+200"))],
         ("'sampling_sd' = 1e+200: allowed is 0 or a number",)),
    # --- the stopping rule and run counts ---------------------------------------------------
    Case("abc_max_simulations_below_population",
         calibrate(SPEC + "abc: {population: 50, max_simulations: 10}\n"),
         ("'abc.max_simulations' = 10: allowed is at least abc.population (50)",)),
    Case("abc_min_acceptance_rate_zero", calibrate(SPEC + "abc: {min_acceptance_rate: 0}\n"),
         ("'abc.min_acceptance_rate' = 0: allowed is a number from 0.0001 to 1",)),
    Case("abc_max_minutes_negative", calibrate(SPEC + "abc: {max_minutes: -1}\n"),
         ("'abc.max_minutes' = -1: allowed is a number from 0.1 to 10080",)),
    Case("hm_100000_points_x_1000_seeds",
         calibrate(SPEC + "history_matching: {points: 100000, seeds: 1000}\n"),
         ("this calibration would make up to 200,010,054 runs (200,000,000 history-matching "
          "runs (waves x points x seeds x places) + 10,000 ABC runs",
          "allowed is at most 100,000; to run more, give --max-runs")),
    Case("abc_on_the_model_10_million_simulations",
         calibrate(SPEC + "abc: {simulator: model, max_simulations: 10000000}\n"),
         ("10,000,000 ABC runs (abc.max_simulations x places)",)),
    Case("candidates_beyond_the_cap", calibrate(SPEC + "history_matching: {candidates: "
                                                "2000000}\n"),
         ("'history_matching.candidates' = 2000000: allowed is a whole number from 100 to "
          "1,000,000",)),
    Case("calibrate_max_runs_zero", calibrate(SPEC, "--max-runs", "0"),
         ("--max-runs = 0: allowed is a whole number from 1 to 10,000,000",)),
    Case("calibrate_max_runs_below_the_count", calibrate(SPEC, "--max-runs", "10"),
         ("this calibration would make up to", "allowed is at most 10;",)),
    Case("checks_coverage_truths_1000", calibrate(SPEC + "checks: {coverage_truths: 1000}\n"),
         ("'checks.coverage_truths' = 1000: allowed is a whole number from 0 to 100",)),
    Case("sobol_2_to_the_19_direct", lambda f: ["sensitivity", write(
        f, "s.yaml", "place: bradford\nscenarios: [baseline]\nparameters: [uptake_rate]\n"
                     "years: 1\nsobol: {n: 524288, method: direct}\n"), "--out", out(f)],
         ("this sensitivity analysis would make up to 1,572,864 runs",)),
    Case("sobol_2_to_the_19_emulated", lambda f: ["sensitivity", write(
        f, "s.yaml", "place: bradford\nscenarios: [baseline]\nparameters: [uptake_rate]\n"
                     "years: 1\nsobol: {n: 524288, method: emulator}\n"), "--out", out(f)],
         ("the emulated Sobol design would have 1,572,864 points", "at most 8,192")),
    Case("patterns_a_billion_draws", lambda f: ["patterns", "--draws", "1000000000",
                                                "--out", out(f)],
         ("--draws = 1000000000: allowed is a whole number from 1 to 100,000",)),
    Case("patterns_too_many_runs", lambda f: ["patterns", "--draws", "50000", "--out", out(f)],
         ("--place/--draws: this check would make 800,000 runs (4 scenarios x 4 place(s) x "
          "50,000 draw(s))",)),
    Case("uncertainty_too_many_runs",
         lambda f: ["uncertainty", write(f, "sweep.yaml", SWEEP), "--posterior", "x.parquet",
                    "--draws", "100000", "--seeds", "1000", "--out", out(f)],
         ("--draws/--seeds: this comparison would make 200,000,000 runs",)),
    Case("robustness_1000_seeds", lambda f: ["robustness", "--seeds", "1000", "--out", out(f)],
         ("this analysis would make 189,000 runs (21 setting(s)",)),
    Case("diagnose_max_runs_1", lambda f: ["diagnose", "--place", "bradford", "--max-runs", "1",
                                           "--out", out(f)],
         ("this diagnosis would make 3 runs (1 place(s) x 3 seed(s)): allowed is at most 1",)),
    Case("address_nothing_listens_calibrate", quick("calibrate", "devon_ics.yaml", "--address",
                                                    "127.0.0.1:1"),
         ("--address 127.0.0.1:1: nothing answers there (Connection refused)",)),
    Case("address_http_url_sensitivity", quick("sensitivity", "sensitivity.yaml", "--address",
                                               "http://10.0.0.5:8265"),
         ("--address 'http://10.0.0.5:8265': allowed is auto",)),
    Case("serial_with_address_calibrate", quick("calibrate", "devon_ics.yaml", "--serial",
                                                "--address", "auto"),
         ("--serial runs in this process without Ray: leave out --address",)),
    # --- the posterior contract --------------------------------------------------------------
    Case("posterior_is_a_folder", posterior_folder,
         ("posterior.parquet: a folder, not a regular file",)),
    Case("posterior_is_a_fifo", posterior_fifo, ("posterior.parquet: a FIFO (named pipe)",)),
    Case("posterior_is_not_parquet", posterior(raw=b"uptake_rate\n0.01\n"),
         ("posterior.parquet: not readable as Parquet",)),
    Case("posterior_sets_the_wellby_value", posterior({"uptake_rate": [0.01],
                                                       "wellby_value_gbp": [0.0]}),
         ("posterior.parquet: columns must be exactly the calibrated parameters of its "
          "calibration.json; extra: wellby_value_gbp",)),
    Case("posterior_sets_20000_neighbourhoods", posterior({"uptake_rate": [0.01],
                                                           "n_neighbourhoods": [20000]}),
         ("extra: n_neighbourhoods",)),
    Case("posterior_misses_a_parameter", posterior(
        {"uptake_rate": [0.01]}, {"parameters": ["uptake_rate", "dropout_rate"]}),
         ("missing: dropout_rate",)),
    Case("posterior_holds_text", posterior({"uptake_rate": ["lots"]}),
         ("column 'uptake_rate' holds str values: allowed are numbers",)),
    Case("posterior_holds_nan", posterior({"uptake_rate": [0.01, float("nan")]}),
         ("posterior.parquet: row 1, 'uptake_rate' = nan: allowed is a number from 0.005 to "
          "0.04 (the calibrated range)",)),
    Case("posterior_out_of_range", posterior({"uptake_rate": [0.5]}),
         ("row 0, 'uptake_rate' = 0.5: allowed is a number from 0.005 to 0.04",)),
    Case("posterior_without_calibration_json", posterior({"uptake_rate": [0.01]}, False),
         ("a posterior file needs the calibration.json of its calibration beside it",)),
    Case("posterior_of_no_rows", posterior({"uptake_rate": pd.Series([], dtype=float)}),
         ("holds 0 rows: allowed is 1 to 100,000 draws",)),
    Case("posterior_more_draws_than_held",
         lambda f: [*posterior({"uptake_rate": [0.01]})(f)[:-2], "--draws", "5", "--out",
                    out(f)],
         ("holds 1 draws and --draws asks for 5, and there is no posterior_particles.parquet",)),
    Case("patterns_posterior_with_extra_column", posterior(
        {"uptake_rate": [0.01], "wellby_value_gbp": [0.0]}, command="patterns"),
         ("extra: wellby_value_gbp",)),
    # --- folders that belong to another analysis --------------------------------------------
    Case("calibrate_into_another_analysis", used_folder(json.dumps(
        {"kind": "calibration", "id": "cal-0000000000", "description": "devon"})),
         ("holds another analysis (calibration cal-0000000000: devon); this is calibration "
          "cal-", "choose another --out")),
    Case("calibrate_into_a_folder_with_no_record", used_folder(None, stray=True),
         ("is not empty and holds no record of an analysis (analysis.json)",)),
    Case("calibrate_into_a_damaged_record", used_folder('{"kind": "calib'),
         ("analysis.json: damaged (not an analysis record)",)),
    Case("recovery_of_an_unknown_parameter", recovery,
         ("recovery.yaml:3: truth 'a': unknown calibrated parameter 'uptake_rat'",)),
]


def test_names_are_unique():
    assert len({c.name for c in CASES}) == len(CASES)


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.name)
def test_hostile_calibration_input_is_refused_in_one_line_writing_nothing(case, tmp_path,
                                                                           capsys):
    assert_refused_writing_nothing(case, tmp_path, capsys)
