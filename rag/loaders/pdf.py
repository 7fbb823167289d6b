"""PDF: the text layer of each page, with its 1-based page number, via pypdf."""

from __future__ import annotations

import io
import logging
import re
from collections import Counter
from pathlib import Path

from rag.documents import LoadedDocument, Page, UnreadableDocument
from rag.loaders.reading import read_file_bytes, sha256_of
from rag.loaders.text import title_from_text
from rag.text_cleaning import clean_text

_NO_TEXT = "no text layer (scanned?)"
_DAMAGED = "damaged or incomplete PDF (its structure could not be read)"
_PASSWORD = "password-protected"
# Titles some PDF writers put in the metadata that say nothing about the document.
_USELESS_TITLE = re.compile(r"^(untitled|microsoft word - .*|document\d*|\(anonymous\))$", re.I)


class PdfLoader:
    formats = ("pdf",)

    def load(self, path: Path) -> LoadedDocument:
        return self.parse(path, read_file_bytes(path))

    def parse(self, path: Path, data: bytes) -> LoadedDocument:
        from pypdf import PdfReader  # pypdf is light, but only ingestion needs it

        # pypdf logs every repair it makes on a damaged file; the user gets our one line.
        logging.getLogger("pypdf").setLevel(logging.ERROR)
        try:
            reader = PdfReader(io.BytesIO(data), strict=False)
            _unlock(path, reader)
            raw_pages = list(reader.pages)
        except UnreadableDocument:
            raise
        except Exception:
            raise UnreadableDocument(path, _DAMAGED) from None
        if not raw_pages:
            raise UnreadableDocument(path, "PDF has no pages")
        texts = [_page_text(page) for page in raw_pages]
        texts = _without_running_headers(texts)
        if not any(t.strip() for t in texts):
            raise UnreadableDocument(path, _NO_TEXT)
        pages = [Page(number, text) for number, text in enumerate(texts, start=1)]
        return LoadedDocument(
            path=path,
            title=_metadata_title(reader) or title_from_text(texts[0] or texts[-1], path.stem),
            pages=pages,
            format="pdf",
            sha256=sha256_of(data),
        )


def _unlock(path: Path, reader: object) -> None:
    """Open an encrypted PDF with the empty user password, as PDF viewers do."""
    if not getattr(reader, "is_encrypted", False):
        return
    try:
        opened = reader.decrypt("")  # type: ignore[attr-defined]
    except Exception:
        # e.g. AES without the optional crypto library: we cannot open it either way.
        raise UnreadableDocument(path, _PASSWORD) from None
    if not opened:
        raise UnreadableDocument(path, _PASSWORD)


def _page_text(page: object) -> str:
    try:
        text = page.extract_text() or ""  # type: ignore[attr-defined]
    except Exception:
        # One broken page must not lose the others; it simply contributes no text.
        return ""
    return clean_text(text)


def _metadata_title(reader: object) -> str:
    try:
        title = (reader.metadata or {}).get("/Title")  # type: ignore[attr-defined]
    except Exception:
        return ""
    title = clean_text(str(title or "")).strip()
    return "" if not title or _USELESS_TITLE.match(title) else title


_DIGITS = re.compile(r"\d+")
_PAGE_NUMBER_LINE = re.compile(
    r"^(page\s*)?[-–—(]?\s*\d{1,4}\s*[-–—)]?(\s*(of|/)\s*\d{1,4})?$", re.IGNORECASE
)


def _without_running_headers(texts: list[str]) -> list[str]:
    """Drop page numbers and lines repeated at the top or bottom of most pages.

    They are printed furniture, not content: left in, "CONFIDENTIAL" or "Page 3 of 9"
    would be read as headings and glued into passages.
    """
    edges = [_edge_lines(t) for t in texts]
    counts = Counter(key for lines in edges for key in {_DIGITS.sub("#", line) for line in lines})
    repeated = {key for key, n in counts.items() if len(texts) >= 3 and n >= 0.6 * len(texts)}
    cleaned = []
    for text, edge in zip(texts, edges, strict=True):
        lines = text.split("\n")
        drop = {line for line in edge
                if _DIGITS.sub("#", line) in repeated or _PAGE_NUMBER_LINE.match(line)}
        first, last = _edge_span(lines)
        kept = [line for i, line in enumerate(lines)
                if not ((i in first or i in last) and line.strip() in drop)]
        # Repeated furniture never takes a page's only words with it.
        cleaned.append("\n".join(kept).strip("\n") if any(k.strip() for k in kept) else text)
    return cleaned


def _edge_span(lines: list[str]) -> tuple[set[int], set[int]]:
    filled = [i for i, line in enumerate(lines) if line.strip()]
    return set(filled[:2]), set(filled[-2:])


def _edge_lines(text: str) -> list[str]:
    lines = text.split("\n")
    first, last = _edge_span(lines)
    return [lines[i].strip() for i in sorted(first | last)]
