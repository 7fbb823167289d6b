"""Building the real window for a test: the real default model, the test's own ENCLAVE_HOME."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from desktop.app.application import Application
from desktop.app.settings import Settings, load_settings, save_settings
from desktop.app.wiring import build_application
from desktop.egress import guard as egress_guard
from desktop.window.main_window import MainWindow

LOAD_TIMEOUT_MS = 60_000
ANSWER_TIMEOUT_MS = 120_000


def open_window(qtbot: Any, max_tokens: int = 24, start: bool = True, model_only: bool = False,
                build: Callable[[Settings], Application] = build_application,
                **settings: Any) -> MainWindow:
    """A shown MainWindow whose model has loaded (or failed to load) when ``start``; with
    ``model_only``, "No documents (model only)" is chosen, as a person would pick it.
    ``build`` makes the application (the real parts by default)."""
    current = load_settings()
    current = save_settings(current, max_tokens=max_tokens, **settings)
    window = MainWindow(build(current), guard=egress_guard.current())
    qtbot.addWidget(window, before_close_func=lambda w: w.shutdown())
    window.show()
    qtbot.waitExposed(window)
    if start:
        with qtbot.waitSignals([window.model.loaded, window.documents.documents_changed],
                               timeout=LOAD_TIMEOUT_MS):
            window.start_background()
        if model_only:
            choose_model_only(window)
    return window


def choose_model_only(window: MainWindow) -> None:
    from desktop.window.documents_panel import MODEL_ONLY

    combo = window.documents.collections
    combo.setCurrentIndex(combo.findText(MODEL_ONLY))
    assert window.documents.collection is None


def ask(qtbot: Any, window: MainWindow, question: str) -> None:
    """Type a question and send it with Ctrl+Enter, then wait until it is fully answered."""
    from PySide6.QtCore import Qt

    window.composer.edit.setPlainText(question)
    with qtbot.waitSignal(window.answer_done, timeout=ANSWER_TIMEOUT_MS):
        qtbot.keyClick(window.composer.edit, Qt.Key.Key_Return,
                       Qt.KeyboardModifier.ControlModifier)


def home(window: MainWindow) -> Path:
    return window.settings.home
