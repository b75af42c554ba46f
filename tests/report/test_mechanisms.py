"""A sweep of the mechanism scenarios gets T13 (what each mechanism does to the gap) in its
report; real runs, tiny."""

from __future__ import annotations

import pandas as pd
import pytest

from abm.analysis.compare import GAP_PARTS
from abm.analysis.figures import PART_LABELS
from abm.cli import main
from experiments.runner import run_sweep

SWEEP = ("scenarios: [baseline, mechanisms/no_assets, mechanisms/no_belonging, "
         "mechanisms/top_belonging]\nplaces: [bradford]\nseeds: 3\nmaster_seed: 19\n"
         "years: 1\nparameters: {n_neighbourhoods: 15, residents_per_neighbourhood: 20, "
         "burn_in_years: 1}\n")


@pytest.mark.slow
def test_a_mechanisms_sweep_reports_each_mechanism_and_its_parts_sum_to_the_gap(tmp_path):
    (tmp_path / "sweep.yaml").write_text(SWEEP)
    results = tmp_path / "results"
    assert run_sweep(tmp_path / "sweep.yaml", results, serial=True) == 0
    assert main(["report", str(results), "--out", str(tmp_path / "report")]) == 0
    t13 = pd.read_csv(tmp_path / "report" / "tables" / "T13_mechanisms.csv")
    assert list(t13["Switched"]) == ["status quo", "every asset removed", "off",
                                     "top of its plausible range"]
    labels = [f"{PART_LABELS[p][:1].upper()}{PART_LABELS[p][1:]} (points): estimate"
              for p in GAP_PARTS]
    parts = t13[labels].sum(axis=1)
    assert parts.iloc[0] == pytest.approx(t13["q5-q1 gap (points): estimate"].iloc[0],
                                          abs=1e-9), "the status quo's parts sum to its gap"
    assert list(parts.iloc[1:]) == pytest.approx(
        list(t13["Change in the gap (points): estimate"].iloc[1:]), abs=1e-9), \
        "each scenario's changes in the parts sum to its change in the gap"
    assert t13["Seeds"].tolist() == [3] * 4
    md = (tmp_path / "report" / "report.md").read_text()
    assert "### T13. What each mechanism does to the gap" in md
    assert "Switching belonging's protection against need off" in md
    assert "In Bradford district, under the status quo the q5-q1 gap is" in md, "a key message"
    assert "### T14. Participation and NHS costs by quintile" in md
