"""``abm diagnose`` (the status quo beside its targets) and ``abm robustness`` (each
assumption at either end of its range), on tiny runs."""

import math

import pandas as pd
import pytest

from abm.analysis.compare import compare
from abm.cli import main
from abm.model.parameters import BY_NAME
from calibration.diagnose import allocation_table, diagnose_table, format_allocation, verdict
from calibration.robustness import STRATEGIES, settings, sign_word
from calibration.targets import load_targets

TINY = ["--set", "n_neighbourhoods=20", "--set", "residents_per_neighbourhood=20",
        "--set", "burn_in_years=1", "--years", "1", "--serial"]


def test_verdicts_in_words():
    assert verdict(0.4) == "within 1 SD" and verdict(-1.5) == "within 2 SD"
    assert verdict(3.2) == "off target" and verdict(math.nan) == "not measured"
    assert sign_word("wellby_gain_disc", 10, 20) == "gains"
    assert sign_word("wellby_gain_disc", -20, -1) == "loses"
    assert sign_word("delta_gap_q5_q1", -0.2, -0.1) == "narrows"
    assert sign_word("delta_gap_q5_q1", -0.1, 0.1) == "unclear"


def test_diagnosis_puts_each_target_beside_the_model(tmp_path, capsys):
    assert main(["diagnose", "--place", "bradford", "--seeds", "2", "--out",
                 str(tmp_path), *TINY]) == 0
    printed = capsys.readouterr().out
    table = pd.read_csv(tmp_path / "diagnosis.csv")
    targets = load_targets()
    shown = set(table.quantity)
    assert {"mean_life_satisfaction", "status_quo_return_per_gbp", "provider_closure_rate",
            "past_year_participation_q1", "low_life_satisfaction_ratio"} <= shown
    assert {"budget-to-demand ratio", "share of providers full"} <= shown
    row = table.set_index("quantity").loc["mean_life_satisfaction"]
    target = targets["mean_life_satisfaction"]
    assert row.target == target.value and row.source == target.source
    assert row.z == pytest.approx((row.model - target.value) / target.sd)
    assert row.model_low <= row.model <= row.model_high
    assert "bradford" in printed and "target 7.45" in printed
    # Where the money goes: people, money and providers by quintile beside the targets.
    allocation = pd.read_csv(tmp_path / "allocation.csv")
    assert list(allocation.quintile) == ["q1", "q2", "q3", "q4", "q5"]
    for column in ("population_share", "share_ics_money", "share_providers"):
        assert allocation[column].sum() == pytest.approx(1, abs=1e-9)
    q1 = allocation.iloc[0]
    assert q1.ics_money_target == targets["ics_money_per_head_q1"].value
    assert q1.providers_target == targets["providers_per_head_q1"].value
    assert q1.providers_per_head_low <= q1.providers_per_head <= q1.providers_per_head_high
    assert "Where the status quo's money and providers go" in printed
    assert {"ics_money_per_head_q1", "providers_per_head_q1"} <= shown


def test_allocation_is_each_quintiles_share_over_its_share_of_people():
    people = {"population_q1": 100.0, "population_q2": 100.0, "population_q3": 100.0,
              "population_q4": 100.0, "population_q5": 600.0}
    money = {"share_ics_money_q1": 0.05, "share_ics_money_q2": 0.1, "share_ics_money_q3": 0.1,
             "share_ics_money_q4": 0.15, "share_ics_money_q5": 0.6}
    groups = {f"share_providers_q{k}": 0.2 for k in range(1, 6)}
    rows = pd.DataFrame([{"place": "devon_ics", **people, **money, **groups},
                         {"place": "devon_ics", **people, **money, **groups,
                          "share_ics_money_q1": 0.15, "share_ics_money_q5": 0.5}])
    table = allocation_table(rows, load_targets()).set_index("quintile")
    assert table.loc["q1", "population_share"] == pytest.approx(0.1)
    assert table.loc["q1", "share_ics_money"] == pytest.approx(0.1)
    # 0.05 / 0.1 and 0.15 / 0.1: half and one and a half times a fair share per head
    assert table.loc["q1", "ics_money_per_head"] == pytest.approx(1.0)
    assert table.loc["q1", "ics_money_per_head_low"] == pytest.approx(0.5)
    assert table.loc["q1", "ics_money_per_head_high"] == pytest.approx(1.5)
    assert table.loc["q1", "providers_per_head"] == pytest.approx(2.0)
    assert table.loc["q5", "providers_per_head"] == pytest.approx(0.2 / 0.6)
    assert table.loc["q1", "providers_target"] == 0.5
    assert math.isnan(table.loc["q2", "providers_target"])  # targets name q1 only
    printed = format_allocation(allocation_table(rows, load_targets()))
    assert "devon_ics" in printed and "target 1.1 +- 0.25" in printed
    # Runs of a model without the allocation columns: said, not a traceback.
    assert "not in these runs" in format_allocation(allocation_table(
        pd.DataFrame([{"place": "x", "mean_wellbeing": 7.0}]), load_targets()))


def test_diagnosis_skips_targets_of_other_places():
    rows = pd.DataFrame([{"place": "london", "mean_wellbeing": 7.0, "budget_to_demand": 0.5,
                          "share_providers_full": 0.9}])
    targets = {"t": load_targets()["mean_life_satisfaction"]}
    only_bradford = {"t": type(targets["t"])(**{**targets["t"].__dict__,
                                                "places": ("bradford",)})}
    assert "mean_life_satisfaction" not in set(diagnose_table(rows, only_bradford).quantity)
    assert "mean_life_satisfaction" in set(diagnose_table(rows, targets).quantity)


def test_settings_move_one_assumption_to_each_end():
    out = settings(["uptake_rate", "core_grant_years"])
    assert out[0] == ("defaults", {})
    uptake = BY_NAME["uptake_rate"]
    assert out[1][1] == {"uptake_rate": uptake.plausible_low}
    assert out[2][1] == {"uptake_rate": uptake.plausible_high}
    assert out[4][1] == {"core_grant_years": BY_NAME["core_grant_years"].plausible_high}
    assert len(out) == 5


def test_robustness_gives_paired_effects_with_intervals_and_signs(tmp_path, capsys):
    assert main(["robustness", "--place", "bradford", "--parameter", "forced_stop_need_shock",
                 "--seeds", "3", "--out", str(tmp_path), *TINY]) == 0
    table = pd.read_csv(tmp_path / "robustness.csv")
    assert len(table) == 3 * len(STRATEGIES) * 2  # settings x strategies x effects
    assert set(table.seeds) == {3}
    assert (table["low"] <= table["mean"]).all() and (table["mean"] <= table["high"]).all()
    # The defaults' effect of sustain is the mean of same-seed paired differences.
    runs = pd.concat([pd.read_parquet(p) for p in (tmp_path / "runs").glob("*.parquet")])
    at_defaults = runs[runs.point == 0].set_index(["scenario", "seed"])
    gains = [compare(at_defaults.loc[("robustness:sustain", s)],
                     at_defaults.loc[("robustness:baseline", s)])["wellby_gain_disc"]
             for s in at_defaults.loc["robustness:sustain"].index]
    row = table[(table.setting == "defaults") & (table.strategy == "sustain")
                & (table.effect == "wellby_gain_disc")].iloc[0]
    assert row["mean"] == pytest.approx(sum(gains) / 3)
    printed = capsys.readouterr().out
    assert "forced_stop_need_shock low (0)" in printed and "at the defaults" in printed


@pytest.mark.parametrize("args", [
    ["robustness", "--parameter", "n_neighbourhoods", "--out", "x"],
    ["robustness", "--parameter", "nonsense", "--out", "x"],
    ["diagnose", "--seeds", "0", "--out", "x"],
    ["diagnose", "--place", "atlantis", "--out", "x"],
])
def test_bad_input_is_one_line_and_exit_2(args, capsys, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert main([*args, "--serial"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("abm: error:")
    assert not (tmp_path / "x").exists()
