"""A citation in context: the page it came from, with the passage highlighted.

The page is read again from the file on a background thread (the same loaders that indexed
it), so what the reader sees is the document, not the index; a PDF's lines are joined into
paragraphs again (rag/reflow.py). The part of the passage that answers is highlighted
(desktop/app/source_highlight.py), not the whole passage, which can be a page. "Open file" hands
the local file to the system viewer and says so, or says in plain words that it could not, with
the path to copy; only ``file:`` URLs are ever opened.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt, QTimer, QUrl
from PySide6.QtGui import (
    QColor,
    QDesktopServices,
    QGuiApplication,
    QTextBlockFormat,
    QTextCharFormat,
    QTextCursor,
)
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QLabel,
    QPushButton,
    QTextBrowser,
    QTextEdit,
    QVBoxLayout,
)
from shiboken6 import isValid

from desktop.app.export import citation_label
from desktop.app.page_viewers import open_at_page
from desktop.app.source_highlight import Focus, Span, focus_spans, locate_passage
from desktop.window.background import BackgroundTasks
from rag.reflow import reflow

# Opens a local file or folder in this computer's own program; False when it could not.
SystemOpener = Callable[[Path], bool]
# Opens a PDF at a page in this computer's own viewer; False when that viewer takes no page.
PageOpener = Callable[[Path, int | None], bool]

PARAGRAPH_SPACING = 6  # pixels after each paragraph of the page

NOTES = {
    "quote": "The words quoted in the answer are highlighted.",
    "backed": "The lines that back the answer are highlighted.",
    "question": "The sentence closest to your question is highlighted.",
    "passage": "The cited passage is highlighted.",
}


def open_with_system(path: Path) -> bool:
    return QDesktopServices.openUrl(QUrl.fromLocalFile(str(path.resolve())))


def open_at_page_on_screen(path: Path, page: int | None) -> bool:
    # Without a screen (the offscreen platform) no viewer could be seen: start none.
    if QGuiApplication.platformName() == "offscreen":
        return False
    return open_at_page(path, page)


def page_text(source: Path, page: int | None) -> str:
    """The text of the cited page (the whole text for formats without pages)."""
    from rag.loaders import load_document

    document = load_document(source)
    # A PDF's text breaks at its printed margin: joined again, it reads as paragraphs.
    tidy = reflow if source.suffix.lower() == ".pdf" else str
    if page is not None:
        for candidate in document.pages:
            if candidate.number == page:
                return tidy(candidate.text)
    return "\n\n".join(tidy(p.text) for p in document.pages)


def _utf16_offset(text: str, index: int) -> int:
    """Qt counts positions in UTF-16 code units; Python in code points."""
    return len(text[:index].encode("utf-16-le")) // 2


class SourceViewer(QDialog):
    def __init__(self, citation: dict[str, Any], tasks: BackgroundTasks, highlight: str,
                 parent: Any = None, opener: SystemOpener = open_with_system,
                 page_opener: PageOpener = open_at_page_on_screen) -> None:
        super().__init__(parent)
        self.citation = citation
        self.source = Path(str(citation.get("source", "")))
        self._highlight = highlight
        self._opener = opener
        self._page_opener = page_opener
        self.focus = Focus.from_json(citation.get("focus"))
        self.highlight_kind = ""  # which of NOTES applies once the page is shown
        self._first: Span = (0, 0)  # the first highlighted span, scrolled to
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
        self.copy_path_button = QPushButton("Copy path")
        self.copy_path_button.setToolTip("Copy where the file is, to paste it elsewhere")
        self.copy_path_button.clicked.connect(self.copy_path)
        buttons.addButton(self.copy_path_button, QDialogButtonBox.ButtonRole.ActionRole)
        self.folder_button = QPushButton("Show in folder")
        self.folder_button.setToolTip("Open the folder that holds the document")
        self.folder_button.clicked.connect(self.show_in_folder)
        self.folder_button.setEnabled(self.source.parent.is_dir())
        buttons.addButton(self.folder_button, QDialogButtonBox.ButtonRole.ActionRole)
        # What happened when the file was opened (or why it could not be): plain words, the path.
        self.open_note = QLabel()
        self.open_note.setWordWrap(True)
        self.open_note.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.open_note.setContentsMargins(10, 6, 10, 6)
        self.open_note.hide()
        for widget in (heading, where, self.note, self.text, self.open_note):
            layout.addWidget(widget)
        layout.addWidget(buttons)
        self.highlighted = False
        tasks.run(lambda: page_text(self.source, citation.get("page")), self._show_page,
                  self._page_unavailable)

    def _show_page(self, text: str) -> None:
        if not isValid(self.text):  # closed before its page was read: nothing to show it in
            return
        self.text.setPlainText(text)
        self._space_paragraphs()
        self.highlighted = self._highlight_passage(str(self.citation.get("text", "")))
        self.note.setText(NOTES[self.highlight_kind] if self.highlighted else
                          "The page has changed since it was indexed; the passage is shown "
                          "below as it was cited.")
        if not self.highlighted:
            self.text.setPlainText(str(self.citation.get("text", "")))

    def _space_paragraphs(self) -> None:
        """A little air after each paragraph and list item, so clauses read apart."""
        cursor = QTextCursor(self.text.document())
        cursor.select(QTextCursor.SelectionType.Document)
        spacing = QTextBlockFormat()
        spacing.setBottomMargin(PARAGRAPH_SPACING)
        cursor.mergeBlockFormat(spacing)

    def _page_unavailable(self, message: str) -> None:
        if not isValid(self.note):
            return
        self.note.setText(f"The file cannot be read now ({message}); this is the passage as "
                          "it was indexed.")

    def _highlight_passage(self, passage: str) -> bool:
        """Mark the part of the passage that answers, and scroll to it."""
        text = self.text.toPlainText()
        span = locate_passage(text, passage)
        if span is None:
            return False
        spans, self.highlight_kind = focus_spans(text, span, self.focus)
        fmt = QTextCharFormat()
        fmt.setBackground(QColor(self._highlight))
        selections = []
        for start, end in spans:
            selection = QTextEdit.ExtraSelection()
            selection.cursor = self._cursor(text, (start, end))
            selection.format = fmt
            selections.append(selection)
        self.text.setExtraSelections(selections)
        self._first = spans[0]
        self._scroll_to_highlight()
        QTimer.singleShot(0, self, self._scroll_to_highlight)  # again, once laid out
        return True

    def highlighted_text(self) -> list[str]:
        """The highlighted words, as the reader sees them."""
        return [" ".join(s.cursor.selectedText().split()) for s in self.text.extraSelections()]

    def _cursor(self, text: str, span: Span) -> QTextCursor:
        cursor = QTextCursor(self.text.document())
        cursor.setPosition(_utf16_offset(text, span[0]))
        cursor.setPosition(_utf16_offset(text, span[1]), QTextCursor.MoveMode.KeepAnchor)
        return cursor

    def _scroll_to_highlight(self) -> None:
        """The highlight's first line a quarter of the way down the view, where eyes land."""
        text = self.text.toPlainText()
        cursor = self._cursor(text, (self._first[0], self._first[0]))
        self.text.setTextCursor(cursor)
        self.text.ensureCursorVisible()
        bar = self.text.verticalScrollBar()
        top = self.text.cursorRect(cursor).top()
        bar.setValue(bar.value() + top - self.text.viewport().height() // 4)

    def open_file(self) -> bool:
        """Open the document in this computer's viewer, and say what happened."""
        if not self.source.is_file():
            self._say_problem(f"The file is no longer at {self.source}. It may have been "
                              "moved, renamed or deleted.")
            return False
        page = self.citation.get("page")
        if self._page_opener(self.source, page):
            self._say(f"Opened {self.source.name} at page {page} in this computer's own "
                      "viewer.")
            return True
        if not self._opener(self.source):
            self._say_problem(
                f"This computer could not open {self.source.name}: no program is set up to "
                f"open this kind of file, or it did not start. The file is at {self.source} "
                "— use Copy path to paste it where you need it, or Show in folder.")
            return False
        where = f" — the passage is on page {page}" if page else ""
        self._say(f"Opened {self.source.name} in this computer's own viewer{where}.")
        return True

    def show_in_folder(self) -> bool:
        folder = self.source.parent
        if folder.is_dir() and self._opener(folder):
            self._say(f"Opened the folder {folder}.")
            return True
        self._say_problem(f"This computer could not open the folder {folder}. Use Copy path "
                          "to paste where the file is into your file manager.")
        return False

    def copy_path(self) -> None:
        QGuiApplication.clipboard().setText(str(self.source))
        self._say(f"Copied: {self.source}")

    def _say(self, text: str) -> None:
        self._show_open_note(text, "infoNotice")

    def _say_problem(self, text: str) -> None:
        self._show_open_note(text, "errorNotice")

    def _show_open_note(self, text: str, style: str) -> None:
        self.open_note.setObjectName(style)
        self.open_note.style().unpolish(self.open_note)
        self.open_note.style().polish(self.open_note)
        self.open_note.setText(text)
        self.open_note.show()
