"""The keyword side of retrieval on a practice's PostgreSQL, for every workstation at once
(rag/keyword_index.py is the same side in a library's own SQLite file, FTS5).

One table holds every collection's passages with their ``tsvector`` (English stemming, as
FTS5's porter tokenizer; section, title and text labelled A, B and C) under one GIN index, which
finds the passages holding the question's terms. They are ranked by BM25 as FTS5 computes it
(k1 1.2, b 0.75, the same column weights 2 : 1.5 : 1, the same inverse document frequency), from
statistics kept beside the passages in the same transactions: how many passages hold each
stemmed word, and each collection's passage and word counts. PostgreSQL's own ``ts_rank`` has no
inverse document frequency, and measured it lost 7 of 60 questions at hit@1 on one question set
(docs/SERVERS.md).

The query is embedded mode's (``match_expression``): the question's words, its compounds as
phrases ("4.2" -> 4 <-> 2) and its number pairs ("version 2"), ORed; words held by more than
half the passages are left out of the search (their BM25 weight is nil); passages holding every
term are looked for first.
"""

from __future__ import annotations

import math
import re
import unicodedata
from collections.abc import Sequence, Set
from dataclasses import dataclass

from rag.documents import Passage
from rag.keyword_index import KeywordHit, is_stopword, match_expression, passage_of_row
from rag.postgres import PgConnection

# BM25 as FTS5's bm25(): its constants and column weights (rag/keyword_index.py _WEIGHTS).
K1, B = 1.2, 0.75
_LABEL_WEIGHT = "CASE w WHEN 'A' THEN 2.0 WHEN 'B' THEN 1.5 ELSE 1.0 END"
_MIN_IDF = 1e-6
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
    words INTEGER NOT NULL,
    PRIMARY KEY (collection_id, passage_id)
);
CREATE INDEX IF NOT EXISTS keyword_passages_terms ON keyword_passages USING gin (terms);
CREATE INDEX IF NOT EXISTS keyword_passages_by_doc ON keyword_passages (collection_id, doc_sha256);
CREATE INDEX IF NOT EXISTS keyword_passages_by_source ON keyword_passages (collection_id, source);
CREATE TABLE IF NOT EXISTS keyword_terms (
    collection_id TEXT NOT NULL,
    lexeme TEXT NOT NULL,
    passages INTEGER NOT NULL,
    PRIMARY KEY (collection_id, lexeme)
);
CREATE TABLE IF NOT EXISTS keyword_collections (
    collection_id TEXT PRIMARY KEY,
    passages BIGINT NOT NULL,
    words BIGINT NOT NULL
)
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


def _phrases(expression: str) -> list[list[str]]:
    """The terms of a ``match_expression``, each as its words."""
    found = []
    for term in expression.split(" OR ") if expression else []:
        words = _WORD.findall(plain_words(term))
        if words:
            found.append(words)
    return found


def ts_query(expression: str, joiner: str = " | ") -> str:
    """A ``to_tsquery`` text for an FTS5 expression of ``match_expression``: each quoted term
    a phrase of its words, joined by ``joiner`` (``|`` any, ``&`` all)."""
    return joiner.join(_tsquery_term(words) for words in _phrases(expression))


def _tsquery_term(words: Sequence[str]) -> str:
    return "(" + " <-> ".join(words) + ")" if len(words) > 1 else words[0]


@dataclass(frozen=True)
class _Term:
    query: str  # to_tsquery text
    lexeme: str | None  # a single word's stem; None for a phrase (or a stopword)
    idf: float


class PgKeywordIndex:
    """Implements rag.retrieval_types.KeywordStore on PostgreSQL."""

    def __init__(self, connection: PgConnection, read_only: bool = False) -> None:
        self._db = connection
        if not read_only:
            connection.executescript(_SCHEMA)
            connection.commit()

    def ensure(self, collection_id: str) -> None:
        """One set of tables holds every collection: nothing to make."""

    # -- writing --------------------------------------------------------------------------------

    def drop(self, collection_id: str) -> None:
        for table in ("keyword_passages", "keyword_terms", "keyword_collections"):
            self._db.execute(f"DELETE FROM {table} WHERE collection_id = ?", (collection_id,))
        self._db.commit()

    def add(self, collection_id: str, passages: Sequence[Passage]) -> None:
        # Deterministic ids: a passage written again (after a crash) replaces itself.
        ids = [p.passage_id for p in passages]
        self._delete_where(collection_id, "passage_id", ids)
        self._db.executemany(
            f"INSERT INTO keyword_passages ({'collection_id, ' + _COLUMNS}, terms, words) "
            f"VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, {_TERMS}, ?)",
            [(collection_id, p.passage_id, p.doc_sha256, p.source, p.title, p.section, p.page,
              p.ordinal, p.text, plain_words(p.title), plain_words(p.section),
              plain_words(p.text), _word_count(p)) for p in passages])
        self._db.execute(
            "INSERT INTO keyword_terms (collection_id, lexeme, passages) "
            "SELECT ?, u.lexeme, count(*) FROM keyword_passages p, unnest(p.terms) AS u "
            "WHERE p.collection_id = ? AND p.passage_id = ANY(?) GROUP BY u.lexeme "
            "ON CONFLICT (collection_id, lexeme) DO UPDATE SET "
            "passages = keyword_terms.passages + excluded.passages",
            (collection_id, collection_id, ids))
        self._db.execute(
            "INSERT INTO keyword_collections VALUES (?, ?, ?) ON CONFLICT (collection_id) DO "
            "UPDATE SET passages = keyword_collections.passages + excluded.passages, "
            "words = keyword_collections.words + excluded.words",
            (collection_id, len(passages), sum(_word_count(p) for p in passages)))
        self._db.commit()

    def delete_document(self, collection_id: str, doc_sha256: str) -> None:
        self._delete_where(collection_id, "doc_sha256", [doc_sha256])
        self._db.commit()

    def delete_source(self, collection_id: str, source: str) -> None:
        self._delete_where(collection_id, "source", [source])
        self._db.commit()

    def _delete_where(self, collection_id: str, column: str, values: Sequence[str]) -> None:
        """The rows whose ``column`` is one of ``values`` gone, their words no longer counted
        (in the caller's transaction)."""
        where = f"p.collection_id = ? AND p.{column} = ANY(?)"
        self._db.execute(
            "UPDATE keyword_terms AS t SET passages = t.passages - gone.n FROM ("
            f"SELECT u.lexeme, count(*) AS n FROM keyword_passages p, unnest(p.terms) AS u "
            f"WHERE {where} GROUP BY u.lexeme) AS gone "
            "WHERE t.collection_id = ? AND t.lexeme = gone.lexeme",
            (collection_id, list(values), collection_id))
        self._db.execute(
            "UPDATE keyword_collections AS c SET passages = c.passages - gone.n, "
            "words = c.words - gone.w FROM (SELECT count(*) AS n, coalesce(sum(p.words), 0) "
            f"AS w FROM keyword_passages p WHERE {where}) AS gone WHERE c.collection_id = ?",
            (collection_id, list(values), collection_id))
        self._db.execute(f"DELETE FROM keyword_passages p WHERE {where}",
                         (collection_id, list(values)))
        self._db.execute("DELETE FROM keyword_terms WHERE collection_id = ? AND passages <= 0",
                         (collection_id,))

    # -- searching ------------------------------------------------------------------------------

    def search(self, collection_id: str, query: str, k: int,
               documents: Set[str] | None = None) -> list[KeywordHit]:
        """The ``k`` best BM25 matches, of only these documents (content hashes) if given;
        those holding every term first, when there are ``k`` of them."""
        if documents is not None and not documents:
            return []
        terms = self._terms(collection_id, match_expression(query))
        if not terms:
            return []
        searched = [t for t in terms if not _ubiquitous(t)] or terms
        if len(searched) > 1:
            every = self._ranked(collection_id, terms, " & ".join(t.query for t in searched),
                                 k, documents)
            if len(every) >= k:
                return every
        return self._ranked(collection_id, terms, " | ".join(t.query for t in searched), k,
                            documents)

    def scores(self, collection_id: str, query: str,
               passage_ids: Sequence[str]) -> dict[str, float]:
        """BM25 of these passages for ``query``, as ``search`` gives it; one holding none of
        its terms is absent."""
        terms = self._terms(collection_id, match_expression(query))
        if not terms or not passage_ids:
            return {}
        hits = self._ranked(collection_id, terms, " | ".join(t.query for t in terms),
                            len(passage_ids), None, list(passage_ids))
        return {h.passage.passage_id: h.score for h in hits}

    def _ranked(self, collection_id: str, terms: Sequence[_Term], match: str, k: int,
                documents: Set[str] | None, only: list[str] | None = None) -> list[KeywordHit]:
        _, average = self._collection_stats(collection_id)
        length = f"{K1} * ({1 - B} + {B} * p.words / ?)"
        lexemes = [t for t in terms if t.lexeme is not None]
        phrases = [t for t in terms if t.lexeme is None]
        parts = [
            # Each single word: its weighted frequency in the passage, from the tsvector.
            "coalesce((SELECT sum(q.idf * f.tf * " + str(K1 + 1) + f" / (f.tf + {length})) "
            "FROM (SELECT u.lexeme, (SELECT sum(" + _LABEL_WEIGHT + ") FROM unnest(u.weights) "
            "AS w) AS tf FROM unnest(p.terms) AS u WHERE u.lexeme = ANY(?)) AS f "
            "JOIN unnest(?::text[], ?::float8[]) AS q(lexeme, idf) ON q.lexeme = f.lexeme), 0)"]
        params: list[object] = [average, [t.lexeme for t in lexemes],
                                [t.lexeme for t in lexemes], [t.idf for t in lexemes]]
        for phrase in phrases:  # a phrase present counts once, as in running text
            parts.append(f"CASE WHEN p.terms @@ to_tsquery('english', ?) THEN ? * {K1 + 1} / "
                         f"(1 + {length}) ELSE 0 END")
            params += [phrase.query, phrase.idf, average]
        where = "p.collection_id = ? AND p.terms @@ to_tsquery('english', ?)"
        params += [collection_id, match]
        if documents is not None:
            where += " AND p.doc_sha256 = ANY(?)"
            params.append(sorted(documents))
        if only is not None:
            where += " AND p.passage_id = ANY(?)"
            params.append(only)
        rows = self._db.execute(
            f"SELECT {', '.join('p.' + c for c in _COLUMNS.split(', '))}, "
            f"{' + '.join(parts)} AS bm25 FROM keyword_passages p WHERE {where} "
            "ORDER BY bm25 DESC, p.passage_id LIMIT ?", (*params, k)).fetchall()
        self._db.commit()  # a read leaves no transaction open
        return [KeywordHit(passage_of_row(row), float(row[-1])) for row in rows]

    def _terms(self, collection_id: str, expression: str) -> list[_Term]:
        """The expression's terms with their inverse document frequency (FTS5's formula)."""
        phrases = _phrases(expression)
        if not phrases:
            return []
        n, _ = self._collection_stats(collection_id)
        singles = sorted({w[0] for w in phrases if len(w) == 1})
        stems = dict(self._db.execute(
            "SELECT w, (tsvector_to_array(to_tsvector('english', w)))[1] FROM unnest(?::text[]) "
            "AS w", (singles,)).fetchall()) if singles else {}
        known = {str(lexeme): int(count) for lexeme, count in self._db.execute(
            "SELECT lexeme, passages FROM keyword_terms WHERE collection_id = ? AND "
            "lexeme = ANY(?)", (collection_id, [s for s in stems.values() if s])).fetchall()}
        terms = []
        for words in phrases:
            if len(words) == 1:
                stem = stems.get(words[0])
                if not stem:
                    continue  # a stopword to PostgreSQL: it matches nothing
                terms.append(_Term(words[0], stem, _idf(n, known.get(stem, 0))))
            else:
                query = _tsquery_term(words)
                count = self._db.execute(
                    "SELECT count(*) FROM keyword_passages WHERE collection_id = ? AND "
                    "terms @@ to_tsquery('english', ?)", (collection_id, query)).fetchone()[0]
                terms.append(_Term(query, None, _idf(n, int(count))))
        self._db.commit()
        return terms

    def _collection_stats(self, collection_id: str) -> tuple[int, float]:
        row = self._db.execute("SELECT passages, words FROM keyword_collections WHERE "
                               "collection_id = ?", (collection_id,)).fetchone()
        if row is None or not row[0]:
            return 0, 1.0
        return int(row[0]), max(float(row[1]) / float(row[0]), 1.0)

    def rare_terms(self, collection_id: str, query: str, most: int) -> list[str]:
        """The query's words held by at most ``most`` passages (a name, a record or case
        number, a drug code)."""
        words = [w for w in dict.fromkeys(_WORD.findall(plain_words(query.lower())))
                 if not is_stopword(w) and len(w) >= 3]
        if not words:
            return []
        rows = self._db.execute(
            "SELECT w, coalesce(t.passages, 0) FROM unnest(?::text[]) AS w LEFT JOIN "
            "keyword_terms t ON t.collection_id = ? AND t.lexeme = "
            "(tsvector_to_array(to_tsvector('english', w)))[1]",
            (words, collection_id)).fetchall()
        self._db.commit()
        count = dict(rows)
        return [w for w in words if 0 < int(count.get(w, 0)) <= most]

    # -- reading ---------------------------------------------------------------------------------

    def count(self, collection_id: str) -> int:
        return self.passage_count(collection_id)

    def passage_count(self, collection_id: str) -> int:
        n, _ = self._collection_stats(collection_id)
        self._db.commit()
        return n

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


def _word_count(p: Passage) -> int:
    """The passage's words as FTS5 counts a row's length: every token, stopwords too."""
    return sum(len(_WORD.findall(plain_words(part))) for part in (p.title, p.section, p.text))


def _ubiquitous(term: _Term) -> bool:
    """A single word held by more than half the passages: BM25 weighs it nil (FTS5 clamps its
    IDF to 1e-6), but searching for it would score most of the collection."""
    return term.lexeme is not None and term.idf <= _MIN_IDF


def _idf(n: int, df: int) -> float:
    """FTS5's: log((N - n + 0.5) / (n + 0.5)), at least 1e-6. The passage count and a word's
    count are read one after the other, so another desk's write between them can make the
    word's the larger: it is then held by all the passages counted."""
    if n <= 0:
        return _MIN_IDF
    df = min(max(df, 0), n)
    return max(math.log((n - df + 0.5) / (df + 0.5)), _MIN_IDF)
