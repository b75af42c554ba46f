"""``abm recovery``: targets made by the model at known values, calibrated as the real ones
are; the table says how far each posterior median moved towards the truth."""

from __future__ import annotations

import pandas as pd
import pytest

from abm.cli import main
from calibration.recovery import REQUIRED_MOVE, format_recovery, load_recovery_spec
from tests.calibration.test_calibration import write_spec


def write_recovery(tmp_path):
    write_spec(tmp_path, hm="{waves: 1, points: 8, seeds: 1, candidates: 2000}",
               abc="{population: 100, generations: 2, simulator: emulator}",
               checks="{ppc_seeds: 1, coverage_truths: 0}", name="calibration.yaml")
    path = tmp_path / "recovery.yaml"
    path.write_text("calibration: calibration.yaml\npinned: [wellbeing_least_deprived]\n"
                    "truth_seeds: 2\ntruths:\n"
                    "  - {name: high, values: {wellbeing_least_deprived: 8.6}}\n"
                    "  - {name: low, values: {wellbeing_least_deprived: 7.4, "
                    "uptake_rate: 0.01}}\n")
    return path


def test_the_recovery_table_gives_the_fraction_moved_and_what_is_not_pinned(tmp_path,
                                                                             capsys):
    path = write_recovery(tmp_path)
    assert main(["recovery", str(path), "--out", str(tmp_path / "out"), "--serial"]) == 0
    printed = capsys.readouterr().out
    table = pd.read_csv(tmp_path / "out/recovery.csv")
    assert list(table.truth_name.unique()) == ["high", "low"]
    assert {"truth", "prior_median", "prior_lo_90", "prior_hi_90", "median", "lo_90", "hi_90",
            "fraction_moved", "width_ratio", "pinned", "passes"} <= set(table.columns)
    # the fraction moved is (posterior median - prior median) / (truth - prior median)
    row = table.set_index(["truth_name", "parameter"]).loc[("low", "uptake_rate")]
    assert row.truth == 0.01 and row.prior_median == pytest.approx(0.0225)
    assert row.fraction_moved == pytest.approx((row["median"] - 0.0225) / (0.01 - 0.0225))
    # mean life satisfaction (SD 0.15) pins the least deprived fifth's wellbeing, whose
    # range here spans 2 points: the posterior median moves most of the way in both truths
    pinned = table[table.parameter == "wellbeing_least_deprived"]
    assert (pinned.fraction_moved >= REQUIRED_MOVE).all(), pinned.to_dict("records")
    assert pinned.passes.all() and (pinned.width_ratio < 0.5).all()
    # and the bound agrees that these targets can pin it (but not willingness to start)
    assert (pinned.best_width_ratio < 0.5).all()
    assert table[table.parameter == "uptake_rate"].best_width_ratio.between(0, 1).all()
    assert ("Meant to be pinned, but beyond these targets' precision in some truth (more runs "
            "will not pin them): none") in printed
    assert "Not meant to be pinned: uptake_rate" in printed
    assert "Within these targets' precision at the truth (best width there below 0.5), " \
        "whether meant to be pinned or not: recovered in wellbeing_least_deprived (high, " \
        in printed
    # the bound at each truth, from the emulator's slopes there, is in the table too
    assert (pinned.best_width_at_truth < 0.5).all()
    assert table.best_width_at_truth.between(0, 1).all()
    assert "Meant to be pinned and recovered in every truth: wellbeing_least_deprived" in printed
    assert (tmp_path / "out/high/coverage.csv").exists() is False  # coverage_truths: 0
    assert (tmp_path / "out/low/fit_report.csv").exists()


def test_a_pinned_parameter_that_does_not_move_is_named_with_the_bound_it_has():
    table = pd.DataFrame({"truth_name": ["a"], "parameter": ["p"], "truth": [1.0],
                          "prior_median": [0.5], "prior_lo_90": [0.05], "prior_hi_90": [0.95],
                          "median": [0.6], "lo_90": [0.1], "hi_90": [0.9],
                          "fraction_moved": [0.2], "width_ratio": [0.9], "pinned": [True],
                          "passes": [False], "best_width_ratio": [0.7],
                          "best_width_at_truth": [float("nan")]})
    text = format_recovery(table)
    assert "Meant to be pinned but not recovered: p" in text and "NO" in text
    assert "beyond these targets' precision in some truth (more runs will not pin them): p" in text
    # one the bound says these targets could pin, meant to be or not, that did not move
    within = table.assign(best_width_ratio=[0.4], pinned=[False], passes=[True])
    assert ("whether meant to be pinned or not: recovered in none; not recovered in p (a, "
            "0.20)") in format_recovery(within)
    # the bound at the truth, where there is one, decides over the box's average
    local = table.assign(best_width_ratio=[0.4], best_width_at_truth=[0.8])
    assert "beyond these targets' precision in some truth (more runs will not pin them): p" \
        in format_recovery(local)
    assert "recovered in none; not recovered in none" in format_recovery(local)


def test_a_truth_outside_the_calibrated_range_is_refused(tmp_path):
    from abm.files.errors import InputError

    path = write_recovery(tmp_path)
    path.write_text(path.read_text().replace("8.6", "9.5"))
    with pytest.raises(InputError, match=r"truth 'high': 'wellbeing_least_deprived' = 9.5: "
                                         r"allowed is inside the calibrated range 7 to 9"):
        load_recovery_spec(path)
