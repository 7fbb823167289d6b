"""The files of a collection that could not be indexed, kept across restarts, with Retry and
Dismiss (the record lives in the catalogue: rag/catalog.py, ``failed_files``)."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from PySide6.QtCore import QEvent, QObject, Qt, Signal
from PySide6.QtGui import QColor
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QListView,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from rag.documents import display_path
from rag.services import FailedFile

MAX_LIST_HEIGHT = 150  # pixels: three or four failed files, then the list scrolls


def when(iso: str) -> str:
    """'2 Dec, 10:20' in local time; the text itself if it is not a time."""
    try:
        moment = datetime.fromisoformat(iso).astimezone()
    except ValueError:
        return iso
    return f"{moment.day} {moment:%b}, {moment:%H:%M}"


class FailedFilesView(QWidget):
    retry_requested = Signal(object)  # list[Path]
    dismiss_requested = Signal(object)  # list[Path]

    def __init__(self, failed_color: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._failed_color = failed_color
        self.files: list[FailedFile] = []
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(6)
        self.title = QLabel("")
        self.title.setObjectName("sectionTitle")
        layout.addWidget(self.title)
        self.list = QListWidget()
        self.list.setObjectName("failedList")
        self.list.setWordWrap(True)
        self.list.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.list.setResizeMode(QListView.ResizeMode.Adjust)
        self.list.setSelectionMode(QListWidget.SelectionMode.ExtendedSelection)
        self.list.installEventFilter(self)  # its height follows its rows (see _fit)
        self.list.setToolTip("Files that could not be indexed: answers do not use them")
        self.list.itemSelectionChanged.connect(self._selection_changed)
        layout.addWidget(self.list)
        buttons = QHBoxLayout()
        self.retry_button = QPushButton("Retry all")
        self.retry_button.setToolTip("Read the files again (after fixing them, for example)")
        self.retry_button.clicked.connect(self._retry)
        self.dismiss_button = QPushButton("Dismiss")
        self.dismiss_button.setToolTip("Stop listing the selected files here; the files "
                                       "themselves are not touched")
        self.dismiss_button.setEnabled(False)
        self.dismiss_button.clicked.connect(self._dismiss)
        buttons.addWidget(self.retry_button)
        buttons.addWidget(self.dismiss_button)
        buttons.addStretch(1)
        layout.addLayout(buttons)
        self.hide()

    def show_files(self, files: list[FailedFile]) -> None:
        self.files = list(files)
        self.list.clear()
        for failed in self.files:
            item = QListWidgetItem(f"⚠  {display_path(failed.path.name)}\n{failed.reason}"
                                   f" · {when(failed.failed_at)}")
            item.setToolTip(display_path(failed.path))
            item.setData(Qt.ItemDataRole.UserRole, str(failed.path))
            item.setForeground(QColor(self._failed_color))
            self.list.addItem(item)
        self.title.setText(f"COULD NOT BE INDEXED ({len(self.files)})")
        self.setVisible(bool(self.files))
        self._fit()
        self._selection_changed()

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # Qt's name
        if watched is self.list and event.type() in (QEvent.Type.Resize,
                                                     QEvent.Type.Show):
            self._fit()
        return super().eventFilter(watched, event)

    def _fit(self) -> None:
        """As high as its rows, wrapped to its width, up to MAX_LIST_HEIGHT (then it scrolls):
        a fixed height left a blank band under one failed file at 1024x700."""
        self.list.doItemsLayout()
        rows = sum(self.list.visualItemRect(self.list.item(i)).height()
                   for i in range(self.list.count()))
        height = min(MAX_LIST_HEIGHT, rows + 2 * self.list.frameWidth() + 4)
        if height != self.list.height():
            self.list.setFixedHeight(height)

    def selected(self) -> list[Path]:
        return [Path(item.data(Qt.ItemDataRole.UserRole)) for item in self.list.selectedItems()]

    def _selection_changed(self) -> None:
        chosen = bool(self.list.selectedItems())
        self.retry_button.setText("Retry" if chosen else "Retry all")
        self.dismiss_button.setEnabled(chosen)

    def _retry(self) -> None:
        paths = self.selected() or [f.path for f in self.files]
        if paths:
            self.retry_requested.emit(paths)

    def _dismiss(self) -> None:
        paths = self.selected()
        if paths:
            self.dismiss_requested.emit(paths)
