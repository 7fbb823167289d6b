"""Removing documents from a collection: the question asked first, and the Undo offered after.

The removal itself happens at once (DocumentsPanel.remove): answers stop using the document
the moment the person confirms, and the audit log records the forget when it happened. The file
is never touched, so Undo adds it again from where it is, through the ordinary ingest (audited as
an ingest). Deferring the forget until the Undo period ends was the other way; it would let
answers keep quoting a document the person had removed, and a crash in that period would
silently bring it back.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QTimer, Signal
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QPushButton, QToolButton, QWidget

from rag.documents import display_path

UNDO_SECONDS = 12  # how long "Removed … — Undo" stays


def listed_names(paths: list[Path], most: int = 3) -> str:
    """“lease.pdf”; “a.pdf” and “b.pdf”; “a.pdf”, “b.pdf”, “c.pdf” and 2 more."""
    names = [f"“{display_path(p.name)}”" for p in paths]
    if len(names) > most:
        shown, rest = names[:most], len(names) - most
        return ", ".join(shown) + f" and {rest} more"
    if len(names) == 1:
        return names[0]
    return ", ".join(names[:-1]) + " and " + names[-1]


def removal_question(paths: list[Path], collection: str) -> str:
    it = "it" if len(paths) == 1 else "them"
    return (f"Remove {listed_names(paths)} from “{collection}”? Answers will no longer use "
            f"{it}.\n\nYour file{'' if len(paths) == 1 else 's'} on disk "
            f"{'is' if len(paths) == 1 else 'are'} not touched.")


class UndoBar(QFrame):
    """“Removed lease.pdf — Undo”, for UNDO_SECONDS after a removal."""

    undo_requested = Signal(object, str)  # the removed paths (list[Path]), their collection

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("infoNotice")
        self.paths: list[Path] = []
        self.collection = ""
        layout = QHBoxLayout(self)
        layout.setContentsMargins(10, 6, 6, 6)
        self.label = QLabel("")
        self.label.setWordWrap(True)
        self.undo_button = QPushButton("Undo")
        self.undo_button.setToolTip("Add the removed document back from its file")
        self.undo_button.clicked.connect(self._undo)
        close = QToolButton()
        close.setText("✕")
        close.setToolTip("Dismiss")
        close.setAccessibleName("Dismiss")
        close.clicked.connect(self.hide)
        layout.addWidget(self.label, 1)
        layout.addWidget(self.undo_button)
        layout.addWidget(close)
        self.timer = QTimer(self)
        self.timer.setSingleShot(True)
        self.timer.setInterval(UNDO_SECONDS * 1000)
        self.timer.timeout.connect(self.hide)
        self.hide()

    def offer(self, paths: list[Path], collection: str) -> None:
        self.paths, self.collection = list(paths), collection
        self.label.setText(f"Removed {listed_names(self.paths)}.")
        self.show()
        self.timer.start()

    def _undo(self) -> None:
        self.timer.stop()
        self.hide()
        if self.paths:
            paths, self.paths = self.paths, []
            self.undo_requested.emit(paths, self.collection)
