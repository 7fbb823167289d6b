"""Documents in the window: real PDFs, the real Library (Chroma + MiniLM), the real model."""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtCore import QObject, QUrl, Slot
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
        [selection] = viewer.text.extraSelections()
        highlighted = " ".join(selection.cursor.selectedText().split())
        assert highlighted == " ".join(notice_button.citation["text"].split())
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
