"""Where a library keeps its index: the parts rag/library.py writes and searches, chosen once.

* ``EmbeddedStorage`` (the default): everything under the index folder on this computer,
  the catalogue and keyword index in ``library.sqlite3`` (FTS5), the vectors in embedded Chroma,
  turns between processes by ``flock``.
* ``ServerStorage``: a practice's shared index, the catalogue and keyword index on its
  PostgreSQL (full-text search), the vectors on its Chroma server, turns between workstations by
  PostgreSQL advisory locks.

The library does the same things on both: the same catalogue (rag/catalog.py), the same hybrid
retrieval, content-hash re-ingest, ``forget`` and crash clean-up.
"""

from __future__ import annotations

import contextlib
import sqlite3
from pathlib import Path
from typing import Protocol

from rag.index_servers import IndexServers
from rag.keyword_index import KeywordIndex
from rag.library_lock import LibraryLock
from rag.pg_keyword_index import PgKeywordIndex
from rag.postgres import PgConnection
from rag.retrieval_types import KeywordStore
from rag.run_marker import RunMarker
from rag.server_locks import AdvisoryLock, AdvisoryRunMarker
from rag.vector_store import ChromaVectorStores

DATABASE_FILE = "library.sqlite3"
CHROMA_FOLDER = "chroma"
# How long a write waits for another Enclave process's write to the database (a batch of
# documents is written in one transaction, Chroma's upsert included: seconds on a quiet machine,
# more under load; CI saw "database is locked" at the 10 s this used to be).
BUSY_SECONDS = 120

Database = sqlite3.Connection | PgConnection


class TurnLock(Protocol):
    """Writers take turns (exclusive); searches, where the storage needs it, hold it shared."""

    def exclusive(self) -> contextlib.AbstractContextManager[None]: ...

    def shared(self) -> contextlib.AbstractContextManager[None]: ...

    def close(self) -> None: ...


class Runs(Protocol):
    """This run's marker, and whether another run is still going (rag/run_marker.py)."""

    id: str

    def hold(self) -> None: ...

    def is_going(self, run: str) -> bool: ...

    def forget(self, run: str) -> None: ...

    def close(self) -> None: ...


class IndexStorage(Protocol):
    # Whether a process's vector client must be opened again after another process wrote
    # (embedded Chroma keeps its own copy in memory; a server has one copy for everyone).
    reopen_vectors_after_writes: bool

    def connect(self) -> Database: ...

    def keyword_index(self, database: Database, read_only: bool = False) -> KeywordStore: ...

    def open_vectors(self) -> ChromaVectorStores: ...

    def turn_lock(self) -> TurnLock: ...

    def runs(self) -> Runs: ...


class EmbeddedStorage:
    reopen_vectors_after_writes = True

    def __init__(self, index_dir: Path) -> None:
        self._dir = index_dir
        index_dir.mkdir(parents=True, exist_ok=True)

    def connect(self) -> sqlite3.Connection:
        return sqlite3.connect(self._dir / DATABASE_FILE, check_same_thread=False,
                               timeout=BUSY_SECONDS)

    def keyword_index(self, database: Database, read_only: bool = False) -> KeywordStore:
        assert isinstance(database, sqlite3.Connection)
        return KeywordIndex(database, read_only=read_only)

    def open_vectors(self) -> ChromaVectorStores:
        return ChromaVectorStores.embedded(self._dir / CHROMA_FOLDER)

    def turn_lock(self) -> TurnLock:
        return LibraryLock(self._dir)

    def runs(self) -> Runs:
        return RunMarker(self._dir)


class ServerStorage:
    reopen_vectors_after_writes = False

    def __init__(self, servers: IndexServers) -> None:
        self._servers = servers
        servers.endpoints()  # a malformed address is said now, not at the first search

    def connect(self) -> PgConnection:
        return PgConnection(self._servers.database)

    def keyword_index(self, database: Database, read_only: bool = False) -> KeywordStore:
        assert isinstance(database, PgConnection)
        return PgKeywordIndex(database, read_only=read_only)

    def open_vectors(self) -> ChromaVectorStores:
        return ChromaVectorStores.on_server(self._servers.vectors)

    def turn_lock(self) -> TurnLock:
        return AdvisoryLock(self._servers.database)

    def runs(self) -> Runs:
        return AdvisoryRunMarker(self._servers.database)

