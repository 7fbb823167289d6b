"""What a file really is, judged from its first bytes rather than its name.

A ``.pdf`` that is really text, or a ``.txt`` that is really a PDF, should be read as what
it is; a PNG or an executable named ``notes.txt`` should be named as such in the error.
"""

from __future__ import annotations

import io
import zipfile

# Images Enclave reads as scans (rag/ocr.py): (magic bytes, format, what a person calls it).
_IMAGE_MAGIC: tuple[tuple[bytes, str, str], ...] = (
    (b"\x89PNG\r\n\x1a\n", "png", "a PNG image"),
    (b"\xff\xd8\xff", "jpeg", "a JPEG image"),
    (b"II*\x00", "tiff", "a TIFF image"),
    (b"MM\x00*", "tiff", "a TIFF image"),
)
_SUFFIX = {"png": "png", "jpeg": "jpg", "tiff": "tif"}
# (magic bytes, what a person calls such a file); only formats we cannot read are listed.
_FOREIGN_MAGIC: tuple[tuple[bytes, str], ...] = (
    (b"GIF87a", "a GIF image"),
    (b"GIF89a", "a GIF image"),
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", "an old Office file (.doc/.xls); save it as .docx"),
    (b"{\\rtf", "an RTF file; save it as .docx or .pdf"),
    (b"\x1f\x8b", "a gzip archive"),
    (b"7z\xbc\xaf\x27\x1c", "a 7-Zip archive"),
    (b"Rar!", "a RAR archive"),
    (b"\x7fELF", "a program (ELF executable)"),
    (b"MZ", "a Windows program"),
    (b"ID3", "an MP3 audio file"),
    (b"\x00\x00\x00\x18ftyp", "a video file"),
    (b"\x00\x00\x00\x20ftyp", "a video file"),
)


def sniff_format(data: bytes, claimed: str) -> str:
    """The format to read ``data`` as: ``claimed`` unless the bytes clearly say otherwise.

    Returns one of "pdf", "docx", "html", "txt", "md", "png", "jpeg", "tiff", or
    "foreign:<description>".
    """
    head = data[:1024]
    if b"%PDF-" in head:
        return "pdf"
    if head.startswith(b"PK\x03\x04"):
        return "docx" if _is_word_zip(data) else "foreign:a ZIP archive, not a Word document"
    for magic, kind, description in _IMAGE_MAGIC:
        if head.startswith(magic):
            if claimed in _SUFFIX:
                return kind  # a scan, read by OCR (rag/ocr.py)
            return (f"foreign:{description} (name it .{_SUFFIX[kind]} to have it read as a "
                    "scan)")
    for magic, description in _FOREIGN_MAGIC:
        if head.startswith(magic):
            return f"foreign:{description}"
    if claimed in ("pdf", "docx"):
        # The name promises a binary format the bytes do not have: fall back to reading it
        # as text; the text loader rejects it if it is not text either.
        return "html" if _looks_like_html(head) else "txt"
    return claimed


def _is_word_zip(data: bytes) -> bool:
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            return "word/document.xml" in archive.namelist()
    except (zipfile.BadZipFile, OSError, ValueError):
        # A truncated .docx still starts with PK: let the DOCX loader name the damage.
        return True


def _looks_like_html(head: bytes) -> bool:
    start = head.lstrip()[:200].lower()
    return start.startswith((b"<!doctype html", b"<html"))
