"""The shared index's keyword side on a real PostgreSQL ranks as embedded mode's FTS5 does: the
same BM25, from statistics that follow every write and delete."""

from __future__ import annotations

import sqlite3

import pytest

from bench.index_servers import PracticeIndex
from rag.documents import Passage
from rag.keyword_index import KeywordIndex
from rag.pg_keyword_index import PgKeywordIndex
from rag.postgres import PgConnection

TEXTS = [
    ("lease", "Notice", "The tenant may end this lease by giving three months' notice in "
                        "writing to the landlord."),
    ("lease", "Rent", "Rent is payable monthly in advance; late rent carries interest."),
    ("lease", "Repairs", "The landlord repairs the structure; the tenant repairs the inside."),
    ("policy", "Retention", "Patient records are kept for ten years after the last visit."),
    ("policy", "Access", "Records may be read by the treating clinician and the patient."),
    ("policy", "Dose", "Paracetamol 500 mg every four to six hours, at most 4 g a day."),
]


def passages(doc: str) -> list[Passage]:
    return [Passage(f"{doc:0>64}", f"/docs/{doc}.txt", doc.title(), section, None, n, text)
            for n, (d, section, text) in enumerate(TEXTS) if d == doc]


@pytest.fixture
def both(practice_index: PracticeIndex) -> tuple[KeywordIndex, PgKeywordIndex]:
    fts = KeywordIndex(sqlite3.connect(":memory:"))
    fts.ensure("c")
    servers = practice_index.fresh()
    pg = PgKeywordIndex(PgConnection(servers.database))
    for doc in ("lease", "policy"):
        fts.add("c", passages(doc))
        pg.add("c", passages(doc))
    return fts, pg


@pytest.mark.parametrize("query", ["tenant notice", "patient records", "rent interest",
                                   "landlord repairs structure", "500 mg paracetamol"])
def test_the_same_passages_rank_first_with_the_same_bm25(
        both: tuple[KeywordIndex, PgKeywordIndex], query: str) -> None:
    fts, pg = both
    expected, got = fts.search("c", query, 3), pg.search("c", query, 3)
    assert [h.passage.passage_id for h in got] == [h.passage.passage_id for h in expected]
    for mine, theirs in zip(got, expected, strict=True):
        assert mine.score == pytest.approx(theirs.score, rel=0.02)


def test_passages_holding_every_word_rank_first_as_in_fts5(
        both: tuple[KeywordIndex, PgKeywordIndex]) -> None:
    """When enough passages hold every word, only those are ranked (found by the GIN index on
    the server): the same passages, in the same order, with the same BM25 as FTS5, although a
    short note repeating the rarer word outranks them on BM25 alone."""
    fts, pg = both
    long_text = "The committee met on Tuesday and read the minutes of the last meeting aloud."
    minutes = [Passage(f"{'minutes':0>64}", "/docs/minutes.txt", "Minutes", f"Item {n}", None,
                       n, f"{long_text} Alpha and beta were agreed{' again' * n}. {long_text}")
               for n in range(3)]
    note = Passage(f"{'note':0>64}", "/docs/note.txt", "Note", "Beta", None, 0,
                   "Beta, beta, beta.")
    # "Alpha" is common, so "beta" weighs the most.
    others = [Passage(f"{'other':0>64}", "/docs/other.txt", "Other", "", None, n,
                      f"Alpha team report number {n}.") for n in range(3)]
    for index in (fts, pg):
        index.add("c", [*minutes, note, *others])
    for k in (1, 2, 3):
        expected, got = fts.search("c", "alpha beta", k), pg.search("c", "alpha beta", k)
        assert [h.passage.source for h in got] == ["/docs/minutes.txt"] * k
        assert [h.passage.passage_id for h in got] == [h.passage.passage_id for h in expected]
        for mine, theirs in zip(got, expected, strict=True):
            assert mine.score == pytest.approx(theirs.score, rel=0.02)
    # Too few hold both: every passage holding either is ranked, and the note comes first.
    assert pg.search("c", "alpha beta", 4)[0].passage.source == "/docs/note.txt"
    assert fts.search("c", "alpha beta", 4)[0].passage.source == "/docs/note.txt"


def test_the_statistics_follow_a_deleted_document(
        both: tuple[KeywordIndex, PgKeywordIndex], practice_index: PracticeIndex) -> None:
    pg = both[1]
    pg.delete_document("c", passages("lease")[0].doc_sha256)
    fresh = PgKeywordIndex(PgConnection(practice_index.fresh().database))
    fresh.add("c", passages("policy"))
    assert pg.passage_count("c") == fresh.passage_count("c") == 3
    for query in ("patient records", "records kept ten years"):
        assert [(h.passage.passage_id, round(h.score, 6)) for h in pg.search("c", query, 3)] \
            == [(h.passage.passage_id, round(h.score, 6)) for h in fresh.search("c", query, 3)]
    assert pg.search("c", "tenant notice", 3) == []
    # A passage written again (after a crash) counts once.
    pg.add("c", passages("policy"))
    assert pg.passage_count("c") == 3
    assert pg.search("c", "patient records", 1)[0].score == pytest.approx(
        fresh.search("c", "patient records", 1)[0].score)
    assert pg.rare_terms("c", "paracetamol for the patient", 1) == ["paracetamol"]


def test_a_word_counted_by_another_desks_write_never_breaks_a_search() -> None:
    """The passage count and a word's count are read apart: a write by another desk between the
    two can leave the word held by more passages than were counted (CI saw "math domain
    error" with four desks at once)."""
    from rag.pg_keyword_index import _MIN_IDF, _idf

    assert _idf(5, 8) == _MIN_IDF
    assert _idf(0, 3) == _MIN_IDF
    assert _idf(100, 1) > _idf(100, 10) > 0


def test_a_database_made_before_the_postings_is_searched_as_a_new_one(
        both: tuple[KeywordIndex, PgKeywordIndex], practice_index: PracticeIndex) -> None:
    """A practice's database written by the first shared-index release (no postings, no
    passage numbers) gets them when a newer workstation opens it, and ranks as before."""
    fts, pg = both
    queries = ("tenant notice", "patient records", "500 mg paracetamol")
    expected = {q: [h.passage.passage_id for h in fts.search("c", q, 3)] for q in queries}
    database = pg._db
    database.executescript("DROP TRIGGER keyword_postings_added ON keyword_passages; "
                           "DROP TRIGGER keyword_postings_removed ON keyword_passages; "
                           "DROP TABLE keyword_postings; "
                           "ALTER TABLE keyword_passages DROP COLUMN ref")
    database.commit()
    upgraded = PgKeywordIndex(database)
    for query in queries:
        assert [h.passage.passage_id for h in upgraded.search("c", query, 3)] == expected[query]
    # And it keeps them from then on: a document removed is no longer found.
    upgraded.delete_document("c", passages("policy")[0].doc_sha256)
    assert upgraded.search("c", "patient records", 3) == []
