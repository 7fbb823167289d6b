"""Real documents for tests: PDFs with a text layer, scanned-looking PDFs, DOCX, HTML.

No PDF library that writes is installed, so :func:`make_pdf` writes the format itself:
a small but complete PDF 1.4 file (catalog, page tree, Helvetica with WinAnsiEncoding,
one content stream per page, info dictionary, cross-reference table). pypdf reads the
text back exactly, which ``tests/rag/test_loaders.py`` checks.
"""

from __future__ import annotations

import textwrap
import zlib
from pathlib import Path

PAGE_WIDTH, PAGE_HEIGHT = 612, 792  # US Letter, in points
_FONT_SIZE, _LEADING, _MARGIN = 10, 13, 56
_WRAP_CHARS = 90


def _pdf_string(text: str) -> bytes:
    """A PDF literal string in WinAnsiEncoding, with ( ) \\ escaped."""
    raw = text.encode("cp1252", errors="replace")
    out = bytearray(b"(")
    for byte in raw:
        if byte in b"()\\":
            out += b"\\" + bytes([byte])
        elif byte < 32 or byte > 126:
            out += b"\\%03o" % byte
        else:
            out.append(byte)
    return bytes(out + b")")


def _page_lines(text: str) -> list[str]:
    lines: list[str] = []
    for paragraph in text.split("\n"):
        if not paragraph.strip():
            lines.append("")
            continue
        lines += textwrap.wrap(paragraph, _WRAP_CHARS, break_long_words=True) or [""]
    return lines


def _content_stream(text: str) -> bytes:
    ops = [b"BT", b"/F1 %d Tf" % _FONT_SIZE, b"%d TL" % _LEADING,
           b"%d %d Td" % (_MARGIN, PAGE_HEIGHT - _MARGIN)]
    for line in _page_lines(text):
        if line:
            ops.append(_pdf_string(line) + b" Tj")
        ops.append(b"T*")
    ops.append(b"ET")
    return b"\n".join(ops)


def _write_pdf(path: Path, objects: list[bytes], title: str | None,
               producer: str = "enclave tests") -> Path:
    """Objects are numbered from 1 in list order; object 1 must be the catalog."""
    if title is not None:
        objects = [*objects,
                   b"<< /Title " + _pdf_string(title) + b" /Producer " + _pdf_string(producer)
                   + b" >>"]
    out = bytearray(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref_at = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    trailer = b"<< /Size %d /Root 1 0 R" % (len(objects) + 1)
    if title is not None:
        trailer += b" /Info %d 0 R" % len(objects)
    out += b"trailer\n" + trailer + b" >>\nstartxref\n%d\n%%%%EOF\n" % xref_at
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(bytes(out))
    return path


def _stream(data: bytes, extra: bytes = b"") -> bytes:
    packed = zlib.compress(data)
    return (b"<< /Length %d /Filter /FlateDecode" % len(packed) + extra + b" >>\nstream\n"
            + packed + b"\nendstream")


def _document(
    page_contents: list[bytes], resources: bytes, extra_objects: list[bytes]
) -> list[bytes]:
    """Catalog (1), pages (2), font (3), extra objects (4..), then page/content pairs."""
    first_page = 4 + len(extra_objects)
    kids = b" ".join(b"%d 0 R" % (first_page + 2 * i) for i in range(len(page_contents)))
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [" + kids + b"] /Count %d >>" % len(page_contents),
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>",
        *extra_objects,
    ]
    for i, content in enumerate(page_contents):
        content_ref = first_page + 2 * i + 1
        media_box = b"[0 0 %d %d]" % (PAGE_WIDTH, PAGE_HEIGHT)
        objects.append(
            b"<< /Type /Page /Parent 2 0 R /MediaBox " + media_box + b" /Resources "
            + resources + b" /Contents %d 0 R >>" % content_ref
        )
        objects.append(_stream(content))
    return objects


def make_pdf(path: Path, pages: list[str], title: str | None = None,
             producer: str = "enclave tests") -> Path:
    """A real PDF with one page per string and a text layer; "\\n" starts a new line.

    Lines longer than about 90 characters are wrapped, as a word processor would.
    ``producer`` (e.g. "pdfTeX-1.40") goes in the info dictionary, written when ``title`` is.
    """
    contents = [_content_stream(text) for text in pages]
    objects = _document(contents, b"<< /Font << /F1 3 0 R >> >>", [])
    return _write_pdf(path, objects, title, producer)


def make_scanned_pdf(path: Path, pages: int = 1) -> Path:
    """A PDF whose pages carry only an image (as a scanner makes them): no text layer."""
    width = height = 64
    pixels = bytes((x * 4 + y * 2) % 256 for y in range(height) for x in range(width))
    image = _stream(
        pixels,
        b" /Type /XObject /Subtype /Image /Width %d /Height %d /ColorSpace /DeviceGray"
        b" /BitsPerComponent 8" % (width, height),
    )
    draw = b"q 468 0 0 640 72 76 cm /Im1 Do Q"
    objects = _document([draw] * pages,
                        b"<< /XObject << /Im1 4 0 R >> /Font << /F1 3 0 R >> >>", [image])
    return _write_pdf(path, objects, None)


def make_encrypted_pdf(path: Path, pages: list[str], user_password: str = "secret",
                       algorithm: str = "RC4-128") -> Path:
    """:func:`make_pdf`, then encrypted by pypdf. An empty ``user_password`` makes a PDF
    that opens without asking (only printing/copying rights are restricted)."""
    from pypdf import PdfReader, PdfWriter

    plain = make_pdf(path.with_name(path.name + ".plain.pdf"), pages)
    writer = PdfWriter(clone_from=PdfReader(plain))
    writer.encrypt(user_password=user_password, owner_password="owner-secret",
                   algorithm=algorithm)
    with path.open("wb") as handle:
        writer.write(handle)
    plain.unlink()
    return path


def make_docx(path: Path, blocks: list[tuple[str, str]], title: str | None = None,
              numbered_headings: bool = False) -> Path:
    """A real .docx. Blocks are (kind, text) with kind one of "heading1" | "heading2" |
    "heading3" | "paragraph" | "numbered" (Word's List Number style) | "bullet" | "table";
    a table's text has rows on lines and cells separated by "|".

    ``numbered_headings`` numbers Heading 1-3 automatically ("4", "4.2", "4.2.1") the way
    legal templates do: the numbers are not in the paragraphs' text, only in numbering.xml.
    """
    import docx

    document = docx.Document()
    if title is not None:
        document.core_properties.title = title
    if numbered_headings:
        _number_headings(document)
    for kind, text in blocks:
        if kind.startswith("heading"):
            document.add_heading(text, level=int(kind[len("heading"):] or 1))
        elif kind == "paragraph":
            document.add_paragraph(text)
        elif kind == "numbered":
            document.add_paragraph(text, style="List Number")
        elif kind == "bullet":
            document.add_paragraph(text, style="List Bullet")
        elif kind == "table":
            rows = [row.split("|") for row in text.split("\n")]
            table = document.add_table(rows=len(rows), cols=max(len(r) for r in rows))
            for r, cells in enumerate(rows):
                for c, cell in enumerate(cells):
                    table.cell(r, c).text = cell.strip()
        else:
            raise ValueError(f"unknown block kind {kind!r}")
    path.parent.mkdir(parents=True, exist_ok=True)
    document.save(str(path))
    return path


def _number_headings(document: object) -> None:
    from docx.oxml import parse_xml
    from docx.oxml.ns import nsdecls

    numbering = document.part.numbering_part.element  # type: ignore[attr-defined]
    levels = "".join(
        f'<w:lvl w:ilvl="{i}"><w:start w:val="1"/><w:numFmt w:val="decimal"/>'
        f'<w:pStyle w:val="Heading{i + 1}"/>'
        f'<w:lvlText w:val="{".".join(f"%{k + 1}" for k in range(i + 1))}"/></w:lvl>'
        for i in range(3)
    )
    abstract = parse_xml(
        f'<w:abstractNum {nsdecls("w")} w:abstractNumId="90">{levels}</w:abstractNum>'
    )
    num = parse_xml(f'<w:num {nsdecls("w")} w:numId="90"><w:abstractNumId w:val="90"/></w:num>')
    first_num = numbering.find(num.tag)
    if first_num is not None:  # abstract definitions must come before any w:num
        first_num.addprevious(abstract)
    else:
        numbering.append(abstract)
    numbering.append(num)
    for level in range(3):
        style = document.styles[f"Heading {level + 1}"]  # type: ignore[attr-defined]
        ppr = style.element.get_or_add_pPr()
        ppr.insert(0, parse_xml(
            f'<w:numPr {nsdecls("w")}><w:ilvl w:val="{level}"/><w:numId w:val="90"/></w:numPr>'
        ))


def make_html(path: Path, title: str, body_html: str, encoding: str = "utf-8") -> Path:
    """An HTML page with ``title`` in <title> and ``body_html`` as its body."""
    page = (
        "<!DOCTYPE html>\n<html><head>"
        f'<meta charset="{encoding}"><title>{title}</title>'
        "<style>body { font-family: sans-serif; }</style>"
        "<script>var tracking = 'do not index me';</script>"
        f"</head>\n<body>\n{body_html}\n</body></html>\n"
    )
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(page.encode(encoding))
    return path


def make_text(path: Path, text: str, encoding: str = "utf-8", bom: bool = False) -> Path:
    """A text file in ``encoding`` (e.g. "cp1252", "utf-16"); ``bom`` adds a UTF-8 BOM."""
    data = text.encode(encoding)
    if bom and encoding.replace("-", "").lower() == "utf8":
        data = b"\xef\xbb\xbf" + data
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return path


def paged(text: str, lines_per_page: int = 50) -> list[str]:
    """``text`` cut into page strings for :func:`make_pdf`, as a word processor would lay it
    out: lines wrapped at about 90 characters, ``lines_per_page`` lines a page."""
    lines: list[str] = []
    for paragraph in text.splitlines():
        lines.extend(textwrap.wrap(paragraph, _WRAP_CHARS) or [""])
    return ["\n".join(lines[n:n + lines_per_page])
            for n in range(0, len(lines), lines_per_page)]


def make_image_only_pdf(source: Path, path: Path, dpi: int = 200,
                        pages: list[int] | None = None) -> Path:
    """A scan of ``source``: each page (or those in ``pages``, from 1) rendered to a grey image
    by pdfium and the images put in a new PDF with no text layer, as a scanner makes one."""
    images = page_images(source, dpi, pages)
    path.parent.mkdir(parents=True, exist_ok=True)
    images[0].save(path, "PDF", save_all=True, append_images=images[1:], resolution=dpi)
    return path


def page_images(source: Path, dpi: int = 200, pages: list[int] | None = None) -> list:  # type: ignore[type-arg]
    """PIL images of ``source``'s pages, rendered by pdfium."""
    import pypdfium2

    document = pypdfium2.PdfDocument(str(source))
    try:
        wanted = pages or list(range(1, len(document) + 1))
        return [document[n - 1].render(scale=dpi / 72, grayscale=True).to_pil()
                for n in wanted]
    finally:
        document.close()


def make_mixed_pdf(path: Path, parts: list[tuple[Path, int]]) -> Path:
    """A PDF of the given (file, page number) pages, in order: text pages and scanned pages
    side by side, as an office's merged PDF has them."""
    from pypdf import PdfReader, PdfWriter

    writer = PdfWriter()
    for source, number in parts:
        writer.add_page(PdfReader(source).pages[number - 1])
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("wb") as f:
        writer.write(f)
    return path
