"""The report's national section: for a sweep over many places (England, every ICB), where
each strategy does most for the gap and for WELLBYs per 1,000 residents, and why.

:func:`section` computes it (:mod:`abm.analysis.national`) and makes its files in memory: its
table (``TN``, as shown, and the raw numbers as ``national.csv`` and
``national_associations.csv`` in the results folder) and figure (``FN``); the report writes
them with its other files and shows the section (``abm/report/document.py``). Sweeps over
fewer than :data:`abm.analysis.national.MIN_PLACES` places have no national section
(``section`` returns None).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from abm.analysis import national, tables
from abm.analysis.figures import SweepData

TABLE_ID, FIGURE_ID = "TN", "FN"
TITLE = "Where each strategy does most: {n} places ranked"
TABLE_TITLE = "Places ranked by each strategy's effect on the gap and on WELLBYs"
TABLE_CAPTION = (
    "For each strategy, every place from the largest narrowing of the q5-q1 gap to the largest "
    "widening (rank 1 = narrowed most), with the mean change against the status quo over seeds "
    "and its 95% t-interval of paired differences; WELLBYs gained per 1,000 residents "
    "(discounted, whole policy period) with their interval and rank (1 = most); beside them "
    "the place's Core20 share (its LSOAs in national IMD deciles 1-2, from its place file), "
    "rural share and open providers per 1,000 residents in the status quo.")
FIGURE_TITLE = "Each strategy's change in the gap and WELLBYs per 1,000 residents, by place"
FIGURE_CAPTION = (
    "Mean change against the status quo over seeds with 95% intervals, one colour per "
    "strategy; places ordered by Core20 share (shown in brackets), most deprived at the top. "
    "Left of zero on the gap: narrowed.")


@dataclass(frozen=True)
class Section:
    """The national section of one report: what it shows and its files (path -> bytes)."""

    n_places: int
    table: pd.DataFrame  # display strings
    sentences: list[str]
    figure: dict[str, Path]  # format -> file
    ids: dict  # citable id -> what it is, its runs, files and command
    files: dict[Path, bytes]


def section(data: SweepData, folder: Path, out: Path, command: str) -> Section | None:
    """The national section of the report of the sweep in ``folder`` (its report in ``out``),
    made in memory; None when the sweep covers too few places to rank."""
    if not national.is_many_places(data.results):
        return None
    frame = national.national_frame(data.results, data.table, data.baseline)
    links = national.associations(frame)
    table = national.display_table(frame)
    table_file = out / "tables" / f"{TABLE_ID}_national.csv"
    stem = out / "figures" / f"{FIGURE_ID}_national"
    drawn = national.figure(frame)
    figure = {fmt: stem.with_suffix(f".{fmt}") for fmt in drawn}
    files = {folder / "national.csv": tables.csv_bytes(frame),
             folder / "national_associations.csv": tables.csv_bytes(links),
             table_file: tables.csv_bytes(table)} | {figure[fmt]: drawn[fmt] for fmt in drawn}
    run_ids = sorted(set(data.results.run_id))
    ids = {
        TABLE_ID: {"kind": "table", "title": TABLE_TITLE, "run_ids": run_ids,
                   "source": str(folder / "national.csv"), "file": str(table_file),
                   "command": command},
        FIGURE_ID: {"kind": "figure", "title": FIGURE_TITLE, "run_ids": run_ids,
                    "files": {k: str(v) for k, v in figure.items()}, "command": command},
    }
    return Section(frame.place.nunique(), table, national.sentences(frame, links), figure, ids,
                   files)
