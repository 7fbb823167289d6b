"""The Help menu's two windows: the keyboard shortcuts, and About Enclave (the version, the
model in use, that nothing leaves this computer, and where the data is kept)."""

from __future__ import annotations

import html
import importlib.metadata

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QGridLayout,
    QLabel,
    QVBoxLayout,
    QWidget,
)

from desktop.app.settings import Settings
from desktop.egress.arming import allowed_endpoints

# Keys as the menus show them, and what each does, in plain words.
SHORTCUTS: tuple[tuple[str, str], ...] = (
    ("Ctrl+L", "Go to the question box"),
    ("Ctrl+Enter", "Send the question"),
    ("Esc", "Stop the answer; close the source you are reading"),
    ("Ctrl+N", "Start a new conversation"),
    ("Ctrl+F", "Search the conversations"),
    ("Tab, Shift+Tab", "Move to the next or previous button, list or box"),
    ("Enter or Space", "Open the source that has the focus"),
    ("Up, Down", "Choose a conversation in the list"),
    ("Ctrl+,", "Settings"),
    ("F1", "This list"),
    ("Ctrl+Q", "Quit Enclave"),
)


def enclave_version() -> str:
    try:
        return importlib.metadata.version("enclave")
    except importlib.metadata.PackageNotFoundError:
        return "development copy"


def _close_button(dialog: QDialog, layout: QVBoxLayout) -> None:
    buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
    buttons.rejected.connect(dialog.reject)
    layout.addWidget(buttons)


class ShortcutsDialog(QDialog):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Keyboard shortcuts")
        layout = QVBoxLayout(self)
        layout.setContentsMargins(22, 18, 22, 14)
        layout.setSpacing(12)
        heading = QLabel("Keyboard shortcuts")
        heading.setObjectName("conversationTitle")
        layout.addWidget(heading)
        grid = QGridLayout()
        grid.setHorizontalSpacing(24)
        grid.setVerticalSpacing(6)
        for row, (keys, what) in enumerate(SHORTCUTS):
            key_label = QLabel(f"<b>{html.escape(keys)}</b>")
            grid.addWidget(key_label, row, 0, Qt.AlignmentFlag.AlignTop)
            grid.addWidget(QLabel(what), row, 1, Qt.AlignmentFlag.AlignTop)
        layout.addLayout(grid)
        _close_button(self, layout)

    def rows(self) -> list[tuple[str, str]]:
        return list(SHORTCUTS)


class AboutDialog(QDialog):
    def __init__(self, settings: Settings, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("About Enclave")
        self.setMinimumWidth(460)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(22, 18, 22, 14)
        layout.setSpacing(10)
        heading = QLabel(f"Enclave {enclave_version()}")
        heading.setObjectName("conversationTitle")
        layout.addWidget(heading)
        offline = ("Nothing you type, ask or add leaves this computer: Enclave answers from "
                   "the model and the documents kept here, without the internet.")
        if allowed := allowed_endpoints(settings):
            offline += (" The only other computers it may reach are those your IT "
                        f"department allowed: {', '.join(allowed)}.")
        model = (f"{settings.chat_server_model or 'the model'} on the practice's server "
                 f"{settings.chat_server_url}" if settings.chat_backend == "server"
                 else settings.model_path.name)
        self.lines = [
            ("Model", model),
            ("Privacy", offline),
            ("Your data", f"Conversations, the document index, settings and the audit log "
                          f"are kept in {settings.home}"),
        ]
        for name, text in self.lines:
            label = QLabel(f"<b>{html.escape(name)}</b><br>{html.escape(text)}")
            label.setWordWrap(True)
            label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
            layout.addWidget(label)
        _close_button(self, layout)

    def text(self) -> str:
        """Everything the dialog says, as plain text."""
        return "\n".join([self.windowTitle(), f"Enclave {enclave_version()}",
                          *(f"{name}: {text}" for name, text in self.lines)])
