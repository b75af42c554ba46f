"""Checks of values read from users' files, shared by the place, scenario and sweep validators."""

from __future__ import annotations

import math
from pathlib import Path

from abm.errors import clipped, shown
from abm.parameters import BY_NAME, unknown_name_message
from abm.yamlfile import LineDict


def is_whole(value: object) -> bool:
    """A whole number (not a bool, which YAML and Python would otherwise let through)."""
    return isinstance(value, int) and not isinstance(value, bool)


def is_number(value: object) -> bool:
    """A finite number (whole or not; not a bool)."""
    return is_whole(value) or (isinstance(value, float) and math.isfinite(value))


def parameter_values(data: LineDict, key: str, path: Path) -> tuple[dict, list[str]]:
    """The parameter changes under ``data[key]`` that the declaration accepts, and one problem
    line (file, line, name, value, what is allowed) for each it does not."""
    raw = data.get(key)
    if raw is None:
        return {}, []
    if not isinstance(raw, dict):
        return {}, [f"{path}:{data.line_of(key)}: '{key}' = {shown(raw)}: allowed is a mapping of "
                    "parameter names to values"]
    values, found = {}, []
    for name, value in raw.items():
        line = raw.line_of(name) if isinstance(raw, LineDict) else data.line_of(key)
        if name not in BY_NAME:
            message = unknown_name_message("parameter", clipped(name), BY_NAME, "abm parameters")
            found.append(f"{path}:{line}: {message}")
        elif (problem := parameter_problem(name, value)) is not None:
            found.append(f"{path}:{line}: {problem}")
        else:
            values[name] = value
    return values, found


def parameter_problem(name: str, value: object) -> str | None:
    """What is wrong with ``value`` for the declared parameter ``name`` (None if nothing), with
    a value that is not a number (text, a list, a mapping: perhaps huge) shown shortened."""
    parameter = BY_NAME[name]
    if isinstance(value, int | float):  # bools too: the declaration names their type
        return parameter.problem_with(value)
    return (f"parameter '{name}' has the wrong type: got {shown(value)}, "
            f"allowed is {parameter.allowed()}")
