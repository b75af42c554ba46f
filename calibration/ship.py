"""Make a finished calibration the project's defaults (run by a maintainer, then review the diff):

    python -m calibration.ship results/calibration/main

1. copies its outputs (posterior, fit report and figure, parameter table, spec, summary, and
   the checks: emulator validation, coverage, the ABC stopping line) into
   ``calibration/calibrated/main/``, where ``make main`` finds the posterior;
2. copies its ``calibrated.yaml`` to ``scenarios/calibrated/main.yaml``, which the baseline, and
   so every shipped scenario, extends;
3. rewrites each calibrated parameter's default and source in ``abm/model/parameters.py``: the
   posterior median and "calibrated: <id> (...); before calibration: <the previous source>".

Then regenerate the ODD table (``python docs/parameter_table.py``) and the pinned baseline
(``python -m tests.make_baseline --why ...``); ``tests/model/test_parameters.py`` checks that the
declaration and ``scenarios/calibrated/main.yaml`` agree.
"""

from __future__ import annotations

import argparse
import ast
import json
import sys
import textwrap
from pathlib import Path

from abm.files.errors import InputError, printable
from abm.files.io import write_bytes, write_text
from abm.model.scenarios import load_scenario

ROOT = Path(__file__).resolve().parents[1]
OUTPUTS = ("calibration.json", "calibrated.yaml", "spec.yaml", "posterior.parquet",
           "posterior_particles.parquet", "parameters.csv", "fit_report.csv", "fit.png",
           "history_matching.parquet")
#: The checks' outputs, copied when the calibration has them (a calibration without
#: history matching has no emulator to validate; coverage_truths: 0 leaves coverage out;
#: abc.kernel: gaussian runs no ABC generations), and removed from the shipped folder when
#: it has not (they would be another calibration's).
CHECKS = ("emulator_validation.csv", "coverage.csv", "abc_stop.json", "identifiability.csv",
          "abc_generations.csv")
BEFORE = "; before calibration: "
LINE = 100  # the project's line length (ruff)


def ship(folder: Path, root: Path = ROOT) -> int:
    """Ship the calibration in ``folder``; returns the number of parameters rewritten.
    Everything is read and checked before anything is written."""
    missing = [name for name in OUTPUTS if not (folder / name).is_file()]
    if missing:
        raise InputError(f"{folder}: not a finished calibration (missing "
                         f"{', '.join(missing)})")
    values = dict(load_scenario(folder / "calibrated.yaml").parameters)
    sources = json.loads((folder / "calibration.json").read_text(encoding="utf-8"))["sources"]
    declaration = root / "abm" / "model" / "parameters.py"
    text = rewrite_defaults(declaration.read_text(encoding="utf-8"), values, sources)
    target = root / "calibration" / "calibrated" / "main"
    scenario = root / "scenarios" / "calibrated" / "main.yaml"
    for folder_made in (target, scenario.parent):
        folder_made.mkdir(parents=True, exist_ok=True)
    for name in (*OUTPUTS, *(n for n in CHECKS if (folder / n).is_file())):
        write_bytes((folder / name).read_bytes(), target / name)
    for name in CHECKS:
        if not (folder / name).is_file():
            (target / name).unlink(missing_ok=True)
    write_bytes((folder / "calibrated.yaml").read_bytes(), scenario)
    write_text(text, declaration)
    return len(values)


def rewrite_defaults(text: str, values: dict, sources: dict) -> str:
    """``abm/model/parameters.py`` with each ``_p(name, type, default, ..., source, ...)`` of
    ``values`` given the new default and source (the previous source kept after it)."""
    starts = [0]
    for line in text.splitlines(keepends=True):
        starts.append(starts[-1] + len(line))

    def offset(node: ast.expr, end: bool = False) -> int:
        return (starts[node.end_lineno - 1] + node.end_col_offset if end
                else starts[node.lineno - 1] + node.col_offset)

    edits = []
    for node in ast.walk(ast.parse(text)):
        if not (isinstance(node, ast.Call) and getattr(node.func, "id", None) == "_p"):
            continue
        name = node.args[0].value if isinstance(node.args[0], ast.Constant) else None
        if name not in values:
            continue
        default, source = node.args[2], node.args[7]
        previous = ast.literal_eval(source)
        if previous.startswith("calibrated:") and BEFORE in previous:
            previous = previous.split(BEFORE, 1)[1]
        indent = " " * (node.col_offset + 3)  # the declaration's continuation lines
        pieces = textwrap.wrap(f"{sources[name]}{BEFORE}{previous}",
                               LINE - len(indent) - 3, drop_whitespace=False,
                               break_on_hyphens=False)
        literal = "".join(f"\n{indent}{json.dumps(piece, ensure_ascii=False)}"
                          for piece in pieces)
        # The source gets lines of its own: from the comma before it to the comma after it.
        start = text.rindex(",", 0, offset(source)) + 1
        end = text.index(",", offset(source, end=True)) + 1
        rest = len(text[end:]) - len(text[end:].lstrip(" "))
        edits += [(start, end + rest, f"{literal},\n{indent}" if text[end + rest] != "\n"
                   else f"{literal},"),
                  (offset(default), offset(default, end=True), repr(values[name]))]
    if len(edits) != 2 * len(values):
        raise InputError("some calibrated parameters are not declared in abm/model/parameters.py")
    for start, end, new in sorted(edits, reverse=True):
        text = text[:start] + new + text[end:]
    return text


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("folder", type=Path, help="the --out folder of abm calibrate")
    try:
        count = ship(parser.parse_args().folder)
    except InputError as error:
        print(f"calibration.ship: error: {printable(str(error))}", file=sys.stderr)
        sys.exit(2)
    print(f"shipped: {count} parameters; now run python docs/parameter_table.py and "
          "python -m tests.make_baseline --why '...'")


if __name__ == "__main__":
    main()
