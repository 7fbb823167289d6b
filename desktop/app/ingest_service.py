"""Ingesting, once: the window and the CLI index documents through this, and each batch goes
to the audit log the same way, however it ends (finished, cancelled, or stopped by an error).
Qt-free."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from desktop.app.audit_events import AuditSink, DocumentsIngested
from models.chat_model import Cancel
from rag.documents import display_path
from rag.services import IngestEvent, LibraryService


@dataclass
class IngestTally:
    """What one batch did, file by file."""

    indexed: list[IngestEvent] = field(default_factory=list)
    unchanged: list[IngestEvent] = field(default_factory=list)
    skipped: list[IngestEvent] = field(default_factory=list)
    failed: list[IngestEvent] = field(default_factory=list)

    def add(self, event: IngestEvent) -> None:
        bucket = {"indexed": self.indexed, "unchanged": self.unchanged,
                  "skipped": self.skipped, "failed": self.failed}.get(event.kind)
        if bucket is not None:
            bucket.append(event)


class IngestService:
    def __init__(self, library: Callable[[], LibraryService], audit: AuditSink) -> None:
        self._library = library
        self._audit = audit

    def ingest(self, paths: Sequence[Path], collection: str, cancel: Cancel | None = None,
               interface: str = "cli") -> Iterator[IngestEvent]:
        """The library's ingest events, passed on; the batch is audited when it ends, and
        each document it indexed is then marked reported. Documents an earlier run indexed
        but could not record (killed, out of disk) are recorded first."""
        library = self._library()
        self._record_unreported(library, interface)
        tally = IngestTally()
        finished = False
        try:
            for event in library.ingest(paths, collection, cancel):
                tally.add(event)
                finished = finished or event.kind == "finished"
                yield event
        finally:
            self._audit.record_event(DocumentsIngested(
                collection=collection,
                indexed=[display_path(e.path) for e in tally.indexed if e.path],
                unchanged=len(tally.unchanged), skipped=len(tally.skipped),
                failed=[display_path(e.path) for e in tally.failed if e.path],
                complete=finished and not (cancel is not None and cancel.is_set()),
                interface=interface))
            indexed = [e.path for e in tally.indexed if e.path is not None]
            if indexed:
                library.mark_reported(collection, indexed)

    def _record_unreported(self, library: LibraryService, interface: str) -> None:
        for collection, paths in library.unreported().items():
            self._audit.record_event(DocumentsIngested(
                collection=collection, indexed=[display_path(p) for p in paths],
                complete=False, interface=interface, recovered=True))
            library.mark_reported(collection, paths)
