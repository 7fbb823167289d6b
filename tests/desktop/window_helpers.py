"""Building the real window for a test: the real default model, the test's own ENCLAVE_HOME."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from desktop import egress_guard
from desktop.settings import load_settings, save_settings
from desktop.window.main_window import MainWindow

LOAD_TIMEOUT_MS = 60_000
ANSWER_TIMEOUT_MS = 120_000


def open_window(qtbot: Any, max_tokens: int = 24, start: bool = True, **settings: Any
                ) -> MainWindow:
    """A shown MainWindow whose model has loaded (or failed to load) when ``start``."""
    current = load_settings()
    current = save_settings(current, max_tokens=max_tokens, **settings)
    window = MainWindow(current, guard=egress_guard.current())
    qtbot.addWidget(window, before_close_func=lambda w: w.shutdown())
    window.show()
    qtbot.waitExposed(window)
    if start:
        with qtbot.waitSignals([window.model.loaded, window.documents.documents_changed],
                               timeout=LOAD_TIMEOUT_MS):
            window.start_background()
    return window


def ask(qtbot: Any, window: MainWindow, question: str) -> None:
    """Type a question and send it with Ctrl+Enter, then wait until it is fully answered."""
    from PySide6.QtCore import Qt

    window.composer.edit.setPlainText(question)
    with qtbot.waitSignal(window.answer_done, timeout=ANSWER_TIMEOUT_MS):
        qtbot.keyClick(window.composer.edit, Qt.Key.Key_Return,
                       Qt.KeyboardModifier.ControlModifier)


def home(window: MainWindow) -> Path:
    return window.settings.home
