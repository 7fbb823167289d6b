"""``enclave eval QA.jsonl``: how often the right passage comes first, or in the top five."""

from __future__ import annotations

import argparse
import json
import sys
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
    p.add_argument("--answers", action="store_true",
                   help="also ask the configured model each question: whether the quote holds "
                        "the key phrase, whether the answer states it, unsupported sentences, "
                        "refusals and seconds per answer (compare GGUF models on your own "
                        "documents)")
    p.add_argument("--max-tokens", type=int, default=None, metavar="N",
                   help="longest answer with --answers (default: from settings)")
    p.add_argument("--json", action="store_true", help="print JSON")
    p.set_defaults(run=run)


@library_command
def run(args: argparse.Namespace, app: Application) -> int:
    from desktop.app.audit_events import QuestionSetScored
    from rag.evaluation import DEPTH, QuestionSetError, evaluate, read_questions, unknown_sources

    try:
        questions = read_questions(Path(args.questions))
    except QuestionSetError as exc:
        return fail(str(exc), EXIT_USAGE)
    collection = args.collection or app.settings.collection
    library = app.library()
    # documents() refuses a collection that does not exist (a usage error, @library_command).
    unknown = unknown_sources(questions, [d.path for d in library.documents(collection)])
    if unknown:
        print(f"Warning: not in collection '{collection}', so their questions count as misses: "
              f"{', '.join(unknown)}", file=sys.stderr)
    score = evaluate(questions, lambda q: library.retrieve(q, collection, DEPTH, args.mode).hits)
    app.audit.record_event(QuestionSetScored(
        query=f"question set {args.questions}: {score.questions} questions",
        collection=collection, questions=score.questions))
    result = dict(score.to_json(), collection=collection, mode=args.mode,
                  unknown_sources=unknown)
    if args.answers:
        result["answers"] = answer_quality(app, questions, collection, args.max_tokens)
    if args.json:
        print(json.dumps(result, ensure_ascii=False, indent=2))
        return EXIT_OK
    print(f"{score.questions} questions, collection '{collection}', {args.mode} retrieval")
    print(f"hit@1 {score.hit_at(1):.1%}   hit@5 {score.hit_at(5):.1%}   MRR {score.mrr():.3f}")
    for miss in result["misses"]:
        where = "not in the top 5" if miss["rank"] is None else f"rank {miss['rank']}"
        print(f"  {where}: {miss['q']}")
    if args.answers:
        a = result["answers"]
        print(f"Answers by {a['model']}: quote holds the key {a['quote_holds_key']:.1%}, answer "
              f"states it {a['answer_states_key']:.1%}, unsupported sentences "
              f"{a['unsupported_share']:.1%}, refused {a['refused']} of {a['questions']}, "
              f"{a['seconds_per_answer']:.1f} s per answer")
        for row in a["per_question"]:
            if not row["quote_holds_key"]:
                print(f"  the quote does not hold the key: {row['q']}")
    return EXIT_OK


def answer_quality(app: Application, questions: list[Any], collection: str,
                   max_tokens: int | None) -> dict[str, Any]:
    """Every question asked end to end through the ask service, the way a person asks it."""
    import time

    from desktop.app.ask_service import AskRequest, Finished, Refused
    from models.model_thread import ThreadChatModel
    from rag.evaluation import quote_answers, states_key

    model = ThreadChatModel(app.start_model_thread)
    rows = []
    try:
        for number, question in enumerate(questions, start=1):
            print(f"Asking question {number} of {len(questions)}...", file=sys.stderr,
                  flush=True)
            started = time.perf_counter()
            answer = None
            for event in app.ask.ask(AskRequest(question.q, collection=collection,
                                                max_tokens=max_tokens, interface="cli"), model):
                if isinstance(event, Finished | Refused):
                    answer = event.answer
            assert answer is not None
            quote = answer.quote
            rows.append({
                "q": question.q,
                "refused": answer.refused,
                "quote_holds_key": bool(quote and quote_answers(quote.text,
                                                                quote.hit.passage.source,
                                                                question)),
                "answer_states_key": states_key(answer.text, question),
                "sentences": len(answer.sentences),
                "unsupported": len(answer.unsupported),
                "seconds": round(time.perf_counter() - started, 2),
                "answer": answer.text,
            })
    finally:
        model.close()
    n = len(rows) or 1
    sentences = sum(r["sentences"] for r in rows)
    return {
        "model": app.settings.model_path.name,
        "questions": len(rows),
        "quote_holds_key": round(sum(r["quote_holds_key"] for r in rows) / n, 4),
        "answer_states_key": round(sum(r["answer_states_key"] for r in rows) / n, 4),
        "unsupported_share": round(sum(r["unsupported"] for r in rows) / sentences, 4)
        if sentences else 0.0,
        "refused": sum(r["refused"] for r in rows),
        "seconds_per_answer": round(sum(r["seconds"] for r in rows) / n, 2),
        "per_question": rows,
    }
