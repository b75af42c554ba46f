"""The ``abm`` command line: one tree of subcommands. Each module here parses its own
subcommands and delegates the work to the package that does it (model, experiments,
calibration, analysis, report, app).

Bad input (an unknown parameter, a value out of range, a malformed file, an unknown place
or rule, a folder that cannot be written) prints one line per problem naming what is wrong
and what is allowed, exits with code 2 and writes nothing: every command checks all its input
before it runs or writes anything. A full disk or a missing permission met later is one line
too, with exit code 2. Everything printed is escaped: no control character from a file name or
a YAML key reaches the terminal.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from abm.cli import calibration, decision, places, reports, runs, sweeps, viz
from abm.cli.common import EXIT_BAD_INPUT, report_problem
from abm.files.errors import InputError
from abm.files.provenance import version_text


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``abm`` console script."""
    parser = _parser()
    args = parser.parse_args(argv)
    try:
        return args.handler(args) or 0
    except InputError as error:
        for problem in error.problems:
            report_problem(problem)
        return EXIT_BAD_INPUT
    except OSError as error:  # an error no reader or writer turned into a sentence
        report_problem(f"{error.strerror or type(error).__name__}"
                       + (f": {error.filename}" if error.filename else ""))
        return EXIT_BAD_INPUT
    except KeyboardInterrupt:
        print("abm: interrupted", file=sys.stderr)
        return 130


class _Parser(argparse.ArgumentParser):
    """argparse, with its errors on one escaped line (usage is one ``--help`` away)."""

    def error(self, message: str):
        report_problem(f"{self.prog}: {message} (see {self.prog} --help)")
        raise SystemExit(EXIT_BAD_INPUT)


def _parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="abm",
        description="Community assets and health disparities: an agent-based model for ICSs.",
    )
    parser.add_argument("--version", action="version", version=version_text())
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for module in (runs, places, sweeps, viz, reports, calibration, decision):
        module.add_parser(commands)
    return parser
