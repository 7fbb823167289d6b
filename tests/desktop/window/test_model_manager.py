"""The "Models" dialog, as a person uses it: real widgets, real GGUF files, real copies.

The operating system's file picker and the "Are you sure?" box are the only seams."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QMessageBox, QPushButton

from desktop.app.model_catalog import DEMO_LABEL, GB
from desktop.app.settings import load_settings, save_settings
from desktop.window import model_manager
from desktop.window.model_manager import ModelManagerDialog
from desktop.window.transcript import AnswerCard
from models.provisioning import DEFAULT_MODEL_FILE
from tests.desktop.window.window_helpers import (
    LOAD_TIMEOUT_MS,
    ask,
    choose_model_only,
    open_window,
)
from tests.gguf_files import make_gguf

COPY_TIMEOUT_MS = 60_000
pytestmark = pytest.mark.qt_log_ignore("does not support propagateSizeHints")


def _dialog(qtbot: Any, free: int = 16 * GB) -> ModelManagerDialog:
    dialog = ModelManagerDialog(load_settings, available=lambda: free)
    qtbot.addWidget(dialog)
    dialog.show()
    qtbot.waitExposed(dialog)
    return dialog


def _pick(monkeypatch: pytest.MonkeyPatch, path: Path) -> None:
    """The person chooses ``path`` in the file picker."""
    monkeypatch.setattr(model_manager.QFileDialog, "getOpenFileName",
                        lambda *_a, **_k: (str(path), "GGUF model files (*.gguf)"))


def _import(qtbot: Any, dialog: ModelManagerDialog) -> None:
    with qtbot.waitSignal(dialog.copy_finished, timeout=COPY_TIMEOUT_MS):
        qtbot.mouseClick(dialog.import_button, Qt.MouseButton.LeftButton)


def test_with_no_model_the_banner_opens_the_manager_which_installs_the_included_model(
        qtbot: Any, default_model_path: Path, enclave_home: Path) -> None:
    window = open_window(qtbot, start=False)
    with qtbot.waitSignal(window.model.load_failed, timeout=LOAD_TIMEOUT_MS):
        window.start_background()
    assert window.banner.isVisible()
    assert "make setup" not in window.banner.body.text()
    assert "Click “Models…” to install the small model" in window.banner.body.text()
    [open_models] = [b for b in window.banner.findChildren(QPushButton) if b.text() == "Models…"]
    qtbot.mouseClick(open_models, Qt.MouseButton.LeftButton)
    dialog = window.findChild(ModelManagerDialog)
    assert dialog is not None and dialog.isVisible()
    assert dialog.cards == [] and dialog.empty.isVisible()
    assert dialog.install_button.isVisible()

    with qtbot.waitSignals([dialog.copy_finished, window.model.loaded],
                           timeout=LOAD_TIMEOUT_MS):
        qtbot.mouseClick(dialog.install_button, Qt.MouseButton.LeftButton)
    installed = enclave_home / "models" / DEFAULT_MODEL_FILE
    assert installed.read_bytes() == default_model_path.read_bytes()
    assert "Its SHA-256 matches" in dialog.message.text()
    assert not dialog.install_button.isVisible()  # installed: nothing more to install
    [card] = dialog.cards
    assert card.title.text() == DEMO_LABEL
    assert "answers are often wrong" in card.title.text()
    assert card.in_use.isVisible() and card.licence.text() == "Licence: Apache-2.0"
    assert "Q4_1" in card.details.text() and "MB" in card.details.text()
    assert not window.banner.isVisible() and window.model_ready
    assert "small demonstration model" in window.status.model_button.text()

    choose_model_only(window)
    ask(qtbot, window, "Say hello.")
    [_question, answer] = window.transcript.cards()
    assert isinstance(answer, AnswerCard) and answer.text.strip()  # the installed model wrote it


def test_a_wrong_expected_sha256_is_refused_and_nothing_is_added(
        qtbot: Any, tmp_path: Path, enclave_home: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    usb = make_gguf(tmp_path / "Mistral-7B-Instruct.Q4_K_M.gguf", name="Mistral 7B Instruct")
    dialog = _dialog(qtbot)
    _pick(monkeypatch, usb)
    dialog.expected.setText("0" * 64)
    _import(qtbot, dialog)
    text = dialog.message.text()
    assert "is not the published file" in text and "Nothing was added" in text
    assert hashlib.sha256(usb.read_bytes()).hexdigest() in text
    assert list((enclave_home / "models").iterdir()) == []
    assert dialog.cards == []

    dialog.expected.setText(hashlib.sha256(usb.read_bytes()).hexdigest().upper())
    with qtbot.waitSignal(dialog.model_chosen) as chosen:  # nothing was in use: it is now
        _import(qtbot, dialog)
    copied = enclave_home / "models" / usb.name
    assert chosen.args == [copied.resolve()]
    assert copied.read_bytes() == usb.read_bytes()
    assert "Its SHA-256 matches" in dialog.message.text()
    [card] = dialog.cards
    assert card.title.text() == "Mistral 7B Instruct"
    assert card.licence.text() == "Licence: MIT"
    assert "Q4_K_M" in card.details.text() and "8,192 tokens" in card.details.text()


def test_without_an_expected_sha256_the_digest_is_shown_to_compare(
        qtbot: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    usb = make_gguf(tmp_path / "model.gguf")
    dialog = _dialog(qtbot)
    _pick(monkeypatch, usb)
    _import(qtbot, dialog)
    digest = hashlib.sha256(usb.read_bytes()).hexdigest()
    assert f"Its SHA-256 is {digest}. Compare it with the one published" in dialog.message.text()


def test_a_file_that_is_not_a_model_is_refused_in_plain_words(
        qtbot: Any, tmp_path: Path, enclave_home: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    contract = tmp_path / "lease.gguf"  # named like a model, but it is a PDF
    contract.write_bytes(b"%PDF-1.7\n1 0 obj << >> endobj\n")
    dialog = _dialog(qtbot)
    _pick(monkeypatch, contract)
    _import(qtbot, dialog)
    assert dialog.message.isVisible()
    assert dialog.message.text().startswith("“lease.gguf” is not a model file Enclave can use. "
                                            "Enclave uses GGUF model files")
    assert not any((enclave_home / "models").glob("*"))


def test_each_model_says_whether_it_fits_this_computers_memory(
        qtbot: Any, enclave_home: Path) -> None:
    models = enclave_home / "models"
    models.mkdir()
    make_gguf(models / "small.gguf", name="Small")
    make_gguf(models / "llama-70b.gguf", name="Llama 70B", sparse_size=40 * GB)
    dialog = _dialog(qtbot, free=16 * GB)
    small = dialog.card_for(models / "small.gguf")
    big = dialog.card_for(models / "llama-70b.gguf")
    assert small is not None and big is not None
    assert small.memory.text().startswith("Fits this computer's memory")
    assert big.memory.text().startswith("Needs about 42.0 GB, this computer has 16.0 GB free")


def test_use_this_model_switches_and_remove_asks_first(
        qtbot: Any, enclave_home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    models = enclave_home / "models"
    models.mkdir()
    used = make_gguf(models / "used.gguf", name="Used")
    other = make_gguf(models / "other.gguf", name="Other")
    save_settings(load_settings(), model_path=used)
    dialog = _dialog(qtbot)
    in_use = dialog.card_for(used)
    assert in_use is not None and in_use.in_use.isVisible()
    card = dialog.card_for(other)
    assert card is not None and not card.in_use.isVisible()
    qtbot.mouseClick(card, Qt.MouseButton.LeftButton)
    assert dialog.use_button.isEnabled() and dialog.remove_button.isEnabled()
    with qtbot.waitSignal(dialog.model_chosen) as chosen:
        qtbot.mouseClick(dialog.use_button, Qt.MouseButton.LeftButton)
    assert chosen.args == [other.resolve()]

    answers = iter([QMessageBox.StandardButton.No, QMessageBox.StandardButton.Yes])
    monkeypatch.setattr(model_manager.QMessageBox, "question", lambda *_a: next(answers))
    card = dialog.card_for(other)
    assert card is not None
    qtbot.mouseClick(card, Qt.MouseButton.LeftButton)
    qtbot.mouseClick(dialog.remove_button, Qt.MouseButton.LeftButton)
    assert other.exists()  # "No": kept
    qtbot.mouseClick(dialog.remove_button, Qt.MouseButton.LeftButton)
    assert not other.exists() and dialog.card_for(other) is None
    assert "Removed other.gguf" in dialog.message.text()
    card = dialog.card_for(used)
    assert card is not None
    qtbot.mouseClick(card, Qt.MouseButton.LeftButton)
    assert not dialog.remove_button.isEnabled()  # the model in use cannot be removed
    assert not dialog.remove_button.isVisible()  # and it is the only one: nothing to remove


def test_the_included_model_in_use_is_not_offered_for_install_or_removal(
        qtbot: Any, default_model_path: Path) -> None:
    """The included model in use from where it came (not the models folder): the dialog
    offered to install it again, and a Remove button for it that could do nothing."""
    assert default_model_path.name == DEFAULT_MODEL_FILE
    save_settings(load_settings(), model_path=default_model_path)
    dialog = _dialog(qtbot)
    card = dialog.card_for(default_model_path)
    assert card is not None and card.in_use.isVisible()
    assert not dialog.install_button.isVisible()
    assert not dialog.remove_button.isVisible()
    assert dialog.import_button.isVisible()  # a larger model can still be added


def test_the_file_menu_and_the_status_bars_model_menu_open_the_models_dialog(
        qtbot: Any) -> None:
    window = open_window(qtbot, start=False)
    [file_menu] = [a.menu() for a in window.menuBar().actions() if a.text() == "&File"]
    [models] = [a for a in file_menu.actions() if a.text() == "&Models…"]
    models.trigger()
    dialog = window.findChild(ModelManagerDialog)
    assert dialog is not None and dialog.isVisible()
    dialog.close()
    window.status.model_menu.aboutToShow.emit()  # as when the person opens the menu
    [entry] = [a for a in window.status.model_menu.actions() if a.text().startswith("Models…")]
    entry.trigger()
    assert window.findChild(ModelManagerDialog) is dialog and dialog.isVisible()


def test_closing_the_window_during_an_import_leaves_no_half_copy(
        qtbot: Any, tmp_path: Path, enclave_home: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    usb = make_gguf(tmp_path / "big.gguf", filler=48 << 20)
    window = open_window(qtbot, start=False)
    window.open_models()
    dialog = window.findChild(ModelManagerDialog)
    assert dialog is not None
    _pick(monkeypatch, usb)
    qtbot.mouseClick(dialog.import_button, Qt.MouseButton.LeftButton)
    assert dialog.copying
    window.close()  # cancels the copy and waits for it
    left = list((enclave_home / "models").iterdir())
    assert not any(p.name.endswith(".partial") for p in left)
    assert left == [] or [p.read_bytes() == usb.read_bytes() for p in left] == [True]
