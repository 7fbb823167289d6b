"""The catalogue: which collections exist and which documents each holds, in what state.

One SQLite file under the index directory holds it, beside the keyword index. A document is
"pending" from before its passages are written until they all are, then "complete"; a pending row
left by a crash is cleaned up on the next open, so the index never keeps half a document.

Each document row records the index version that built its passages (how the chunker cut them
and what text was embedded for them): a document built by another version is indexed again on
the next ingest, even when the file itself did not change.
"""

from __future__ import annotations

import hashlib
import os
import re
import sqlite3
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from rag.postgres import PgConnection

MAX_COLLECTION_NAME = 120

_SCHEMA = """
CREATE TABLE IF NOT EXISTS collections (
    id TEXT PRIMARY KEY,          -- the internal, storage-safe id (Chroma collection name)
    name TEXT NOT NULL UNIQUE,    -- what a person typed, e.g. "Smith v Jones (2024)"
    created_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS documents (
    collection_id TEXT NOT NULL REFERENCES collections(id) ON DELETE CASCADE,
    path TEXT NOT NULL,
    sha256 TEXT NOT NULL,
    size BIGINT NOT NULL,
    mtime_ns BIGINT NOT NULL,
    title TEXT NOT NULL,
    pages INTEGER NOT NULL,
    passages INTEGER NOT NULL,
    state TEXT NOT NULL CHECK (state IN ('pending', 'complete')),
    ingested_at TEXT NOT NULL,
    index_version INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (collection_id, path)
);
CREATE INDEX IF NOT EXISTS documents_by_sha ON documents (collection_id, sha256);
-- A passage whose text occurred more than once in its document is stored once; its copies are
-- counted here, with their pages (rag/duplicates.py).
CREATE TABLE IF NOT EXISTS passage_copies (
    collection_id TEXT NOT NULL,
    doc_sha256 TEXT NOT NULL,
    passage_id TEXT NOT NULL,
    copies INTEGER NOT NULL,
    pages TEXT NOT NULL DEFAULT '',  -- comma-separated page numbers
    PRIMARY KEY (collection_id, passage_id)
);
-- Raised by every process after it changes the vectors (rag/library_lock.py): a process whose
-- Chroma was opened at an older generation opens it again before using it.
-- Documents indexed whose indexing the application has not yet recorded (its audit log): the
-- run that wrote each (rag/run_marker.py). A run killed before it recorded them leaves them
-- here, for the next run to record.
CREATE TABLE IF NOT EXISTS unreported (
    collection_id TEXT NOT NULL,
    path TEXT NOT NULL,
    run TEXT NOT NULL,
    PRIMARY KEY (collection_id, path)
);
-- Files an ingest could not index, per collection, with the reason in words: listed in the
-- window after a restart, with a retry, until they are indexed or dismissed.
CREATE TABLE IF NOT EXISTS failed_files (
    collection_id TEXT NOT NULL,
    path TEXT NOT NULL,
    reason TEXT NOT NULL,
    failed_at TEXT NOT NULL,
    PRIMARY KEY (collection_id, path)
);
CREATE TABLE IF NOT EXISTS library_state (
    key TEXT PRIMARY KEY,
    value BIGINT NOT NULL
);
"""


class CollectionError(ValueError):
    """A collection name or operation a person has to fix; the message says how."""


@dataclass(frozen=True)
class Collection:
    id: str
    name: str


@dataclass(frozen=True)
class DocumentRow:
    collection_id: str
    path: str
    sha256: str
    size: int
    mtime_ns: int
    title: str
    pages: int
    passages: int
    state: str
    ingested_at: str
    # The index version that built the passages; 0 for rows written before versions existed.
    index_version: int = 0


@dataclass(frozen=True)
class FailedRow:
    """A file an ingest could not index: where it is, why (for a person), and when (ISO)."""

    path: str
    reason: str
    failed_at: str


def clean_collection_name(name: str) -> str:
    cleaned = " ".join(name.split())
    if not cleaned:
        raise CollectionError("A collection needs a name.")
    if len(cleaned) > MAX_COLLECTION_NAME:
        raise CollectionError(f"A collection name can be at most {MAX_COLLECTION_NAME} "
                              "characters long.")
    if any(unicodedata.category(ch).startswith("C") for ch in cleaned):
        raise CollectionError("A collection name cannot contain control characters.")
    return cleaned


def storage_id(name: str) -> str:
    """A Chroma-safe id for a human name: 3-63 chars of [a-z0-9-], starting and ending with an
    alphanumeric; a hash suffix keeps names that slug alike ("A/B", "A B") apart."""
    ascii_name = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_name.lower()).strip("-")[:40].strip("-")
    digest = hashlib.sha256(name.encode("utf-8")).hexdigest()[:10]
    return f"c-{slug}-{digest}" if slug else f"c-{digest}"


def now_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


class Catalog:
    def __init__(self, connection: sqlite3.Connection | PgConnection) -> None:
        """On the library's own SQLite file, or on a practice's PostgreSQL (rag/postgres.py):
        the SQL below is what both engines share."""
        self._db = connection
        self._postgres = isinstance(connection, PgConnection)
        if not self._postgres:
            self._db.execute("PRAGMA foreign_keys = ON")
        self._db.executescript(_SCHEMA)
        if not self._postgres:
            self._add_index_version_column()
        self._db.commit()

    def _add_index_version_column(self) -> None:
        """A catalogue made before index versions existed gets the column (every document in it
        counts as built by version 0, so the next ingest rebuilds it)."""
        columns = {row[1] for row in self._db.execute("PRAGMA table_info(documents)")}
        if "index_version" not in columns:
            self._db.execute("ALTER TABLE documents "
                             "ADD COLUMN index_version INTEGER NOT NULL DEFAULT 0")

    # -- generation ----------------------------------------------------------------------------

    def generation(self) -> int:
        row = self._db.execute("SELECT value FROM library_state WHERE key = 'generation'"
                               ).fetchone()
        return int(row[0]) if row else 0

    def bump_generation(self) -> int:
        self._db.execute("INSERT INTO library_state (key, value) VALUES ('generation', 1) "
                         "ON CONFLICT (key) DO UPDATE SET value = library_state.value + 1")
        self._db.commit()
        return self.generation()

    # -- collections ---------------------------------------------------------------------------

    def collections(self) -> list[Collection]:
        rows = self._db.execute("SELECT id, name FROM collections ORDER BY lower(name), name")
        return [Collection(*row) for row in rows]

    def find_collection(self, name: str) -> Collection | None:
        row = self._db.execute("SELECT id, name FROM collections WHERE name = ?",
                               (clean_collection_name(name),)).fetchone()
        return Collection(*row) if row else None

    def create_collection(self, name: str) -> Collection:
        name = clean_collection_name(name)
        existing = self.find_collection(name)
        if existing:
            return existing
        # The storage id comes from the name; a renamed collection keeps the id of its old
        # name, so a new collection of that old name gets the next free one.
        base = storage_id(name)
        candidate, n = base, 1
        while self._db.execute("SELECT 1 FROM collections WHERE id = ?",
                               (candidate,)).fetchone() is not None:
            n += 1
            candidate = f"{base[:60]}-{n}"
        collection = Collection(candidate, name)
        self._db.execute("INSERT INTO collections (id, name, created_at) VALUES (?, ?, ?)",
                         (collection.id, collection.name, now_iso()))
        self._db.commit()
        return collection

    def rename_collection(self, old: str, new: str) -> None:
        found = self.find_collection(old)
        if found is None:
            raise CollectionError(f"There is no collection named '{old}'.")
        new = clean_collection_name(new)
        if new != found.name and self.find_collection(new) is not None:
            raise CollectionError(f"A collection named '{new}' already exists.")
        # Only the human name changes; the storage id stays, so nothing is re-indexed.
        self._db.execute("UPDATE collections SET name = ? WHERE id = ?", (new, found.id))
        self._db.commit()

    def delete_collection(self, collection: Collection) -> None:
        self._db.execute("DELETE FROM documents WHERE collection_id = ?", (collection.id,))
        self._db.execute("DELETE FROM failed_files WHERE collection_id = ?", (collection.id,))
        self._db.execute("DELETE FROM collections WHERE id = ?", (collection.id,))
        self._db.commit()

    # -- documents -----------------------------------------------------------------------------

    def documents(self, collection: Collection, state: str | None = "complete"
                  ) -> list[DocumentRow]:
        sql = "SELECT * FROM documents WHERE collection_id = ?"
        params: tuple[str, ...] = (collection.id,)
        if state is not None:
            sql += " AND state = ?"
            params += (state,)
        return [DocumentRow(*row) for row in self._db.execute(sql + " ORDER BY path", params)]

    def stamp(self, collection: Collection) -> tuple[object, ...]:
        """Changes whenever the collection's complete documents do (for caches of them)."""
        concat = "string_agg" if self._postgres else "group_concat"
        row = self._db.execute(
            "SELECT count(*), max(ingested_at), sum(length(path)), sum(passages), "
            f"{concat}(substr(sha256, 1, 8), '') FROM documents "
            "WHERE collection_id = ? AND state = 'complete'", (collection.id,)).fetchone()
        return tuple(row)

    def pending(self) -> Iterator[DocumentRow]:
        rows = self._db.execute("SELECT * FROM documents WHERE state = 'pending'").fetchall()
        return (DocumentRow(*row) for row in rows)

    def document_at(self, collection: Collection, path: str) -> DocumentRow | None:
        row = self._db.execute("SELECT * FROM documents WHERE collection_id = ? AND path = ?",
                               (collection.id, path)).fetchone()
        return DocumentRow(*row) if row else None

    def document_with_sha(self, collection: Collection, sha256: str) -> DocumentRow | None:
        row = self._db.execute(
            "SELECT * FROM documents WHERE collection_id = ? AND sha256 = ? "
            "AND state = 'complete'", (collection.id, sha256)).fetchone()
        return DocumentRow(*row) if row else None

    def mark_pending(self, row: DocumentRow) -> None:
        self._db.execute(
            "INSERT INTO documents VALUES (?, ?, ?, ?, ?, ?, ?, ?, 'pending', ?, ?) "
            "ON CONFLICT (collection_id, path) DO UPDATE SET sha256 = excluded.sha256, "
            "size = excluded.size, mtime_ns = excluded.mtime_ns, title = excluded.title, "
            "pages = excluded.pages, passages = excluded.passages, state = excluded.state, "
            "ingested_at = excluded.ingested_at, index_version = excluded.index_version",
            (row.collection_id, row.path, row.sha256, row.size, row.mtime_ns, row.title,
             row.pages, row.passages, row.ingested_at, row.index_version))
        self._db.commit()

    def mark_complete(self, collection_id: str, path: str, run: str) -> None:
        """The document is whole; until it is reported (``mark_reported``) it is listed as
        written by ``run``, in the same transaction."""
        self._db.execute("UPDATE documents SET state = 'complete' WHERE collection_id = ? "
                         "AND path = ?", (collection_id, path))
        self._db.execute("INSERT INTO unreported VALUES (?, ?, ?) ON CONFLICT "
                         "(collection_id, path) DO UPDATE SET run = excluded.run",
                         (collection_id, path, run))
        self._db.commit()

    def unreported(self) -> list[tuple[Collection, str, str]]:
        """(collection, path, run) of each complete document not yet reported."""
        rows = self._db.execute(
            "SELECT c.id, c.name, u.path, u.run FROM unreported u "
            "JOIN documents d ON d.collection_id = u.collection_id AND d.path = u.path "
            "JOIN collections c ON c.id = u.collection_id WHERE d.state = 'complete' "
            "ORDER BY c.name, u.path").fetchall()
        return [(Collection(cid, name), path, run) for cid, name, path, run in rows]

    def mark_reported(self, collection_id: str, paths: list[str]) -> None:
        self._db.executemany("DELETE FROM unreported WHERE collection_id = ? AND path = ?",
                             [(collection_id, path) for path in paths])
        self._db.commit()

    def touch(self, collection: Collection, path: str, size: int, mtime_ns: int) -> None:
        """Record a new size/mtime for a file whose content (hash) did not change."""
        self._db.execute("UPDATE documents SET size = ?, mtime_ns = ? WHERE collection_id = ? "
                         "AND path = ?", (size, mtime_ns, collection.id, path))
        self._db.commit()

    def remove_document(self, collection_id: str, path: str) -> None:
        row = self._db.execute("SELECT sha256 FROM documents WHERE collection_id = ? AND "
                               "path = ?", (collection_id, path)).fetchone()
        self._db.execute("DELETE FROM documents WHERE collection_id = ? AND path = ?",
                         (collection_id, path))
        if row is not None and self._db.execute(
                "SELECT 1 FROM documents WHERE collection_id = ? AND sha256 = ?",
                (collection_id, row[0])).fetchone() is None:
            self._db.execute("DELETE FROM passage_copies WHERE collection_id = ? AND "
                             "doc_sha256 = ?", (collection_id, row[0]))
        self._db.commit()

    def set_copies(self, collection_id: str, doc_sha256: str,
                   copies: dict[str, tuple[int, tuple[int, ...]]]) -> None:
        """How many copies each of these passages (by id) had in its document, and where."""
        self._db.execute("DELETE FROM passage_copies WHERE collection_id = ? AND "
                         "doc_sha256 = ?", (collection_id, doc_sha256))
        self._db.executemany(
            "INSERT INTO passage_copies (collection_id, doc_sha256, passage_id, copies, pages) "
            "VALUES (?, ?, ?, ?, ?)",
            [(collection_id, doc_sha256, pid, n, ",".join(map(str, pages)))
             for pid, (n, pages) in copies.items()])

    def copies(self, collection_id: str,
               passage_ids: list[str]) -> dict[str, tuple[int, tuple[int, ...]]]:
        if not passage_ids:
            return {}
        marks = ", ".join("?" * len(passage_ids))
        rows = self._db.execute(
            f"SELECT passage_id, copies, pages FROM passage_copies WHERE collection_id = ? "
            f"AND passage_id IN ({marks})", (collection_id, *passage_ids)).fetchall()
        return {pid: (int(n), tuple(int(p) for p in pages.split(",") if p))
                for pid, n, pages in rows}

    def paths_under(self, collection: Collection, folder: Path) -> list[str]:
        prefix = os.path.join(str(folder), "")
        rows = self._db.execute(
            "SELECT path FROM documents WHERE collection_id = ? AND substr(path, 1, ?) = ?",
            (collection.id, len(prefix), prefix))
        return [row[0] for row in rows]

    # -- failed files --------------------------------------------------------------------------

    def record_failed(self, collection_id: str, path: str, reason: str) -> None:
        """The file could not be indexed; a later failure replaces the reason and the time."""
        self._db.execute("INSERT INTO failed_files VALUES (?, ?, ?, ?) ON CONFLICT "
                         "(collection_id, path) DO UPDATE SET reason = excluded.reason, "
                         "failed_at = excluded.failed_at",
                         (collection_id, path, reason, now_iso()))
        self._db.commit()

    def clear_failed(self, collection_id: str, paths: list[str]) -> None:
        """The files were indexed (or the person dismissed them): no longer listed as failed."""
        self._db.executemany("DELETE FROM failed_files WHERE collection_id = ? AND path = ?",
                             [(collection_id, path) for path in paths])
        self._db.commit()

    def failed(self, collection: Collection) -> list[FailedRow]:
        rows = self._db.execute("SELECT path, reason, failed_at FROM failed_files "
                                "WHERE collection_id = ? ORDER BY path", (collection.id,))
        return [FailedRow(*row) for row in rows]
