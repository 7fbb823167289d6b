"""The two indexes under the library: FTS5 keyword search and Chroma vectors."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from rag.catalog import Catalog, CollectionError, clean_collection_name, storage_id
from rag.documents import Passage
from rag.embedder import MiniLMEmbedder
from rag.keyword_index import KeywordIndex, match_expression
from rag.vector_store import ChromaVectorStores


def passage(n: int, text: str, doc: str = "doc", page: int | None = 1) -> Passage:
    return Passage(doc, f"/docs/{doc}.pdf", doc.title(), "", page, n, text)


TEXTS = [
    "4.2 Notice. Either party may end the agreement on 90 days' notice.",
    "4.3 Breach. Either party may end the agreement at once for material breach.",
    "This program is released under the GPL-3.0 licence.",
    "This program is released under GPL version 2 only.",
    "Give amoxicillin 500 mg three times a day.",
    "Give amoxicillin 250 mg three times a day.",
]


@pytest.fixture
def keywords(tmp_path: Path) -> KeywordIndex:
    index = KeywordIndex(sqlite3.connect(tmp_path / "k.sqlite3"))
    index.ensure("c-one")
    index.add("c-one", [passage(n, t) for n, t in enumerate(TEXTS)])
    return index


@pytest.mark.parametrize(("query", "expected"), [
    ("what does section 4.3 say", 1),
    ("GPL-3.0", 2),
    ("GPL version 2", 3),
    ("amoxicillin 250 mg", 5),
    ("amoxicillin 500 mg", 4),
])
def test_exact_numbers_rank_the_right_passage_first(keywords: KeywordIndex, query: str,
                                                    expected: int) -> None:
    hits = keywords.search("c-one", query, 3)
    assert hits[0].passage.text == TEXTS[expected]
    assert hits[0].score > 0


def test_keyword_queries_never_break_on_punctuation(keywords: KeywordIndex) -> None:
    for query in ['"unbalanced', "AND OR NOT", "*", "col:umn", "(x", "", "?!"]:
        keywords.search("c-one", query, 3)  # no sqlite3.OperationalError
    assert match_expression("the of and") == ""


def test_rewriting_a_document_never_duplicates(keywords: KeywordIndex) -> None:
    keywords.add("c-one", [passage(0, TEXTS[0])])
    assert keywords.count("c-one") == len(TEXTS)
    keywords.delete_document("c-one", "doc")
    assert keywords.count("c-one") == 0


def test_collection_names_map_to_safe_storage_ids(tmp_path: Path) -> None:
    catalog = Catalog(sqlite3.connect(tmp_path / "c.sqlite3"))
    odd = ["Smith v Jones (2024)", "Patient: Müller / ward 3", "ü", "a", "x" * 120,
           "Smith v Jones 2024"]
    ids = {catalog.create_collection(name).id for name in odd}
    assert len(ids) == len(odd)
    for cid in ids:
        assert 3 <= len(cid) <= 63 and cid[0].isalnum() and cid[-1].isalnum()
        assert all(ch.isalnum() or ch == "-" for ch in cid)
    assert catalog.find_collection("  Smith   v Jones (2024) ") is not None
    assert storage_id("Smith v Jones (2024)") == storage_id("Smith v Jones (2024)")
    for bad in ("", "   ", "a\x00b", "x" * 121):
        with pytest.raises(CollectionError):
            clean_collection_name(bad)


def test_chroma_holds_explicit_embeddings_per_collection(tmp_path: Path,
                                                         embedder: MiniLMEmbedder) -> None:
    stores = ChromaVectorStores.embedded(tmp_path / "chroma")
    one, two = stores.store("c-one-abc"), stores.store("c-two-abc")
    texts = ["The tenant pays rent monthly.", "The patient takes aspirin daily."]
    one.add([passage(0, texts[0], "lease")], [embedder.embed(texts[:1])])
    two.add([passage(0, texts[1], "chart", page=None)], [embedder.embed(texts[1:])])
    one.add([passage(0, texts[0], "lease")], [embedder.embed(texts[:1])])  # again: an upsert
    assert one.count() == 1 and two.count() == 1
    query = embedder.embed(["aspirin"])[0]
    hits = one.query(query, 5)
    assert [h.passage.text for h in hits] == [texts[0]]  # never the other collection's
    best = two.query(query, 5)[0]
    assert best.passage.page is None and best.similarity > hits[0].similarity
    assert -1.0 <= best.similarity <= 1.0 and best.best_window is None
    one.delete_document("lease")
    assert one.count() == 0


def test_the_embedder_is_normalized_and_local(embedder: MiniLMEmbedder) -> None:
    vectors = embedder.embed(["a short sentence", "another one"])
    assert len(vectors) == 2 and len(vectors[0]) == embedder.dimension == 384
    assert abs(sum(x * x for x in vectors[0]) - 1.0) < 1e-4
    assert embedder.embed([]) == []


def test_words_in_most_passages_do_not_change_the_ranking() -> None:
    # 'contract' is in every passage: FTS5 gives it no weight, and the index skips it, so the
    # passages that match the rare words rank exactly as before.
    db = sqlite3.connect(":memory:")
    index = KeywordIndex(db)
    index.ensure("matter-a")
    passages = [Passage("d", "/m/a.txt", "A", "", 1, i,
                        f"contract clause {i} " + ("indemnity " * (i % 3)) + "filler text")
                for i in range(40)]
    index.add("matter-a", passages)
    pruned = index.search("matter-a", "contract indemnity", 10)
    full = db.execute("SELECT passage_id, -bm25(fts_matter_a) FROM fts_matter_a "
                      "WHERE fts_matter_a MATCH ? ORDER BY rank LIMIT 10",
                      (match_expression("contract indemnity"),)).fetchall()
    assert [round(h.score, 3) for h in pruned] == [round(score, 3) for _, score in full]
    assert all("indemnity" in h.passage.text for h in pruned)
    # ...and the work skipped is real: only the rare word is left to score.
    assert index._without_ubiquitous_terms("matter-a", match_expression("contract indemnity")) \
        == '"indemnity"'


def test_a_long_passage_is_found_by_its_best_window(tmp_path: Path,
                                                   embedder: MiniLMEmbedder) -> None:
    from rag.passage_vectors import embedding_texts

    store = ChromaVectorStores.embedded(tmp_path / "chroma").store("c-lease-abc")
    sentences = ["The tenant pays the rent on the first day of each month by bank transfer.",
                 "The deposit of two months' rent is held in a government-backed scheme.",
                 "The tenant may keep one cat or one small dog with the landlord's consent.",
                 "The landlord repairs the boiler and the heating within 14 days of notice.",
                 "Either party may end the tenancy with two months' notice in writing."]
    long = passage(0, " ".join(sentences), "lease")
    texts = embedding_texts(long)
    assert len(texts) >= 3  # the whole passage, then its windows
    store.add([long], [embedder.embed(texts)])
    assert store.count() == 1  # passages, not their windows
    hit = store.query(embedder.embed(["Who fixes the heating when it breaks?"])[0], 5)[0]
    assert hit.passage.text == long.text  # a window leads to its whole passage
    assert hit.best_window is not None and hit.best_window > hit.similarity
    store.delete_document("lease")
    assert store.count() == 0
    assert store.query(embedder.embed(["heating"])[0], 5) == []  # no window left behind


def test_passages_with_every_term_come_first_and_fewer_change_nothing() -> None:
    db = sqlite3.connect(":memory:")
    index = KeywordIndex(db)
    index.ensure("matter-b")
    # 30 passages hold both words; 5 hold only 'handover', ten times (a higher BM25 score).
    both = [f"warfarin dose {i} was reviewed by the pharmacist at the ward handover meeting"
            for i in range(30)]
    one = ["handover " * 10 + str(i) for i in range(5)]
    index.add("matter-b", [Passage("d", "/m/b.txt", "B", "", 1, i, t)
                           for i, t in enumerate(both + one + ["unrelated filler"] * 200)])

    def any_term(k: int) -> list[tuple[str, float]]:
        rows = db.execute("SELECT text, -bm25(fts_matter_b) FROM fts_matter_b WHERE "
                          "fts_matter_b MATCH ? ORDER BY rank LIMIT ?",
                          (match_expression("warfarin handover"), k)).fetchall()
        return [(text, round(score, 4)) for text, score in rows]

    # Enough passages name both: they are the result, though single-word ones score higher.
    top = index.search("matter-b", "warfarin handover", 10)
    assert len(top) == 10 and all("warfarin" in h.passage.text for h in top)
    assert any_term(10)[0][0].startswith("handover handover")
    # Fewer than asked for: exactly the any-term ranking, scores and all.
    wide = index.search("matter-b", "warfarin handover", 50)
    assert [(h.passage.text, round(h.score, 4)) for h in wide] == any_term(50)
