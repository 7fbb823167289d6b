"""``enclave ask``: a streamed answer from the local model."""

from __future__ import annotations

import argparse
import json
import sys
import threading
from pathlib import Path
from typing import Any

from desktop.cli.library_cli import library_command
from desktop.settings import Settings
from desktop.wiring import open_audit_log, start_model_thread
from models.chat_model import ChatMessage, GenerationStats
from models.llama_runtime import LlamaChatModel
from rag.retrieval_types import Hit

# A refusal never reaches the model: its stats are all zero.
NO_GENERATION = GenerationStats(prompt_tokens=0, completion_tokens=0, seconds=0.0,
                                time_to_first_token=0.0, tokens_per_second=0.0,
                                prompt_tokens_per_second=0.0)

SYSTEM_PROMPT = ("You are Enclave, a careful assistant running entirely on this computer. "
                 "Answer clearly and concisely.")


def register(commands: Any) -> None:
    p = commands.add_parser("ask", help="ask the local model a question (streams the answer)")
    p.add_argument("question", help="the question, in quotes")
    p.add_argument("--no-rag", action="store_true",
                   help="answer from the model alone, without your documents")
    p.add_argument("--collection", metavar="C", default=None,
                   help="the collection (matter, patient...) to answer from "
                        "(default: from settings)")
    p.add_argument("--max-tokens", type=int, default=None, metavar="N",
                   help="longest answer, in tokens (default: from settings)")
    p.add_argument("--json", action="store_true", help="print one JSON object at the end")
    p.set_defaults(run=run)


def run(args: argparse.Namespace, settings: Settings) -> int:
    max_tokens = args.max_tokens or settings.max_tokens
    if max_tokens < 1:
        print("enclave: --max-tokens must be a positive number.", file=sys.stderr)
        return 2
    if not args.no_rag:
        return run_grounded(args, settings.replace(max_tokens=max_tokens))
    open_audit_log(settings).record("question", question=args.question, rag=False)
    messages = [ChatMessage("system", SYSTEM_PROMPT), ChatMessage("user", args.question)]
    stream_to = None if args.json else sys.stdout
    answer, stats = stream_answer(settings, messages, max_tokens, stream_to)
    if args.json:
        print(json.dumps(answer_json(answer, stats), ensure_ascii=False))
    else:
        sys.stdout.write("\n")
    return 0


@library_command
def run_grounded(args: argparse.Namespace, settings: Settings) -> int:
    """Answer from the collection's passages, cite them; refuse without calling the model when
    grounded mode finds nothing relevant enough."""
    from desktop.wiring import open_assistant, open_library

    collection = args.collection or settings.collection
    library = open_library(settings)
    try:
        if args.collection is None and collection not in {c.name for c in library.collections()}:
            library.create_collection(collection)  # nothing ingested yet: an empty default
        assistant = open_assistant(settings, library)
        prepared = assistant.prepare(args.question, collection, system_prompt=SYSTEM_PROMPT)
    finally:
        library.close()
    audit = open_audit_log(settings)
    audit.record("question", question=args.question, collection=collection, rag=True)
    audit.record("sources", collection=collection, refused=prepared.refused,
                 sources=[{"source": h.passage.source, "page": h.passage.page,
                           "score": round(float(h.score), 4)} for h in prepared.hits])
    if prepared.refused:
        if args.json:
            print(json.dumps(answer_json(prepared.refusal, NO_GENERATION, refused=True),
                             ensure_ascii=False))
        else:
            print(prepared.refusal)
        return 0
    stream_to = None if args.json else sys.stdout
    answer, stats = stream_answer(settings, prepared.messages, settings.max_tokens, stream_to)
    cited = assistant.citations(prepared, answer)
    if args.json:
        citations = [dict(hit.to_json(), n=prepared.hits.index(hit) + 1) for hit in cited]
        print(json.dumps(answer_json(answer, stats, citations), ensure_ascii=False))
    else:
        sys.stdout.write("\n\nSources:\n")
        for hit in cited:
            sys.stdout.write(f"[{prepared.hits.index(hit) + 1}] {citation_line(hit)}\n")
    return 0


def citation_line(hit: Hit) -> str:
    p = hit.passage
    parts = [Path(p.source).name]
    if p.page is not None:
        parts.append(f"page {p.page}")
    if p.section:
        parts.append(p.section)
    return ", ".join(parts) + f" ({p.source})"


def stream_answer(settings: Settings, messages: list[ChatMessage], max_tokens: int,
                  out: Any) -> tuple[str, GenerationStats]:
    """Generate on the model thread; print pieces as they arrive; Ctrl+C stops between tokens."""
    cancel = threading.Event()
    model_thread = start_model_thread(settings)
    pieces: list[str] = []

    def generate(model: LlamaChatModel) -> GenerationStats:
        completion = model.chat(messages, max_tokens=max_tokens,
                                temperature=settings.temperature, cancel=cancel)
        for piece in completion:
            pieces.append(piece)
            if out is not None:
                out.write(piece)
                out.flush()
        assert completion.stats is not None
        return completion.stats

    try:
        future = model_thread.submit(generate)
        try:
            stats = future.result()
        except KeyboardInterrupt:
            cancel.set()
            stats = future.result()
    finally:
        model_thread.close()
    return "".join(pieces), stats


def answer_json(answer: str, stats: GenerationStats, citations: list[dict[str, Any]] | None = None,
                refused: bool = False) -> dict[str, Any]:
    return {
        "answer": answer,
        "citations": citations or [],
        "refused": refused,
        "stats": stats.to_json(),
    }
