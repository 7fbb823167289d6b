"""The seams of retrieval: embedder, vector store, keyword store, and what a search returns."""

from __future__ import annotations

from collections.abc import Sequence, Set
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

from rag.documents import Passage

if TYPE_CHECKING:
    from rag.keyword_index import KeywordHit
    from rag.token_pooling import TokenSums


@dataclass(frozen=True)
class Hit:
    """One retrieved passage; ``to_json`` is the PRODUCT.md search/citation shape."""

    passage: Passage
    score: float
    # What the score was made of (rag/scoring.py), for hybrid search; not part of equality.
    features: Any = field(default=None, compare=False)
    # Other places this text is in: other documents' identical passages ({"source", "page"})
    # and, within its document, ``copies`` more with their pages (rag/duplicates.py).
    also: tuple[dict[str, Any], ...] = field(default=(), compare=False)
    copies: int = field(default=0, compare=False)

    def to_json(self, explain: bool = False) -> dict[str, Any]:
        p = self.passage
        extra = {"features": self.features.to_json()} \
            if explain and self.features is not None else {}
        return {
            "source": p.source,
            "page": p.page,
            "text": p.text,
            "score": round(float(self.score), 6),
            "title": p.title,
            "section": p.section,
            "passage_id": p.passage_id,
            **({"also_in": list(self.also)} if self.also else {}),
            **({"copies": self.copies} if self.copies else {}),
            **extra,
        }


@dataclass(frozen=True)
class VectorHit:
    """A passage the vector store found, with how close the question is to all of it and to
    the best of its windows (None for a passage short enough to be one window)."""

    passage: Passage
    similarity: float
    best_window: float | None


class Embedder(Protocol):
    dimension: int

    def embed(self, texts: Sequence[str]) -> list[list[float]]: ...


@runtime_checkable
class PoolingEmbedder(Embedder, Protocol):
    """An embedder that also gives each text's tokens' states summed, with their count (its
    vector before the mean): texts can then be pooled together (rag/passage_embedding.py)."""

    def token_sums(self, texts: Sequence[str]) -> list[TokenSums]: ...


class VectorStore(Protocol):
    """One collection's passages with their embeddings (always passed explicitly): for each
    passage the vector of all of it, then one per window (rag/passage_vectors.py)."""

    def add(self, passages: Sequence[Passage],
            embeddings: Sequence[Sequence[Sequence[float]]]) -> None: ...

    def query(self, embedding: Sequence[float], k: int,
              documents: Set[str] | None = None) -> list[VectorHit]:
        """The ``k`` nearest passages, of only these documents (content hashes) if given."""
        ...

    def similarities(self, embedding: Sequence[float],
                     passages: Sequence[Passage]) -> dict[str, float]:
        """The blended similarity of each of these passages to the question, by passage id."""
        ...

    def delete_document(self, doc_sha256: str) -> None: ...

    def missing(self, entry_ids: Sequence[str]) -> set[str]:
        """Which of these entries (a passage's id, its windows' ids) have no readable vector."""
        ...

    def entry_ids(self) -> set[str]:
        """Every entry stored: passages and windows."""
        ...

    def delete_source(self, source: str) -> None:
        """Every passage of the file at ``source`` (the path as ingested)."""
        ...


class KeywordStore(Protocol):
    """The keyword side of every collection: its passages' texts, searched by their words
    (rag/keyword_index.py in the library's SQLite file, rag/pg_keyword_index.py on a practice's
    PostgreSQL). Scores are on BM25's scale, higher is better."""

    def ensure(self, collection_id: str) -> None: ...

    def drop(self, collection_id: str) -> None: ...

    def add(self, collection_id: str, passages: Sequence[Passage]) -> None: ...

    def delete_document(self, collection_id: str, doc_sha256: str) -> None: ...

    def delete_source(self, collection_id: str, source: str) -> None: ...

    def search(self, collection_id: str, query: str, k: int,
               documents: Set[str] | None = None) -> list[KeywordHit]: ...

    def scores(self, collection_id: str, query: str,
               passage_ids: Sequence[str]) -> dict[str, float]: ...

    def rare_terms(self, collection_id: str, query: str, most: int) -> list[str]: ...

    def passage_count(self, collection_id: str) -> int: ...

    def passage_ids(self, collection_id: str) -> list[str]: ...

    def passages(self, collection_id: str, passage_ids: Sequence[str]) -> dict[str, Passage]: ...
