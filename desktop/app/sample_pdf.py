"""Multi-page PDFs with a real text layer, written directly (no PDF-writing library is needed).

The sample documents that `enclave verify-egress` ingests and `enclave bench` times.

A small complete PDF 1.4: catalog, page tree, Helvetica (WinAnsiEncoding), one compressed
content stream per page, cross-reference table. pypdf reads the text back as written.
"""

from __future__ import annotations

import textwrap
import zlib
from pathlib import Path

_WIDTH, _HEIGHT, _MARGIN, _FONT, _LEADING, _WRAP = 612, 792, 56, 10, 13, 90


def _literal(text: str) -> bytes:
    out = bytearray(b"(")
    for byte in text.encode("cp1252", errors="replace"):
        if byte in b"()\\":
            out += b"\\" + bytes([byte])
        elif byte < 32 or byte > 126:
            out += b"\\%03o" % byte
        else:
            out.append(byte)
    return bytes(out + b")")


def _content(text: str) -> bytes:
    ops = [b"BT", b"/F1 %d Tf" % _FONT, b"%d TL" % _LEADING, b"%d %d Td" % (_MARGIN,
                                                                         _HEIGHT - _MARGIN)]
    for paragraph in text.split("\n"):
        for line in textwrap.wrap(paragraph, _WRAP) or [""]:
            ops += [_literal(line) + b" Tj", b"T*"]
    ops.append(b"ET")
    packed = zlib.compress(b"\n".join(ops))
    return b"<< /Length %d /Filter /FlateDecode >>\nstream\n" % len(packed) + packed + \
        b"\nendstream"


def write_pdf(path: Path, pages: list[str], title: str) -> Path:
    kids = b" ".join(b"%d 0 R" % (5 + 2 * i) for i in range(len(pages)))
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [" + kids + b"] /Count %d >>" % len(pages),
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>",
        b"<< /Title " + _literal(title) + b" /Producer (enclave bench) >>",
    ]
    for i, text in enumerate(pages):
        page = b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 %d %d] " % (_WIDTH, _HEIGHT)
        page += b"/Resources << /Font << /F1 3 0 R >> >> /Contents %d 0 R >>" % (6 + 2 * i)
        objects.append(page)
        objects.append(_content(text))
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(pdf_file(objects, info=4))
    return path


def pdf_file(objects: list[bytes], info: int | None = None) -> bytes:
    """A PDF 1.4 file of ``objects`` (numbered from 1; object 1 the catalog, object ``info``
    the document information), with its cross-reference table."""
    out = bytearray(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    trailer = b"<< /Size %d /Root 1 0 R" % (len(objects) + 1)
    if info is not None:
        trailer += b" /Info %d 0 R" % info
    out += b"trailer\n" + trailer + b" >>\nstartxref\n%d\n%%%%EOF\n" % xref
    return bytes(out)
