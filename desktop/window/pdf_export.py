"""A conversation as a PDF: the Markdown export, laid out by Qt's text engine."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from PySide6.QtGui import QFont, QPageSize, QPdfWriter, QTextDocument

from desktop.app.conversations import Conversation, Message
from desktop.app.export import conversation_markdown


def write_pdf(path: Path, conversation: Conversation, messages: Sequence[Message]) -> Path:
    document = QTextDocument()
    font = QFont()
    font.setPointSize(10)
    document.setDefaultFont(font)
    document.setMarkdown(conversation_markdown(conversation, messages))
    writer = QPdfWriter(str(path))
    writer.setPageSize(QPageSize(QPageSize.PageSizeId.A4))
    writer.setResolution(300)
    writer.setTitle(conversation.title)
    writer.setCreator("Enclave")
    document.print_(writer)
    if not path.is_file() or path.stat().st_size == 0:
        raise OSError(f"The PDF could not be written to {path}.")
    return path
