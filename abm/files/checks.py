"""Checks of values read from users' files, shared by the place, scenario and sweep validators."""

from __future__ import annotations

import math


def is_whole(value: object) -> bool:
    """A whole number (not a bool, which YAML and Python would otherwise let through)."""
    return isinstance(value, int) and not isinstance(value, bool)


def is_number(value: object) -> bool:
    """A finite number (whole or not; not a bool)."""
    return is_whole(value) or (isinstance(value, float) and math.isfinite(value))
