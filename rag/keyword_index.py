"""The keyword side of retrieval: one SQLite FTS5 table per collection, ranked by BM25.

Exact terms carry what embeddings blur: section numbers ("4.2"), versions ("version 2",
"GPL-3.0"), doses ("500 mg"). The tokenizer splits "4.2" into "4" "2", so the query keeps such
compounds as phrases (adjacent tokens) and pairs a number with its neighbour ("version 2").
"""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Sequence, Set
from dataclasses import dataclass

from rag.documents import Passage

# Column weights for bm25(): a match in a heading says more than one in running text.
_WEIGHTS = {"title": 1.5, "section": 2.0, "text": 1.0}
_COLUMNS = ("passage_id", "doc_sha256", "source", "title", "section", "page", "ordinal", "text")

_COMPOUND = re.compile(r"\w+(?:[.\-/:]\w+)*")
_PART = re.compile(r"[^\W_]+")
_STOPWORDS = frozenset("""
a an and any are as at be been being but by can could did do does for from had has have how i if
in into is it its may me might must my no not of on or our shall should so such than that the
their them then there these they this those to under upon was we were what when where which who
whom why will with would you your about after before between during each per
""".split())  # noqa: SIM905 (a word list reads better as text)


@dataclass(frozen=True)
class KeywordHit:
    passage: Passage
    score: float  # BM25, higher is better


def table_name(collection_id: str) -> str:
    return "fts_" + re.sub(r"[^a-z0-9]", "_", collection_id.lower())


def is_stopword(word: str) -> bool:
    return word.lower() in _STOPWORDS


def query_terms(text: str) -> list[str]:
    """The words and numbers of a text that carry meaning: lower case, stopwords dropped."""
    return [w for w in _PART.findall(text.lower()) if w not in _STOPWORDS]


def match_expression(query: str) -> str:
    """An FTS5 MATCH expression that ORs the query's terms, phrases and number pairs."""
    terms: list[str] = []
    previous: str | None = None
    for compound in _COMPOUND.findall(query.lower()):
        parts = _PART.findall(compound)
        if not parts:
            continue
        if len(parts) > 1:
            terms.append(" ".join(parts))  # "4.2" -> phrase "4 2"; "gpl-3.0" -> "gpl 3 0"
            terms.extend(p for p in parts if p not in _STOPWORDS and not p.isdigit())
        elif parts[0] not in _STOPWORDS:
            terms.append(parts[0])
        word = parts[0] if len(parts) == 1 else None
        if word and previous and (word.isdigit() or previous.isdigit()):
            terms.append(f"{previous} {word}")  # "version 2", "500 mg"
        previous = word if word and word not in _STOPWORDS else None
    unique = list(dict.fromkeys(terms))
    return " OR ".join('"' + t.replace('"', "") + '"' for t in unique)


class KeywordIndex:
    def __init__(self, connection: sqlite3.Connection, read_only: bool = False) -> None:
        """``read_only``: a connection that only searches, never creating tables (another
        connection made them), so a search never waits for a write lock."""
        self._db = connection
        self._read_only = read_only
        self._ensured: set[str] = set()  # tables known to exist: no DDL on every search

    def ensure(self, collection_id: str) -> None:
        table = table_name(collection_id)
        if table in self._ensured or self._read_only:
            return
        self._db.execute(
            f"CREATE VIRTUAL TABLE IF NOT EXISTS {table} USING fts5("
            "passage_id UNINDEXED, doc_sha256 UNINDEXED, source UNINDEXED, title, section, "
            "page UNINDEXED, ordinal UNINDEXED, text, "
            "tokenize = 'porter unicode61 remove_diacritics 2')")
        # FTS5 cannot index its UNINDEXED columns: this table finds a passage's, a document's or
        # a file's rows by index, so deleting them never scans the whole collection.
        self._db.execute(
            f"CREATE TABLE IF NOT EXISTS {table}_rows (rowid INTEGER PRIMARY KEY, "
            "passage_id TEXT NOT NULL UNIQUE, doc_sha256 TEXT NOT NULL, source TEXT NOT NULL)")
        self._db.execute(f"CREATE INDEX IF NOT EXISTS {table}_by_doc "
                         f"ON {table}_rows (doc_sha256)")
        self._db.execute(f"CREATE INDEX IF NOT EXISTS {table}_by_source "
                         f"ON {table}_rows (source)")
        # Document frequencies, to skip words that carry no weight (see _without_ubiquitous_terms).
        self._db.execute(f"CREATE VIRTUAL TABLE IF NOT EXISTS {table}_vocab "
                         f"USING fts5vocab({table}, 'row')")
        self._db.commit()
        self._ensured.add(table)

    def drop(self, collection_id: str) -> None:
        table = table_name(collection_id)
        self._ensured.discard(table)
        self._db.execute(f"DROP TABLE IF EXISTS {table}_vocab")
        self._db.execute(f"DROP TABLE IF EXISTS {table}")
        self._db.execute(f"DROP TABLE IF EXISTS {table}_rows")
        self._db.commit()

    def add(self, collection_id: str, passages: Sequence[Passage]) -> None:
        table = table_name(collection_id)
        # Deterministic ids: a passage written again (after a crash) replaces itself.
        self._delete_where(table, "passage_id", [p.passage_id for p in passages])
        for p in passages:
            cursor = self._db.execute(
                f"INSERT INTO {table} ({', '.join(_COLUMNS)}) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (p.passage_id, p.doc_sha256, p.source, p.title, p.section, p.page, p.ordinal,
                 p.text))
            self._db.execute(f"INSERT INTO {table}_rows VALUES (?, ?, ?, ?)",
                             (cursor.lastrowid, p.passage_id, p.doc_sha256, p.source))
        self._db.commit()

    def delete_document(self, collection_id: str, doc_sha256: str) -> None:
        self._delete_where(table_name(collection_id), "doc_sha256", [doc_sha256])
        self._db.commit()

    def delete_source(self, collection_id: str, source: str) -> None:
        self._delete_where(table_name(collection_id), "source", [source])
        self._db.commit()

    def _delete_where(self, table: str, column: str, values: Sequence[str]) -> None:
        for value in values:
            self._db.execute(f"DELETE FROM {table} WHERE rowid IN "
                             f"(SELECT rowid FROM {table}_rows WHERE {column} = ?)", (value,))
            self._db.execute(f"DELETE FROM {table}_rows WHERE {column} = ?", (value,))

    def count(self, collection_id: str) -> int:
        row = self._db.execute(f"SELECT count(*) FROM {table_name(collection_id)}").fetchone()
        return int(row[0])

    def search(self, collection_id: str, query: str, k: int,
               documents: Set[str] | None = None) -> list[KeywordHit]:
        """The ``k`` best BM25 matches, of only these documents (content hashes) if given.

        Passages holding every term are looked for first: FTS5 finds them by intersecting its
        term lists, where a match on any term scores every passage holding one of them (at 100k
        generated passages, 45 ms for four common words). When there are ``k`` of them they are
        the answer; otherwise the usual any-term search runs, and its ``k`` best are exactly
        what they always were. A passage's BM25 score is the same in both searches.
        """
        expression = self._without_ubiquitous_terms(collection_id, match_expression(query))
        if not expression or (documents is not None and not documents):
            return []
        if " OR " in expression:
            every = self._ranked(collection_id, expression.replace(" OR ", " AND "), k,
                                 documents)
            if len(every) >= k:
                return every
        return self._ranked(collection_id, expression, k, documents)

    def _ranked(self, collection_id: str, expression: str, k: int,
                documents: Set[str] | None) -> list[KeywordHit]:
        table = table_name(collection_id)
        w = _WEIGHTS
        only = ""
        params: list[object] = [expression]
        if documents is not None:
            only = f" AND doc_sha256 IN ({', '.join('?' * len(documents))})"
            params += sorted(documents)
        rows = self._db.execute(
            f"SELECT {', '.join(_COLUMNS)}, "
            f"bm25({table}, 0, 0, 0, {w['title']}, {w['section']}, 0, 0, {w['text']}) AS rank "
            f"FROM {table} WHERE {table} MATCH ?{only} ORDER BY rank LIMIT ?",
            (*params, k)).fetchall()
        return [KeywordHit(passage_of_row(row), -float(row[-1])) for row in rows]

    def _without_ubiquitous_terms(self, collection_id: str, expression: str) -> str:
        """Drop single words found in more than half the passages.

        FTS5's BM25 clamps the IDF of such a term to 1e-6, so it adds nothing to any score; but
        ORing it in makes SQLite score every passage that contains it (most of the collection),
        which dominated search time at 100k passages. Only words stored unstemmed are looked up,
        so a miss keeps the term: the pruning can only skip work, never change a ranking.
        """
        terms = expression.split(" OR ") if expression else []
        if len(terms) < 2:
            return expression
        table = table_name(collection_id)
        self.ensure(collection_id)
        total = self._db.execute(f"SELECT count(*) FROM {table}_rows").fetchone()[0]
        kept = []
        for term in terms:
            word = term.strip('"')
            if " " not in word:
                row = self._db.execute(f"SELECT doc FROM {table}_vocab WHERE term = ?",
                                       (word,)).fetchone()
                if row is not None and row[0] * 2 > total:
                    continue
            kept.append(term)
        return " OR ".join(kept) if kept else expression

    def scores(self, collection_id: str, query: str,
               passage_ids: Sequence[str]) -> dict[str, float]:
        """BM25 of these passages for ``query`` (the same score ``search`` gives them); a
        passage holding none of its terms is absent: what a passage only the vector side found
        is worth on the keyword side."""
        expression = self._without_ubiquitous_terms(collection_id, match_expression(query))
        if not expression or not passage_ids:
            return {}
        table = table_name(collection_id)
        self.ensure(collection_id)
        w = _WEIGHTS
        marks = ", ".join("?" * len(passage_ids))
        rows = self._db.execute(
            f"SELECT passage_id, bm25({table}, 0, 0, 0, {w['title']}, {w['section']}, 0, 0, "
            f"{w['text']}) FROM {table} WHERE {table} MATCH ? AND rowid IN "
            f"(SELECT rowid FROM {table}_rows WHERE passage_id IN ({marks}))",
            (expression, *passage_ids)).fetchall()
        return {str(pid): -float(rank) for pid, rank in rows}

    def rare_terms(self, collection_id: str, query: str, most: int) -> list[str]:
        """The query's words held by at most ``most`` passages (a name, a record or case
        number, a drug code), as the index spells them."""
        table = table_name(collection_id)
        self.ensure(collection_id)
        rare = []
        for term in dict.fromkeys(_PART.findall(query.lower())):
            if term in _STOPWORDS or len(term) < 3:
                continue
            count = self._db.execute(
                f"SELECT count(*) FROM (SELECT 1 FROM {table} WHERE {table} MATCH ? LIMIT ?)",
                (f'"{term}"', most + 1)).fetchone()[0]
            if 0 < count <= most:
                rare.append(term)
        return rare

    def passage_count(self, collection_id: str) -> int:
        table = table_name(collection_id)
        self.ensure(collection_id)
        return int(self._db.execute(f"SELECT count(*) FROM {table}_rows").fetchone()[0])

    def passage_ids(self, collection_id: str) -> list[str]:
        table = table_name(collection_id)
        self.ensure(collection_id)
        return [str(r[0]) for r in self._db.execute(f"SELECT passage_id FROM {table}_rows")]

    def passages(self, collection_id: str, passage_ids: Sequence[str]) -> dict[str, Passage]:
        """Stored passages by id, found through the row table's index (FTS5 cannot index
        passage_id): a lookup costs well under a millisecond at any collection size."""
        if not passage_ids:
            return {}
        table = table_name(collection_id)
        self.ensure(collection_id)
        marks = ", ".join("?" * len(passage_ids))
        rows = self._db.execute(
            f"SELECT {', '.join(_COLUMNS)} FROM {table} WHERE rowid IN "
            f"(SELECT rowid FROM {table}_rows WHERE passage_id IN ({marks}))",
            list(passage_ids)).fetchall()
        return {str(row[0]): passage_of_row(row) for row in rows}


def passage_of_row(row: Sequence[object]) -> Passage:
    """A passage from a row of its columns, in the order of ``_COLUMNS``."""
    _, sha, source, title, section, page, ordinal, text = row[:8]
    return Passage(doc_sha256=str(sha), source=str(source), title=str(title),
                   section=str(section), page=None if page is None else int(str(page)),
                   ordinal=int(str(ordinal)), text=str(text))
