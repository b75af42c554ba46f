"""One trusted source: a report's numbers come from the checksummed parts for the manifest's
runs, never from ``summary.parquet``; ``abm summarise``, ``abm report`` and ``abm sweep
--resume`` rebuild a damaged, edited or missing ``summary.parquet`` from the parts, atomically,
and say so; the console and the report lead with the same (discounted) headline."""

from __future__ import annotations

import re
import shutil

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from abm.analysis import tables
from abm.cli import main
from experiments.runner import run_sweep

TINY = ("scenarios: [baseline, sustain]\nplaces: [bradford]\nseeds: 2\nmaster_seed: 5\n"
        "years: 1\nparameters: {n_neighbourhoods: 15, residents_per_neighbourhood: 20, "
        "burn_in_years: 1}\n")


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    """A tiny sweep and its report: (sweep file, results folder, report folder)."""
    base = tmp_path_factory.mktemp("tiny")
    spec = base / "sweep.yaml"
    spec.write_text(TINY)
    assert run_sweep(spec, base / "results", serial=True) == 0
    assert main(["report", str(base / "results"), "--out", str(base / "report")]) == 0
    return spec, base / "results", base / "report"


def report_files(report, results) -> dict[str, bytes]:
    """What a reader cites and sees: every table, figure and the ids (with the paths of the
    report and results folders made alike)."""
    files = [*sorted((report / "tables").glob("*.csv")), *sorted(
        (report / "figures").glob("*.png")), report / "ids.json"]
    return {p.name: p.read_bytes().replace(str(report).encode(), b"OUT").replace(
        str(results).encode(), b"RESULTS") for p in files}


def tamper(folder) -> pd.DataFrame:
    """Edit summary.parquet as someone might by hand: a valid Parquet file whose WELLBYs
    and gap are made up."""
    frame = pd.read_parquet(folder / "summary.parquet")
    edited = frame.copy()
    edited["wellbeing_years_disc"] *= 3
    edited["gap_q5_q1"] = 0.0
    pq.write_table(pa.Table.from_pandas(edited, preserve_index=False),
                   folder / "summary.parquet")
    return frame


@pytest.mark.parametrize("damage", ["edited", "random bytes", "missing"])
def test_the_report_ignores_summary_parquet_and_rebuilds_it(damage, tiny, tmp_path, capsys):
    _, results, clean = tiny
    sweep_copy = tmp_path / "results"
    shutil.copytree(results, sweep_copy)
    original = pd.read_parquet(sweep_copy / "summary.parquet")
    if damage == "edited":
        tamper(sweep_copy)
    elif damage == "random bytes":
        (sweep_copy / "summary.parquet").write_bytes(b"PAR1" + bytes(range(256)) * 8)
    else:
        (sweep_copy / "summary.parquet").unlink()
    capsys.readouterr()
    again = tmp_path / "again"
    assert main(["report", str(sweep_copy), "--out", str(again)]) == 0
    err = capsys.readouterr().err
    assert report_files(again, sweep_copy) == report_files(clean, results), "unchanged"
    said = {"edited": "did not match the checksummed parts", "random bytes": "was damaged",
            "missing": "was missing"}[damage]
    assert re.search(rf"summary\.parquet {said}.*: rebuilt from the 4 runs in the checksummed "
                     "parts", err), err
    pd.testing.assert_frame_equal(pd.read_parquet(sweep_copy / "summary.parquet"), original)
    assert not list(sweep_copy.glob(".*.tmp")), "written atomically: no temporary file left"


def test_summarise_rebuilds_an_edited_summary_and_says_so(sweep_copy, capsys):
    original = tamper(sweep_copy)
    assert main(["summarise", str(sweep_copy)]) == 0
    err = capsys.readouterr().err
    assert "summary.parquet did not match the checksummed parts" in err and "rebuilt" in err
    pd.testing.assert_frame_equal(pd.read_parquet(sweep_copy / "summary.parquet"), original)
    assert main(["summarise", str(sweep_copy)]) == 0
    assert "rebuilt" not in capsys.readouterr().err, "said once, when it was wrong"


def test_summarise_rebuilds_a_truncated_summary_readable_by_pandas(sweep_copy, capsys):
    data = (sweep_copy / "summary.parquet").read_bytes()
    (sweep_copy / "summary.parquet").write_bytes(data[: len(data) // 2])
    assert main(["summarise", str(sweep_copy)]) == 0
    assert "summary.parquet was damaged (not readable as Parquet): rebuilt" in \
        capsys.readouterr().err
    assert len(pd.read_parquet(sweep_copy / "summary.parquet")) == 18


def test_sweep_resume_rebuilds_a_damaged_summary_and_says_so(tiny, tmp_path, capsys):
    spec, results, _ = tiny
    out = tmp_path / "out"
    shutil.copytree(results, out)
    original = tamper(out)
    capsys.readouterr()
    assert main(["sweep", str(spec), "--out", str(out), "--resume", "--serial"]) == 0
    err = capsys.readouterr().err
    assert "summary.parquet did not match the checksummed parts" in err and "rebuilt" in err
    pd.testing.assert_frame_equal(pd.read_parquet(out / "summary.parquet"), original)
    capsys.readouterr()
    assert main(["sweep", str(spec), "--out", str(out), "--resume", "--serial"]) == 0
    assert "summary.parquet" not in capsys.readouterr().err, "nothing to say when it is right"


def test_the_reports_headline_equals_the_consoles(sweep_folder, tmp_path, capsys):
    """Issue 25: the console (`abm summarise`, as `abm sweep` prints it) and the report lead
    with the same basis, discounted WELLBYs, rounded alike: the same text for every strategy
    and place."""
    assert main(["summarise", str(sweep_folder)]) == 0
    console = capsys.readouterr().out
    header = next(line for line in console.splitlines() if "WELLBYs (" in line)
    assert "WELLBYs (discounted at 1.5% a year)" in header
    out = tmp_path / "report"
    assert main(["report", str(sweep_folder), "--out", str(out)]) == 0
    t1 = pd.read_csv(out / "tables" / "T1_changes.csv", dtype=str)
    t1.columns = [c.lstrip("'") for c in t1.columns]
    cells = t1["WELLBYs (discounted at 1.5% a year)"].str.lstrip("'")
    seen = 0
    for line in console.splitlines():
        parts = line.split()
        if len(parts) > 3 and parts[0] in ("bradford", "devon_ics"):
            place, scenario = tables.place_name(parts[0]), tables.strategy_name(parts[1])
            row = t1[(t1.Place == place) & (t1.Strategy == scenario)].index[0]
            headline = cells[row].rsplit(" (", 1)[0]  # the value and interval, without words
            assert headline in line, (headline, line)
            verdict = t1.loc[row, tables.VERDICT].lstrip("'")
            assert verdict in line, (verdict, line)
            seen += 1
    assert seen == 4
    html = (out / "report.html").read_text()
    assert "WELLBYs (discounted at 1.5% a year)" in html
