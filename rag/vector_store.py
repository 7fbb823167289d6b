"""The vector side of retrieval: embedded Chroma, one Chroma collection per Enclave collection.

Chroma never embeds anything itself here: collections are created without an embedding function
and every add and query passes its embeddings explicitly (its default function would fetch a
model). chromadb is imported when the store opens, not when this module is imported.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from rag.documents import Passage
from rag.retrieval_types import Hit

# Chroma metadata cannot hold None: a page-less passage is stored with page 0.
_NO_PAGE = 0
# Wider than Chroma's default so the approximate search misses fewer near neighbours.
_HNSW: dict[str, Any] = {"space": "cosine", "ef_construction": 200, "ef_search": 200}
_WRITE_BATCH = 1000


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
    """One collection's passages; implements rag.retrieval_types.VectorStore."""

    def __init__(self, collection: Any) -> None:
        self._collection = collection

    def add(self, passages: Sequence[Passage], embeddings: Sequence[Sequence[float]]) -> None:
        for start in range(0, len(passages), _WRITE_BATCH):
            chunk = passages[start:start + _WRITE_BATCH]
            # upsert with deterministic ids: writing a document twice never duplicates it.
            self._collection.upsert(
                ids=[p.passage_id for p in chunk],
                embeddings=[list(map(float, e)) for e in embeddings[start:start + _WRITE_BATCH]],
                documents=[p.text for p in chunk],
                metadatas=[_metadata(p) for p in chunk])

    def query(self, embedding: Sequence[float], k: int) -> list[Hit]:
        if k < 1:
            return []
        # No count() first: it costs ~13 ms at 100k passages, and Chroma already returns fewer
        # results (none for an empty collection) when k exceeds the collection's size.
        result = self._collection.query(
            query_embeddings=[list(map(float, embedding))], n_results=k,
            include=["documents", "metadatas", "distances"])
        if not result["documents"]:
            return []
        hits = []
        for text, meta, distance in zip(result["documents"][0], result["metadatas"][0],
                                        result["distances"][0], strict=True):
            # cosine distance -> cosine similarity, so higher is better
            hits.append(Hit(_passage(text, meta), 1.0 - float(distance)))
        return hits

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
