"""A step log for the builder and the installer: each line to stdout and to a log file.

Lines written before the log file can exist (the installer verifies the bundle before it
creates anything) are kept and written once the file is opened.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path
from typing import TextIO


class StepLog:
    def __init__(self, tag: str, out: TextIO | None = None) -> None:
        self._tag = tag
        self._out = out or sys.stdout
        self._pending: list[str] = []
        self._file: TextIO | None = None
        self._started = time.monotonic()
        self.path: Path | None = None

    def __call__(self, message: str) -> None:
        elapsed = time.monotonic() - self._started
        line = f"[{self._tag} {elapsed:7.1f}s] {message}"
        print(line, file=self._out, flush=True)
        if self._file is not None:
            self._file.write(line + "\n")
            self._file.flush()
        else:
            self._pending.append(line)

    def detail(self, message: str) -> None:
        """A line for the log file only (a tool's own output), not the screen."""
        if self._file is not None:
            self._file.write(f"    {message}\n")
        else:
            self._pending.append(f"    {message}")

    def open_file(self, path: Path) -> None:
        """Start writing to ``path`` (appending), beginning with the lines logged so far."""
        path.parent.mkdir(parents=True, exist_ok=True)
        self._file = path.open("a", encoding="utf-8")
        self.path = path
        stamp = time.strftime("%Y-%m-%d %H:%M:%S %z")
        self._file.write(f"--- {self._tag} run started {stamp} ---\n")
        for line in self._pending:
            self._file.write(line + "\n")
        self._pending.clear()
        self._file.flush()

    def close(self) -> None:
        if self._file is not None:
            self._file.close()
            self._file = None
