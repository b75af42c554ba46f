"""Regenerate the parameter table in docs/ODD.md from :data:`abm.model.parameters.PARAMETERS`.

Run from anywhere with the project's Python::

    python docs/parameter_table.py

The table replaces whatever lies between the lines ``<!-- parameters:start -->`` and
``<!-- parameters:end -->`` in docs/ODD.md; nothing else in the file changes. The test
``tests/test_docs.py`` fails when the file and :func:`render` disagree.
"""

from __future__ import annotations

import sys
from itertools import groupby
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # so the script runs without the package installed
    sys.path.insert(0, str(ROOT))

from abm.model.parameters import PARAMETERS, Parameter  # noqa: E402

ODD = ROOT / "docs" / "ODD.md"
START = "<!-- parameters:start -->"
END = "<!-- parameters:end -->"
COLUMNS = ("Name", "Default", "Allowed range", "Plausible range", "Unit", "Meaning", "Source")


def number(x: int | float) -> str:
    """A parameter value as written in the table: 20,000; 0.004; 40,000."""
    if isinstance(x, int):
        return f"{x:,}"
    if x.is_integer() and abs(x) >= 1_000:
        return f"{x:,.0f}"
    return f"{x:g}"


def cell(text: str) -> str:
    """Text safe inside a markdown table cell."""
    return " ".join(text.split()).replace("|", "\\|")


def row(p: Parameter) -> str:
    plausible = (f"{number(p.plausible_low)} to {number(p.plausible_high)}" if p.sampled
                 else "(setting)")
    values = (f"`{p.name}`", number(p.default), f"{number(p.low)} to {number(p.high)}",
              plausible, p.unit, p.meaning, p.source)
    return "| " + " | ".join(cell(v) for v in values) + " |"


def render() -> str:
    """The parameter tables, one per group in declaration order, ending with a newline."""
    header = "| " + " | ".join(COLUMNS) + " |\n|" + "---|" * len(COLUMNS)
    blocks = []
    for group, members in groupby(PARAMETERS, key=lambda p: p.group):
        rows = "\n".join(row(p) for p in members)
        blocks.append(f"### Group: {group}\n\n{header}\n{rows}\n")
    return "\n" + "\n".join(blocks) + "\n"


def replace_table(text: str, table: str) -> str:
    """``text`` with everything between the marker lines replaced by ``table``."""
    if text.count(START) != 1 or text.count(END) != 1:
        raise SystemExit(f"{ODD}: expected one '{START}' line and one '{END}' line")
    head, rest = text.split(START + "\n", 1)
    _, tail = rest.split(END, 1)
    return f"{head}{START}\n{table}{END}{tail}"


def main() -> None:
    groups = [g for g, _ in groupby(PARAMETERS, key=lambda p: p.group)]
    if len(groups) != len(set(groups)):
        raise SystemExit("abm/model/parameters.py declares a group in two separate runs: "
                         f"{groups}; keep each group's parameters together")
    ODD.write_text(replace_table(ODD.read_text(encoding="utf-8"), render()), encoding="utf-8")
    print(f"wrote {len(PARAMETERS)} parameters in {len(groups)} groups to {ODD}")


if __name__ == "__main__":
    main()
