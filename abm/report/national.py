"""The report's national section: for a sweep over many places (England, every ICB), where
each strategy does most for the gap and for WELLBYs per 1,000 residents, and why.

:func:`section` computes it (:mod:`abm.analysis.national`) and writes its table (``TN``, as
shown, and the raw numbers as ``national.csv`` in the results folder) and figure (``FN``);
:func:`html` and :func:`markdown` give the report's lines. Sweeps over fewer than
:data:`abm.analysis.national.MIN_PLACES` places have no national section (``section``
returns None and the other two return nothing).
"""

from __future__ import annotations

import base64
import html as _html
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from abm.analysis import national
from abm.analysis.figures import SweepData
from abm.files.io import write_csv

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


@dataclass
class Section:
    """The national section of one report: what it shows and the files behind it."""

    n_places: int
    table: pd.DataFrame  # display strings
    sentences: list[str]
    figure: dict[str, Path]  # format -> file
    ids: dict  # citable id -> what it is, its runs, files and command
    files: dict[str, Path] = field(default_factory=dict)  # what was written


def section(data: SweepData, folder: Path, out: Path, command: str) -> Section | None:
    """Compute and write the national section of the report of the sweep in ``folder`` (its
    report in ``out``); None when the sweep covers too few places to rank."""
    if not national.is_many_places(data.results):
        return None
    frame = national.national_frame(data.results, data.table, data.baseline)
    links = national.associations(frame)
    table = national.display_table(frame)
    files = {
        "national_csv": write_csv(frame, folder / "national.csv"),
        "national_links_csv": write_csv(links, folder / "national_associations.csv"),
        TABLE_ID: write_csv(table, out / "tables" / f"{TABLE_ID}_national.csv"),
    }
    figure = national.figure(frame, out / "figures" / f"{FIGURE_ID}_national")
    run_ids = sorted(set(data.results.run_id))
    ids = {
        TABLE_ID: {"kind": "table", "title": TABLE_TITLE, "run_ids": run_ids,
                   "source": str(folder / "national.csv"), "file": str(files[TABLE_ID]),
                   "command": command},
        FIGURE_ID: {"kind": "figure", "title": FIGURE_TITLE, "run_ids": run_ids,
                    "files": {k: str(v) for k, v in figure.items()},
                    "command": command},
    }
    return Section(frame.place.nunique(), table, national.sentences(frame, links), figure, ids,
                   files | {f"{FIGURE_ID}_{k}": v for k, v in figure.items()})


def html(part: Section | None, ids: dict) -> list[str]:
    """The section's HTML (nothing without a section)."""
    if part is None:
        return []
    svg = base64.b64encode(part.figure["svg"].read_bytes()).decode()
    head = "".join(f"<th>{_e(c)}</th>" for c in part.table.columns)
    body = "".join("<tr>" + "".join(f"<td>{_e(v)}</td>" for v in row) + "</tr>"
                   for row in part.table.itertuples(index=False))
    return [
        f'<h2 id="national">{_e(TITLE.format(n=part.n_places))}</h2><ul class="summary">',
        *[f"<li>{_e(s)}</li>" for s in part.sentences], "</ul>",
        f'<h3 id="{TABLE_ID}">{TABLE_ID}. {_e(TABLE_TITLE)}</h3><p>{_e(TABLE_CAPTION)}</p>',
        f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>",
        _cite_html(ids, TABLE_ID),
        f'<figure id="{FIGURE_ID}"><img alt="{FIGURE_ID}: {_e(FIGURE_TITLE)}" '
        f'src="data:image/svg+xml;base64,{svg}"><figcaption><b>{FIGURE_ID}. '
        f"{_e(FIGURE_TITLE)}.</b> {_e(FIGURE_CAPTION)}</figcaption></figure>",
        _cite_html(ids, FIGURE_ID),
    ]


def markdown(part: Section | None, ids: dict, out: Path) -> list[str]:
    """The section's Markdown lines (nothing without a section)."""
    if part is None:
        return []
    rows = ["| " + " | ".join(str(c) for c in part.table.columns) + " |",
            "|" + "---|" * len(part.table.columns),
            *["| " + " | ".join(str(v).replace("|", "\\|") for v in row) + " |"
              for row in part.table.itertuples(index=False)]]
    figure = part.figure["png"].relative_to(out).as_posix()
    return [f"## {TITLE.format(n=part.n_places)}", "", *[f"- {s}" for s in part.sentences], "",
            f"### {TABLE_ID}. {TABLE_TITLE}", "", TABLE_CAPTION, "", *rows, "",
            _cite_markdown(ids, TABLE_ID), "", f"### {FIGURE_ID}. {FIGURE_TITLE}", "",
            f"![{FIGURE_ID}: {FIGURE_TITLE}]({figure})", "", FIGURE_CAPTION, "",
            _cite_markdown(ids, FIGURE_ID), ""]


def _cite_html(ids: dict, item: str) -> str:
    entry = ids["ids"][item]
    return (f'<div class="cite">Cite as <b>{item}</b> of sweep <code>{_e(ids["sweep_id"])}'
            f"</code>, manifest sha256 <code>{_e(ids['manifest_sha256'])}</code>; "
            f"{len(entry['run_ids'])} runs. Regenerate: <code>{_e(entry['command'])}</code>"
            f"<details><summary>Run ids</summary><code>{_e(' '.join(entry['run_ids']))}"
            "</code></details></div>")


def _cite_markdown(ids: dict, item: str) -> str:
    entry = ids["ids"][item]
    return (f"> Cite as **{item}** of sweep `{ids['sweep_id']}`, manifest sha256 "
            f"`{ids['manifest_sha256']}`; {len(entry['run_ids'])} runs (ids in `ids.json`). "
            f"Regenerate: `{entry['command']}`")


def _e(text) -> str:
    return _html.escape(str(text))
