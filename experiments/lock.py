"""A results folder belongs to one sweep at a time: a lock on the folder, with its holder named.

The lock is an exclusive ``flock`` on ``<folder>/.lock``; the file itself records the holder
(process id, host, start time, command) so that a second sweep is refused with a line that
says who holds the folder. The operating system releases the lock when its holder ends, however
it ends (Ctrl-C, a crash, ``kill -9``), so a lock left by a dead process is never mistaken for
a live one: the next sweep takes it over with a warning naming the process that left it.
A lock whose file names another host is refused rather than taken over, since this machine
cannot tell whether that process still runs (on a shared file system); the message says to
delete the file if it does not.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import fcntl
import json
import os
import socket
import stat
import sys
import time
from pathlib import Path

from abm.files.errors import InputError, ResourceError, clipped
from abm.files.io import cannot_write

LOCK_NAME = ".lock"
#: Seconds a refused sweep waits for the holder's record, to name the holder.
DETAILS_WAIT_SECONDS = 5.0
RETRIES = 10  # tenths of a second to keep trying a lock held by someone else


class FolderLock:
    """Hold ``folder`` for one sweep (``with FolderLock(folder) as lock: ...``).

    Entering makes the folder if needed, takes the lock or raises :class:`InputError` naming
    the holder. ``warning`` is set when a stale lock (its holder died) was taken over.
    """

    def __init__(self, folder: Path):
        self.folder = Path(folder)
        self.path = self.folder / LOCK_NAME
        self.warning: str | None = None
        self._fd: int | None = None

    def __enter__(self) -> FolderLock:
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW | os.O_CLOEXEC
                         | os.O_NONBLOCK, 0o644)
        except OSError as error:
            raise ResourceError(cannot_write(self.path, error)) from None
        try:
            if not stat.S_ISREG(os.fstat(fd).st_mode):
                raise InputError(f"{self.path}: not a regular file: delete it and run again")
            _take(fd, self.folder)
            previous = _holder(fd)
            if previous and previous.get("host") not in (None, socket.gethostname()):
                raise InputError(f"{self.folder} is locked by a sweep on another machine "
                                 f"({describe(previous)}); if it is no longer running, delete "
                                 f"{self.path} and run again")
            if previous:
                self.warning = (f"{self.folder} was left locked by a sweep that is no longer "
                                f"running ({describe(previous)}): taking it over")
            record = json.dumps({"pid": os.getpid(), "host": socket.gethostname(),
                                 "started_at": _now(),
                                 "command": clipped(" ".join(sys.argv), 300)}).encode()
            os.pwrite(fd, record, 0)
            os.ftruncate(fd, len(record))
        except OSError as error:
            os.close(fd)
            raise ResourceError(cannot_write(self.path, error)) from None
        except BaseException:
            os.close(fd)
            raise
        self._fd = fd
        return self

    def __exit__(self, *exc_info) -> None:
        """Empty the lock file (an empty file is a free folder) and release the lock."""
        if self._fd is None:
            return
        with contextlib.suppress(OSError):
            os.ftruncate(self._fd, 0)
        os.close(self._fd)  # closing releases the flock
        self._fd = None


def _take(fd: int, folder: Path) -> None:
    """Take the lock, or raise naming its holder. The lock is tried for a second before
    giving up: the holder may be :func:`holder` looking for a moment, not a sweep."""
    for attempt in range(RETRIES + 1):
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return
        except BlockingIOError:
            record = _holder(fd)
            if attempt == RETRIES:
                # the holder writes its record just after taking the lock; on a busy machine
                # that can take a moment, so wait a little for it to name the holder
                waited = 0.0
                while record is None and waited < DETAILS_WAIT_SECONDS:
                    time.sleep(0.1)
                    waited += 0.1
                    record = _holder(fd)
                raise InputError(f"{folder} is in use by another sweep ({describe(record)}): "
                                 "wait for it to finish, or choose another --out") from None
            time.sleep(0.1)


def holder(folder: Path) -> dict | None:
    """Who holds ``folder`` now: the holder's record if a live process holds the lock, else
    None. Reads only; never takes the lock for longer than the test."""
    path = Path(folder) / LOCK_NAME
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC | os.O_NONBLOCK)
    except OSError:
        return None
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            return None
        try:
            fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
        except BlockingIOError:
            return _holder(fd) or {}
        fcntl.flock(fd, fcntl.LOCK_UN)
        return None
    finally:
        os.close(fd)


def describe(record: dict | None) -> str:
    """The holder of a lock in words: ``pid 4242 on host lab-3, since 2026-...: abm sweep ...``."""
    if not record:
        return "details not yet written"
    return (f"pid {record.get('pid', '?')} on host {clipped(record.get('host', '?'), 60)}, "
            f"since {clipped(record.get('started_at', '?'), 40)}: "
            f"{clipped(record.get('command', '?'), 160)}")


def _holder(fd: int) -> dict | None:
    """The record in an open lock file, or None if it is empty or unreadable."""
    try:
        data = os.pread(fd, 4096, 0)
        record = json.loads(data) if data.strip() else None
    except (OSError, ValueError):
        return None
    return record if isinstance(record, dict) else None


def _now() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
