"""Telling a run that is still going from one that was killed.

Each process that writes to a library holds ``runs/<id>.lock`` (``flock``, shared) beside the
database for as long as its Library is open; the operating system releases it when the process
ends, however it ends. Another process that can take the same file exclusively knows that run
is over: documents it indexed but never reported (rag/catalog.py ``unreported``) are then the
next run's to report.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import uuid
from pathlib import Path

RUNS_DIR = "runs"


class RunMarker:
    def __init__(self, index_dir: Path) -> None:
        self._dir = index_dir / RUNS_DIR
        self.id = uuid.uuid4().hex
        self._fd: int | None = None

    def hold(self) -> None:
        """Mark this run as going (before its first write); idempotent."""
        if self._fd is not None:
            return
        self._dir.mkdir(mode=0o700, exist_ok=True)
        fd = os.open(self._dir / f"{self.id}.lock", os.O_CREAT | os.O_RDWR, 0o600)
        fcntl.flock(fd, fcntl.LOCK_SH)
        self._fd = fd

    def is_going(self, run: str) -> bool:
        """Whether the process of ``run`` is still running (this one is)."""
        if run == self.id:
            return True
        path = self._dir / f"{run}.lock"
        try:
            fd = os.open(path, os.O_RDWR)
        except OSError:
            return False  # never held here, or cleared once its run was found over
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            return True  # its process still holds it
        finally:
            os.close(fd)
        return False

    def forget(self, run: str) -> None:
        """Remove the marker of a run found over."""
        if run != self.id:
            with contextlib.suppress(OSError):
                (self._dir / f"{run}.lock").unlink()

    def close(self) -> None:
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None
            with contextlib.suppress(OSError):
                (self._dir / f"{self.id}.lock").unlink()
