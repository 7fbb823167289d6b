"""A conversation as a PDF: the Markdown export, laid out by Qt's text engine.

Without ligatures: a font's "fi" and "ffi" glyphs come out of a PDF as one character ("ﬁ"), so
searching the PDF for "office filing" would find nothing.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from PySide6.QtGui import QFont, QPageSize, QPdfWriter, QTextDocument

from desktop.app.conversations import Conversation, Message
from desktop.app.export import conversation_markdown
from desktop.app.pdf_spaces import searchable_spaces

# OpenType features that join letters into one glyph: standard, contextual, discretionary.
NO_LIGATURES = ("liga", "clig", "dlig")


def write_pdf(path: Path, conversation: Conversation, messages: Sequence[Message]) -> Path:
    document = QTextDocument()
    font = QFont()
    font.setPointSize(10)
    for feature in NO_LIGATURES:
        font.setFeature(QFont.Tag.fromString(feature), 0)
    document.setDefaultFont(font)
    document.setMarkdown(conversation_markdown(conversation, messages))
    writer = QPdfWriter(str(path))
    writer.setPageSize(QPageSize(QPageSize.PageSizeId.A4))
    writer.setResolution(300)
    writer.setTitle(conversation.title)
    writer.setCreator("Enclave")
    document.print_(writer)
    del writer  # closes the file
    if not path.is_file() or path.stat().st_size == 0:
        raise OSError(f"The PDF could not be written to {path}.")
    return searchable_spaces(path)
