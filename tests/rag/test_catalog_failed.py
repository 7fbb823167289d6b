"""The catalogue's record of files that could not be indexed, on a real SQLite file."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from rag.catalog import Catalog


def test_a_catalogue_made_before_failed_files_gets_the_table(tmp_path: Path) -> None:
    db = tmp_path / "library.sqlite3"
    with sqlite3.connect(db) as old:  # the tables an older Enclave made, and one document
        old.executescript(
            "CREATE TABLE collections (id TEXT PRIMARY KEY, name TEXT NOT NULL UNIQUE, "
            "created_at TEXT NOT NULL);"
            "INSERT INTO collections VALUES ('c-1', 'Matter 12', '2026-01-01T00:00:00+00:00');")
    catalog = Catalog(sqlite3.connect(db))
    [collection] = catalog.collections()
    catalog.record_failed(collection.id, "/m/broken.pdf", "not a PDF")
    catalog.record_failed(collection.id, "/m/broken.pdf", "damaged (no pages)")
    [row] = catalog.failed(collection)
    assert (row.path, row.reason) == ("/m/broken.pdf", "damaged (no pages)")

    reopened = Catalog(sqlite3.connect(db))  # after a restart, still there
    assert [r.path for r in reopened.failed(collection)] == ["/m/broken.pdf"]
    reopened.clear_failed(collection.id, ["/m/broken.pdf"])
    assert reopened.failed(collection) == []
