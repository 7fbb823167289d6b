"""PDF: the text layer of each page, with its 1-based page number, via pypdf."""

from __future__ import annotations

import io
import logging
import re
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

from rag.documents import LoadedDocument, Page, UnreadableDocument
from rag.loaders.hyphenation import is_tex_producer, join_broken_words
from rag.loaders.page_furniture import without_page_furniture
from rag.loaders.reading import read_file_bytes, sha256_of
from rag.loaders.text import title_from_text
from rag.ocr import has_text_layer
from rag.text_cleaning import clean_text

_DAMAGED = "damaged or incomplete PDF (its structure could not be read)"
_PASSWORD = "password-protected"
# AES needs the optional `cryptography` package, which Enclave does not ship.
_CANNOT_DECRYPT = ("encrypted in a way Enclave cannot open (AES); save an unprotected copy "
                   "and add that")
# Titles some PDF writers put in the metadata that say nothing about the document.
_USELESS_TITLE = re.compile(r"^(untitled|microsoft word - .*|document\d*|\(anonymous\))$", re.I)


class PdfLoader:
    formats: tuple[str, ...] = ("pdf",)

    def load(self, path: Path) -> LoadedDocument:
        return self.parse(path, read_file_bytes(path))

    def parse(self, path: Path, data: bytes, fmt: str = "pdf") -> LoadedDocument:
        with _quiet_pypdf():
            return self._parse(path, data)

    def _parse(self, path: Path, data: bytes) -> LoadedDocument:
        from pypdf import PdfReader  # pypdf is light, but only ingestion needs it
        from pypdf.errors import DependencyError

        try:
            reader = PdfReader(io.BytesIO(data), strict=False)
            _unlock(path, reader)
            raw_pages = list(reader.pages)
        except (UnreadableDocument, MemoryError):
            raise
        except DependencyError:  # pypdf tries the empty password while opening the file
            raise UnreadableDocument(path, _CANNOT_DECRYPT) from None
        except Exception:
            raise UnreadableDocument(path, _DAMAGED) from None
        if not raw_pages:
            raise UnreadableDocument(path, "PDF has no pages")
        texts = _page_texts(path, raw_pages)
        pictured = [not has_text_layer(t) and t.strip() != "" and _has_image(page)
                    for t, page in zip(texts, raw_pages, strict=True)]
        texts = without_page_furniture(texts)
        texts = join_broken_words(texts, is_tex_producer(_metadata_field(reader, "/Producer")
                                                         + _metadata_field(reader, "/Creator")))
        # A page with (almost) no letters is a scan: OCR reads it, if it can (rag/ocr.py).
        # (no text at all, or a few letters over a picture: a stamped page number on a scan).
        scanned = tuple(n for n, text in enumerate(texts, start=1)
                        if not text.strip() or pictured[n - 1])
        texts = ["" if n in scanned else text for n, text in enumerate(texts, start=1)]
        pages = [Page(number, text) for number, text in enumerate(texts, start=1)]
        return LoadedDocument(
            path=path,
            title=_metadata_title(reader) or title_from_text(_first_text(texts), path.stem),
            pages=pages,
            format="pdf",
            sha256=sha256_of(data),
            scanned=scanned,
        )


@contextmanager
def _quiet_pypdf() -> Iterator[None]:
    """pypdf logs every repair it makes to a damaged file; the user gets our one line."""
    logger = logging.getLogger("pypdf")
    previous = logger.level
    logger.setLevel(logging.ERROR)
    try:
        yield
    finally:
        logger.setLevel(previous)


def _first_text(texts: list[str]) -> str:
    return next((text for text in texts if text.strip()), "")


def _unlock(path: Path, reader: object) -> None:
    """Open an encrypted PDF with the empty user password, as PDF viewers do."""
    if not getattr(reader, "is_encrypted", False):
        return
    from pypdf.errors import DependencyError

    try:
        opened = reader.decrypt("")  # type: ignore[attr-defined]
    except DependencyError:
        raise UnreadableDocument(path, _CANNOT_DECRYPT) from None
    except Exception:
        raise UnreadableDocument(path, _PASSWORD) from None
    if not opened:
        raise UnreadableDocument(path, _PASSWORD)


# Drawing instructions, decoded, that one document may hold across its pages. Text pages hold
# tens of kilobytes each; a crafted file makes every page draw 70 MB (pypdf's cap per stream),
# which the text extractor reads at some 6 MB a second.
_MAX_CONTENT_BYTES = 256 * 1024 * 1024
_TOO_MUCH_DRAWING = (f"its pages hold more than {_MAX_CONTENT_BYTES // 2**20} MB of drawing "
                     "instructions, far more than documents of text have: the file is damaged "
                     "or made to be slow to read")


def _page_texts(path: Path, pages: Sequence[object]) -> list[str]:
    """Each page's text. Pages that draw the same content with the same resources (a form
    repeated, or a file made to parse one huge stream once per page) are read once; a file
    with more than _MAX_CONTENT_BYTES of distinct content is refused before any is read."""
    keys = [_content_key(page) for page in pages]
    first: dict[tuple[str, str], int] = {}
    for n, key in enumerate(keys):
        if key is not None:
            first.setdefault(key, n)
    distinct = [n for n, key in enumerate(keys) if key is None or first[key] == n]
    total = 0
    for n in distinct:
        total += _content_size(pages[n])
        if total > _MAX_CONTENT_BYTES:
            raise UnreadableDocument(path, _TOO_MUCH_DRAWING)
    texts = {n: _page_text(pages[n]) for n in distinct}
    return [texts[n if key is None else first[key]] for n, key in enumerate(keys)]


def _content_key(page: object) -> tuple[str, str] | None:
    """What a page draws, by reference: its content streams' and its resources' object
    numbers; None when they are not (all) shared objects."""
    try:
        contents = page.raw_get("/Contents")  # type: ignore[attr-defined]
        resources = page.raw_get("/Resources") if "/Resources" in page else None  # type: ignore[attr-defined,operator]
    except Exception:
        return None
    refs = list(contents) if isinstance(contents, list) else [contents]
    if not refs or not all(hasattr(ref, "idnum") for ref in refs):
        return None
    return ",".join(f"{r.idnum}.{r.generation}" for r in refs), repr(resources)


def _content_size(page: object) -> int:
    """The decoded size of a page's content streams (pypdf decodes a stream once, so the
    extractor's own read of it costs nothing more)."""
    try:
        contents = page.get("/Contents")  # type: ignore[attr-defined]
        if contents is None:
            return 0
        contents = contents.get_object()
        parts = [c.get_object() for c in contents] if isinstance(contents, list) else [contents]
        return sum(len(part.get_data()) for part in parts)
    except MemoryError:
        raise
    except Exception:
        return 0  # a broken stream: the extractor finds nothing in it either


def _page_text(page: object) -> str:
    try:
        text = page.extract_text() or ""  # type: ignore[attr-defined]
    except MemoryError:
        raise  # the whole file is too much to read (rag/loaders/isolated.py says so)
    except Exception:
        # One broken page must not lose the others; it simply contributes no text.
        return ""
    return clean_text(text)


def _has_image(page: object) -> bool:
    try:
        resources = page.get("/Resources") or {}  # type: ignore[attr-defined]
        objects = resources.get("/XObject") or {}
        return any(objects[name].get_object().get("/Subtype") == "/Image" for name in objects)
    except Exception:
        return False


def _metadata_title(reader: object) -> str:
    title = clean_text(_metadata_field(reader, "/Title")).strip()
    return "" if not title or _USELESS_TITLE.match(title) else title


def _metadata_field(reader: object, key: str) -> str:
    try:
        return str((reader.metadata or {}).get(key) or "")  # type: ignore[attr-defined]
    except Exception:
        return ""  # a damaged info dictionary costs the field, not the document
