"""Where the question is typed: Ctrl+Enter sends, the button turns into Stop while answering."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QKeyEvent
from PySide6.QtWidgets import QHBoxLayout, QLabel, QPlainTextEdit, QPushButton, QVBoxLayout, QWidget


class QuestionEdit(QPlainTextEdit):
    send_requested = Signal()

    def keyPressEvent(self, event: QKeyEvent) -> None:
        enter = event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter)
        if enter and event.modifiers() & Qt.KeyboardModifier.ControlModifier:
            self.send_requested.emit()
            return
        super().keyPressEvent(event)


class Composer(QWidget):
    send = Signal(str)
    stop = Signal()

    def __init__(self) -> None:
        super().__init__()
        layout = QVBoxLayout(self)
        layout.setContentsMargins(28, 8, 28, 14)
        layout.setSpacing(6)
        row = QHBoxLayout()
        row.setSpacing(10)
        self.edit = QuestionEdit()
        self.edit.setObjectName("composer")
        self.edit.setPlaceholderText("Ask a question…   (Ctrl+Enter to send)")
        self.edit.setFixedHeight(84)
        self.edit.setTabChangesFocus(True)
        self.edit.send_requested.connect(self._send)
        self.button = QPushButton("Ask")
        self.button.setObjectName("primary")
        self.button.setMinimumWidth(96)
        self.button.setMinimumHeight(40)
        self.button.setToolTip("Send the question (Ctrl+Enter)")
        self.button.clicked.connect(self._clicked)
        row.addWidget(self.edit, 1)
        row.addWidget(self.button, 0, Qt.AlignmentFlag.AlignBottom)
        self.hint = QLabel("")
        self.hint.setObjectName("muted")
        self.hint.setWordWrap(True)  # a long hint (the model file being loaded) never widens it
        layout.addLayout(row)
        layout.addWidget(self.hint)
        self.answering = False

    def set_answering(self, answering: bool) -> None:
        self.answering = answering
        self.button.setText("Stop" if answering else "Ask")
        self.button.setObjectName("stop" if answering else "primary")
        self.button.setToolTip("Stop the answer (Esc)" if answering
                               else "Send the question (Ctrl+Enter)")
        self.button.style().unpolish(self.button)
        self.button.style().polish(self.button)

    def set_hint(self, text: str) -> None:
        self.hint.setText(text)

    def _clicked(self) -> None:
        if self.answering:
            self.stop.emit()
        else:
            self._send()

    def _send(self) -> None:
        text = self.edit.toPlainText().strip()
        if not text or self.answering:
            return
        self.edit.clear()
        self.send.emit(text)
