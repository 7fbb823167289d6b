"""The keyword side of retrieval on a practice's PostgreSQL: its full-text search, for every
workstation at once (rag/keyword_index.py is the same side in a library's own SQLite file).

One table holds every collection's passages with their ``tsvector`` (English stemming, as
FTS5's porter tokenizer; section, title and text weighted 2 : 1.5 : 1, as FTS5's BM25 columns)
under one GIN index. The query is the same as embedded mode's (``match_expression``): the
question's words, its compounds as phrases ("4.2" -> 4 <-> 2) and its number pairs ("version
2"), ORed; passages holding every term are looked for first, as there.

PostgreSQL ranks with ``ts_rank`` (term frequency, weighted by column, divided by 1 + log of
the passage's length), not BM25, so the scores are scaled onto BM25's range before the hybrid
scoring (rag/scoring.py) weighs them; ``RANK_SCALE`` and what it costs in quality are measured
in docs/SERVERS.md.
"""

from __future__ import annotations

import re
import time
import unicodedata
from collections.abc import Sequence, Set

from rag.documents import Passage
from rag.keyword_index import KeywordHit, match_expression, passage_of_row
from rag.postgres import PgConnection

# ts_rank's weights, for labels D, C (text), B (title), A (section): 1 : 1.5 : 2, as FTS5's.
_WEIGHTS = "'{0.1, 0.5, 0.75, 1.0}'"
# ts_rank flag 1: divide by 1 + log(the passage's length in words).
_NORMALISATION = 1
# ts_rank's scores onto BM25's: the median ratio of the best passage's BM25 (FTS5) to its
# ts_rank over the question sets' questions (docs/SERVERS.md).
RANK_SCALE = 120.0
# How long a collection's passage count is trusted (counting a million rows takes a while).
_COUNT_SECONDS = 30.0
_WORD = re.compile(r"[^\W_]+")
_NOT_WORD = re.compile(r"[\W_]+")

_SCHEMA = """
CREATE TABLE IF NOT EXISTS keyword_passages (
    collection_id TEXT NOT NULL,
    passage_id TEXT NOT NULL,
    doc_sha256 TEXT NOT NULL,
    source TEXT NOT NULL,
    title TEXT NOT NULL,
    section TEXT NOT NULL,
    page INTEGER,
    ordinal INTEGER NOT NULL,
    text TEXT NOT NULL,
    terms TSVECTOR NOT NULL,
    PRIMARY KEY (collection_id, passage_id)
);
CREATE INDEX IF NOT EXISTS keyword_passages_terms ON keyword_passages USING gin (terms);
CREATE INDEX IF NOT EXISTS keyword_passages_by_doc ON keyword_passages (collection_id, doc_sha256);
CREATE INDEX IF NOT EXISTS keyword_passages_by_source ON keyword_passages (collection_id, source)
"""
_COLUMNS = "passage_id, doc_sha256, source, title, section, page, ordinal, text"
_TERMS = ("setweight(to_tsvector('english', ?), 'B') || setweight(to_tsvector('english', ?), "
          "'A') || setweight(to_tsvector('english', ?), 'C')")


def plain_words(text: str) -> str:
    """The text as FTS5's tokenizer sees it (unicode61, diacritics removed): words of letters
    and digits, everything else a space. PostgreSQL's own parser would read "billing-003" as
    "billing" and the number -003, and "a.b@c.d" as one e-mail address token."""
    decomposed = unicodedata.normalize("NFKD", text)
    bare = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return _NOT_WORD.sub(" ", bare)


def ts_query(expression: str, joiner: str = " | ") -> str:
    """A ``to_tsquery`` text for an FTS5 expression of ``match_expression``: each quoted term
    a phrase of its words, joined by ``joiner`` (``|`` any, ``&`` all)."""
    phrases = []
    for term in expression.split(" OR ") if expression else []:
        words = _WORD.findall(plain_words(term))
        if words:
            phrases.append("(" + " <-> ".join(words) + ")" if len(words) > 1 else words[0])
    return joiner.join(phrases)


class PgKeywordIndex:
    """Implements the keyword side the library uses (rag/keyword_index.KeywordIndex's calls)."""

    def __init__(self, connection: PgConnection, read_only: bool = False) -> None:
        self._db = connection
        self._read_only = read_only
        self._counts: dict[str, tuple[float, int]] = {}
        if not read_only:
            connection.executescript(_SCHEMA)
            connection.commit()

    def ensure(self, collection_id: str) -> None:
        """One table holds every collection: nothing to make."""

    def drop(self, collection_id: str) -> None:
        self._db.execute("DELETE FROM keyword_passages WHERE collection_id = ?",
                         (collection_id,))
        self._db.commit()
        self._counts.pop(collection_id, None)

    def add(self, collection_id: str, passages: Sequence[Passage]) -> None:
        # Deterministic ids: a passage written again (after a crash) replaces itself.
        self._db.executemany(
            f"INSERT INTO keyword_passages ({'collection_id, ' + _COLUMNS}, terms) "
            f"VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, {_TERMS}) ON CONFLICT (collection_id, "
            "passage_id) DO UPDATE SET doc_sha256 = excluded.doc_sha256, source = "
            "excluded.source, title = excluded.title, section = excluded.section, page = "
            "excluded.page, ordinal = excluded.ordinal, text = excluded.text, terms = "
            "excluded.terms",
            [(collection_id, p.passage_id, p.doc_sha256, p.source, p.title, p.section, p.page,
              p.ordinal, p.text, plain_words(p.title), plain_words(p.section),
              plain_words(p.text)) for p in passages])
        self._db.commit()
        self._counts.pop(collection_id, None)

    def delete_document(self, collection_id: str, doc_sha256: str) -> None:
        self._db.execute("DELETE FROM keyword_passages WHERE collection_id = ? AND "
                         "doc_sha256 = ?", (collection_id, doc_sha256))
        self._db.commit()
        self._counts.pop(collection_id, None)

    def delete_source(self, collection_id: str, source: str) -> None:
        self._db.execute("DELETE FROM keyword_passages WHERE collection_id = ? AND source = ?",
                         (collection_id, source))
        self._db.commit()
        self._counts.pop(collection_id, None)

    def count(self, collection_id: str) -> int:
        return self.passage_count(collection_id)

    def search(self, collection_id: str, query: str, k: int,
               documents: Set[str] | None = None) -> list[KeywordHit]:
        """The ``k`` best-ranked passages, of only these documents (content hashes) if given;
        those holding every term first, when there are ``k`` of them."""
        expression = match_expression(query)
        if not ts_query(expression) or (documents is not None and not documents):
            return []
        if " OR " in expression:
            every = self._ranked(collection_id, ts_query(expression, " & "), k, documents)
            if len(every) >= k:
                return every
        return self._ranked(collection_id, ts_query(expression), k, documents)

    def _ranked(self, collection_id: str, query: str, k: int,
                documents: Set[str] | None) -> list[KeywordHit]:
        only = ""
        params: list[object] = [query, collection_id]
        if documents is not None:
            only = " AND doc_sha256 = ANY(?)"
            params.append(sorted(documents))
        rows = self._db.execute(
            f"SELECT {_COLUMNS}, ts_rank({_WEIGHTS}, terms, q, {_NORMALISATION}) AS rank "
            "FROM keyword_passages, to_tsquery('english', ?) AS q "
            f"WHERE collection_id = ? AND terms @@ q{only} ORDER BY rank DESC, passage_id "
            "LIMIT ?", (*params, k)).fetchall()
        self._db.commit()  # a read leaves no transaction open
        return [KeywordHit(passage_of_row(row), float(row[-1]) * RANK_SCALE) for row in rows]

    def scores(self, collection_id: str, query: str,
               passage_ids: Sequence[str]) -> dict[str, float]:
        """The rank ``search`` gives each of these passages; one holding no term is absent."""
        text = ts_query(match_expression(query))
        if not text or not passage_ids:
            return {}
        rows = self._db.execute(
            f"SELECT passage_id, ts_rank({_WEIGHTS}, terms, q, {_NORMALISATION}) "
            "FROM keyword_passages, to_tsquery('english', ?) AS q WHERE collection_id = ? "
            "AND passage_id = ANY(?) AND terms @@ q",
            (text, collection_id, list(passage_ids))).fetchall()
        self._db.commit()
        return {str(pid): float(rank) * RANK_SCALE for pid, rank in rows}

    def rare_terms(self, collection_id: str, query: str, most: int) -> list[str]:
        """The query's words held by at most ``most`` passages."""
        from rag.keyword_index import is_stopword

        rare = []
        for term in dict.fromkeys(_WORD.findall(query.lower())):
            if is_stopword(term) or len(term) < 3:
                continue
            row = self._db.execute(
                "SELECT count(*) FROM (SELECT 1 FROM keyword_passages WHERE collection_id = ? "
                "AND terms @@ to_tsquery('english', ?) LIMIT ?) AS found",
                (collection_id, ts_query(term), most + 1)).fetchone()
            if 0 < row[0] <= most:
                rare.append(term)
        self._db.commit()
        return rare

    def passage_count(self, collection_id: str) -> int:
        cached = self._counts.get(collection_id)
        if cached is not None and time.monotonic() - cached[0] < _COUNT_SECONDS:
            return cached[1]
        row = self._db.execute("SELECT count(*) FROM keyword_passages WHERE collection_id = ?",
                               (collection_id,)).fetchone()
        self._db.commit()
        self._counts[collection_id] = (time.monotonic(), int(row[0]))
        return int(row[0])

    def passage_ids(self, collection_id: str) -> list[str]:
        rows = self._db.execute("SELECT passage_id FROM keyword_passages WHERE "
                                "collection_id = ?", (collection_id,)).fetchall()
        self._db.commit()
        return [str(r[0]) for r in rows]

    def passages(self, collection_id: str, passage_ids: Sequence[str]) -> dict[str, Passage]:
        if not passage_ids:
            return {}
        rows = self._db.execute(
            f"SELECT {_COLUMNS} FROM keyword_passages WHERE collection_id = ? AND "
            "passage_id = ANY(?)", (collection_id, list(passage_ids))).fetchall()
        self._db.commit()
        return {str(row[0]): passage_of_row(row) for row in rows}

