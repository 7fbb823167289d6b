"""``enclave eval QA.jsonl``: how often the right passage comes first, or in the top five."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from desktop.app.application import Application
from desktop.cli.library_cli import EXIT_OK, EXIT_USAGE, fail, library_command


def register(commands: Any) -> None:
    p = commands.add_parser("eval", help="score retrieval on your own question set "
                                         "(hit@1, hit@5)")
    p.add_argument("questions", metavar="QA.jsonl",
                   help='one {"q": ..., "source": ..., "key": ...} a line ("page" optional)')
    p.add_argument("--collection", metavar="C", default=None,
                   help="the collection to search (default: from settings)")
    p.add_argument("--mode", choices=("hybrid", "vector", "keyword"), default="hybrid",
                   help="which retrieval to score (default: hybrid, what search and ask use)")
    p.add_argument("--json", action="store_true", help="print JSON")
    p.set_defaults(run=run)


@library_command
def run(args: argparse.Namespace, app: Application) -> int:
    from rag.evaluation import DEPTH, QuestionSetError, evaluate, read_questions

    try:
        questions = read_questions(Path(args.questions))
    except QuestionSetError as exc:
        return fail(str(exc), EXIT_USAGE)
    collection = args.collection or app.settings.collection
    library = app.library()
    score = evaluate(questions, lambda q: library.retrieve(q, collection, DEPTH, args.mode).hits)
    result = dict(score.to_json(), collection=collection, mode=args.mode)
    if args.json:
        print(json.dumps(result, ensure_ascii=False, indent=2))
        return EXIT_OK
    print(f"{score.questions} questions, collection '{collection}', {args.mode} retrieval")
    print(f"hit@1 {score.hit_at(1):.1%}   hit@5 {score.hit_at(5):.1%}   MRR {score.mrr():.3f}")
    for miss in result["misses"]:
        where = "not in the top 5" if miss["rank"] is None else f"rank {miss['rank']}"
        print(f"  {where}: {miss['q']}")
    return EXIT_OK
