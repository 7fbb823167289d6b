"""When the data folder is at fault (read-only, full, not the user's), one sentence that says
so and what to do, instead of SQLite's or Chroma's traceback. Qt-free: the CLI prints it, the
window shows it.

The error itself rarely says which: SQLite reports a read-only folder as "unable to open
database file" and Chroma a full disk as "Error in compaction". So the folder is probed (a small
file written, synced and removed) and the probe's own error names the cause.
"""

from __future__ import annotations

import errno
import os
import shutil
import sqlite3
import tempfile
from pathlib import Path

PROBE_BYTES = 64 * 1024
# Less free space than this when the library failed counts as a full disk: Chroma's and
# SQLite's writes need more than the probe (measured: a failed ingest left 0 bytes free, and a
# little came back as soon as the failed write was rolled back).
LOW_SPACE_BYTES = 32 * 1024 * 1024


def is_storage_error(exc: BaseException) -> bool:
    """SQLite's, Chroma's, or the file system's error: the data folder may be the cause."""
    return (isinstance(exc, (sqlite3.Error, OSError))
            or type(exc).__module__.split(".")[0] == "chromadb")


def probe(folder: Path) -> int | None:
    """The errno writing to ``folder`` fails with, or None when it can be written."""
    try:
        fd, name = tempfile.mkstemp(prefix=".enclave-probe-", dir=_nearest_existing(folder))
    except OSError as exc:
        return exc.errno
    try:
        os.write(fd, b"\0" * PROBE_BYTES)
        os.fsync(fd)
    except OSError as exc:
        return exc.errno
    finally:
        os.close(fd)
        os.unlink(name)
    return None


def server_failure(exc: BaseException) -> str | None:
    """One line for a person, when ``exc`` came from a shared index server going away mid-way
    (PostgreSQL's client, or the HTTP client under Chroma's); None otherwise."""
    if type(exc).__module__.split(".")[0] not in ("psycopg", "httpx", "httpcore"):
        return None
    first_line = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
    return (f"The practice's index server stopped answering ({first_line}). What was indexed "
            "before is intact on the server; try again when it is back, or ask IT "
            "('enclave doctor' checks each server).")


def explain(exc: BaseException, home: Path) -> str | None:
    """One line for a person, when ``exc`` came from the data folder or a shared index server;
    None otherwise."""
    failure = server_failure(exc)
    if failure is not None:
        return failure
    if not is_storage_error(exc):
        return None
    cause = probe(home)
    if cause is None and isinstance(exc, OSError):
        cause = exc.errno
    if cause is None and _free_bytes(home) < LOW_SPACE_BYTES:
        cause = errno.ENOSPC
    if cause == errno.EROFS:
        return (f"Enclave's data folder {home} is read-only, so nothing can be indexed, asked "
                "or recorded there; nothing in it was changed. Ask IT to make it writable, or "
                "set ENCLAVE_HOME to a folder you can write to.")
    if cause in (errno.EACCES, errno.EPERM):
        return (f"Enclave may not write to its data folder {home} (permission denied); nothing "
                f"in it was changed. Ask IT to give it back to you: chown -R \"$USER\" '{home}'")
    if cause in (errno.ENOSPC, errno.EDQUOT):
        return (f"The disk that holds Enclave's data folder {home} is full. What was indexed "
                "before is intact; free some space, then run the command again (a document "
                "cut off now is indexed again from the start).")
    if isinstance(exc, OSError):
        return None  # another file's problem: the caller's own message names it
    first_line = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
    return (f"Enclave's library in {home} could not be read or written ({first_line}); "
            "run 'enclave doctor' to check it.")


def _nearest_existing(folder: Path) -> Path:
    """The folder, or the nearest of its parents that exists (a data folder not made yet)."""
    while not folder.exists() and folder.parent != folder:
        folder = folder.parent
    return folder


def _free_bytes(folder: Path) -> int:
    try:
        return shutil.disk_usage(_nearest_existing(folder)).free
    except OSError:
        return LOW_SPACE_BYTES
