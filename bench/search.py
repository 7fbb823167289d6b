"""Search: p50/p95 latency of a hybrid query (``Library.search``) as the collection grows.

Building 100k passages by embedding them would take hours on two cores, so the collection is
filled directly through the library's own index components (the ``Catalog`` row for the
collection, ``ChromaVectorStores`` for vectors, ``KeywordIndex`` for BM25, on the library's own
files) with generated passages (long-tailed vocabulary, bench.corpus) and random unit vectors.
On a practice's PostgreSQL the tables are then vacuumed and analysed, as its autovacuum does
within a minute or so of large writes. Random vectors are the hard case for an HNSW index (no
cluster structure to exploit), so the vector side is, if anything, pessimistic.
The query itself is the real thing: ``Library.search`` with the real embedder, vector search,
keyword search and rank fusion, warm and in-process. The collection grows in place from one
size to the next; each size is measured in turn.
"""

from __future__ import annotations

import hashlib
import itertools
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from bench import corpus
from bench.stats import percentile, rounded

COLLECTION = "search-bench"
PASSAGES_PER_DOCUMENT = 20
_INSERT_STEP = 2000


def generated_passages(numbers: Sequence[int], text: corpus.Corpus) -> list[Any]:
    """Passages number ``numbers`` of the bench's collection: 20 a document, two a page."""
    from rag.documents import Passage

    passages = []
    for n in numbers:
        doc = n // PASSAGES_PER_DOCUMENT
        sha = hashlib.sha256(f"bench-document-{doc}".encode()).hexdigest()
        passages.append(Passage(sha, f"/bench/documents/report-{doc:06d}.pdf", f"Report {doc}",
                                "", 1 + (n % PASSAGES_PER_DOCUMENT) // 2,
                                n % PASSAGES_PER_DOCUMENT, text.passage(600)))
    return passages


def _fill(storage: Any, start: int, stop: int, text: corpus.Corpus, seed: int) -> None:
    """Passages ``start`` to ``stop`` written through the index's own parts, wherever the
    storage keeps them (the library's files, or the practice's servers)."""
    import numpy as np

    from rag.catalog import Catalog
    from rag.passage_vectors import windows

    database = storage.connect()
    found = Catalog(database).find_collection(COLLECTION)
    assert found is not None
    store = storage.open_vectors().store(found.id)
    keywords = storage.keyword_index(database)
    rng = np.random.default_rng(seed)
    for first in range(start, stop, _INSERT_STEP):
        numbers = range(first, min(first + _INSERT_STEP, stop))
        passages = generated_passages(numbers, text)
        # One vector for each passage and one for each of its windows, as an ingest writes.
        counts = [1 + len(windows(p)) for p in passages]
        vectors = rng.standard_normal((sum(counts), 384)).astype(np.float32)
        vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
        rows = vectors.tolist()
        offsets = np.cumsum([0, *counts]).tolist()
        store.add(passages, [rows[a:b] for a, b in itertools.pairwise(offsets)])
        keywords.add(found.id, passages)
    if hasattr(database, "vacuum"):  # the practice's PostgreSQL: its autovacuum's work, now
        database.vacuum("keyword_postings", "keyword_passages", "keyword_terms")
    database.close()


class TimingEmbedder:
    """The real embedder, timing each call, so a query's latency splits into embedding and the
    rest (an honest Embedder: it only delegates)."""

    def __init__(self, inner: Any) -> None:
        self._inner = inner
        self.dimension = inner.dimension
        self.last_seconds = 0.0

    def embed(self, texts: Sequence[str]) -> list[list[float]]:
        started = time.perf_counter()
        result: list[list[float]] = self._inner.embed(texts)
        self.last_seconds = time.perf_counter() - started
        return result


def _latencies(library: Any, embedder: TimingEmbedder, queries: Sequence[str], repeats: int,
               top_k: int) -> tuple[list[float], list[float]]:
    for query in queries:  # warm: first-use costs (statement caches, pages) are not latency
        library.search(query, COLLECTION, top_k)
    totals, embeds = [], []
    for _ in range(repeats):
        for query in queries:
            started = time.perf_counter()
            hits = library.search(query, COLLECTION, top_k)
            totals.append(time.perf_counter() - started)
            embeds.append(embedder.last_seconds)
            if not hits:
                raise RuntimeError(f"the search for {query!r} found nothing")
    return totals, embeds


def _query_embedding_by_threads(embedder: Any, queries: Sequence[str]) -> dict[str, float]:
    """p50 of one query's embedding with torch's default thread count and with one thread:
    on a busy two-core machine, intra-op threads fighting for cores can cost more than they
    give for a ten-token input."""
    import torch

    default = torch.get_num_threads()
    result = {}
    try:
        for threads in dict.fromkeys((default, 1)):
            torch.set_num_threads(threads)
            embedder.embed([queries[0]])
            samples = []
            for query in [*queries, *queries]:
                started = time.perf_counter()
                embedder.embed([query])
                samples.append(time.perf_counter() - started)
            result[f"{threads}_threads_p50_ms"] = rounded(percentile(samples, 50) * 1000, 2)
    finally:
        torch.set_num_threads(default)
    return result


def benchmark_search(*, sizes: Sequence[int], repeats: int, top_k: int = 5,
                     progress: Callable[[str], None] = lambda _m: None,
                     storage: Any = None) -> dict[str, Any]:
    """``storage``: where the index is (rag/index_storage.py); None, the library's own files
    in a temporary folder."""
    from rag.embedder import MiniLMEmbedder
    from rag.index_storage import EmbeddedStorage
    from rag.library import Library

    queries = corpus.SEARCH_QUERIES
    results = []
    with tempfile.TemporaryDirectory(prefix="enclave-bench-") as tmp:
        index_dir = Path(tmp) / "index"
        storage = storage or EmbeddedStorage(index_dir)
        embedder = TimingEmbedder(MiniLMEmbedder().load())
        library = Library(index_dir, embedder, storage=storage)
        library.create_collection(COLLECTION)
        text = corpus.Corpus(seed=5)
        filled = 0
        for size in sorted(sizes):
            progress(f"search: building {size} passages")
            started = time.perf_counter()
            _fill(storage, filled, size, text, seed=size)
            build_s = time.perf_counter() - started
            filled = size
            progress(f"search: querying {size} passages")
            samples, embeds = _latencies(library, embedder, queries, repeats, top_k)
            rest = [total - embed for total, embed in zip(samples, embeds, strict=True)]
            results.append({
                "passages": size,
                "p50_ms": rounded(percentile(samples, 50) * 1000, 2),
                "p95_ms": rounded(percentile(samples, 95) * 1000, 2),
                "embedding_p50_ms": rounded(percentile(embeds, 50) * 1000, 2),
                "index_p50_ms": rounded(percentile(rest, 50) * 1000, 2),
                "index_p95_ms": rounded(percentile(rest, 95) * 1000, 2),
                "queries": len(samples),
                "build_seconds": rounded(build_s, 2),
            })
        by_threads = _query_embedding_by_threads(embedder, queries)
        library.close()
    return {
        "method": "Library.search (hybrid: query embedding + Chroma HNSW, beside SQLite FTS5 "
                  "BM25 on its own thread; weighted fusion), warm, in-process; collections "
                  "filled through the index components with generated passages and random unit "
                  "vectors",
        "top_k": top_k,
        "sizes": results,
        "query_embedding_by_torch_threads": by_threads,
        "target_p50_ms_at_100k": 50.0,
    }
