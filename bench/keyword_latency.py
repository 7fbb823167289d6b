"""The shared index's keyword side alone, on a real PostgreSQL, as its collection grows.

p50/p95 of ``PgKeywordIndex.search`` (BM25, rag/pg_keyword_index.py) over generated passages, the
tables vacuumed and analysed after the fill, as the server's autovacuum leaves them.

    python -m bench.keyword_latency [--passages 100000] [--repeats 3] [--top 20]

The passages are bench/search.py's (long-tailed vocabulary, bench/corpus.py, 20 a document);
the queries are its eight, each asked ``repeats`` times after one warm-up round. Printed: each
query's median and the p50/p95 over all of them. The vector side and the query's embedding are
not part of it (``python -m bench.index_scale`` measures the whole search).
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from bench import corpus
from bench.search import generated_passages
from bench.stats import percentile, rounded

_STEP = 2000


def benchmark_keyword_latency(passages: int, repeats: int, top: int) -> dict[str, Any]:
    from bench.index_servers import postgres_server
    from rag.pg_keyword_index import PgKeywordIndex
    from rag.postgres import PgConnection

    with tempfile.TemporaryDirectory(prefix="enclave-keyword-latency-") as tmp, \
            postgres_server(Path(tmp) / "postgres") as postgres:
        postgres.create_database("keywords")
        options = postgres.options("keywords")
        database = PgConnection(options)
        writer = PgKeywordIndex(database)
        text = corpus.Corpus(seed=5)
        started = time.perf_counter()
        for first in range(0, passages, _STEP):
            writer.add("c", generated_passages(range(first, min(first + _STEP, passages)), text))
        fill_s = time.perf_counter() - started
        database.vacuum("keyword_postings", "keyword_passages", "keyword_terms")
        reader = PgKeywordIndex(database, read_only=True)
        for query in corpus.SEARCH_QUERIES:  # warm: statement and page caches
            reader.search("c", query, top)
        by_query: dict[str, list[float]] = {q: [] for q in corpus.SEARCH_QUERIES}
        for _ in range(repeats):
            for query in corpus.SEARCH_QUERIES:
                started = time.perf_counter()
                reader.search("c", query, top)
                by_query[query].append((time.perf_counter() - started) * 1000)
        database.close()
    every = [t for times in by_query.values() for t in times]
    return {
        "method": __doc__.strip().splitlines()[0],
        "passages": passages, "top": top, "fill_seconds": rounded(fill_s, 1),
        "p50_ms": rounded(percentile(every, 50), 2), "p95_ms": rounded(percentile(every, 95), 2),
        "queries": {q: rounded(statistics.median(t), 2) for q, t in by_query.items()},
    }


def main(argv: Sequence[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m bench.keyword_latency",
                                description=__doc__.strip().splitlines()[0])
    p.add_argument("--passages", type=int, default=100_000)
    p.add_argument("--repeats", type=int, default=3)
    p.add_argument("--top", type=int, default=20)
    args = p.parse_args(argv)
    from desktop.egress.offline import force_offline_environment

    force_offline_environment()
    result = benchmark_keyword_latency(args.passages, args.repeats, args.top)
    for query, ms in result["queries"].items():
        print(f"{query!r}: {ms} ms")
    print(f"{result['passages']:,} passages (filled in {result['fill_seconds']} s): keyword "
          f"side p50 {result['p50_ms']} ms, p95 {result['p95_ms']} ms")
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
