"""What documents become on their way into the index: pages, then passages."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol


@dataclass(frozen=True)
class Page:
    number: int | None  # 1-based page number for paged formats (PDF); None otherwise
    text: str


@dataclass(frozen=True)
class LoadedDocument:
    path: Path  # absolute
    title: str
    pages: list[Page]
    format: str  # "pdf", "docx", "txt", "md", "html", "image"
    sha256: str  # of the file's bytes: the document's identity in the index
    # Pages with no text layer (page numbers), to be read by OCR (rag/ocr.py): their text is
    # empty until then. An image file is all scanned pages.
    scanned: tuple[int, ...] = ()


@dataclass(frozen=True)
class Passage:
    """A piece of a document that makes sense alone in a citation."""

    doc_sha256: str
    source: str  # absolute path of the file, as a string
    title: str
    section: str  # heading path, e.g. "4 Termination > 4.2 Notice"; "" if none
    page: int | None
    ordinal: int  # position of the passage within its document, from 0
    text: str
    metadata: dict[str, Any] = field(default_factory=dict)

    @property
    def passage_id(self) -> str:
        return f"{self.doc_sha256}:{self.ordinal}"


class UnreadableDocument(Exception):
    """A file that cannot be ingested; ``reason`` is a sentence a person understands."""

    def __init__(self, path: Path, reason: str) -> None:
        super().__init__(f"{path}: {reason}")
        self.path = path
        self.reason = reason


class DocumentLoader(Protocol):
    """Reads some formats. Raises UnreadableDocument with a human reason; never anything else.

    ``parse`` is what rag.loaders.load_document calls, with the file's bytes (read once) and
    the format they turned out to be (a ".pdf" that is really text is parsed as "txt")."""

    formats: tuple[str, ...]  # the formats it reads, e.g. ("pdf",) or ("txt", "md")

    def load(self, path: Path) -> LoadedDocument: ...

    def parse(self, path: Path, data: bytes, fmt: str) -> LoadedDocument: ...


def display_path(path: Path | str) -> str:
    """A path as text that can always be printed and stored: bytes that are not UTF-8 (a
    name from an old Windows share) shown as escapes (\\xe9) instead of failing."""
    import os

    return os.fsencode(path).decode("utf-8", "backslashreplace")
