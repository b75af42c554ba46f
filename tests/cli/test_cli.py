"""The abm command line: outputs, and bad input giving one clear line, exit code 2, no files."""

import pandas as pd
import pytest

from abm.cli import main
from abm.model.parameters import PARAMETERS

SMALL_SET = ["--set", "n_neighbourhoods=20", "--set", "residents_per_neighbourhood=20",
             "--set", "burn_in_years=1"]


def test_run_prints_outcomes_and_writes_parquet(tmp_path, capsys):
    code = main(["run", "sustain", "--place", "bradford", "--years", "1", "--seed", "3",
                 "--out", str(tmp_path), *SMALL_SET])
    assert code == 0
    out = capsys.readouterr().out
    assert "Gap q5 - q1" in out and "Slope index of inequality" in out
    (summary_file,) = tmp_path.glob("sustain_bradford_seed3_*_summary.parquet")
    summary = pd.read_parquet(summary_file)
    weekly = pd.read_parquet(str(summary_file).replace("_summary", "_weekly"))
    assert len(summary) == 1 and summary.rules.iloc[0] == "sustain"
    assert summary.n_neighbourhoods.iloc[0] == 20, "every parameter is recorded"
    assert len(weekly) == 2 * 52 and (weekly.run_id == summary.run_id.iloc[0]).all()


@pytest.mark.parametrize(
    ("args", "fragment"),
    [
        (["run", "--set", "uptake_rat=0.1"], "unknown parameter 'uptake_rat': did you mean"),
        (["run", "--set", "uptake_rate=3"], "'uptake_rate' = 3.0 is out of range: allowed is"),
        (["run", "--set", "n_neighbourhoods=ten"], "allowed is a whole number from 10"),
        (["run", "--set", "uptake_rate"], "allowed is NAME=VALUE"),
        (["run", "--place", "atlantis"], "unknown place 'atlantis': see `abm places`"),
        (["run", "--rule", "scale+sustian"], "unknown rule 'sustian': did you mean 'sustain'"),
        (["run", "no_such_scenario"], "unknown scenario 'no_such_scenario'"),
        (["run", "--years", "0"], "--years = 0: allowed is a number above 0"),
        (["run", "--seed", "-1"], "--seed = -1: allowed is a whole number from 0 to 2**63 - 1"),
        (["run", "--seed", str(2**70)], "--seed = 1180591620717411303424: allowed is a whole"),
        (["compare", "embed", "--seeds", "0"],
         "--seeds = 0: allowed is a whole number from 1 to 100,000"),
        (["compare", "embed", "--place", "nowhere"], "unknown place 'nowhere'"),
        (["parameters", "--group", "nope"], "unknown group 'nope'"),
        (["summarise", "/nonexistent/folder"], "/nonexistent/folder: no such folder"),
    ],
)
def test_bad_input_is_one_line_exit_2_and_writes_nothing(args, fragment, tmp_path, capsys):
    out = tmp_path / "out"
    code = main([*args, "--out", str(out)] if args[0] == "run" else args)
    captured = capsys.readouterr()
    assert code == 2
    lines = captured.err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("abm: error: ")
    assert fragment in lines[0]
    assert "Traceback" not in captured.err
    assert not out.exists(), "nothing may be written on bad input"


def test_argparse_errors_also_exit_2(capsys):
    with pytest.raises(SystemExit) as caught:
        main(["run", "--seed", "abc"])
    assert caught.value.code == 2


def test_compare_prints_paired_changes(tmp_path, capsys):
    code = main(["compare", "embed", "sustain", "--place", "bradford", "--seeds", "2",
                 "--years", "1", "--out", str(tmp_path), *SMALL_SET])
    assert code == 0
    out = capsys.readouterr().out
    assert "Change against 'baseline'" in out
    assert "embed" in out and "sustain" in out and "WELLBYs" in out
    runs = pd.read_parquet(tmp_path / "runs.parquet")
    assert len(runs) == 3 * 2 and set(runs.seed) == {0, 1}
    table = pd.read_csv(tmp_path / "comparison.csv")
    assert {"wellby_gain_lo", "wellby_gain_hi", "delta_gap_q5_q1"} <= set(table.columns)


def test_listings(capsys):
    assert main(["parameters"]) == 0
    out = capsys.readouterr().out
    assert all(p.name in out for p in PARAMETERS)
    assert main(["places"]) == 0 and "devon_ics" in capsys.readouterr().out
    assert main(["rules"]) == 0 and "proportionate_universalism" in capsys.readouterr().out
    assert main(["scenarios"]) == 0 and "extra_money/embed" in capsys.readouterr().out
