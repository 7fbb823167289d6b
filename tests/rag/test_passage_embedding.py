"""A passage's vector pooled from its windows: the windows embedded as before, the passage not
embedded whole as well, found by its best window, and all of it counted past the 256-token cut."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import pytest

from rag.documents import Passage
from rag.embedder import MiniLMEmbedder
from rag.passage_embedding import PassageEmbedding, pooling
from rag.passage_vectors import embedding_texts, windows
from rag.token_pooling import TokenSums
from rag.vector_store import ChromaVectorStores
from tests.doubles import HashEmbedder

pytestmark = pytest.mark.slow

LEASE = ["The tenant pays the rent on the first day of each month by bank transfer.",
         "The deposit of two months' rent is held in a government-backed scheme.",
         "The tenant may keep one cat or one small dog with the landlord's consent.",
         "The landlord repairs the boiler and the heating within 14 days of notice.",
         "Either party may end the tenancy with two months' notice in writing."]


def passage(text: str, doc: str = "lease") -> Passage:
    return Passage(doc, f"/docs/{doc}.pdf", "Tenancy agreement", "Obligations", 1, 0, text,
                   {"context": "Tenancy agreement > Obligations"})


def cosine(a: Sequence[float], b: Sequence[float]) -> float:
    return sum(x * y for x, y in zip(a, b, strict=True))


class Counting:
    """The real embedder, remembering which texts it embedded."""

    def __init__(self, inner: MiniLMEmbedder) -> None:
        self._inner = inner
        self.dimension = inner.dimension
        self.texts: list[str] = []

    def embed(self, texts: Sequence[str]) -> list[list[float]]:
        self.texts.extend(texts)
        return self._inner.embed(texts)

    def token_sums(self, texts: Sequence[str]) -> list[TokenSums]:
        self.texts.extend(texts)
        return self._inner.token_sums(texts)


def test_the_windows_are_embedded_and_the_passage_is_not_embedded_whole_as_well(
        tmp_path: Path, embedder: MiniLMEmbedder) -> None:
    long = passage(" ".join(LEASE))
    texts = embedding_texts(long)
    counting = Counting(embedder)
    assert pooling(counting) and not pooling(HashEmbedder())
    vectors = PassageEmbedding(counting, [long]).run()[0]
    assert len(vectors) == len(texts) == 1 + len(windows(long)) >= 3
    assert sorted(counting.texts) == sorted(texts[1:]), "its windows only"
    for vector, alone in zip(vectors[1:], embedder.embed(texts[1:]), strict=True):
        assert cosine(vector, alone) > 0.9999, "each window is the vector it always was"
    # Found by its best window, and by the whole of it.
    store = ChromaVectorStores.embedded(tmp_path / "chroma").store("c-lease")
    store.add([long], [vectors])
    hit = store.query(embedder.embed(["Who fixes the heating when it breaks?"])[0], 5)[0]
    assert hit.passage.text == long.text
    assert hit.best_window is not None and hit.best_window > hit.similarity
    rules = embedder.embed(["What are the tenant's rent, deposit and pet rules?"])[0]
    assert cosine(vectors[0], rules) > max(cosine(w, rules) for w in vectors[1:]) - 0.05


def test_the_passage_vector_counts_what_comes_after_the_256_token_cut(
        embedder: MiniLMEmbedder) -> None:
    filler = " ".join(f"Clause {n}. The tenant pays the rent on the first day of each month."
                      for n in range(1, 22))
    tail = "The landlord's dog Biscuit must be walked by the tenant every evening."
    long = passage(f"{filler} {tail}")
    whole = embedding_texts(long)[0]
    assert len(embedder.transformer()[1](whole)["input_ids"]) > 256
    pooled = PassageEmbedding(embedder, [long]).run()[0][0]
    question = embedder.embed(["Who walks the landlord's dog in the evening?"])[0]
    assert cosine(pooled, question) > cosine(embedder.embed([whole])[0], question)


def test_a_short_passage_is_itself_and_a_shared_text_is_embedded_once(
        embedder: MiniLMEmbedder) -> None:
    short = passage(LEASE[0], "note")
    assert windows(short) == []
    counting = Counting(embedder)
    both = PassageEmbedding(counting, [short, passage(LEASE[0], "copy")]).run()
    assert counting.texts == embedding_texts(short), "one text, embedded once"
    assert len(both[0]) == 1 and both[0] == both[1]
    assert cosine(both[0][0], embedder.embed(embedding_texts(short))[0]) > 0.9999


def test_an_embedder_without_token_sums_embeds_the_passage_and_each_window() -> None:
    long = passage(" ".join(LEASE))
    embedding = PassageEmbedding(HashEmbedder(), [long])
    assert embedding.total == len(embedding_texts(long))
    assert embedding.run()[0] == HashEmbedder().embed(embedding_texts(long))


class WithoutTokenSums:
    """The real embedder as Enclave used it before pooling: every text embedded alone."""

    def __init__(self, inner: MiniLMEmbedder) -> None:
        self._inner = inner
        self.dimension = inner.dimension

    def embed(self, texts: Sequence[str]) -> list[list[float]]:
        return self._inner.embed(texts)


def test_a_library_indexed_with_whole_passages_is_indexed_again_with_pooled_ones(
        tmp_path: Path, embedder: MiniLMEmbedder) -> None:
    from rag.library import Library

    folder = tmp_path / "matter"
    folder.mkdir()
    (folder / "lease.txt").write_text(" ".join(LEASE), encoding="utf-8")
    before = Library(tmp_path / "index", WithoutTokenSums(embedder))  # type: ignore[arg-type]
    try:
        assert [e.kind for e in before.ingest([folder], "Matter") if e.path][-1] == "indexed"
    finally:
        before.close()
    after = Library(tmp_path / "index", embedder)
    try:
        again = [e for e in after.ingest([folder], "Matter") if e.kind in ("indexed",
                                                                            "unchanged")]
        assert [e.kind for e in again] == ["indexed"], "its vectors are made again, pooled"
        assert after.search("Who repairs the heating?", "Matter", 1)[0].passage.source == \
            str(folder / "lease.txt")
    finally:
        after.close()
