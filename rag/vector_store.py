"""The vector side of retrieval: embedded Chroma, one Chroma collection per Enclave collection.

Chroma never embeds anything itself here: collections are created without an embedding function
and every add and query passes its embeddings explicitly (its default function would fetch a
model). chromadb is imported when the store opens, not when this module is imported.
"""

from __future__ import annotations

from collections.abc import Sequence, Set
from pathlib import Path
from typing import Any

import numpy as np

from rag.documents import Passage
from rag.passage_vectors import blended_similarity
from rag.retrieval_types import VectorHit

# Chroma metadata cannot hold None: a page-less passage is stored with page 0.
_NO_PAGE = 0
# Wider than Chroma's default so the approximate search misses fewer near neighbours.
_HNSW: dict[str, Any] = {"space": "cosine", "ef_construction": 200, "ef_search": 200}
_WRITE_BATCH = 1000
# Entries fetched per passage wanted: a passage's windows are often near the question together.
_ENTRIES_PER_PASSAGE = 3
_WINDOW_OF = "window_of"


def _window_id(passage_id: str, n: int) -> str:
    return f"{passage_id}#w{n}"


def _vector_hits(stored: dict[str, Any], question: np.ndarray) -> list[VectorHit]:
    """Each passage's similarity and its best window's, from the stored vectors (all are
    normalized, so a dot product is the cosine), nearest passage first."""
    if not stored["ids"]:
        return []
    similarities = np.asarray(stored["embeddings"], dtype=np.float32) @ question
    whole: dict[str, tuple[float, Passage]] = {}
    best_window: dict[str, float] = {}
    for entry, text, meta, similarity in zip(stored["ids"], stored["documents"],
                                             stored["metadatas"], similarities.tolist(),
                                             strict=True):
        if _WINDOW_OF in meta:
            owner = str(meta[_WINDOW_OF])
            best_window[owner] = max(best_window.get(owner, -1.0), similarity)
        else:
            whole[entry] = (similarity, _passage(text or "", meta))
    hits = [VectorHit(passage, similarity, best_window.get(pid))
            for pid, (similarity, passage) in whole.items()]
    hits.sort(key=lambda h: blended_similarity(h.similarity, h.best_window), reverse=True)
    return hits


class ChromaVectorStores:
    """The client, and a VectorStore per collection id."""

    def __init__(self, folder: Path) -> None:
        import chromadb
        import chromadb.config

        folder.mkdir(parents=True, exist_ok=True)
        self._client = chromadb.PersistentClient(
            path=str(folder),
            settings=chromadb.config.Settings(anonymized_telemetry=False, allow_reset=False))

    def store(self, collection_id: str) -> ChromaVectorStore:
        collection = self._client.get_or_create_collection(
            collection_id, embedding_function=None,
            configuration={"hnsw": _HNSW},  # type: ignore[arg-type]
        )
        return ChromaVectorStore(collection)

    def drop(self, collection_id: str) -> None:
        names = {c.name for c in self._client.list_collections()}
        if collection_id in names:
            self._client.delete_collection(collection_id)


class ChromaVectorStore:
    """One collection's passages; implements rag.retrieval_types.VectorStore.

    Each passage is one entry under its passage id, and each of its windows one more under
    "<passage id>#w<n>" with the same document metadata (so deleting a document or a file
    removes its windows too). A query finds the nearest entries of either kind, then reads the
    vectors of every entry of the passages they belong to, so each passage's similarity and its
    best window's are exact, not whichever of them the approximate search happened to return.
    """

    def __init__(self, collection: Any) -> None:
        self._collection = collection

    def add(self, passages: Sequence[Passage],
            embeddings: Sequence[Sequence[Sequence[float]]]) -> None:
        ids: list[str] = []
        vectors: list[list[float]] = []
        texts: list[str] = []
        metadatas: list[dict[str, str | int]] = []
        for passage, passage_vectors in zip(passages, embeddings, strict=True):
            meta = _metadata(passage) | {"windows": len(passage_vectors) - 1}
            for n, vector in enumerate(passage_vectors):
                ids.append(passage.passage_id if n == 0 else _window_id(passage.passage_id, n))
                vectors.append(list(map(float, vector)))
                texts.append(passage.text if n == 0 else "")
                metadatas.append(meta if n == 0 else meta | {_WINDOW_OF: passage.passage_id})
        for start in range(0, len(ids), _WRITE_BATCH):
            end = start + _WRITE_BATCH
            # upsert with deterministic ids: writing a document twice never duplicates it.
            self._collection.upsert(ids=ids[start:end], embeddings=vectors[start:end],
                                    documents=texts[start:end], metadatas=metadatas[start:end])

    def query(self, embedding: Sequence[float], k: int,
              documents: Set[str] | None = None) -> list[VectorHit]:
        if k < 1 or (documents is not None and not documents):
            return []
        # No count() first: it costs ~13 ms at 100k passages, and Chroma already returns fewer
        # results (none for an empty collection) when k exceeds the collection's size.
        where = None if documents is None else {"doc_sha256": {"$in": sorted(documents)}}
        found = self._collection.query(
            query_embeddings=[list(map(float, embedding))], n_results=k * _ENTRIES_PER_PASSAGE,
            where=where, include=["metadatas"])
        if not found["ids"] or not found["ids"][0]:
            return []
        wanted: dict[str, int] = {}  # passage id -> number of windows, nearest first
        for entry, meta in zip(found["ids"][0], found["metadatas"][0], strict=True):
            passage_id = str(meta.get(_WINDOW_OF, entry))
            wanted.setdefault(passage_id, int(meta.get("windows", 0)))
            if len(wanted) == k:
                break
        entry_ids = [entry for pid, count in wanted.items()
                     for entry in (pid, *(_window_id(pid, n) for n in range(1, count + 1)))]
        stored = self._collection.get(ids=entry_ids,
                                      include=["embeddings", "documents", "metadatas"])
        return _vector_hits(stored, np.asarray(embedding, dtype=np.float32))

    def delete_document(self, doc_sha256: str) -> None:
        self._collection.delete(where={"doc_sha256": doc_sha256})

    def delete_source(self, source: str) -> None:
        self._collection.delete(where={"source": source})

    def count(self) -> int:
        return int(self._collection.count())


def _metadata(p: Passage) -> dict[str, str | int]:
    return {"doc_sha256": p.doc_sha256, "source": p.source, "title": p.title,
            "section": p.section, "page": _NO_PAGE if p.page is None else p.page,
            "ordinal": p.ordinal}


def _passage(text: str, meta: dict[str, Any]) -> Passage:
    page = int(meta.get("page", _NO_PAGE))
    return Passage(doc_sha256=str(meta["doc_sha256"]), source=str(meta["source"]),
                   title=str(meta.get("title", "")), section=str(meta.get("section", "")),
                   page=None if page == _NO_PAGE else page, ordinal=int(meta["ordinal"]),
                   text=text)
