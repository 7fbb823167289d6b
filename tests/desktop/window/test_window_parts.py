"""Parts of the window that need no model: drag and drop, themes, settings dialog, collections."""

from __future__ import annotations

import pytest
from PySide6.QtCore import QMimeData, QPointF, Qt, QUrl
from PySide6.QtGui import QDropEvent, QPalette

from desktop.app.settings import load_settings
from desktop.window.documents_panel import MODEL_ONLY
from desktop.window.settings_dialog import SettingsDialog
from desktop.window.theme import DARK, LIGHT, apply_theme
from tests.desktop.window.window_helpers import open_window

pytestmark = pytest.mark.qt_log_ignore("does not support propagateSizeHints")


def _documents_ready(qtbot, window) -> None:
    with qtbot.waitSignal(window.documents.documents_changed, timeout=60_000):
        window.documents.refresh()
    assert window.documents.available


def test_files_dropped_on_the_window_are_ingested_and_web_links_ignored(qtbot, tmp_path) -> None:
    window = open_window(qtbot, start=False)
    _documents_ready(qtbot, window)
    program = tmp_path / "setup.exe"
    program.write_bytes(b"MZ\x90\x00")
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(program)), QUrl("https://example.com/leak.pdf")])
    drop = QDropEvent(QPointF(400, 300), Qt.DropAction.CopyAction, mime,
                      Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier)
    with qtbot.waitSignal(window.documents.ingest_finished, timeout=60_000):
        window.dropEvent(drop)
    qtbot.waitUntil(lambda: window.documents.ingest is None)
    [(kind, text)] = window.documents.activity_rows()
    assert kind == "skipped" and text.startswith("–  setup.exe\nskipped: ")
    assert "example.com" not in text


def test_the_theme_follows_the_requested_colour_scheme(qapp, monkeypatch) -> None:
    monkeypatch.setenv("ENCLAVE_THEME", "dark")
    try:
        assert apply_theme(qapp) is DARK
        assert qapp.palette().color(QPalette.ColorRole.Window).name() == DARK.window
        monkeypatch.setenv("ENCLAVE_THEME", "light")
        assert apply_theme(qapp) is LIGHT
        assert qapp.palette().color(QPalette.ColorRole.Window).name() == LIGHT.window
    finally:
        monkeypatch.setenv("ENCLAVE_THEME", "light")
        apply_theme(qapp)


def test_the_settings_dialog_reports_only_what_changed(qtbot, default_model_path) -> None:
    dialog = SettingsDialog(load_settings())
    qtbot.addWidget(dialog)
    assert dialog.changes() == {}
    dialog.temperature.setValue(0.55)
    dialog.grounded.setChecked(False)
    assert not dialog.threshold.isEnabled()
    dialog.choose_model(default_model_path)
    assert dialog.changes() == {"temperature": 0.55, "grounded": False,
                                "model_path": default_model_path}
    dialog.ocr_languages.setText("deu + ENG")
    assert dialog.changes()["ocr_languages"] == ("deu", "eng")


def test_the_collection_choice_belongs_to_the_conversation(qtbot) -> None:
    window = open_window(qtbot, start=False)
    _documents_ready(qtbot, window)
    window.set_system_prompt("Answer briefly.")
    conversation_id = window.current.id
    assert window.store.get(conversation_id).collection == "default"
    panel = window.documents
    with qtbot.waitSignal(panel.documents_changed, timeout=60_000):
        panel.collections.setCurrentIndex(panel.collections.findText(MODEL_ONLY))
    assert window.store.get(conversation_id).collection is None
    assert "Model only" in window.subtitle.text()
    assert not panel.add_files_button.isHidden()


def test_a_citation_whose_file_is_gone_still_shows_its_passage(qtbot, tmp_path) -> None:
    from desktop.window.background import BackgroundTasks
    from desktop.window.source_viewer import SourceViewer

    tasks = BackgroundTasks("enclave-test-tasks")
    try:
        citation = {"source": str(tmp_path / "moved-away.pdf"), "page": 3,
                    "text": "The dose is 5 mg daily.", "score": 0.9}
        viewer = SourceViewer(citation, tasks, "#fff1a8")
        qtbot.addWidget(viewer)
        qtbot.waitUntil(lambda: "cannot be read now" in viewer.note.text())
        assert viewer.text.toPlainText() == "The dose is 5 mg daily."
        assert not viewer.open_button.isEnabled()
        assert not viewer.open_file()
    finally:
        tasks.stop()


def test_a_long_title_or_instructions_never_widen_the_window(qtbot) -> None:
    window = open_window(qtbot, start=False)
    window.resize(1024, 700)
    long_title = ("What does the lease say about the tenant's obligations to repair the roof, "
                  "gutters and drains during the tenancy and after it ends, clause by clause")
    conversation = window.store.create(long_title, system_prompt="Answer as for a partner in a "
                                       "property litigation team, citing each clause, " * 3)
    window.refresh_sidebar()
    window.open_conversation(conversation.id)
    qtbot.wait(50)
    assert window.minimumSizeHint().width() <= 1024, "the layout asks for no more width"
    assert window.width() == 1024
    shown = window.title.shown_text()
    assert shown.endswith("…") and long_title.startswith(shown[:-1])
    assert window.title.toolTip() == long_title  # the whole title, on hover
    assert window.subtitle.shown_text().endswith("…")
    button = window.sidebar.new_button
    assert button.width() >= button.sizeHint().width(), "'+ New conversation' is not clipped"


def test_the_model_loading_hint_never_widens_the_window(qtbot) -> None:
    window = open_window(qtbot, start=False)
    window.resize(1024, 700)
    window._model_loading()  # the hint names the model file: "Loading the model (…)…"
    qtbot.wait(50)
    assert window.minimumSizeHint().width() <= 1024, "the layout asks for no more width"
    assert window.width() == 1024


def test_a_long_document_being_indexed_shows_how_far_it_has_got(qtbot, tmp_path) -> None:
    from rag.services import IngestEvent

    window = open_window(qtbot, start=False)
    panel = window.documents
    panel._on_event(IngestEvent("indexing", 2, 3, tmp_path / "bundle.txt",  # the thread's slot
                                "indexing: 2,560 of 10,240 pieces of text", texts=10_240,
                                texts_done=2_560))
    assert panel.progress_label.text() == "bundle.txt: indexing, 25% (file 3 of 3)…"
    assert (panel.progress.value(), panel.progress.maximum()) == (2_560, 10_240)
    # Several short files embedded together, then a file being read: never 'Indexing 1 of 7'.
    panel._on_event(IngestEvent("indexing", 1, 7, None, "indexing 4 files: 64 of 256 pieces "
                                "of text", texts=256, texts_done=64, files=4))
    assert panel.progress_label.text() == "Indexing 4 files, 25% (files 2–5 of 7)…"
    assert (panel.progress.value(), panel.progress.maximum()) == (64, 256)
    panel._on_event(IngestEvent("opening", 5, 7, tmp_path / "lease.pdf", "reading"))
    assert panel.progress_label.text() == "Reading lease.pdf (file 6 of 7)…"
    assert (panel.progress.value(), panel.progress.maximum()) == (5, 7)


def test_a_failure_reason_taller_than_its_short_list_can_be_scrolled_to_its_end(qtbot) -> None:
    """At 1024x700 the run's list is a few lines high and a failed PDF's reason wraps over more:
    scrolled by item, its end could never be brought into view."""
    from desktop.window.documents_panel import wrapping_list

    rows = wrapping_list(max_height=60)
    qtbot.addWidget(rows)
    rows.addItem("⚠ lease (truncated).pdf could not be read: damaged or incomplete PDF (its "
                 "structure could not be read). Try saving it again from the program that made "
                 "it, or scan the paper copy.")
    rows.resize(220, 60)
    rows.show()
    qtbot.waitExposed(rows)
    bar = rows.verticalScrollBar()
    assert bar.maximum() > 0  # there is more of the row to scroll to
    bar.setValue(bar.maximum())
    assert rows.visualItemRect(rows.item(0)).bottom() <= rows.viewport().height()
