"""Calibration targets and spec files: the shipped ones load; bad ones get one-line errors."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from abm.cli import main
from abm.files.errors import InputError
from calibration.outputs import OUTPUTS
from calibration.spec import load_calibration_spec, load_sensitivity_spec
from calibration.targets import load_targets

SPECS = Path(__file__).resolve().parents[2] / "calibration" / "specs"

GOOD = """\
targets:
  mean_ls:
    value: 7.45
    sampling_sd: 0.01
    discrepancy_sd: 0.1
    output: mean_wellbeing
    places: all
    source: ONS
"""


def test_shipped_targets_are_complete():
    targets = load_targets()
    assert len(targets) >= 10
    for t in targets.values():
        assert t.sd > 0 and t.source and t.output in OUTPUTS, t.name
    outputs = {t.output for t in targets.values()}
    # The brief's targets: participation by deprivation, low LS by deprivation, the gap,
    # 3+ link-worker contacts, closures, grant length, social return, Munford start and stop.
    for needed in ("p_past_year_q1", "low_ls_ratio", "gap_q5_q1", "closure_rate",
                   "share_referred_3plus_contacts", "share_grant_funding_3plus_years",
                   "experiment:status_quo_return", "experiment:munford_start",
                   "experiment:munford_stop", "providers_per_head_q1_ratio",
                   "ics_money_per_head_q1_ratio"):
        assert needed in outputs, needed


def test_every_target_output_is_measured_by_a_model_v3_run():
    # Summary columns are in a real summary row and derived outputs computed from it, so a
    # renamed Model v3 column fails here rather than in the middle of a calibration.
    from abm import Model
    from calibration.outputs import DERIVED, SUMMARY_COLUMNS, output_value

    row = Model("devon_ics", "status_quo", 1, {"n_neighbourhoods": 20,
                                                "residents_per_neighbourhood": 20,
                                                "burn_in_years": 1}).run(1).summary().iloc[0]
    missing = [c for c in SUMMARY_COLUMNS if c not in row.index]
    assert not missing, missing
    for t in load_targets().values():
        if t.output.startswith("experiment:") or t.output == "munford_stop_start_ratio":
            continue
        value = output_value(row.to_dict(), t.output)
        assert value == value or t.output in DERIVED, t.name  # NaN only for a ratio
    # The allocation ratios: q1's share of money (providers) over its share of people.
    people = row.population_q1 / sum(row[f"population_q{k}"] for k in range(1, 6))
    assert output_value(row.to_dict(), "ics_money_per_head_q1_ratio") == pytest.approx(
        row.share_ics_money_q1 / people)
    assert output_value(row.to_dict(), "providers_per_head_q1_ratio") == pytest.approx(
        row.share_providers_q1 / people)


@pytest.mark.parametrize(("change", "fragments"), [
    (("value: 7.45", "value: high"), [":3:", "target 'mean_ls'", "'value' = 'high'",
                                      "allowed is a finite number"]),
    (("sampling_sd: 0.01", "sampling_sd: -1"), [":4:", "'sampling_sd' = -1",
                                                "allowed is 0 or a number from 1.5e-154"]),
    (("sampling_sd: 0.01", "sampling_sd: 1.0e-300"),
     [":4:", "'sampling_sd' = 1e-300", "must neither underflow to 0 nor overflow"]),
    (("output: mean_wellbeing", "output: mean_wellbeng"),
     [":6:", "unknown output 'mean_wellbeng'", "did you mean 'mean_wellbeing'?"]),
    (("places: all", "places: [devon]"), [":7:", "unknown place 'devon'",
                                          "did you mean 'devon_ics'?"]),
    (("source: ONS", "source: ONS\n    unti: share"), [":9:", "unknown key 'unti'",
                                                      "did you mean 'unit'?"]),
    (("    value: 7.45\n", ""), ["missing key 'value'"]),
    (("discrepancy_sd: 0.1", "discrepancy_sd: 0\n    sampling_sd: 0"),
     ["key 'sampling_sd' appears twice"]),
])
def test_a_bad_target_is_named_with_its_line(tmp_path, change, fragments):
    path = tmp_path / "targets.yaml"
    path.write_text(GOOD.replace(*change))
    with pytest.raises(InputError) as caught:
        load_targets(path)
    problems = caught.value.problems
    assert len(problems) == 1, problems
    assert problems[0].startswith(str(path))
    for fragment in fragments:
        assert fragment in problems[0], (fragment, problems[0])


def test_every_defect_is_reported_at_once_and_the_cli_exits_2(tmp_path, capsys):
    path = tmp_path / "targets.yaml"
    path.write_text(GOOD.replace("value: 7.45", "value: x").replace("places: all", "places: 3")
                    .replace("output: mean_wellbeing", "output: nothing"))
    assert main(["targets", str(path)]) == 2
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 3 and all(line.startswith(f"abm: error: {path}:") for line in lines)


def test_shipped_specs_load():
    for path in SPECS.rglob("*.yaml"):
        if path.name == "main_sweep.yaml":
            continue  # a sweep file (experiments/spec.py checks those)
        if "calibration" in yaml.safe_load(path.read_text(encoding="utf-8")):
            from calibration.recovery import load_recovery_spec  # names the calibration it runs

            assert load_recovery_spec(path).pinned, path  # a recovery spec names what it pins
            continue
        loader = load_sensitivity_spec if "sensitivity" in path.name else load_calibration_spec
        spec = loader(path)
        assert spec.space.dim >= 2, path


def test_a_bad_calibration_spec_lists_every_problem(tmp_path):
    path = tmp_path / "spec.yaml"
    path.write_text(
        "places: [devon_ics]\n"
        "parameters: [uptake_rate, uptake_rte]\n"
        "ranges: {uptake_rate: [0.5, 2.0]}\n"
        "targets: [mean_life_satisfaction, mean_ls]\n"
        "held_out: [mean_life_satisfaction]\n"
        "years: 1\n"
        "abc: {population: 2}\n")
    with pytest.raises(InputError) as caught:
        load_calibration_spec(path)
    text = "\n".join(caught.value.problems)
    for fragment in (":2: unknown parameter 'uptake_rte'", "range of 'uptake_rate' = [0.5, 2.0]",
                     ":4: unknown target 'mean_ls'", "is both fitted and held out",
                     "'years' = 1: allowed is a number from 1.5",
                     "'abc.population' = 2: allowed is a whole number from 4"):
        assert fragment in text, (fragment, text)
    assert all(p.startswith(str(path)) for p in caught.value.problems)
