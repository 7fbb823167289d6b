"""``enclave ask``: a streamed answer from the local model."""

from __future__ import annotations

import argparse
import json
import sys
import threading
from typing import Any

from desktop.settings import Settings
from desktop.wiring import start_model_thread
from models.chat_model import ChatMessage, GenerationStats
from models.llama_runtime import LlamaChatModel

SYSTEM_PROMPT = ("You are Enclave, a careful assistant running entirely on this computer. "
                 "Answer clearly and concisely.")


def register(commands: Any) -> None:
    p = commands.add_parser("ask", help="ask the local model a question (streams the answer)")
    p.add_argument("question", help="the question, in quotes")
    p.add_argument("--no-rag", action="store_true",
                   help="answer from the model alone, without your documents")
    p.add_argument("--max-tokens", type=int, default=None, metavar="N",
                   help="longest answer, in tokens (default: from settings)")
    p.add_argument("--json", action="store_true", help="print one JSON object at the end")
    p.set_defaults(run=run)


def run(args: argparse.Namespace, settings: Settings) -> int:
    if not args.no_rag:
        print("enclave: answering from your documents arrives with document ingestion; "
              "use --no-rag for now.", file=sys.stderr)
        return 2
    max_tokens = args.max_tokens or settings.max_tokens
    if max_tokens < 1:
        print("enclave: --max-tokens must be a positive number.", file=sys.stderr)
        return 2
    messages = [ChatMessage("system", SYSTEM_PROMPT), ChatMessage("user", args.question)]
    stream_to = None if args.json else sys.stdout
    answer, stats = stream_answer(settings, messages, max_tokens, stream_to)
    if args.json:
        print(json.dumps(answer_json(answer, stats), ensure_ascii=False))
    else:
        sys.stdout.write("\n")
    return 0


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
