"""A sweep's progress: a bar on a terminal, a line every few runs anywhere else.

A sweep run from a terminal shows a tqdm bar. One whose output goes to a log file, a CI job or
``ray job submit`` would otherwise be silent for hours; there it logs a line each time another
twentieth of the runs has finished: runs done of the total, failures, and the time left at the
pace so far.
"""

from __future__ import annotations

import math
import sys
import time
from typing import TextIO

from tqdm import tqdm

#: Lines logged over a whole sweep when not on a terminal (about one per 5% of the runs).
LINES_PER_SWEEP = 20


class Progress:
    """Counts finished runs of ``total`` (those to run in this invocation) and reports them."""

    def __init__(self, total: int, stream: TextIO | None = None):
        self.stream = stream or sys.stderr
        self.total, self.done, self.failed = total, 0, 0
        self.every = max(1, math.ceil(total / LINES_PER_SWEEP))
        self._started = time.monotonic()
        terminal = getattr(self.stream, "isatty", lambda: False)()
        self._bar = (tqdm(total=total, unit="run", desc="runs", dynamic_ncols=True,
                          file=self.stream) if terminal and total else None)

    def update(self, done: int, failed: int) -> None:
        """Record ``done`` more runs finished, ``failed`` more failed."""
        before = self.done + self.failed
        self.done += done
        self.failed += failed
        if self._bar is not None:
            self._bar.update(done + failed)
            return
        after = self.done + self.failed
        if after // self.every > before // self.every or after == self.total:
            print(f"abm: {self.line()}", file=self.stream, flush=True)

    def line(self) -> str:
        """``40/160 runs finished, 1 failed, about 3 min left``."""
        finished = self.done + self.failed
        text = f"{finished:,}/{self.total:,} runs finished, {self.failed:,} failed"
        left = self.total - finished
        if left and finished:
            seconds = (time.monotonic() - self._started) / finished * left
            text += f", about {_duration(seconds)} left"
        return text

    def close(self) -> None:
        if self._bar is not None:
            self._bar.close()


def _duration(seconds: float) -> str:
    """``45 s``, ``12 min``, ``3.5 h``: a rough time, as an ETA should be."""
    if seconds < 90:
        return f"{max(1, round(seconds))} s"
    if seconds < 90 * 60:
        return f"{round(seconds / 60)} min"
    return f"{seconds / 3600:.1f} h"
