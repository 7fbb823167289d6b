"""One library, several processes: the window open while a CLI or scheduled ingest runs, or two
windows. Embedded Chroma keeps each process's vectors in memory and writes them out as its own,
so two writers at once lose each other's vectors for good (measured: 3 of 3 concurrent ingests
left passages whose vectors Chroma could not find). This lock makes them take turns.

``library.lock`` beside the database is held with ``flock``: exclusively while a process writes
(or opens Chroma, which may write), shared while it searches. A process that finds the library's
generation changed since it opened Chroma (another process wrote) opens it again before using
it, so it never searches or writes on a stale copy. The lock goes with the process: a process
that is killed holds nothing.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import threading
import time
from collections.abc import Iterator
from pathlib import Path

LOCK_FILE = "library.lock"
# How long a process waits for another one's write (one batch of documents: seconds) before it
# says the library is busy.
WAIT_SECONDS = 600.0


class LibraryBusy(RuntimeError):
    """Another Enclave process kept the library locked for longer than we wait."""


class LibraryLock:
    """Re-entrant within a process (a write may search; a search inside a write stays
    exclusive). Callers hold their own thread lock around it."""

    def __init__(self, index_dir: Path, wait_seconds: float = WAIT_SECONDS) -> None:
        self._path = index_dir / LOCK_FILE
        self._wait = wait_seconds
        self._fd: int | None = None
        self._mode = 0  # fcntl.LOCK_SH or LOCK_EX while held
        self._depth = 0
        self._guard = threading.RLock()

    @contextlib.contextmanager
    def exclusive(self) -> Iterator[None]:
        with self._held(fcntl.LOCK_EX):
            yield

    @contextlib.contextmanager
    def shared(self) -> Iterator[None]:
        with self._held(fcntl.LOCK_SH):
            yield

    @contextlib.contextmanager
    def _held(self, mode: int) -> Iterator[None]:
        with self._guard:
            if self._depth and (self._mode == fcntl.LOCK_EX or mode == fcntl.LOCK_SH):
                self._depth += 1  # already held as strongly as asked
                try:
                    yield
                finally:
                    self._depth -= 1
                return
            previous = self._mode if self._depth else 0
            self._acquire(mode)
            self._depth += 1
            try:
                yield
            finally:
                self._depth -= 1
                if previous:
                    self._acquire(previous)  # back to the shared hold a search had
                else:
                    self._release()

    def _acquire(self, mode: int) -> None:
        if self._fd is None:
            self._fd = os.open(self._path, os.O_RDWR | os.O_CREAT, 0o600)
        deadline = time.monotonic() + self._wait
        while True:
            try:
                fcntl.flock(self._fd, mode | fcntl.LOCK_NB)
                self._mode = mode
                return
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    raise LibraryBusy(
                        "Another Enclave window or command has been writing to this library "
                        f"for over {self._wait:.0f} seconds; try again when it has finished"
                    ) from None
                time.sleep(0.05)

    def _release(self) -> None:
        if self._fd is not None:
            fcntl.flock(self._fd, fcntl.LOCK_UN)
            self._mode = 0

    def close(self) -> None:
        with self._guard:
            if self._fd is not None:
                os.close(self._fd)
                self._fd = None
                self._mode = 0
                self._depth = 0
