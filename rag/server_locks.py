"""Turns between workstations on a shared index: PostgreSQL advisory locks, the server-mode
counterparts of rag/library_lock.py's ``flock`` and rag/run_marker.py's run files.

* ``AdvisoryLock``: a writer holds the library's lock exclusively from a document's "pending"
  row to its "complete" one, so a pending row found under the lock was left by a client that
  died (PostgreSQL releases a session's locks when its connection ends, however it ends).
  Searches take no lock: the Chroma server and PostgreSQL each keep their own data consistent,
  and a search only shows documents whose catalogue row is complete.
* ``AdvisoryRunMarker``: a run holds its own key shared while it goes; another client that can
  take the key exclusively knows the run is over, on whichever workstation it ran.

Each holds its own connection, in autocommit mode (a lock outlives transactions).
"""

from __future__ import annotations

import contextlib
import threading
import time
import uuid
from collections.abc import Iterator
from typing import Any

from rag.library_lock import WAIT_SECONDS, LibraryBusy
from rag.postgres import DatabaseOptions, IndexServerError, describe_failure

# The library's key: any fixed 64-bit number no other application on the server uses.
LIBRARY_KEY = 0x456E_636C_6176_6501


def _connect(options: DatabaseOptions) -> Any:
    import psycopg

    host, port = options.endpoint()
    try:
        return psycopg.connect(options.url, autocommit=True, **options.connection_arguments())
    except psycopg.OperationalError as exc:
        raise IndexServerError(describe_failure(host, port, exc)) from exc


class AdvisoryLock:
    """``exclusive()`` and ``shared()`` as rag.library_lock.LibraryLock's, re-entrant within
    the process; ``shared()`` holds nothing on a server (see the module's note)."""

    def __init__(self, options: DatabaseOptions, wait_seconds: float = WAIT_SECONDS) -> None:
        self._options = options
        self._wait = wait_seconds
        self._db: Any = None
        self._depth = 0
        self._guard = threading.RLock()

    @contextlib.contextmanager
    def exclusive(self) -> Iterator[None]:
        with self._guard:
            if self._depth == 0:
                self._acquire()
            self._depth += 1
            try:
                yield
            finally:
                self._depth -= 1
                if self._depth == 0:
                    self._db.execute("SELECT pg_advisory_unlock(%s)", (LIBRARY_KEY,))

    @contextlib.contextmanager
    def shared(self) -> Iterator[None]:
        yield

    def _acquire(self) -> None:
        if self._db is None:
            self._db = _connect(self._options)
        deadline = time.monotonic() + self._wait
        while not self._db.execute("SELECT pg_try_advisory_lock(%s)",
                                   (LIBRARY_KEY,)).fetchone()[0]:
            if time.monotonic() >= deadline:
                raise LibraryBusy("Another Enclave workstation has been writing to the shared "
                                  f"library for over {self._wait:.0f} seconds; try again when "
                                  "it has finished")
            time.sleep(0.05)

    def close(self) -> None:
        with self._guard:
            if self._db is not None:
                self._db.close()  # releases whatever it held
                self._db = None
                self._depth = 0


def _run_key(run: str) -> int:
    """A run id (hex) as a signed 64-bit lock key, never the library's."""
    key = int(run[:15], 16) if run else 0
    return key + 1 if key == LIBRARY_KEY else key


class AdvisoryRunMarker:
    """rag.run_marker.RunMarker's calls, with the run's key on the database server."""

    def __init__(self, options: DatabaseOptions) -> None:
        self._options = options
        self.id = uuid.uuid4().hex
        self._db: Any = None
        self._guard = threading.Lock()

    def hold(self) -> None:
        with self._guard:
            if self._db is None:
                self._db = _connect(self._options)
                self._db.execute("SELECT pg_advisory_lock_shared(%s)", (_run_key(self.id),))

    def is_going(self, run: str) -> bool:
        if run == self.id:
            return True
        with self._guard:
            db = self._db if self._db is not None else _connect(self._options)
            try:
                key = _run_key(run)
                if db.execute("SELECT pg_try_advisory_lock(%s)", (key,)).fetchone()[0]:
                    db.execute("SELECT pg_advisory_unlock(%s)", (key,))
                    return False
                return True
            finally:
                if db is not self._db:
                    db.close()

    def forget(self, run: str) -> None:
        """Nothing is left behind on the server: the key went with the run's connection."""

    def close(self) -> None:
        with self._guard:
            if self._db is not None:
                self._db.close()
                self._db = None
