"""The list of conversations on the left, newest first, with New, Rename, Delete and Export."""

from __future__ import annotations

from PySide6.QtCore import QPoint, Qt, Signal
from PySide6.QtWidgets import (
    QLabel,
    QListView,
    QListWidget,
    QListWidgetItem,
    QMenu,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from desktop.app.conversations import Conversation


class ConversationSidebar(QWidget):
    selected = Signal(int)
    new_requested = Signal()
    rename_requested = Signal(int)
    delete_requested = Signal(int)
    export_requested = Signal(int, str)  # id, "md" | "pdf"

    def __init__(self) -> None:
        super().__init__()
        self.setObjectName("sidebar")
        layout = QVBoxLayout(self)
        layout.setContentsMargins(12, 14, 12, 12)
        layout.setSpacing(10)
        self.new_button = QPushButton("+  New conversation")
        self.new_button.setObjectName("primary")
        self.new_button.setToolTip("Start a clean conversation (Ctrl+N)")
        self.new_button.clicked.connect(self.new_requested)
        title = QLabel("CONVERSATIONS")
        title.setObjectName("sectionTitle")
        self.list = QListWidget()
        self.list.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        self.list.customContextMenuRequested.connect(self._menu)
        self.list.currentItemChanged.connect(self._current_changed)
        self.list.setWordWrap(True)
        self.list.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.list.setResizeMode(QListView.ResizeMode.Adjust)
        self.list.setTextElideMode(Qt.TextElideMode.ElideNone)
        layout.addWidget(self.new_button)
        layout.addWidget(title)
        layout.addWidget(self.list, 1)
        self._updating = False

    def show_conversations(self, conversations: list[Conversation], current: int | None) -> None:
        self._updating = True
        try:
            self.list.clear()
            for conversation in conversations:
                item = QListWidgetItem(conversation.title)
                item.setData(Qt.ItemDataRole.UserRole, conversation.id)
                tip = conversation.title
                if conversation.collection:
                    tip += f"\nDocuments: {conversation.collection}"
                item.setToolTip(tip + "\nRight-click to rename, export or delete.")
                self.list.addItem(item)
                if conversation.id == current:
                    self.list.setCurrentItem(item)
        finally:
            self._updating = False

    def titles(self) -> list[str]:
        return [self.list.item(i).text() for i in range(self.list.count())]

    def _current_changed(self, item: QListWidgetItem | None, _old: object) -> None:
        if item is not None and not self._updating:
            self.selected.emit(int(item.data(Qt.ItemDataRole.UserRole)))

    def _menu(self, pos: QPoint) -> None:
        item = self.list.itemAt(pos)
        if item is None:
            return
        conversation_id = int(item.data(Qt.ItemDataRole.UserRole))
        menu = QMenu(self)
        menu.addAction("Rename…", lambda: self.rename_requested.emit(conversation_id))
        menu.addAction("Export as Markdown…",
                       lambda: self.export_requested.emit(conversation_id, "md"))
        menu.addAction("Export as PDF…", lambda: self.export_requested.emit(conversation_id, "pdf"))
        menu.addSeparator()
        menu.addAction("Delete…", lambda: self.delete_requested.emit(conversation_id))
        menu.exec(self.list.viewport().mapToGlobal(pos))
