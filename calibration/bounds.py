"""Every command counts its runs before building any, and applies the sweep's cap.

The count is worked out from the spec's or the command line's numbers (points x seeds x
places x scenarios ...), never by listing the runs, so a typo asking for years of work (or
for a list of specs that would fill the memory) is refused at once, in one line naming what
to change. The cap is the sweep's (:data:`experiments.spec.DEFAULT_MAX_RUNS` runs), raised with
``--max-runs`` up to :data:`experiments.spec.MAX_RUNS_LIMIT`.
"""

from __future__ import annotations

import math

from abm.files.checks import is_whole
from abm.files.errors import InputError, shown
from experiments.spec import DEFAULT_MAX_RUNS, MAX_RUNS_LIMIT


def run_limit(max_runs: int | None) -> int:
    """The cap on runs: ``--max-runs`` if given (checked), else the sweep's default."""
    if max_runs is None:
        return DEFAULT_MAX_RUNS
    if not (is_whole(max_runs) and 1 <= max_runs <= MAX_RUNS_LIMIT):
        raise InputError(f"--max-runs = {shown(max_runs)}: allowed is a whole number from 1 to "
                         f"{MAX_RUNS_LIMIT:,}")
    return int(max_runs)


def check_runs(where: str, what: str, factors: dict[str, int], limit: int,
               extra: int = 0) -> int:
    """The number of runs, the product of ``factors`` (name -> count) plus ``extra``; raise
    :class:`InputError` naming ``where`` (the file or option) if it exceeds ``limit``."""
    runs = math.prod(factors.values()) + extra
    if runs > limit:
        parts = " x ".join(f"{count:,} {name}" for name, count in factors.items())
        if extra:
            parts += f" + {extra:,} more"
        raise InputError(f"{where}: {what} would make {runs:,} runs ({parts}): allowed is at "
                         f"most {limit:,}; to run more, give --max-runs")
    return runs


def total_runs(where: str, what: str, counts: dict[str, int], limit: int) -> int:
    """The sum of several stages' runs (stage name -> runs); refused above ``limit``."""
    runs = sum(counts.values())
    if runs > limit:
        parts = " + ".join(f"{count:,} {name}" for name, count in counts.items() if count)
        raise InputError(f"{where}: {what} would make up to {runs:,} runs ({parts}): allowed is "
                         f"at most {limit:,}; to run more, give --max-runs")
    return runs
