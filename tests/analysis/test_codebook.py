"""Every output column is declared in the codebook with a unit and a direction."""

from __future__ import annotations

import pandas as pd
import pytest

from abm import Model
from abm.analysis import codebook
from abm.analysis.compare import summary_table
from abm.analysis.dcea import dcea
from tests.conftest import SMALL


@pytest.fixture(scope="module")
def two_runs() -> tuple[pd.DataFrame, pd.DataFrame]:
    """A baseline and a sustain run with the same seed (rows as the sweep runner writes them:
    identity, parameters, outcomes), and the baseline's weekly series."""
    from abm.model.runs import RunSpec, execute

    rows, weekly = [], None
    for scenario, rules in (("baseline", "status_quo"), ("sustain", "sustain")):
        for seed in (1, 2, 3):
            row, series = execute(RunSpec.make(scenario, "bradford", rules, SMALL, seed, 1.0),
                                  weekly=weekly is None)
            rows.append(row)
            weekly = series if weekly is None else weekly
    return pd.DataFrame(rows), weekly


def test_every_column_of_model_summary_is_declared():
    summary = Model("bradford", seed=1, **SMALL).run(years=1).summary()
    missing = codebook.undeclared(summary.columns, "summary")
    assert not missing, (
        f"declare these Model.summary() columns in abm/analysis/codebook.py: {missing}")


def test_every_column_of_the_runner_rows_and_weekly_series_is_declared(two_runs):
    rows, weekly = two_runs
    assert not codebook.undeclared(rows.columns, "summary")
    missing = codebook.undeclared(weekly.columns, "weekly")
    assert not missing, f"declare these weekly columns in abm/analysis/codebook.py: {missing}"


def test_every_column_of_the_summary_and_dcea_tables_is_declared(two_runs):
    rows, _ = two_runs
    table = summary_table(rows)
    missing = codebook.undeclared(table.columns, "table")
    assert not missing, (
        f"declare these summary-table columns in abm/analysis/codebook.py: {missing}")
    totals, by_quintile = dcea(rows)
    assert not codebook.undeclared(totals.columns, "dcea")
    assert not codebook.undeclared(by_quintile.columns, "dcea_quintile")


def test_interval_bounds_are_described_from_their_column():
    column = codebook.lookup("delta_gap_q5_q1_lo", "table")
    assert column.unit == "life satisfaction points"
    assert column.direction == "lower is better"
    assert "lower bound" in column.meaning
    assert codebook.lookup("no_such_column", "table") is None


def test_codebook_files_are_written(tmp_path, two_runs):
    rows, _ = two_runs
    paths = codebook.write_codebook(tmp_path, {"summary": rows.columns})
    frame = pd.read_csv(paths[0])
    assert list(frame.column) == list(rows.columns)
    assert set(frame.better) <= set(codebook.BETTER_WORDS.values())
    assert "| `gap_q5_q1` | life satisfaction points | lower is better |" in paths[1].read_text()
    with pytest.raises(KeyError, match=r"abm/analysis/codebook\.py"):
        codebook.describe(["mystery"], "summary")
