"""Hybrid retrieval: vector and keyword rankings fused by reciprocal rank fusion (RRF).

Embeddings find passages that mean the same thing in other words; BM25 finds the exact terms,
section numbers and versions that embeddings blur. RRF needs no score calibration between the
two: each list votes 1 / (K + rank) for its passages. The fused score is scaled so that a passage
ranked first by both lists scores 1.0: higher is better, and comparable between queries.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Literal

from rag.keyword_index import KeywordIndex
from rag.retrieval_types import Hit
from rag.vector_store import ChromaVectorStore

Mode = Literal["hybrid", "vector", "keyword"]
MODES: tuple[Mode, ...] = ("hybrid", "vector", "keyword")

RRF_K = 60
# How many candidates each side contributes before fusion.
CANDIDATES = 50


@dataclass(frozen=True)
class Retrieval:
    hits: list[Hit]
    # The best cosine similarity between the question and any passage: how relevant the
    # collection is to the question at all (grounded mode refuses below a threshold).
    best_similarity: float


def fuse(rankings: Sequence[Sequence[Hit]], top_k: int, k: int = RRF_K) -> list[Hit]:
    """Reciprocal rank fusion of several rankings of the same collection's passages."""
    fused: dict[str, float] = {}
    first_seen: dict[str, Hit] = {}
    for ranking in rankings:
        for rank, hit in enumerate(ranking, start=1):
            pid = hit.passage.passage_id
            fused[pid] = fused.get(pid, 0.0) + 1.0 / (k + rank)
            first_seen.setdefault(pid, hit)
    best_possible = len(rankings) / (k + 1)
    order = sorted(fused, key=lambda pid: fused[pid], reverse=True)[:top_k]
    return [replace(first_seen[pid], score=fused[pid] / best_possible) for pid in order]


def retrieve(query: str, query_embedding: Sequence[float], vectors: ChromaVectorStore,
             keywords: KeywordIndex, collection_id: str, top_k: int,
             mode: Mode = "hybrid") -> Retrieval:
    depth = max(CANDIDATES, top_k)
    by_vector = vectors.query(query_embedding, depth) if mode != "keyword" else []
    best = by_vector[0].score if by_vector else 0.0
    if mode == "vector":
        return Retrieval(by_vector[:top_k], best)
    by_keyword = [Hit(h.passage, h.score)
                  for h in keywords.search(collection_id, query, depth)]
    if mode == "keyword":
        return Retrieval(by_keyword[:top_k], best)
    return Retrieval(fuse([by_vector, by_keyword], top_k), best)
