"""The report's section on the best mixes: a frontier results folder (``abm frontier --out``)
as HTML and Markdown, for ``abm report FOLDER --frontier DIR``.

It says in words which mixes are on the frontier, what narrowing the gap costs in WELLBYs
between the most efficient and the most equitable of them, and how robust each is, then gives
the table (each mix in words with its intervals and probabilities) and the figure
(efficiency against equity, embedded as SVG). Without a frontier folder it says so in one
line instead of failing the report.
"""

from __future__ import annotations

import base64
import html
import json
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from abm.decision.objectives import OBJECTIVES
from abm.decision.outputs import value_words
from abm.model.places import load_place

TITLE = "The best mixes of strategies"


@dataclass(frozen=True)
class FrontierSection:
    """The section as HTML and as Markdown (figures referenced from the frontier folder)."""

    html: str
    markdown: str
    available: bool


def read_frontier(folder: str | Path) -> tuple[dict, pd.DataFrame, pd.DataFrame] | None:
    """``frontier.json``, the frontier (one row per mix) and its table in words, or None if
    ``folder`` holds no finished frontier."""
    folder = Path(folder)
    try:
        meta = json.loads((folder / "frontier.json").read_text(encoding="utf-8"))
        front = pd.read_parquet(folder / "frontier.parquet")
        table = pd.read_csv(folder / "frontier_table.csv")
    except (OSError, ValueError):
        return None
    return meta, front, table


def sentences(meta: dict, front: pd.DataFrame, words: list[str]) -> list[str]:
    """What the frontier says, in plain words."""
    place = load_place(meta["place"]).title
    names = meta["objectives"]
    out = [f"In {place}, {len(front)} of the {meta['mixes_evaluated']} mixes evaluated are on "
           f"the frontier: no other mix evaluated does better on every objective at once "
           f"({meta['draws']} posterior draws x {meta['seeds']} seeds each, {meta['years']:g} "
           "policy years, paired with the status quo)."]
    if not len(front):
        return out
    for name in names[:2]:
        o = OBJECTIVES[name]
        best = front[name].idxmax() if o.higher_is_better else front[name].idxmin()
        r = front.loc[best]
        out.append(f"Best for {o.label}: mix {best + 1} ({words[best]}): "
                   f"{value_words(r[name], o)} {o.unit} [90% interval "
                   f"{value_words(r[name + '_lo'], o)} to {value_words(r[name + '_hi'], o)}], "
                   f"better than the status quo in {r[name + '_p_better']:.0%} of "
                   f"{meta['units']}.")
    if {"wellbys", "gap"} <= set(names) and len(front) > 1:
        efficient, equitable = front["wellbys"].idxmax(), front["gap"].idxmin()
        if efficient != equitable:
            lost = front.loc[efficient, "wellbys"] - front.loc[equitable, "wellbys"]
            narrower = front.loc[efficient, "gap"] - front.loc[equitable, "gap"]
            out.append(f"Going from the most efficient mix to the most equitable narrows the "
                       f"gap by a further {narrower:.4f} points and costs {lost:,.0f} WELLBYs.")
    return out


def frontier_section(folder: str | Path | None) -> FrontierSection:
    """The section for the frontier in ``folder`` (or a one-line note if there is none)."""
    found = read_frontier(folder) if folder is not None else None
    heading = f'<h2 id="frontier">{TITLE}</h2>'
    if found is None:
        note = (f"No frontier results in {folder} (make them with `abm frontier SPEC --out "
                "DIR`).") if folder is not None else "No frontier results were given."
        return FrontierSection(f"{heading}<p>{html.escape(note)}</p>",
                               f"## {TITLE}\n\n{note}\n", False)
    meta, front, table = found
    folder = Path(folder)
    said = sentences(meta, front, list(table["in words"]))
    command = f"abm frontier {meta['spec']} --out {folder}"
    parts = [heading, "<ul>", *[f"<li>{html.escape(s)}</li>" for s in said], "</ul>"]
    svg = folder / "frontier.svg"
    if svg.is_file():
        data = base64.b64encode(svg.read_bytes()).decode()
        parts.append(f'<figure id="FR1"><img alt="The best mixes: efficiency against equity" '
                     f'src="data:image/svg+xml;base64,{data}"><figcaption><b>FR1.</b> Each '
                     "point a mix: grey, every mix evaluated; blue, the frontier, numbered as "
                     "in the table, with 90% intervals; the status quo at 0, 0.</figcaption>"
                     "</figure>")
    head = "".join(f"<th>{html.escape(str(c))}</th>" for c in table.columns)
    body = "".join("<tr>" + "".join(f"<td>{html.escape(str(v))}</td>" for v in row) + "</tr>"
                   for row in table.itertuples(index=False))
    parts += [f"<h3 id=\"FT1\">FT1. The frontier's mixes</h3><table><thead><tr>{head}</tr>"
              f"</thead><tbody>{body}</tbody></table>",
              f"<div class=\"cite\">Frontier spec sha256 <code>{meta['spec_sha256']}</code>; "
              f"regenerate: <code>{html.escape(command)}</code>; each mix as a scenario file in "
              f"<code>{html.escape(str(folder / 'scenarios'))}</code>.</div>"]
    md = [f"## {TITLE}", "", *[f"- {s}" for s in said], ""]
    if (folder / "frontier.png").is_file():
        md += [f"![FR1: efficiency against equity]({(folder / 'frontier.png').as_posix()})", ""]
    md += ["### FT1. The frontier's mixes", "",
           "| " + " | ".join(map(str, table.columns)) + " |",
           "|" + "---|" * len(table.columns),
           *["| " + " | ".join(str(v).replace("|", "\\|") for v in row) + " |"
             for row in table.itertuples(index=False)], "",
           f"> Frontier spec sha256 `{meta['spec_sha256']}`; regenerate: `{command}`", ""]
    return FrontierSection("\n".join(parts), "\n".join(md), True)
