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


@pytest.mark.parametrize("theme", ["light", "dark"])
def test_a_long_model_name_in_settings_is_cut_with_an_ellipsis_keeping_its_quantisation(
        qtbot, qapp, tmp_path, monkeypatch, theme) -> None:
    """At 560 pixels the model's name was cut mid-letter, and its size with it; once the
    shared index's rows widened the labels, the middle cut lost the "Q" of "Q4_K_M" as well.
    The theme is the window's own (its font and style sheet set the room there is)."""
    monkeypatch.setenv("ENCLAVE_THEME", theme)
    apply_theme(qapp)
    long_name = tmp_path / "Meta-Llama-3.1-8B-Instruct-abliterated-imatrix.Q4_K_M.gguf"
    long_name.write_bytes(b"GGUF" + b"\0" * 64)
    dialog = SettingsDialog(load_settings())
    qtbot.addWidget(dialog)
    dialog.choose_model(long_name)
    dialog.show()
    qtbot.waitExposed(dialog)
    shown = dialog.model.shown_text()
    assert "…" in shown and shown.endswith("Q4_K_M.gguf"), shown
    assert shown.startswith("Meta-Llama-3"), shown  # which model it is, too
    assert dialog.model.toolTip() == dialog.model.currentText()  # the whole name, on hover
    assert dialog.width() <= 640


@pytest.mark.parametrize(("label", "end"), [
    ("Meta-Llama-3.1-8B-Instruct-abliterated-imatrix.Q4_K_M · 4.1 GB", "Q4_K_M · 4.1 GB"),
    ("mistral-7b-instruct-v0.2 · Q4_K_M · 4.1 GB", "Q4_K_M · 4.1 GB"),
    ("Qwen2.5-7B-Instruct-Q4_K_M-00001-of-00002 · 4.1 GB", "Q4_K_M-00001-of-00002 · 4.1 GB"),
    ("MODEL-NAME.Q4_K_M.GGUF  (file not found)", "Q4_K_M.GGUF  (file not found)"),
    ("plain", ""),
])
def test_the_end_a_cut_model_label_keeps_is_its_quantisation(label: str, end: str) -> None:
    from desktop.window.elided_combo_box import tail_start

    assert label[tail_start(label):] == end


def test_a_cut_model_label_keeps_its_quantisation_and_size_whole(qapp) -> None:
    from PySide6.QtGui import QFontMetrics

    from desktop.window.elided_combo_box import elide_keeping_end

    metrics = QFontMetrics(qapp.font())
    label = "Meta-Llama-3.1-8B-Instruct-abliterated-imatrix.Q4_K_M · 4.1 GB"
    for width in (220, 300, 400):
        shown = elide_keeping_end(label, metrics, width)
        assert shown.endswith("Q4_K_M · 4.1 GB") and "…" in shown, shown
        assert metrics.horizontalAdvance(shown) <= width
    assert elide_keeping_end(label, metrics, 2000) == label
    # Too narrow for the end itself: cut in the middle, still within the width.
    for width in (90, 160):
        assert metrics.horizontalAdvance(elide_keeping_end(label, metrics, width)) <= width


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
    # The title has the column's width, not what the Instructions and Export buttons leave.
    assert window.title.width() >= window.transcript.width() - 80, window.title.width()
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


def test_after_a_batch_with_a_failed_file_the_collection_keeps_room_and_lists_it_once(
        qtbot, tmp_path, monkeypatch) -> None:
    """At 1024x700 the batch's rows, the failed file and the collection's documents had to
    share the panel: the collection showed a row and a half, and the failed file twice."""
    from rag.services import DocumentInfo, FailedFile, IngestEvent

    window = open_window(qtbot, start=False)
    window.resize(1024, 700)
    panel = window.documents
    monkeypatch.setattr(panel, "refresh", lambda: None)  # the rows below stand for the reload
    names = ["lease.pdf", "gpl-2.0.txt", "gpl-3.0.txt", "apache-2.0.txt", "manual.html",
             "notes.md"]
    broken = tmp_path / "lease (truncated).pdf"
    panel._start_next = lambda: None  # type: ignore[method-assign]
    panel.activity.show()
    for done, name in enumerate(names, start=1):
        panel._on_event(IngestEvent("indexed", done, 7, tmp_path / name, passages=12))
    panel._on_event(IngestEvent("failed", 7, 7, broken, "damaged or incomplete PDF (its "
                                "structure could not be read)"))
    panel._on_finished()
    panel._loaded(([], [DocumentInfo(tmp_path / n, "", "0" * 64, 3, 12, "2026-12-03T06:00:00")
                        for n in names],
                   [FailedFile(broken, "damaged or incomplete PDF", "2026-12-03T06:00:00")]))
    qtbot.wait(50)

    listed = [panel.failed_view.list.item(i).text()
              for i in range(panel.failed_view.list.count())]
    assert len(listed) == 1 and listed[0].startswith("⚠  lease (truncated).pdf")
    assert not panel.activity.isVisible(), "the failed file is not listed a second time"
    failed_list = panel.failed_view.list
    row = failed_list.visualItemRect(failed_list.item(0))
    assert failed_list.viewport().rect().contains(row), "its reason is whole"
    assert failed_list.viewport().height() - row.bottom() < 16, "no blank band under it"
    view = panel.document_list.viewport().rect()
    whole = [i for i in range(panel.document_list.count())
             if view.contains(panel.document_list.visualItemRect(panel.document_list.item(i)))]
    assert len(whole) >= 3, f"only {len(whole)} documents are in view"
    assert window.width() == 1024


def test_a_finished_answer_with_five_sources_stays_in_view(qtbot) -> None:
    """At 1024x700 five source cards pushed the answer itself out of view: the view followed
    the last source down. Three are shown, the rest behind "Show all 5 sources", and the
    answer's start stays in view."""
    from PySide6.QtCore import QPoint

    from desktop.window.transcript import Transcript

    transcript = Transcript()
    qtbot.addWidget(transcript)
    transcript.resize(640, 420)
    transcript.show()
    qtbot.waitExposed(transcript)
    transcript.add_question("What notice must the tenant give to end the lease?")
    card = transcript.add_answer()
    card.set_quote({"text": "The notice period for termination is ninety days from the date "
                    "of the letter.", "source": "/matter/lease.pdf", "page": 2})
    answer = ("The tenant must give ninety days' written notice, counted from the date of the "
              "letter. Either party may end the lease this way. ")
    for piece in answer.split(" "):
        card.append(piece + " ")
    clause = "Clause {n}. The landlord shall keep the structure and exterior in repair. " * 4
    citations = [{"source": f"/matter/lease-{n}.pdf", "page": n, "text": clause.format(n=n),
                  "score": 0.5} for n in range(1, 6)]
    card.finish(answer, {"completion_tokens": 30}, citations)
    qtbot.wait(200)

    assert [b.isVisible() for b in card.source_buttons] == [True, True, True, False, False]
    assert card.more_sources is not None and card.more_sources.text() == "Show all 5 sources"
    top = card.body.mapTo(transcript.widget(), QPoint(0, 0)).y()
    value = transcript.verticalScrollBar().value()
    assert value <= top <= value + transcript.viewport().height() - 40, (top, value)
    card.more_sources.click()
    assert all(b.isVisible() for b in card.source_buttons)
    assert not card.more_sources.isVisible()


def test_an_empty_collection_offers_no_remove_button(qtbot, tmp_path) -> None:
    from rag.services import DocumentInfo

    window = open_window(qtbot, start=False)
    window.resize(1024, 700)
    panel = window.documents
    panel._loaded(([], [], []))
    qtbot.wait(50)
    assert panel.collection is not None and panel.status.text().endswith(
        "Until you add some, answers come from the model alone.")
    assert not panel.remove_button.isVisible()
    assert not panel.documents_title.isVisible() and not panel.document_list.isVisible()
    # The buttons and the hint stay together at the top, not spread down the panel.
    assert panel.add_files_button.geometry().top() < 120, panel.add_files_button.geometry()
    assert panel.hint.height() < 4 * panel.fontMetrics().height() + 8, panel.hint.height()
    panel._loaded(([], [DocumentInfo(tmp_path / "lease.pdf", "Lease", "0" * 64, 3, 9,
                                     "2026-12-03T06:00:00")], []))
    assert panel.remove_button.isVisible() and not panel.remove_button.isEnabled()
    assert panel.documents_title.isVisible() and panel.document_list.count() == 1


def test_an_unsupported_sentence_said_twice_is_marked_both_times(qtbot) -> None:
    from desktop.window.transcript import AnswerCard

    card = AnswerCard("What must a redistribution include?")
    qtbot.addWidget(card)
    text = ("1. A copy of the License notice.\n2. A copy of the License notice.\n"
            "3. The Work itself.")
    card.finish(text, {"sentences": [
        {"text": "A copy of the License notice.", "supported": False, "reason": "r"},
        {"text": "A copy of the License notice.", "supported": False, "reason": "r"},
        {"text": "The Work itself.", "supported": True}]}, [])
    shown = card.body.text()
    assert shown.count('title="Not found in the sources">A copy of the License notice.') == 2
    assert "Not found in the sources\">The Work itself" not in shown
