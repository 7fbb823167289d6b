"""A banner across the top of the chat for something the person must fix (e.g. no model)."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QPushButton, QVBoxLayout


class Banner(QFrame):
    def __init__(self) -> None:
        super().__init__()
        self.setObjectName("banner")
        layout = QHBoxLayout(self)
        layout.setContentsMargins(14, 10, 14, 10)
        text = QVBoxLayout()
        self.title = QLabel()
        self.title.setStyleSheet("font-weight: 600;")
        self.body = QLabel()
        self.body.setWordWrap(True)
        text.addWidget(self.title)
        text.addWidget(self.body)
        layout.addLayout(text, 1)
        self._buttons = QHBoxLayout()
        layout.addLayout(self._buttons)
        self.hide()

    def show_problem(self, title: str, body: str,
                     actions: Sequence[tuple[str, Callable[[], None]]] = ()) -> None:
        self.title.setText(title)
        self.body.setText(body)
        while self._buttons.count():
            item = self._buttons.takeAt(0)
            widget = item.widget() if item is not None else None
            if widget is not None:
                widget.deleteLater()
        for label, action in actions:
            button = QPushButton(label)
            button.clicked.connect(action)
            self._buttons.addWidget(button)
        self.show()
