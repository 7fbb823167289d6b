"""Documents in the window: real PDFs, the real Library (Chroma + MiniLM), the real model."""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtCore import QObject, Qt, QUrl, Slot
from PySide6.QtGui import QDesktopServices

from desktop.app.audit_log import read_entries
from desktop.window.source_viewer import SourceViewer
from desktop.window.transcript import AnswerCard, CitationButton, NoticeCard
from tests.desktop.window.window_helpers import ask, open_window
from tests.factories import make_pdf

pytestmark = [
    pytest.mark.slow,
    pytest.mark.qt_log_ignore("does not support propagateSizeHints"),
]

INGEST_TIMEOUT_MS = 180_000
NOTICE = ("Termination. Either party may end this lease by written notice. "
          "The notice period for termination is ninety days from the date of the letter.")


@pytest.fixture(autouse=True)
def real_default_model(monkeypatch: pytest.MonkeyPatch, default_model_path: Path) -> Path:
    monkeypatch.setenv("ENCLAVE_MODEL", str(default_model_path))
    return default_model_path


class SystemViewer(QObject):
    """Stands in for the desktop's file viewer: Qt hands it the URL it would open."""

    def __init__(self) -> None:
        super().__init__()
        self.opened: list[QUrl] = []

    @Slot(QUrl)
    def open(self, url: QUrl) -> None:
        self.opened.append(url)


def ingest(qtbot, window, paths: list[Path]) -> list[tuple[str, str]]:
    with qtbot.waitSignal(window.documents.ingest_finished, timeout=INGEST_TIMEOUT_MS):
        window.documents.add_paths(paths)
    qtbot.waitUntil(lambda: window.documents.ingest is None)
    return window.documents.activity_rows()


def test_a_cited_answer_opens_its_passage_in_context(qtbot, tmp_path: Path) -> None:
    folder = tmp_path / "matter"
    folder.mkdir()
    lease = make_pdf(folder / "lease.pdf", [
        "Lease agreement between the parties.\nRent is payable monthly in advance.",
        NOTICE,
    ], title="Lease")
    window = open_window(qtbot, max_tokens=32)
    rows = ingest(qtbot, window, [folder])
    assert [kind for kind, _ in rows] == ["indexed"]
    assert "lease.pdf" in rows[0][1]
    qtbot.waitUntil(lambda: window.documents.document_list.count() == 1)
    assert window.documents.progress_label.text().startswith("Done: 1 file ready")

    ask(qtbot, window, "What is the notice period for termination?")
    answer = window.transcript.cards()[-1]
    assert isinstance(answer, AnswerCard)
    assert answer.citations, "an answer from documents shows its sources"
    buttons = answer.findChildren(CitationButton)
    [notice_button] = [b for b in buttons if b.citation["page"] == 2]
    assert notice_button.citation["source"] == str(lease)
    assert "lease.pdf, page 2" in notice_button.text()
    saved = window.store.messages(window.current.id)[-1]
    assert saved.citations == answer.citations
    # Who asked what, and from which sources, is in the tamper-evident audit log.
    entries = read_entries(window.settings.home / "audit" / "audit.jsonl")
    by_kind = {e["kind"]: e["data"] for e in entries}
    assert by_kind["ingest"]["indexed"] == [str(lease)]
    assert by_kind["question"]["question"] == "What is the notice period for termination?"
    assert str(lease) in {s["source"] for s in by_kind["answer"]["sources"]}

    viewer_target = SystemViewer()
    QDesktopServices.setUrlHandler("file", viewer_target, "open")
    try:
        notice_button.click()
        viewer = window.findChild(SourceViewer)
        assert viewer is not None
        qtbot.waitUntil(lambda: viewer.highlighted, timeout=30_000)
        # The part of the passage that answers is highlighted (here the notice period).
        [highlighted] = viewer.highlighted_text()
        assert highlighted in " ".join(notice_button.citation["text"].split())
        assert "ninety days" in highlighted
        assert "Either party may end this lease" in viewer.text.toPlainText()
        viewer.open_button.click()
        assert [u.toLocalFile() for u in viewer_target.opened] == [str(lease)]
        assert all(u.scheme() == "file" for u in viewer_target.opened)
        viewer.close()
    finally:
        QDesktopServices.unsetUrlHandler("file")


def test_a_bad_file_gets_its_own_error_row_and_the_rest_is_indexed(qtbot, tmp_path) -> None:
    folder = tmp_path / "ward"
    folder.mkdir()
    make_pdf(folder / "protocol.pdf", ["Sepsis protocol: give antibiotics within one hour."])
    (folder / "broken.pdf").write_bytes(b"%PDF-1.4\nthis is not really a pdf\n")
    window = open_window(qtbot)
    rows = {text.split("  ", 1)[1].split("\n")[0]: (kind, text)
            for kind, text in ingest(qtbot, window, [folder])}
    assert rows["protocol.pdf"][0] == "indexed"
    kind, text = rows["broken.pdf"]
    assert kind == "failed"
    assert "could not be read:" in text and len(text.split("could not be read:")[1].strip()) > 5
    assert "1 could not be read" in window.documents.progress_label.text()
    qtbot.waitUntil(lambda: window.documents.document_list.count() == 1)

    # An unrelated question is refused as such: a notice, not an answer.
    ask(qtbot, window, "Who won the football world cup in 1966?")
    refusal = window.transcript.cards()[-1]
    assert isinstance(refusal, NoticeCard) and refusal.kind == "refusal"
    assert window.store.messages(window.current.id)[-1].refused

    # Remove the document: the collection is empty again.
    with qtbot.waitSignal(window.documents.documents_changed, timeout=60_000):
        window.documents.forget(folder / "protocol.pdf")
    assert window.documents.document_list.count() == 0
    from desktop.app.audit_log import read_entries

    forgotten = [e for e in read_entries(window.app.audit.path) if e["kind"] == "forget"]
    assert [e["data"]["interface"] for e in forgotten] == ["window"]


def test_collections_are_created_renamed_and_deleted(qtbot) -> None:
    window = open_window(qtbot)
    panel = window.documents
    with qtbot.waitSignal(panel.documents_changed, timeout=60_000):
        panel.create_collection("Matter 42")
    assert panel.collection == "Matter 42"
    assert panel.collections.currentText() == "Matter 42"
    assert "Documents: Matter 42" in window.subtitle.text()
    with qtbot.waitSignal(panel.documents_changed, timeout=60_000):
        panel.rename_collection("Matter 42", "Matter 43")
    names = [panel.collections.itemText(i) for i in range(panel.collections.count())]
    assert "Matter 43" in names and "Matter 42" not in names
    with qtbot.waitSignal(panel.documents_changed, timeout=60_000):
        panel.delete_collection("Matter 43")
    names = [panel.collections.itemText(i) for i in range(panel.collections.count())]
    assert "Matter 43" not in names
    assert panel.collection is None and "Model only" in window.subtitle.text()


def _row_of(panel, name: str):
    for i in range(panel.document_list.count()):
        item = panel.document_list.item(i)
        if Path(item.data(Qt.ItemDataRole.UserRole)).name == name:
            return item
    raise AssertionError(f"{name} is not listed")


def _click(qtbot, view, item) -> None:
    qtbot.mouseClick(view.viewport(), Qt.MouseButton.LeftButton,
                     pos=view.visualItemRect(item).center())


def _answer(qtbot, panel, button_text: str) -> str:
    """Click ``button_text`` on the removal question; the question it asked."""
    qtbot.waitUntil(lambda: panel.confirmation is not None and panel.confirmation.isVisible())
    box = panel.confirmation
    question = box.text()
    [button] = [b for b in box.buttons() if b.text().replace("&", "") == button_text]
    button.click()
    return question


def test_removing_a_document_asks_first_and_can_be_undone(qtbot, tmp_path: Path) -> None:
    folder = tmp_path / "Matter 12"
    folder.mkdir()
    lease = make_pdf(folder / "lease.pdf", ["Lease agreement.", NOTICE], title="Lease")
    (folder / "notes.txt").write_text("Client call: the landlord wants the keys back by May.\n")
    window = open_window(qtbot, collection="Matter 12")
    panel = window.documents
    ingest(qtbot, window, [folder])
    qtbot.waitUntil(lambda: panel.document_list.count() == 2)
    # A text file has no pages: its kind and size are shown instead of "1 page".
    notes_row = _row_of(panel, "notes.txt").text()
    assert "page" not in notes_row and "text, 54 bytes" in notes_row, notes_row
    assert "2 pages" in _row_of(panel, "lease.pdf").text()

    # Tab into the list makes a row current, not selected: nothing can be removed yet.
    window.activateWindow()
    panel.document_list.setFocus(Qt.FocusReason.TabFocusReason)
    qtbot.waitUntil(lambda: panel.document_list.currentItem() is not None)
    assert not panel.document_list.selectedItems()
    assert not panel.remove_button.isEnabled()

    lease_row = _row_of(panel, "lease.pdf")
    _click(qtbot, panel.document_list, lease_row)
    assert lease_row.isSelected() and panel.remove_button.isEnabled()
    panel.remove_button.click()
    question = _answer(qtbot, panel, "Cancel")
    assert "Remove “lease.pdf” from “Matter 12”? Answers will no longer use it." in question
    qtbot.waitUntil(lambda: panel.confirmation is None)
    assert panel.document_list.count() == 2, "answering Cancel removes nothing"

    panel.remove_button.click()
    with qtbot.waitSignal(panel.documents_changed, timeout=60_000):
        _answer(qtbot, panel, "Remove")
    assert panel.document_list.count() == 1
    assert panel.undo_bar.isVisible() and "lease.pdf" in panel.undo_bar.label.text()
    library = window.app.library()
    assert all(Path(h.passage.source) != lease
               for h in library.search("notice period for termination", "Matter 12", 5))

    with qtbot.waitSignal(panel.ingest_finished, timeout=INGEST_TIMEOUT_MS):
        panel.undo_bar.undo_button.click()
    qtbot.waitUntil(lambda: panel.document_list.count() == 2)
    assert not panel.undo_bar.isVisible()
    hits = library.search("notice period for termination", "Matter 12", 5)
    assert Path(hits[0].passage.source) == lease, "after Undo the lease is found again"
    # The log tells what happened: removed, then indexed again.
    entries = [e for e in read_entries(window.app.audit.path) if e["kind"] in ("forget", "ingest")]
    assert [e["kind"] for e in entries] == ["ingest", "forget", "ingest"]
    assert entries[1]["data"]["path"] == str(lease) and entries[1]["data"]["removed"]
    assert entries[2]["data"]["indexed"] == [str(lease)]

    # The Delete key asks the same question.
    _click(qtbot, panel.document_list, _row_of(panel, "notes.txt"))
    qtbot.keyClick(panel.document_list, Qt.Key.Key_Delete)
    assert "Remove “notes.txt” from “Matter 12”?" in _answer(qtbot, panel, "Cancel")


def test_failed_files_stay_listed_after_a_restart_and_retry_indexes_them(
        qtbot, tmp_path: Path) -> None:
    folder = tmp_path / "ward"
    folder.mkdir()
    broken = folder / "a-discharge.pdf"
    broken.write_bytes(b"%PDF-1.4\nthis is not really a pdf\n")
    (folder / "a-scan.pdf").write_bytes(b"%PDF-1.4\nnor is this\n")
    for n in range(12):
        (folder / f"note-{n:02}.txt").write_text(f"Ward note {n}: observations stable.\n")
    window = open_window(qtbot)
    panel = window.documents
    rows = ingest(qtbot, window, [folder])
    assert [kind for kind, _ in rows].count("failed") == 2
    # The summary names the files, and they are listed once, right under it, with Retry: the
    # batch's own rows fold away (each file is listed once, in the collection or as failed).
    summary = panel.progress_label.text()
    assert "2 could not be read: “a-discharge.pdf” and “a-scan.pdf”" in summary, summary
    qtbot.waitUntil(lambda: panel.failed_view.list.count() == 2)
    assert panel.failed_view.isVisible() and not panel.activity.isVisible()
    first_failed = panel.failed_view.list.item(0)
    assert panel.failed_view.list.viewport().rect().contains(
        panel.failed_view.list.visualItemRect(first_failed).center())
    # The batch's rows are one click away.
    assert panel.details_button.text() == "Show each file of this batch (14)"
    panel.details_button.click()
    assert panel.activity.isVisible() and panel.activity.count() == 14
    panel.details_button.click()
    assert not panel.activity.isVisible()
    window.shutdown()
    window.close()

    # A restart: a new window on the same data folder still lists them, with the reason.
    window = open_window(qtbot)
    panel = window.documents
    qtbot.waitUntil(lambda: panel.failed_view.list.count() == 2)
    assert panel.failed_view.isVisible()
    assert "COULD NOT BE INDEXED (2)" in panel.failed_view.title.text()
    row = panel.failed_view.list.item(0).text()
    assert row.startswith("⚠  a-discharge.pdf\n") and len(row.split("\n")[1]) > 10, row

    # Dismiss one: it is no longer listed.
    assert not panel.failed_view.dismiss_button.isEnabled()
    _click(qtbot, panel.failed_view.list, panel.failed_view.list.item(1))
    with qtbot.waitSignal(panel.documents_changed, timeout=60_000):
        panel.failed_view.dismiss_button.click()
    assert [panel.failed_view.list.item(i).text().split("\n")[0]
            for i in range(panel.failed_view.list.count())] == ["⚠  a-discharge.pdf"]

    # Fixed, then retried: indexed, and the failed list is gone.
    make_pdf(broken, ["Discharge summary: the patient went home on day three."])
    documents = panel.document_list.count()
    assert panel.failed_view.retry_button.text() == "Retry all"
    with qtbot.waitSignal(panel.ingest_finished, timeout=INGEST_TIMEOUT_MS):
        panel.failed_view.retry_button.click()
    qtbot.waitUntil(lambda: panel.document_list.count() == documents + 1)
    assert not panel.failed_view.isVisible()
    assert panel.activity_rows()[0][0] == "indexed"
