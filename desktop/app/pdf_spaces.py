"""Spaces in an exported PDF read back as spaces, so searching it and copying from it work.

Qt writes each font's ToUnicode map (glyph -> character) from the font's own character map, and
fonts such as DejaVu Sans map the tab and the space to one glyph: the first wins, so every space
in the PDF reads back as a tab ("office\\tfiling"), and a search for "office filing" finds
nothing. Mapping that glyph to the space again fixes it. Qt-free: pypdf only.
"""

from __future__ import annotations

import re
from pathlib import Path

from pypdf import PdfReader, PdfWriter
from pypdf.generic import DictionaryObject, StreamObject

TAB, SPACE = b"<0009>", b"<0020>"
_HEX = rb"<[0-9A-Fa-f]+>"
_SECTION = re.compile(rb"(begin(bfchar|bfrange))(.*?)(end\2)", re.DOTALL)
_CHAR = re.compile(rb"(" + _HEX + rb"\s*)(" + _HEX + rb")")  # source, character
_RANGE = re.compile(rb"(" + _HEX + rb"\s*" + _HEX + rb"\s*)(" + _HEX + rb"|\[[^\]]*\])")


def spaces_not_tabs(cmap: bytes) -> bytes:
    """``cmap`` (a ToUnicode CMap) with every glyph that reads as a tab reading as a space."""

    def section(match: re.Match[bytes]) -> bytes:
        pattern = _CHAR if match.group(2) == b"bfchar" else _RANGE
        body = pattern.sub(lambda m: m.group(1) + m.group(2).replace(TAB, SPACE), match.group(3))
        return match.group(1) + body + match.group(4)

    return _SECTION.sub(section, cmap)


def searchable_spaces(path: Path) -> Path:
    """Rewrite the PDF at ``path`` so that its spaces read back as spaces."""
    writer = PdfWriter(clone_from=PdfReader(path))
    changed = False
    seen: set[int] = set()
    for page in writer.pages:
        resources = page.get("/Resources")
        fonts = resources.get_object().get("/Font") if resources is not None else None
        if not isinstance(fonts, DictionaryObject):
            continue
        for ref in fonts.values():
            font = ref.get_object()
            cmap = font.get("/ToUnicode") if isinstance(font, DictionaryObject) else None
            stream = cmap.get_object() if cmap is not None else None
            if not isinstance(stream, StreamObject) or id(stream) in seen:
                continue
            seen.add(id(stream))
            data = stream.get_data()
            fixed = spaces_not_tabs(data)
            if fixed != data:
                stream.set_data(fixed)
                changed = True
    if changed:
        with path.open("wb") as out:
            writer.write(out)
    return path
