"""``enclave search``: retrieval only, no model. ``--batch`` answers one query a line."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from desktop.app.application import Application
from desktop.cli.library_cli import EXIT_OK, EXIT_USAGE, fail, library_command, positive
from rag.scoring import DEFAULT_SCORING


def register(commands: Any) -> None:
    p = commands.add_parser("search", help="find the passages of your documents that match "
                                           "a query (no model)")
    p.add_argument("query", nargs="?", help="what to look for, in quotes")
    p.add_argument("--batch", metavar="FILE",
                   help="read one query a line from FILE ('-' for standard input) and write "
                        "one JSON line a query")
    p.add_argument("--collection", metavar="C", default=None,
                   help="the collection to search (default: from settings)")
    p.add_argument("--top-k", type=positive, default=None, metavar="K",
                   help="how many passages to return (default: from settings)")
    p.add_argument("--json", action="store_true", help="print JSON")
    p.add_argument("--explain", action="store_true",
                   help="with each passage, the features its score was made of and the "
                        "weights (rag/scoring.py)")
    p.set_defaults(run=run)


@library_command
def run(args: argparse.Namespace, app: Application) -> int:
    settings = app.settings
    if (args.query is None) == (args.batch is None):
        return fail("give either a QUERY or --batch FILE.", EXIT_USAGE)
    queries = [args.query] if args.batch is None else _read_batch(args.batch)
    if queries is None:
        return fail(f"cannot read the batch file {args.batch}.", EXIT_USAGE)
    collection = args.collection or settings.collection
    top_k = args.top_k or settings.top_k
    library = app.library()
    # The default collection exists as soon as anything is ingested; before that it is simply
    # empty. A collection named on the command line must exist.
    if args.collection is None and collection not in {c.name for c in library.collections()}:
        library.create_collection(collection)
    for query in queries:
        hits = [h.to_json(explain=args.explain)
                for h in app.search(query, collection, top_k, interface="cli")]
        result: dict[str, Any] = {"query": query, "collection": collection, "hits": hits}
        if args.explain:
            result["scoring"] = DEFAULT_SCORING.to_json()
        if args.batch is not None:
            print(json.dumps(result, ensure_ascii=False), flush=True)
        elif args.json:
            print(json.dumps(result, ensure_ascii=False, indent=2))
        else:
            _print_hits(query, hits)
    return EXIT_OK


def _read_batch(name: str) -> list[str] | None:
    try:
        text = sys.stdin.read() if name == "-" else Path(name).read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError):
        return None
    return [line.strip() for line in text.splitlines() if line.strip()]


def _print_hits(query: str, hits: list[dict[str, Any]]) -> None:
    if not hits:
        print(f"Nothing found for: {query}")
        return
    for n, hit in enumerate(hits, start=1):
        page = f", page {hit['page']}" if hit["page"] is not None else ""
        print(f"[{n}] {Path(hit['source']).name}{page}  (score {hit['score']:.3f})")
        if hit.get("section"):
            print(f"    {hit['section']}")
        if hit.get("features"):
            print("    " + ", ".join(f"{k} {v}" for k, v in hit["features"].items()))
        text = " ".join(hit["text"].split())
        print(f"    {text[:300]}{'…' if len(text) > 300 else ''}")
