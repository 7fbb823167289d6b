"""The vector side of retrieval: embedded Chroma, one Chroma collection per Enclave collection.

Chroma never embeds anything itself here: collections are created without an embedding function
and every add and query passes its embeddings explicitly (its default function would fetch a
model). chromadb is imported when the store opens, not when this module is imported.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence, Set
from pathlib import Path
from typing import Any

import numpy as np

from rag.documents import Passage
from rag.index_servers import VectorServer
from rag.passage_vectors import blended_similarity, windows
from rag.retrieval_types import VectorHit

# Chroma metadata cannot hold None: a page-less passage is stored with page 0.
_NO_PAGE = 0
# Wider than Chroma's default so the approximate search misses fewer near neighbours.
_HNSW: dict[str, Any] = {"space": "cosine", "ef_construction": 200, "ef_search": 200}
_WRITE_BATCH = 1000
# Entries fetched per passage wanted: a passage's windows are often near the question together.
_ENTRIES_PER_PASSAGE = 3
# Metadata of each entry: "" on a passage's own entry, the passage id on its windows'.
_WINDOW_OF = "window_of"
# Metadata of each entry: the passage it belongs to (its own id, or its window's passage), so a
# Chroma server can score exactly a few passages' entries without sending their vectors.
_PASSAGE = "passage"
_WINDOW_MARK = "#w"
# On a server, the exact scores of a few entries come either from a query filtered to their
# passages, which Chroma answers by walking its whole index (about 1.1 µs an entry held: 40 ms
# at 10,000 passages, 460 ms at 100,000), or from their vectors read back (about 0.36 ms a
# vector, 13 ms for 20 and 64 ms for 160); the query is taken while the collection holds fewer
# entries than this many per vector that would be read (docs/SERVERS.md).
FILTERED_QUERY_ENTRIES_PER_READ = 300
# How old a server collection's entry count may be when it chooses between the two.
COUNT_SECONDS = 60.0
# Passages by id, from wherever the caller keeps them.
PassageLookup = Callable[[Sequence[str]], Mapping[str, Passage]]


def _window_id(passage_id: str, n: int) -> str:
    return f"{passage_id}{_WINDOW_MARK}{n}"


def entry_ids(passage: Passage) -> list[str]:
    """The entries a passage is stored as: its own and one per window."""
    return [passage.passage_id,
            *(_window_id(passage.passage_id, n) for n in range(1, len(windows(passage)) + 1))]


def _owner(entry_id: str) -> str:
    """The passage an entry belongs to: its own id, or the part before "#w<n>"."""
    return entry_id.partition(_WINDOW_MARK)[0]


class ChromaVectorStores:
    """The client, and a VectorStore per collection id: embedded Chroma in a folder
    (``embedded``), or a practice's Chroma server (``on_server``)."""

    def __init__(self, client: Any, remote: bool = False) -> None:
        self._client = client
        # On a server, collection handles are kept (each lookup is a request), with their
        # entry counts.
        self._remote = remote
        self._handles: dict[str, Any] = {}
        self._counts: dict[str, EntryCount] = {}

    @classmethod
    def embedded(cls, folder: Path) -> ChromaVectorStores:
        import chromadb
        import chromadb.config

        folder.mkdir(parents=True, exist_ok=True)
        return cls(chromadb.PersistentClient(
            path=str(folder),
            settings=chromadb.config.Settings(anonymized_telemetry=False, allow_reset=False)))

    @classmethod
    def on_server(cls, server: VectorServer) -> ChromaVectorStores:
        """chromadb's HTTP client on the server, with its token (Chroma's own token auth) and
        the practice's CA when it uses TLS; a server that is down, refuses the token or fails
        TLS is one sentence (IndexServerError)."""
        return cls(server.connect(), remote=True)

    def store(self, collection_id: str,
              lookup: PassageLookup | None = None) -> ChromaVectorStore:
        collection = self._handles.get(collection_id)
        if collection is None:
            collection = self._client.get_or_create_collection(
                collection_id, embedding_function=None,
                configuration={"hnsw": _HNSW},
            )
            if self._remote:
                self._handles[collection_id] = collection
        if not self._remote:
            return ChromaVectorStore(collection, lookup)
        count = self._counts.get(collection_id)
        if count is None:
            count = self._counts[collection_id] = EntryCount(collection)
        return ChromaVectorStore(collection, lookup, entries=count)

    def rebuild(self, collection_id: str, keep: Sequence[str],
                lookup: PassageLookup | None = None) -> ChromaVectorStore:
        """The collection written afresh with only the ``keep`` entries (their vectors read
        back), under its own name again: Chroma cannot delete from or add to a collection
        whose vector index lost entries (it fails applying its log). Whatever a crash midway
        leaves, the next rebuild starts over; the passages' texts are kept by the caller."""
        self._handles.pop(collection_id, None)
        self._counts.pop(collection_id, None)
        spare = f"{collection_id[:50]}-rebuild"
        names = {c.name for c in self._client.list_collections()}
        if spare in names:
            self._client.delete_collection(spare)
        fresh = self._client.create_collection(spare, embedding_function=None,
                                               configuration={"hnsw": _HNSW})
        if collection_id in names:
            old = self._client.get_collection(collection_id, embedding_function=None)
            for n in range(0, len(keep), _WRITE_BATCH):
                got = old.get(ids=list(keep[n:n + _WRITE_BATCH]),
                              include=["embeddings", "documents", "metadatas"])
                if got["ids"]:
                    fresh.upsert(ids=got["ids"], embeddings=got["embeddings"],
                                 documents=got["documents"], metadatas=got["metadatas"])
            self._client.delete_collection(collection_id)
        fresh.modify(name=collection_id)
        return self.store(collection_id, lookup)

    def close(self) -> None:
        """Stop the embedded Chroma (its in-memory copy of the vectors goes with it)."""
        self._client.close()

    def drop(self, collection_id: str) -> None:
        self._handles.pop(collection_id, None)
        self._counts.pop(collection_id, None)
        names = {c.name for c in self._client.list_collections()}
        if collection_id in names:
            self._client.delete_collection(collection_id)


class EntryCount:
    """A server collection's entry count (passages and windows), read again once it is
    ``COUNT_SECONDS`` old: it only chooses how a few entries are scored, so a recent figure
    serves, and each read is a request."""

    def __init__(self, collection: Any, clock: Callable[[], float] = time.monotonic) -> None:
        self._collection = collection
        self._clock = clock
        self._count = 0
        self._read_at: float | None = None

    def __call__(self) -> int:
        now = self._clock()
        if self._read_at is None or now - self._read_at >= COUNT_SECONDS:
            self._count = int(self._collection.count())
            self._read_at = now
        return self._count


class ChromaVectorStore:
    """One collection's passages; implements rag.retrieval_types.VectorStore.

    Each passage is one entry under its passage id, and each of its windows one more under
    "<passage id>#w<n>" with the same document metadata (so deleting a document or a file
    removes its windows too). A query finds the nearest entries of either kind, then reads the
    vectors of the entries of those passages that it did not return, so each passage's
    similarity and its best window's are exact, not whichever of them the approximate search
    happened to return.
    """

    def __init__(self, collection: Any, lookup: PassageLookup | None = None,
                 entries: Callable[[], int] | None = None) -> None:
        self._collection = collection
        # On a server: how many entries it holds (EntryCount); None in embedded mode, where
        # vectors are read back in well under a millisecond each.
        self._entries = entries
        # Where the passages' texts are read from: the library's SQLite table when it gives
        # one (well under a millisecond), else Chroma's own copy (about 5 ms a query).
        self._lookup = lookup or self._stored_passages

    def add(self, passages: Sequence[Passage],
            embeddings: Sequence[Sequence[Sequence[float]]]) -> None:
        ids: list[str] = []
        vectors: list[list[float]] = []
        texts: list[str] = []
        metadatas: list[dict[str, str | int]] = []
        for passage, passage_vectors in zip(passages, embeddings, strict=True):
            meta = _metadata(passage) | {_WINDOW_OF: "", _PASSAGE: passage.passage_id}
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
            where=where, include=["distances"])
        if not found["ids"] or not found["ids"][0]:
            return []
        # Similarities of the entries found, grouped by passage, nearest passage first. Ids
        # alone say which passage an entry belongs to, so the query fetches no metadata.
        found_similarity: dict[str, float] = {}
        nearest: dict[str, None] = {}  # passage ids in order, each once
        for entry, distance in zip(found["ids"][0], found["distances"][0], strict=True):
            found_similarity[entry] = 1.0 - float(distance)
            if len(nearest) < k:
                nearest.setdefault(_owner(entry))
        passage_ids = list(nearest)
        passages = self._lookup(passage_ids)
        # The entries of these passages the query did not return: read their vectors, so every
        # passage's similarity and best window are exact.
        entries = {pid: entry_ids(p) for pid, p in passages.items()}
        missing = [e for ids in entries.values() for e in ids if e not in found_similarity]
        similarity = dict(found_similarity)
        if missing:
            owners = {_owner(e) for e in missing}
            similarity.update(self._entry_similarities(
                embedding, missing, sum(len(entries[o]) for o in owners)))
        hits = []
        for pid in passage_ids:
            if pid not in passages:
                continue
            window_similarities = [similarity[e] for e in entries[pid][1:] if e in similarity]
            hits.append(VectorHit(passages[pid], similarity.get(pid, -1.0),
                                  max(window_similarities) if window_similarities else None))
        hits.sort(key=lambda h: blended_similarity(h.similarity, h.best_window), reverse=True)
        return hits

    def similarities(self, embedding: Sequence[float],
                     passages: Sequence[Passage]) -> dict[str, float]:
        """The question's blended similarity (whole passage and best window, as ``query``
        scores it) to each of these passages, from their stored vectors: what a passage only the
        keyword side found is worth on the vector side."""
        if not passages:
            return {}
        entries = {p.passage_id: entry_ids(p) for p in passages}
        wanted = [e for ids in entries.values() for e in ids]
        similarity = self._entry_similarities(embedding, wanted, len(wanted))
        found = {}
        for pid, ids in entries.items():
            if pid in similarity:
                window_values = [similarity[e] for e in ids[1:] if e in similarity]
                found[pid] = blended_similarity(similarity[pid],
                                                max(window_values) if window_values else None)
        return found

    def _entry_similarities(self, embedding: Sequence[float], wanted: Sequence[str],
                            owned: int) -> dict[str, float]:
        """The question's cosine to each of these entries, exactly: from their vectors read
        back, or on a server holding few entries, scored there (a query of only their passages'
        entries, ``owned`` of them in all; see FILTERED_QUERY_ENTRIES_PER_READ)."""
        if not wanted:
            return {}
        if self._entries is not None and \
                self._entries() < len(wanted) * FILTERED_QUERY_ENTRIES_PER_READ:
            owners = sorted({_owner(e) for e in wanted})
            found = self._collection.query(
                query_embeddings=[list(map(float, embedding))], n_results=max(owned, 1),
                where={_PASSAGE: {"$in": owners}}, include=["distances"])
            wanted_set = set(wanted)
            return {entry: 1.0 - float(distance) for entry, distance in
                    zip(found["ids"][0], found["distances"][0], strict=True)
                    if entry in wanted_set} if found["ids"] else {}
        stored = self._collection.get(ids=list(wanted), include=["embeddings"])
        if not stored["ids"]:
            return {}
        dots = np.asarray(stored["embeddings"], dtype=np.float32) @ np.asarray(
            embedding, dtype=np.float32)
        return dict(zip(stored["ids"], dots.tolist(), strict=True))

    def _stored_passages(self, passage_ids: Sequence[str]) -> dict[str, Passage]:
        stored = self._collection.get(ids=list(passage_ids), include=["documents", "metadatas"])
        return {pid: _passage(text or "", meta) for pid, text, meta in
                zip(stored["ids"], stored["documents"], stored["metadatas"], strict=True)}

    def missing(self, entry_ids: Sequence[str]) -> set[str]:
        """Which of these entries (passages or windows) have no vector Chroma can read back.
        A vector lost under its metadata (two writers at once, before rag/library_lock.py)
        makes Chroma fail the whole read, so a failing chunk is halved until the lost ones are
        found."""
        from chromadb.errors import ChromaError

        lost: set[str] = set()
        chunks = [list(entry_ids[n:n + _WRITE_BATCH])
                  for n in range(0, len(entry_ids), _WRITE_BATCH)]
        while chunks:
            chunk = chunks.pop()
            try:
                found = self._collection.get(ids=chunk, include=["embeddings"])
            except ChromaError:
                if len(chunk) == 1:
                    lost.update(chunk)
                else:
                    chunks += [chunk[:len(chunk) // 2], chunk[len(chunk) // 2:]]
                continue
            lost.update(set(chunk) - set(found["ids"]))
        return lost

    def entry_ids(self) -> set[str]:
        """Every entry stored: passages and windows."""
        return set(self._collection.get(include=[])["ids"])

    def delete_document(self, doc_sha256: str) -> None:
        self._collection.delete(where={"doc_sha256": doc_sha256})

    def delete_source(self, source: str) -> None:
        self._collection.delete(where={"source": source})

    def count(self) -> int:
        """Passages, not counting their windows."""
        return len(self._collection.get(where={_WINDOW_OF: ""}, include=[])["ids"])


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
