"""Scenario discovery with PRIM (ema_workbench) on sweep results."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from abm.analysis.discover import discover, inputs, outcome_values
from abm.cli import main
from abm.files.errors import InputError
from experiments.runner import run_sweep


def _synthetic(n: int = 300) -> pd.DataFrame:
    """Paired runs where sustain narrows the gap by 0.5 exactly when uptake_rate > 0.06;
    attendance_effect_eq5d is irrelevant noise."""
    rng = np.random.default_rng(0)
    rows = []
    for i in range(n):
        uptake, effect = rng.uniform(0, 0.1), rng.uniform(0, 3)
        for scenario in ("baseline", "sustain"):
            gap = 1.0 - (0.5 if scenario == "sustain" and uptake > 0.06 else 0.0)
            rows.append({"run_id": f"{scenario}{i}", "scenario": scenario, "place": "p",
                         "point": i, "seed": 1, "uptake_rate": uptake,
                         "attendance_effect_eq5d": effect, "gap_q5_q1": gap + rng.normal(0, 0.01)})
    return pd.DataFrame(rows)


def test_prim_finds_the_box_that_closes_the_gap():
    found = discover(_synthetic(), "delta_gap_q5_q1", -0.25)
    assert found.rule == "delta_gap_q5_q1 < -0.25", "lower is better for a gap: cases below"
    assert found.n_runs == 300 and 100 < found.n_cases < 140  # about 40% of uptake draws
    assert found.density > 0.95 and found.coverage >= 0.5
    assert list(found.limits.input) == ["uptake_rate"], "the irrelevant input is not restricted"
    low = float(found.limits.box.iloc[0].split(" to ")[0])
    assert 0.055 < low < 0.07
    assert "uptake_rate" in found.text()


def test_prim_can_restrict_the_strategy():
    # Every sustain run closes the gap, no baseline run does: the box is the strategy.
    results = _synthetic(40)
    results["gap_q5_q1"] = np.where(results.scenario == "sustain", 0.5, 1.0)
    found = discover(results, "gap_q5_q1", 0.75)
    assert found.n_cases == 40 and found.density == 1.0
    assert found.limits.to_dict("records") == [
        {"input": "strategy", "box": "one of sustain", "sampled": "baseline, sustain"}]


def test_paired_outcome_and_inputs():
    results = _synthetic(10)
    change = outcome_values(results, "delta_gap_q5_q1", "baseline")
    assert len(change) == 10 and set(change.index) == {f"sustain{i}" for i in range(10)}
    x = inputs(results)
    assert list(x.columns) == ["uptake_rate", "attendance_effect_eq5d", "strategy"]
    with pytest.raises(InputError, match="allowed is a summary column"):
        outcome_values(results, "delta_nonsense", "baseline")


def test_discover_command_on_a_sampled_sweep(tmp_path, capsys):
    spec = tmp_path / "sampled.yaml"
    spec.write_text(
        "scenarios: [baseline, sustain]\nplaces: [bradford]\nseeds: 1\nmaster_seed: 3\n"
        "years: 1\nparameters: {n_neighbourhoods: 20, residents_per_neighbourhood: 20, "
        "burn_in_years: 1}\nsample:\n  method: latin_hypercube\n  n: 12\n  seed: 1\n"
        "  ranges: {uptake_rate: [0.005, 0.05], attendance_effect_eq5d: [0.01, 0.06]}\n")
    out = tmp_path / "results"
    assert run_sweep(spec, out, serial=True) == 0
    summary = pd.read_parquet(out / "summary.parquet")
    assert summary.uptake_rate.nunique() == 12, "rows carry the sampled values"
    code = main(["discover", str(out), "--outcome", "wellbeing_years", "--threshold",
                 str(summary.wellbeing_years.median()), "--above"])
    printed = capsys.readouterr().out
    assert code == 0
    assert "Cases of interest: 12 of 24 runs with wellbeing_years >" in printed
    assert "PRIM box: coverage" in printed
    assert main(["discover", str(out), "--outcome", "gap", "--threshold", "0"]) == 2
    assert "--outcome 'gap': allowed is" in capsys.readouterr().err
