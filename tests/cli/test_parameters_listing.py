"""`abm parameters` wraps to the terminal, shows whole numbers as whole numbers, and writes
CSV and JSON (issue 25, item 8)."""

from __future__ import annotations

import csv
import io
import json

import pytest

from abm.cli import main as abm_main
from abm.model.parameters import BY_NAME, PARAMETERS


@pytest.mark.parametrize("columns", [60, 100, 160])
def test_text_wraps_to_the_terminal_width(columns, monkeypatch, capsys):
    monkeypatch.setenv("COLUMNS", str(columns))
    assert abm_main(["parameters"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert max(len(line) for line in lines) < columns, "no line runs past the terminal"
    text = "\n".join(lines)
    assert "n_neighbourhoods = 200  (whole number from 10 to 20,000" in text
    assert "200.0" not in text and ".00000" not in text
    for p in PARAMETERS:
        assert f"{p.name} = " in text


def test_csv_has_one_row_per_parameter_with_numbers_as_numbers(capsys):
    assert abm_main(["parameters", "--format", "csv"]) == 0
    rows = list(csv.DictReader(io.StringIO(capsys.readouterr().out)))
    assert [r["name"] for r in rows] == [p.name for p in PARAMETERS]
    for row in rows:
        p = BY_NAME[row["name"]]
        if p.type is int:
            assert row["default"] == str(p.default) and "." not in row["default"], row
        assert float(row["default"]) == p.default and float(row["high"]) == p.high
        assert (row["plausible_low"] == "") == (p.plausible_low is None)
    assert {r["lever"] for r in rows} == {"True", "False"}


def test_json_keeps_types_and_a_group_can_be_chosen(capsys):
    assert abm_main(["parameters", "--format", "json", "--group", "commissioning"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert rows and all(r["group"] == "commissioning" for r in rows)
    grant = next(r for r in rows if r["name"] == "grant_years")
    assert grant["default"] == 1 and isinstance(grant["default"], int)
    assert grant["type"] == "integer" and grant["lever"] is True
    budget = next(r for r in rows if r["name"] == "budget_uplift")
    assert budget["plausible_low"] is None and budget["default"] == 0.0
