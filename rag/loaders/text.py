"""Plain text and Markdown."""

from __future__ import annotations

import re
from pathlib import Path

from rag.chunking import detect_heading
from rag.documents import LoadedDocument, Page, UnreadableDocument
from rag.loaders.encodings import decode_text
from rag.loaders.reading import read_file_bytes, sha256_of
from rag.text_cleaning import clean_text, unreadable_fraction

# More than this share of control codes or undecodable bytes: the file is not text.
_MAX_UNREADABLE = 0.05


def text_from_bytes(path: Path, data: bytes, declared_encoding: str | None = None) -> str:
    """Decoded, cleaned text; UnreadableDocument if the bytes are not text at all."""
    return clean_text(_decoded(path, data, declared_encoding))


def decoded_text(path: Path, data: bytes, declared_encoding: str | None = None) -> str:
    """Decoded, not cleaned: for markup, which is cleaned once its text is extracted (cleaning
    minified HTML first would delete whole tables as 'runs without spaces')."""
    return _decoded(path, data, declared_encoding)


def _decoded(path: Path, data: bytes, declared_encoding: str | None = None) -> str:
    text, _encoding = decode_text(data, declared_encoding)
    if unreadable_fraction(text[:200_000]) > _MAX_UNREADABLE:
        raise UnreadableDocument(path, "not text (it looks like binary data)")
    return text


def _pages(text: str) -> list[Page]:
    """Form feeds separate pages in text exported from paged documents (pdftotext and
    print-to-text do this); such a file keeps its page numbers. Otherwise one page."""
    if "\f" not in text:
        return [Page(None, clean_text(text))]
    parts = text.split("\f")
    while len(parts) > 1 and not parts[-1].strip():
        parts.pop()  # the form feed that ends the last page
    return [Page(number, clean_text(part)) for number, part in enumerate(parts, start=1)]


def title_from_text(text: str, fallback: str) -> str:
    """The document's name as its first lines give it, else ``fallback`` (the file's stem).

    The first line counts when it is a heading, is underlined ("====="), or is a short title
    followed by a version line; the first Markdown heading near the top counts too. A version or
    edition line right under the title joins it: "GNU GENERAL PUBLIC LICENSE, Version 2, June
    1991", so documents that differ only by version keep different names. A numbered clause
    further down is not a title.
    """
    lines = [line.strip() for line in text.split("\n")[:40] if line.strip()]
    if not lines:
        return fallback
    first, after = lines[0], lines[1:3]
    underlined = bool(after) and _UNDERLINE.match(after[0]) is not None
    if underlined:
        after = after[1:]
    versioned = bool(after) and _VERSION_LINE.match(after[0]) is not None
    heading = detect_heading(first)
    if heading is not None or underlined or (versioned and _is_short_title(first)):
        title = heading.text if heading is not None else first
        return f"{title}, {after[0]}" if versioned and _VERSION_LINE.match(after[0]) else title
    for line in lines:
        if line.startswith("#") and (heading := detect_heading(line)) is not None:
            return heading.text
    return fallback


# "Version 2, June 1991", "Revision 3", "Release 1.4", "Edition 2 (2019)", "v1.2", "CC0 1.0
# Universal": a line that names which version of the titled document this is.
_VERSION_LINE = re.compile(
    r"^(?:(?:version|revision|rev\.?|release|edition|v)\s*\d[\w.]*\b|\S+ \d+(?:\.\d+)+ \w+$)"
    r"[^\n]{0,60}$", re.IGNORECASE)
_UNDERLINE = re.compile(r"^(?:=+|-+)$")


def _is_short_title(line: str) -> bool:
    words = line.split()
    return 0 < len(words) <= 8 and len(line) <= 80 and line[-1] not in ".;:,!?"


class TextLoader:
    formats: tuple[str, ...] = ("txt", "md")

    def load(self, path: Path) -> LoadedDocument:
        data = read_file_bytes(path)
        fmt = "md" if path.suffix.lower() in (".md", ".markdown") else "txt"
        return self.parse(path, data, fmt)

    def parse(self, path: Path, data: bytes, fmt: str) -> LoadedDocument:
        pages = _pages(_decoded(path, data))
        first = next((page.text for page in pages if page.text.strip()), "")
        if not first:
            raise UnreadableDocument(path, "contains no text")
        return LoadedDocument(
            path=path,
            title=title_from_text(first, path.stem),
            pages=pages,
            format=fmt,
            sha256=sha256_of(data),
        )
