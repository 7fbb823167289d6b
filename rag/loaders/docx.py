"""Word (.docx) via python-docx: paragraphs and tables in document order.

Heading styles become Markdown-like "# " lines so chunking sees the structure the author
gave the document; table rows become Markdown-like "| cell | cell |" lines; footnotes and
endnotes follow the body under their own heading, each marked "[n]" as in the text.
"""

from __future__ import annotations

import io
import re
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from rag.documents import LoadedDocument, Page, UnreadableDocument
from rag.loaders.docx_numbering import ListNumbering
from rag.loaders.reading import read_file_bytes, sha256_of
from rag.text_cleaning import clean_text

_NOT_DOCX = "not a readable Word document (the file is damaged or is not really .docx)"
# A .docx is a zip; refuse one that would inflate to more than this (a "zip bomb").
_MAX_UNZIPPED_BYTES = 500 * 1024 * 1024
# Of which XML (the text and its markup, parsed whole into memory at many times its size): 1,000
# pages of plain paragraphs (3 million characters) written by python-docx make 4.2 MB of it.
# Pictures, the rest of the 500 MB, are never parsed.
_MAX_XML_BYTES = 64 * 1024 * 1024
_HEADING_STYLE = re.compile(r"^heading\s*(\d)$", re.IGNORECASE)


class DocxLoader:
    formats: tuple[str, ...] = ("docx",)

    def load(self, path: Path) -> LoadedDocument:
        return self.parse(path, read_file_bytes(path))

    def parse(self, path: Path, data: bytes, fmt: str = "docx") -> LoadedDocument:
        _check_archive(path, data)
        try:
            import docx  # python-docx; imported here so only ingestion pays for lxml

            document = docx.Document(io.BytesIO(data))
            lines = list(_lines(document))
            core_title = (document.core_properties.title or "").strip()
        except (UnreadableDocument, MemoryError):
            raise
        except Exception:
            raise UnreadableDocument(path, _NOT_DOCX) from None
        text = clean_text("\n".join(lines))
        if not text.strip():
            raise UnreadableDocument(path, "contains no text")
        return LoadedDocument(
            path=path,
            title=core_title or _first_heading(lines) or path.stem,
            pages=[Page(None, text)],
            format="docx",
            sha256=sha256_of(data),
        )


def _check_archive(path: Path, data: bytes) -> None:
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            names = archive.namelist()
            unzipped = sum(info.file_size for info in archive.infolist())
            xml = sum(info.file_size for info in archive.infolist()
                      if info.filename.lower().endswith((".xml", ".rels")))
    except (zipfile.BadZipFile, OSError, ValueError):
        raise UnreadableDocument(path, _NOT_DOCX) from None
    if "word/document.xml" not in names:
        raise UnreadableDocument(path, _NOT_DOCX)
    if unzipped > _MAX_UNZIPPED_BYTES:
        limit_mb = _MAX_UNZIPPED_BYTES // 2**20
        raise UnreadableDocument(path, f"too large once unpacked (over {limit_mb} MB of content)")
    if xml > _MAX_XML_BYTES:
        raise UnreadableDocument(
            path, f"its text would unpack to {round(xml / 2**20)} MB of markup (1,000 pages of "
                  f"text make about 4 MB; Enclave reads up to {_MAX_XML_BYTES // 2**20} MB): the "
                  "file is damaged or made to swell when opened")


_W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"
# Subtrees whose text is not what the reader sees: tracked deletions, moved-away text, and
# the legacy copy of a drawing that Word stores beside the modern one.
_HIDDEN = frozenset({f"{_W}del", f"{_W}moveFrom",
                     "{http://schemas.openxmlformats.org/markup-compatibility/2006}Fallback"})


def _lines(document: Any) -> Iterator[str]:
    """Lines of text in document order: "# Heading", paragraphs, "| cell | cell |" rows."""
    numbering = ListNumbering(document)
    yield from _block_lines(document.element.body, document, numbering)
    for heading, notes in (("Footnotes", "footnote"), ("Endnotes", "endnote")):
        found = list(_notes(document, notes))
        if found:
            yield from ("", f"# {heading}", "")
            for line in found:
                yield from (line, "")


def _block_lines(container: Any, document: Any, numbering: ListNumbering) -> Iterator[str]:
    from docx.table import Table
    from docx.text.paragraph import Paragraph

    for child in container.iterchildren():
        if child.tag == f"{_W}p":
            yield _paragraph_line(Paragraph(child, document), numbering.label(child))
            yield ""  # each Word paragraph is a paragraph
        elif child.tag == f"{_W}tbl":
            yield from _table_lines(Table(child, document))
            yield ""
        elif child.tag in (f"{_W}sdt", f"{_W}customXml", f"{_W}sdtContent"):
            # Content controls and custom XML wrap ordinary paragraphs in many templates.
            yield from _block_lines(child, document, numbering)


def _paragraph_line(paragraph: Any, number: str) -> str:
    """The paragraph as one line, with Word's automatic number ("4.2") in front of it."""
    style = getattr(getattr(paragraph, "style", None), "name", "") or ""
    if style.lower().startswith("toc"):
        return ""  # a table-of-contents entry repeats a heading and adds a page number
    text = " ".join(_visible_text(paragraph._p).split())
    if not text:
        return ""
    if number:
        text = f"{number} {text}"
    if style.lower() == "title":
        return f"# {text}"
    if m := _HEADING_STYLE.match(style):
        return f"{'#' * min(int(m.group(1)), 6)} {text}"
    return text


def _visible_text(element: Any) -> str:
    """The text Word shows for a paragraph, including what python-docx's ``text`` misses:
    tracked insertions, content controls, smart tags, fields and text boxes."""
    parts: list[str] = []

    def walk(node: Any) -> None:
        for child in node.iterchildren():
            tag = child.tag
            if not isinstance(tag, str) or tag in _HIDDEN:
                continue
            if tag == f"{_W}t":
                parts.append(child.text or "")
            elif tag in (f"{_W}tab", f"{_W}br", f"{_W}cr"):
                parts.append(" ")
            elif tag == f"{_W}noBreakHyphen":
                parts.append("-")
            elif tag in (f"{_W}footnoteReference", f"{_W}endnoteReference"):
                parts.append(f"[{child.get(f'{_W}id', '')}]")
            else:
                walk(child)

    walk(element)
    return "".join(parts)


def _notes(document: Any, kind: str) -> Iterator[str]:
    """"[n] text" for each footnote (or endnote) of the document, in order."""
    from lxml import etree

    part = next((p for p in document.part.package.iter_parts()
                 if str(p.partname).endswith(f"/{kind}s.xml")), None)
    if part is None:
        return
    # Entities stay unresolved and nothing is fetched: the file may be hostile.
    parser = etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=False)
    root = etree.fromstring(part.blob, parser)
    for note in root.iter(f"{_W}{kind}"):
        if note.get(f"{_W}type") in ("separator", "continuationSeparator",
                                     "continuationNotice"):
            continue
        text = " ".join(" ".join(_visible_text(p) for p in note.iter(f"{_W}p")).split())
        if text:
            yield f"[{note.get(f'{_W}id', '')}] {text}"


def _table_lines(table: Any) -> Iterator[str]:
    for row in table.rows:
        cells: list[str] = []
        for cell in row.cells:
            text = " ".join(" ".join(_visible_text(p) for p in cell._tc.iter(f"{_W}p")).split())
            # Merged cells repeat the same cell's text; keep it once.
            if text and (not cells or cells[-1] != text):
                cells.append(text)
        if cells:
            yield f"| {' | '.join(cells)} |"


def _first_heading(lines: list[str]) -> str:
    for line in lines:
        if line.startswith("#"):
            return line.lstrip("#").strip()
    return ""
