"""Does the shared index's keyword side rank as embedded mode's does? The same question sets'
passages in both keyword indexes (FTS5 in SQLite; BM25 on PostgreSQL, rag/pg_keyword_index.py),
and for each question: is the best passage the same, how many of the ten best are shared, and
how far apart are the best passage's two scores.

    python -m bench.keyword_parity [--sets licences-13 technical-docs ...]
"""

from __future__ import annotations

import argparse
import sqlite3
import statistics
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path

from bench.retrieval_quality import DATA, SETS, _gather, _generated_corpus


def main(argv: Sequence[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m bench.keyword_parity", description=__doc__)
    p.add_argument("--sets", nargs="*", choices=[s.name for s in SETS], default=None)
    args = p.parse_args(argv)
    from bench.index_servers import postgres_server
    from desktop.egress.offline import force_offline_environment
    from rag.chunking import chunk_document
    from rag.duplicates import collapse
    from rag.evaluation import read_questions
    from rag.keyword_index import KeywordIndex
    from rag.loaders import is_supported, load_document
    from rag.pg_keyword_index import PgKeywordIndex
    from rag.postgres import PgConnection
    from rag.retrieve import keyword_query

    force_offline_environment()
    same_best = asked = 0
    overlap: list[float] = []
    gaps: list[float] = []
    with tempfile.TemporaryDirectory(prefix="enclave-keyword-parity-") as tmp:
        work = Path(tmp)
        with postgres_server(work / "postgres") as server:
            for n, qs in enumerate(s for s in SETS if args.sets is None or s.name in args.sets):
                if qs.generated:
                    corpus = _generated_corpus(work)
                    folder, questions_file = corpus / "docs", corpus / qs.questions
                else:
                    assert qs.documents is not None
                    folder = work / qs.name
                    if _gather(qs.documents(), folder):
                        continue
                    questions_file = DATA / qs.questions
                server.create_database(f"scale{n}")
                pg = PgKeywordIndex(PgConnection(server.options(f"scale{n}")))
                fts = KeywordIndex(sqlite3.connect(":memory:"))
                fts.ensure("set")
                for path in sorted(folder.rglob("*")):
                    if path.is_file() and is_supported(path):
                        passages, _ = collapse(chunk_document(load_document(path)))
                        fts.add("set", passages)
                        pg.add("set", passages)
                found = 0
                for question in read_questions(questions_file):
                    text = keyword_query(question.q)
                    best_fts, best_pg = fts.search("set", text, 10), pg.search("set", text, 10)
                    if not best_fts:
                        continue
                    found += 1
                    top = best_pg[0].passage.passage_id if best_pg else None
                    same_best += top == best_fts[0].passage.passage_id
                    overlap.append(len({h.passage.passage_id for h in best_fts}
                                       & {h.passage.passage_id for h in best_pg})
                                   / len(best_fts))
                    if best_pg:
                        gaps.append(abs(best_pg[0].score - best_fts[0].score)
                                    / best_fts[0].score)
                asked += found
                print(f"{qs.name}: {found} questions", file=sys.stderr, flush=True)
    print(f"{asked} questions: the same best passage for {same_best} ({same_best / asked:.1%}); "
          f"{statistics.mean(overlap):.1%} of the ten best shared on average; the best "
          f"passage's score differs by {statistics.median(gaps):.1%} (median)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
