"""``enclave collections`` (list them) and ``enclave forget PATH`` (remove one document)."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from desktop.app.application import Application
from desktop.cli.library_cli import EXIT_FAILED, EXIT_OK, fail, library_command


def register(commands: Any) -> None:
    p = commands.add_parser("collections", help="list your collections and what they hold")
    p.add_argument("--json", action="store_true", help="print JSON")
    p.set_defaults(run=run_collections)
    f = commands.add_parser("forget", help="remove a document from a collection")
    f.add_argument("path", metavar="PATH", help="the document's file, as it was ingested")
    f.add_argument("--collection", metavar="C", default=None,
                   help="the collection to remove it from (default: from settings)")
    f.add_argument("--json", action="store_true", help="print JSON")
    f.set_defaults(run=run_forget)


@library_command
def run_collections(args: argparse.Namespace, app: Application) -> int:
    infos = app.library().collections()
    if args.json:
        print(json.dumps({"collections": [{"name": c.name, "documents": c.documents,
                                           "passages": c.passages} for c in infos]},
                         ensure_ascii=False, indent=2))
    elif not infos:
        print("No collections yet. Add documents with: enclave ingest PATH --collection NAME")
    else:
        for c in infos:
            print(f"{c.name}: {c.documents} documents, {c.passages} passages")
    return EXIT_OK


@library_command
def run_forget(args: argparse.Namespace, app: Application) -> int:
    collection = args.collection or app.settings.collection
    removed = app.forget(Path(args.path), collection)
    if args.json:
        print(json.dumps({"path": args.path, "collection": collection, "forgotten": removed},
                         ensure_ascii=False))
    if not removed:
        return fail(f"{args.path} is not in the collection '{collection}'.", EXIT_FAILED)
    if not args.json:
        print(f"Forgot {args.path} (collection '{collection}').")
    return EXIT_OK
