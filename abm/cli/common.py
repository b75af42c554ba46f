"""What every ``abm`` subcommand shares: exit codes, how a problem is printed, and the
``--set NAME=VALUE`` option typed by the parameter declaration."""

from __future__ import annotations

import argparse
import sys

from abm.files.errors import InputError, clipped, printable, shown, unknown_name_message
from abm.model.parameters import BY_NAME

EXIT_BAD_INPUT = 2
EXIT_INCOMPLETE = 1
#: Longest problem line printed (characters): the first part and the end (what is allowed)
#: of a longer one are kept.
MAX_LINE = 1_000


def report_problem(problem: str) -> None:
    """Print one problem as one safe line: escaped, and cut in the middle if very long."""
    line = printable(problem)
    if len(line) > MAX_LINE:
        line = f"{line[:MAX_LINE - 300]} ... {line[-290:]}"
    print(f"abm: error: {line}", file=sys.stderr)


def collect(problems: list[str], check, *args):
    """``check(*args)``, or None with its problems added to ``problems``."""
    try:
        return check(*args)
    except InputError as error:
        problems += error.problems
        return None


def add_set(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--set", action="append", default=[], metavar="NAME=VALUE",
                        help="change a parameter, e.g. --set budget_gbp_per_head=12 (repeatable)")


def parse_settings(settings: list[str]) -> dict:
    """``["a=1", "b=0.5"]`` -> ``{"a": 1, "b": 0.5}``, typed by the parameter declaration."""
    values, problems = {}, []
    for setting in settings:
        name, sep, text = setting.partition("=")
        name = name.strip()
        if not sep:
            problems.append(
                f"--set {shown(setting)}: allowed is NAME=VALUE, e.g. --set shock_rate=0.005")
            continue
        parameter = BY_NAME.get(name)
        if parameter is None:
            message = unknown_name_message("parameter", clipped(name), BY_NAME,
                                           "abm parameters")
            problems.append(f"--set: {message}")
            continue
        try:
            value = parameter.type(text) if parameter.type is int else float(text)
        except ValueError:
            problems.append(
                f"--set: parameter '{name}' = {shown(text)}: allowed is {parameter.allowed()}")
            continue
        if (problem := parameter.problem_with(value)) is not None:
            problems.append(f"--set: {problem}")
        values[name] = value
    if problems:
        raise InputError(problems)
    return values


def check_years(years: float) -> float:
    if not 0 < years <= 100:
        raise InputError(f"--years = {years:g}: allowed is a number above 0 and at most 100")
    return years
