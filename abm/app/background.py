"""Background work for the workshop app: one low-priority worker process, newest work first.

Every browser session asks for a few extra seeds whenever its settings change; a session
that moved on, or closed, leaves requests behind. Served first-come-first-served, a room
would wait behind everyone's stale requests; served newest first, the room that asked last
(the one looking at the screen) is served next. Cancelled requests are skipped.

The worker is spawned, not forked (the server runs threads), and runs at low priority
(``nice 10``) so that the rooms' own runs stay responsive.
"""

from __future__ import annotations

import heapq
import itertools
import multiprocessing
import os
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from typing import Any


class NewestFirst:
    """Runs submitted batches one call at a time in a worker process, newest batch first
    (and in order within a batch)."""

    def __init__(self):
        self._heap: list[tuple[int, int, Future, Callable, tuple]] = []
        self._batches = itertools.count()
        self._ready = threading.Condition()
        self._pool: ProcessPoolExecutor | None = None
        self._dispatcher: threading.Thread | None = None

    def submit_batch(self, fn: Callable, argument_lists: Sequence[tuple]) -> list[Future]:
        """Queue ``fn(*args)`` for each ``args``; return their futures (cancel to drop one)."""
        futures = [Future() for _ in argument_lists]
        with self._ready:
            batch = -next(self._batches)  # heapq pops the smallest: the newest batch
            for order, (future, args) in enumerate(zip(futures, argument_lists, strict=True)):
                heapq.heappush(self._heap, (batch, order, future, fn, args))
            if self._dispatcher is None:
                self._pool = ProcessPoolExecutor(
                    max_workers=1, initializer=os.nice, initargs=(10,),
                    mp_context=multiprocessing.get_context("spawn"))
                self._dispatcher = threading.Thread(target=self._dispatch, daemon=True,
                                                    name="abm-app-background")
                self._dispatcher.start()
            self._ready.notify()
        return futures

    def _dispatch(self) -> None:
        while True:
            with self._ready:
                while not self._heap:
                    self._ready.wait()
                _, _, future, fn, args = heapq.heappop(self._heap)
            if not future.set_running_or_notify_cancel():
                continue  # cancelled while queued
            try:
                result: Any = self._pool.submit(fn, *args).result()
            except Exception as error:  # reported through the future, like an executor
                future.set_exception(error)
            else:
                future.set_result(result)


_background: NewestFirst | None = None
_background_lock = threading.Lock()


def background() -> NewestFirst:
    """The one background queue of this server process (started on first use)."""
    global _background
    with _background_lock:
        if _background is None:
            _background = NewestFirst()
        return _background
