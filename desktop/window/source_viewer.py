"""A citation in context: the page it came from, with the passage highlighted.

The page is read again from the file on a background thread (the same loaders that indexed
it), so what the reader sees is the document, not the index. "Open file" hands the local file to
the system viewer; only ``file:`` URLs are ever opened.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from PySide6.QtCore import QUrl
from PySide6.QtGui import QColor, QDesktopServices, QTextCharFormat, QTextCursor
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QLabel,
    QPushButton,
    QTextBrowser,
    QTextEdit,
    QVBoxLayout,
)

from desktop.app.export import citation_label
from desktop.window.background import BackgroundTasks

MAX_HIGHLIGHT_WORDS = 200


def page_text(source: Path, page: int | None) -> str:
    """The text of the cited page (the whole text for formats without pages)."""
    from rag.loaders import load_document

    document = load_document(source)
    if page is not None:
        for candidate in document.pages:
            if candidate.number == page:
                return candidate.text
    return "\n\n".join(p.text for p in document.pages)


def find_passage(text: str, passage: str, words: int = MAX_HIGHLIGHT_WORDS
                 ) -> tuple[int, int] | None:
    """Where the passage is in the page, across any re-flowing of whitespace between its words
    (the page keeps its line breaks; the passage was indexed with them folded)."""
    parts = [re.escape(w) for w in passage.split()[:words]]
    if not parts:
        return None
    found = re.search(r"\s+".join(parts), text, flags=re.IGNORECASE)
    return (found.start(), found.end()) if found else None


def _utf16_offset(text: str, index: int) -> int:
    """Qt counts positions in UTF-16 code units; Python in code points."""
    return len(text[:index].encode("utf-16-le")) // 2


class SourceViewer(QDialog):
    def __init__(self, citation: dict[str, Any], tasks: BackgroundTasks, highlight: str,
                 parent: Any = None) -> None:
        super().__init__(parent)
        self.citation = citation
        self.source = Path(str(citation.get("source", "")))
        self._highlight = highlight
        self.setWindowTitle(f"Source — {citation_label(citation)}")
        self.resize(760, 620)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(18, 16, 18, 14)
        layout.setSpacing(10)
        heading = QLabel(citation_label(citation))
        heading.setObjectName("conversationTitle")
        section = str(citation.get("section") or "")
        where = QLabel(f"{section}\n{self.source}" if section else str(self.source))
        where.setObjectName("muted")
        where.setWordWrap(True)
        self.note = QLabel("Reading the page…")
        self.note.setObjectName("muted")
        self.text = QTextBrowser()
        self.text.setOpenLinks(False)
        self.text.document().setDocumentMargin(16)
        self.text.setPlainText(str(citation.get("text", "")))
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.reject)
        self.open_button = QPushButton("Open file")
        self.open_button.setToolTip("Open the document in this computer's own viewer")
        self.open_button.clicked.connect(self.open_file)
        self.open_button.setEnabled(self.source.is_file())
        buttons.addButton(self.open_button, QDialogButtonBox.ButtonRole.ActionRole)
        for widget in (heading, where, self.note, self.text):
            layout.addWidget(widget)
        layout.addWidget(buttons)
        self.highlighted = False
        tasks.run(lambda: page_text(self.source, citation.get("page")), self._show_page,
                  self._page_unavailable)

    def _show_page(self, text: str) -> None:
        self.text.setPlainText(text)
        self.highlighted = self._highlight_passage(str(self.citation.get("text", "")))
        self.note.setText("The cited passage is highlighted." if self.highlighted else
                          "The page has changed since it was indexed; the passage is shown "
                          "below as it was cited.")
        if not self.highlighted:
            self.text.setPlainText(str(self.citation.get("text", "")))

    def _page_unavailable(self, message: str) -> None:
        self.note.setText(f"The file cannot be read now ({message}); this is the passage as "
                          "it was indexed.")

    def _highlight_passage(self, passage: str) -> bool:
        text = self.text.toPlainText()
        span = find_passage(text, passage) or find_passage(text, passage, words=12)
        if span is None:
            return False
        cursor = QTextCursor(self.text.document())
        cursor.setPosition(_utf16_offset(text, span[0]))
        cursor.setPosition(_utf16_offset(text, span[1]), QTextCursor.MoveMode.KeepAnchor)
        selection = QTextEdit.ExtraSelection()
        selection.cursor = cursor
        fmt = QTextCharFormat()
        fmt.setBackground(QColor(self._highlight))
        selection.format = fmt
        self.text.setExtraSelections([selection])
        scroll = QTextCursor(cursor)
        scroll.clearSelection()
        self.text.setTextCursor(scroll)
        self.text.ensureCursorVisible()
        return True

    def open_file(self) -> bool:
        if not self.source.is_file():
            self.note.setText("The file is no longer at this place.")
            return False
        return QDesktopServices.openUrl(QUrl.fromLocalFile(str(self.source.resolve())))
