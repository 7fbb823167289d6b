"""Reading documents: one loader per format behind :class:`rag.documents.DocumentLoader`.

``load_document`` is the one entry point. It reads the bytes of the one path it is given
(once), decides what the file really is from those bytes (a ``.pdf`` that is really text is
read as text), hands them to the right loader, and turns every failure into
``UnreadableDocument`` with a reason a person understands.
"""

from __future__ import annotations

import os
from pathlib import Path

from rag.documents import DocumentLoader, LoadedDocument, UnreadableDocument
from rag.loaders.docx import DocxLoader
from rag.loaders.html import HtmlLoader
from rag.loaders.image import ImageLoader
from rag.loaders.pdf import PdfLoader
from rag.loaders.reading import MAX_FILE_BYTES, MAX_TEXT_FILE_BYTES, read_file_bytes
from rag.loaders.sniffing import sniff_format
from rag.loaders.text import TextLoader

__all__ = [
    "SUPPORTED_SUFFIXES",
    "DocxLoader",
    "HtmlLoader",
    "PdfLoader",
    "TextLoader",
    "is_supported",
    "load_document",
]

# File name suffixes (lower case, no dot) Enclave reads, and the format each one means.
_FORMAT_OF_SUFFIX = {
    "pdf": "pdf",
    "docx": "docx",
    "txt": "txt",
    "text": "txt",
    "md": "md",
    "markdown": "md",
    "html": "html",
    "htm": "html",
    "png": "png",
    "jpg": "jpeg",
    "jpeg": "jpeg",
    "tif": "tiff",
    "tiff": "tiff",
}
SUPPORTED_SUFFIXES: frozenset[str] = frozenset(_FORMAT_OF_SUFFIX)


def is_supported(path: Path | str) -> bool:
    """Whether the file's name says it is a kind of document Enclave reads."""
    return Path(path).suffix.lower().lstrip(".") in SUPPORTED_SUFFIXES


def load_document(path: Path) -> LoadedDocument:
    """Read one document. Raises UnreadableDocument (and nothing else) when it cannot."""
    path = Path(os.path.abspath(path))  # normalised, but links are not resolved
    try:
        return _load(path)
    except (UnreadableDocument, MemoryError):
        raise  # a reader with a memory limit (rag/loaders/isolated.py) names that itself
    except Exception as exc:  # the promise is one clear line, never a traceback
        raise UnreadableDocument(path, f"could not be read ({type(exc).__name__})") from exc


# One loader per format, each behind the DocumentLoader seam.
_LOADERS: dict[str, DocumentLoader] = {
    fmt: loader for loader in (PdfLoader(), DocxLoader(), HtmlLoader(), TextLoader(),
                               ImageLoader())
    for fmt in loader.formats}


def _load(path: Path) -> LoadedDocument:
    claimed = _FORMAT_OF_SUFFIX.get(path.suffix.lower().lstrip("."))
    if claimed is None:
        kind = path.suffix or "without a suffix"
        raise UnreadableDocument(
            path, f"not a supported kind of document ({kind}); Enclave reads PDF, Word (.docx), "
            "text, Markdown and HTML files, and scans as PNG, JPEG or TIFF images"
        )
    data = read_file_bytes(path, MAX_FILE_BYTES if claimed in _BINARY_FORMATS
                           else MAX_TEXT_FILE_BYTES)
    actual = sniff_format(data, claimed)
    if actual.startswith("foreign:"):
        raise UnreadableDocument(path, f"not a document Enclave can read: it is {actual[8:]}")
    try:
        document = _LOADERS[actual].parse(path, data, actual)
    except UnreadableDocument:
        # A file named .pdf/.docx whose bytes are neither that format nor readable text.
        if actual not in _BINARY_FORMAT_REASON and claimed in _BINARY_FORMAT_REASON:
            raise UnreadableDocument(path, _BINARY_FORMAT_REASON[claimed]) from None
        raise
    characters = sum(len(page.text) for page in document.pages)
    if characters > MAX_DOCUMENT_CHARACTERS:
        raise UnreadableDocument(
            path, f"holds {characters / 1e6:.0f} million characters of text, more than Enclave "
                  f"indexes from one file ({MAX_DOCUMENT_CHARACTERS // 1_000_000} million, about "
                  "4,400 pages of a report): split it into smaller files")
    return document


# The most text one file may give: a 2,000-page PDF of licence text gives 4.5 million
# characters. Past that a file is a log or a data dump (or several documents in one), and
# embedding it would hold the ingest for hours (5 MB of text makes some 5,000 passages).
MAX_DOCUMENT_CHARACTERS = 10_000_000


_BINARY_FORMATS = ("pdf", "docx", "png", "jpeg", "tiff")
# What to say when a file named .pdf/.docx has neither that format's bytes nor text inside.
_BINARY_FORMAT_REASON = {
    "pdf": "not a readable PDF (the file is damaged or is not really a PDF)",
    "docx": "not a readable Word document (the file is damaged or is not really .docx)",
}
