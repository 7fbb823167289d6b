"""``enclave ask``: a streamed answer from the local model, through the one ask service."""

from __future__ import annotations

import argparse
import json
import signal
import sys
import threading
from pathlib import Path
from typing import Any

from desktop.app.application import Application
from desktop.app.ask_service import Answer, AskRequest, Finished, Quoted, Refused, Token
from desktop.app.conversations import UNTITLED
from desktop.cli.library_cli import EXIT_OK, EXIT_USAGE, fail, library_command
from models.model_thread import ThreadChatModel
from rag.quote import Quote
from rag.retrieval_types import Hit


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
    p.add_argument("--conversation", metavar="ID", default=None,
                   help="continue a conversation (the window's, or one started with 'new'): "
                        "a follow-up question is understood from the earlier turns, and the "
                        "question and answer are added to it")
    p.add_argument("--json", action="store_true", help="print one JSON object at the end")
    p.set_defaults(run=run)


@library_command
def run(args: argparse.Namespace, app: Application) -> int:
    if not args.question.strip():
        return fail("the question is empty: type it in quotes, for example "
                    "enclave ask \"How much notice must the tenant give?\"", EXIT_USAGE)
    if args.max_tokens is not None and args.max_tokens < 1:
        return fail("--max-tokens must be a positive number.", EXIT_USAGE)
    if args.collection is not None and not args.no_rag and \
            args.collection not in {c.name for c in app.library().collections()}:
        return fail(f"there is no collection named '{args.collection}'. "
                    "'enclave collections' lists them.", EXIT_USAGE)
    store = conversation = None
    history: list[Any] = []
    instructions = ""
    collection = args.collection
    if args.conversation is not None:
        from desktop.app.conversations import ConversationStore

        store = ConversationStore.open(app.settings.home)
        conversation = _conversation(store, args.conversation, collection or (
            None if args.no_rag else app.settings.collection))
        if conversation is None:
            store.close()
            return fail(f"there is no conversation {args.conversation}. Use --conversation "
                        "new to start one.", EXIT_USAGE)
        history, instructions = store.history(conversation.id), conversation.system_prompt
        collection = collection or conversation.collection
    request = AskRequest(question=args.question, use_documents=not args.no_rag,
                         collection=collection, history=history, instructions=instructions,
                         max_tokens=args.max_tokens, interface="cli",
                         conversation=conversation.id if conversation else None)
    try:
        answer = ask_on_model_thread(app, request, None if args.json else sys.stdout)
        if store is not None and conversation is not None:
            _save(store, conversation.id, answer)
    finally:
        if store is not None:
            store.close()
    if args.json:
        result = answer.to_json()
        if conversation is not None:
            result["conversation"] = conversation.id
        print(json.dumps(result, ensure_ascii=False))
        return EXIT_OK
    if answer.refused:
        print(answer.text)
        return EXIT_OK
    sys.stdout.write("\n")
    if answer.stats.cancelled:
        sys.stdout.write("\n(Stopped: the answer above is incomplete.)\n")
    if answer.note:
        sys.stdout.write(f"\n({answer.note})\n")
    if answer.unsupported:
        sys.stdout.write(f"\nNot backed by the sources ({len(answer.unsupported)} of "
                         f"{len(answer.sentences)} sentences):\n")
        for check in answer.unsupported:
            sys.stdout.write(f"  ! {check.text}  ({check.reason})\n")
    if answer.citations:
        sys.stdout.write("\nSources:\n")
        for hit in answer.citations:
            sys.stdout.write(f"[{answer.citation_number(hit)}] {citation_line(hit)}\n")
    return EXIT_OK


def _conversation(store: Any, wanted: str, collection: str | None) -> Any:
    if wanted == "new":
        return store.create(collection=collection)
    try:
        return store.get(int(wanted))
    except (ValueError, KeyError, LookupError):
        return None


def _save(store: Any, conversation_id: int, answer: Answer) -> None:
    """The question and its answer, kept as the window keeps them."""
    shown = answer.to_json()
    if store.get(conversation_id).title == UNTITLED:
        store.rename(conversation_id, " ".join(answer.question.split())[:60])
    store.add_message(conversation_id, "user", answer.question)
    store.add_message(conversation_id, "assistant", answer.text, citations=shown["citations"],
                      stats=dict(shown["stats"], model_only=answer.model_only,
                                 quote=shown["quote"], sentences=shown["sentences"]),
                      refused=answer.refused)


def ask_on_model_thread(app: Application, request: AskRequest, out: Any) -> Answer:
    """Run the ask service here, the model on its own thread (loaded only if the question is
    not refused first); print pieces as they arrive. Ctrl+C stops between tokens and keeps
    the answer so far."""
    cancel = threading.Event()
    model = ThreadChatModel(app.start_model_thread)
    previous = signal.getsignal(signal.SIGINT) if _main_thread() else None
    if previous is not None:
        signal.signal(signal.SIGINT, lambda *_: cancel.set())
    try:
        for event in app.ask.ask(request, model, cancel):
            if isinstance(event, Token) and out is not None:
                out.write(event.text)
                out.flush()
            elif isinstance(event, Quoted) and out is not None:
                out.write(quote_block(event.quote) + "\n\nAnswer (machine-generated; check it "
                          "against the quote and the sources):\n")
                out.flush()
            elif isinstance(event, Finished | Refused):
                return event.answer
        raise RuntimeError("the ask service ended without an answer")
    finally:
        if previous is not None:
            signal.signal(signal.SIGINT, previous)
        model.close()


def _main_thread() -> bool:
    return threading.current_thread() is threading.main_thread()


def quote_block(quote: Quote) -> str:
    p = quote.hit.passage
    where = Path(p.source).name + (f", page {p.page}" if p.page is not None else "")
    return f"From {where}:\n  “{quote.text}”"


def citation_line(hit: Hit) -> str:
    p = hit.passage
    parts = [Path(p.source).name]
    if p.page is not None:
        parts.append(f"page {p.page}")
    if p.section:
        parts.append(p.section)
    return ", ".join(parts) + f" ({p.source})"
