"""``enclave ingest``: index files and folders into a collection, with per-file results."""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path
from typing import Any, TextIO

from desktop.app.application import Application
from desktop.cli.library_cli import EXIT_OK, EXIT_SOME_FAILED, EXIT_USAGE, fail, library_command
from rag.documents import display_path
from rag.services import IngestEvent


def register(commands: Any) -> None:
    p = commands.add_parser("ingest", help="index documents (files or folders) into a collection")
    p.add_argument("paths", nargs="+", metavar="PATH", help="files or folders to index")
    p.add_argument("--collection", metavar="C", default=None,
                   help="the collection (matter, patient...) to add them to "
                        "(default: from settings)")
    p.add_argument("--json", action="store_true", help="print one JSON object at the end")
    p.set_defaults(run=run)


@library_command
def run(args: argparse.Namespace, app: Application) -> int:
    paths = [Path(p) for p in args.paths]
    missing = [p for p in paths if not os.path.lexists(p)]
    if missing:
        return fail(f"no such file or folder: {missing[0]}", EXIT_USAGE)
    collection = args.collection or app.settings.collection
    result: dict[str, list[dict[str, Any]]] = {"indexed": [], "skipped": [], "failed": []}
    progress = _Progress(sys.stderr) if sys.stderr.isatty() else None
    try:
        for event in app.ingest.ingest(paths, collection):
            if progress is not None:
                progress.show(event)
            entry = _record(event, result)
            if entry and not args.json:
                if progress is not None:
                    progress.clear()
                print(entry, flush=True)
    finally:
        if progress is not None:
            progress.clear()
    if args.json:
        print(json.dumps(dict(result, collection=collection), ensure_ascii=False, indent=2))
    else:
        print(_summary(result, collection))
    return EXIT_SOME_FAILED if result["failed"] else EXIT_OK


def _record(event: IngestEvent, result: dict[str, list[dict[str, Any]]]) -> str:
    path = display_path(event.path) if event.path is not None else ""
    if event.kind in ("indexed", "unchanged"):
        result["indexed"].append({"path": path, "status": event.kind, "pages": event.pages,
                                  "passages": event.passages,
                                  **({"note": event.detail} if event.detail else {})})
        if event.kind == "unchanged":
            return f"unchanged  {path}" + (f" ({event.detail})" if event.detail else "")
        return f"indexed    {path} ({_count(event.pages, 'page')}, " \
               f"{_count(event.passages, 'passage')})" + \
               (f": {event.detail}" if event.detail else "")
    if event.kind == "skipped":
        result["skipped"].append({"path": path, "reason": event.detail})
        return f"skipped    {path}: {event.detail}"
    if event.kind == "failed":
        result["failed"].append({"path": path, "error": event.detail})
        return f"failed     {path}: {event.detail}"
    return ""


def _summary(result: dict[str, list[dict[str, Any]]], collection: str) -> str:
    new = sum(1 for e in result["indexed"] if e["status"] == "indexed")
    same = len(result["indexed"]) - new
    return (f"Collection '{collection}': {new} indexed, {same} unchanged, "
            f"{len(result['skipped'])} skipped, {len(result['failed'])} could not be read.")


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}" + ("" if n == 1 else "s")


class _Progress:
    """A one-line bar on a terminal's stderr, redrawn in place."""

    WIDTH = 30

    def __init__(self, out: TextIO) -> None:
        self._out = out

    def show(self, event: IngestEvent) -> None:
        if event.total <= 0:
            return
        filled = int(self.WIDTH * event.done / event.total)
        name = display_path(event.path.name) if event.path else ""
        if event.kind in ("opening", "reading", "indexing"):  # say where it is
            name = f"{name[:28]}: {event.detail}"
        self._out.write(f"\r[{'#' * filled}{'.' * (self.WIDTH - filled)}] "
                        f"{event.done}/{event.total} {name[:60]:60}")
        self._out.flush()

    def clear(self) -> None:
        self._out.write("\r" + " " * (self.WIDTH + 80) + "\r")
        self._out.flush()
