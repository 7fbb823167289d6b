"""Sources as a lawyer reads them: the clause that answers highlighted in its page, the page as
paragraphs, "Open file" that says what happened, Copy with the sources, a searchable PDF export,
and waits and timings in plain words. Real PDFs, real Qt widgets; no model is needed."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pypdf
import pytest
from PySide6.QtGui import QGuiApplication

from desktop.app.conversations import ConversationStore
from desktop.window.background import BackgroundTasks
from desktop.window.pdf_export import write_pdf
from desktop.window.source_viewer import SourceViewer
from desktop.window.transcript import AnswerCard, Transcript
from rag.loaders import load_document
from tests.factories import make_pdf

pytestmark = pytest.mark.qt_log_ignore("does not support propagateSizeHints")

CLAUSE_8 = ("8. Repairs. The tenant keeps the inside of the premises in good repair and "
            "decoration, fair wear and tear excepted, and reports any damage to the landlord "
            "within seven days of noticing it.")
CLAUSE_9 = ("9. Termination. Either party may end this lease by giving the other not less "
            "than ninety days written notice, sent by recorded delivery to its registered "
            "office.")
CLAUSE_10 = ("10. Governing law. This lease is governed by the law of England and Wales, and "
             "the courts of England have exclusive jurisdiction over any dispute under it.")
QUESTION = "How much notice must be given to end the lease?"
HIGHLIGHT = "#fff1a8"


@pytest.fixture
def tasks() -> Iterator[BackgroundTasks]:
    runner = BackgroundTasks("enclave-test-sources")
    yield runner
    runner.stop()


@pytest.fixture
def lease(tmp_path: Path) -> Path:
    """A real three-page PDF; page 3 holds three clauses, wrapped at the PDF's margin."""
    return make_pdf(tmp_path / "lease.pdf", [
        "Lease agreement between Acme Ltd and Jane Smith.",
        "1. Rent. The rent is payable monthly in advance.",
        "\n".join((CLAUSE_8, CLAUSE_9, CLAUSE_10)),
    ], title="Lease")


def page_citation(pdf: Path, page: int) -> dict[str, Any]:
    """A citation whose passage is the whole page, as the index holds a short page."""
    text = " ".join(load_document(pdf).pages[page - 1].text.split())
    return {"source": str(pdf), "page": page, "text": text, "score": 0.8}


def open_viewer(qtbot, citation: dict[str, Any], tasks: BackgroundTasks, **kwargs: Any
                ) -> SourceViewer:
    viewer = SourceViewer(citation, tasks, HIGHLIGHT, **kwargs)
    qtbot.addWidget(viewer)
    viewer.show()
    qtbot.waitUntil(lambda: viewer.highlighted or "changed" in viewer.note.text(),
                    timeout=30_000)
    return viewer


def answered_card(qtbot, citation: dict[str, Any], quote: dict[str, Any] | None,
                  sentences: list[dict[str, Any]]) -> tuple[Transcript, AnswerCard]:
    """The answer under its question, as the window shows it (keep the transcript alive)."""
    transcript = Transcript()
    qtbot.addWidget(transcript)
    transcript.add_question(QUESTION)
    card = transcript.add_answer()
    card.finish("Ninety days' written notice [1].",
                {"completion_tokens": 9, "seconds": 4.0, "quote": quote,
                 "sentences": sentences, "model": "lease-model.gguf"}, [citation])
    return transcript, card


def test_the_clause_that_answers_is_highlighted_not_the_whole_page(qtbot, lease, tasks) -> None:
    citation = page_citation(lease, 3)
    quote = {"source": str(lease), "page": 3,
             "text": "Either party may end this lease by giving the other not less than "
                     "ninety days written notice, sent by recorded delivery to its "
                     "registered office."}
    _transcript, card = answered_card(qtbot, citation, quote, [])
    with qtbot.waitSignal(card.citation_clicked) as clicked:
        card.sources.itemAt(1).widget().click()  # [1] under the answer
    viewer = open_viewer(qtbot, clicked.args[0], tasks)

    [highlighted] = viewer.highlighted_text()
    assert highlighted == quote["text"]
    assert "Repairs" not in highlighted and "Governing law" not in highlighted
    assert viewer.note.text() == "The words quoted in the answer are highlighted."


def test_a_viewer_closed_before_its_page_is_read_is_left_alone(qtbot, lease, tasks) -> None:
    from shiboken6 import isValid

    viewer = SourceViewer(page_citation(lease, 3), tasks, HIGHLIGHT)
    viewer.show()
    viewer.close()
    viewer.deleteLater()
    qtbot.waitUntil(lambda: not isValid(viewer), timeout=5_000)
    # The page is read after the window went: its callback must not touch the dead widgets
    # (pytest-qt fails this test on any exception raised in a Qt callback).
    qtbot.waitUntil(lambda: tasks.pending == 0, timeout=30_000)


def test_without_a_quote_the_sentence_backing_the_answer_or_nearest_the_question_is_marked(
        qtbot, lease, tasks) -> None:
    citation = page_citation(lease, 3)
    backed = [{"text": "Either party may end the lease on ninety days written notice.",
               "supported": True, "evidence": citation}]
    _transcript, card = answered_card(qtbot, citation, None, backed)
    with qtbot.waitSignal(card.citation_clicked) as clicked:
        card.sources.itemAt(1).widget().click()
    viewer = open_viewer(qtbot, clicked.args[0], tasks)
    [highlighted] = viewer.highlighted_text()
    assert highlighted.startswith("Either party may end this lease")
    assert "ninety days" in highlighted and "Repairs" not in highlighted
    viewer.close()

    # Nothing from the answer: the sentence sharing most words with the question.
    viewer = open_viewer(qtbot, dict(citation, focus={"question": "Which law governs the "
                                                                  "lease and its disputes?"}),
                         tasks)
    [highlighted] = viewer.highlighted_text()
    assert "governed by the law of England" in highlighted and "ninety" not in highlighted
    assert viewer.note.text() == "The sentence closest to your question is highlighted."


def test_the_page_reads_as_paragraphs_and_scrolls_to_the_highlight(qtbot, tmp_path, tasks
                                                                   ) -> None:
    filler = [f"{n}. Clause {n}. " + "The parties agree to the terms set out in the schedule "
              "and to any variation of them agreed in writing and signed by both. " * 2
              for n in range(1, 30)]
    pdf = make_pdf(tmp_path / "long.pdf", ["\n".join([*filler, CLAUSE_9])])
    raw = load_document(pdf).pages[0].text
    assert CLAUSE_9 not in raw, "the PDF breaks the clause at its margin"
    quote = {"source": str(pdf), "page": 1, "text": CLAUSE_9}
    citation = dict(page_citation(pdf, 1), focus={"quote": CLAUSE_9})
    viewer = open_viewer(qtbot, citation, tasks)
    viewer.resize(760, 620)
    lines = viewer.text.toPlainText().split("\n")
    assert CLAUSE_9 in lines, "the clause is one paragraph, not cut at the PDF's margin"
    assert all(line == "" or line[0].isdigit() for line in lines), \
        "every line starts a clause: no sentence is broken mid-way"
    qtbot.waitUntil(lambda: viewer.text.verticalScrollBar().value() > 0)
    [selection] = viewer.text.extraSelections()
    top = viewer.text.cursorRect(selection.cursor).top()
    assert 0 <= top < viewer.text.viewport().height(), "the highlight is in view"
    assert quote["text"] in viewer.highlighted_text()


def test_open_file_says_when_this_computer_cannot_open_it(qtbot, lease, tasks) -> None:
    opened: list[Path] = []

    def no_viewer(path: Path) -> bool:  # a workstation with no PDF program set up
        opened.append(path)
        return False

    viewer = open_viewer(qtbot, page_citation(lease, 3), tasks, opener=no_viewer)
    viewer.open_button.click()
    assert opened == [lease]
    assert viewer.open_note.isVisible()
    message = viewer.open_note.text()
    assert "could not open lease.pdf" in message and str(lease) in message
    viewer.copy_path_button.click()
    assert QGuiApplication.clipboard().text() == str(lease)
    viewer.folder_button.click()
    assert "could not open the folder" in viewer.open_note.text()


def test_open_file_names_the_page_of_the_passage(qtbot, lease, tasks) -> None:
    opened: list[Path] = []
    viewer = open_viewer(qtbot, page_citation(lease, 3), tasks,
                         opener=lambda path: opened.append(path) is None)
    assert viewer.open_file()
    assert opened == [lease]
    assert viewer.open_note.text() == ("Opened lease.pdf in this computer's own viewer — the "
                                       "passage is on page 3.")


def test_a_viewer_that_takes_a_page_opens_the_pdf_at_the_cited_page(qtbot, lease, tasks
                                                                      ) -> None:
    asked: list[tuple[Path, int | None]] = []

    def evince(path: Path, page: int | None) -> bool:  # the desktop's viewer takes a page
        asked.append((path, page))
        return True

    viewer = open_viewer(qtbot, page_citation(lease, 3), tasks, page_opener=evince,
                         opener=lambda path: False)
    viewer.open_button.click()
    assert asked == [(lease, 3)]
    assert viewer.open_note.text() == ("Opened lease.pdf at page 3 in this computer's own "
                                       "viewer.")


def test_copy_answer_copies_the_answer_with_its_sources(qtbot, lease) -> None:
    citation = page_citation(lease, 3)
    quote = {"source": str(lease), "page": 3, "text": CLAUSE_9[16:]}
    _transcript, card = answered_card(qtbot, citation, quote, [])
    card.copy_button.click()
    copied = QGuiApplication.clipboard().text()
    assert copied.startswith("Ninety days' written notice [1].")
    assert f"From lease.pdf, page 3: “{CLAUSE_9[16:]}”" in copied
    assert "Sources:\n1. lease.pdf, page 3 — “8. Repairs." in copied
    assert CLAUSE_10 in copied  # the whole passage, to check the answer against


def test_a_wait_counts_its_seconds_and_the_timing_is_in_plain_words(qtbot) -> None:
    now = [100.0]
    card = AnswerCard(clock=lambda: now[0])
    qtbot.addWidget(card)
    card.set_status("Searching your documents…")
    assert card.ticker.isActive()
    now[0] += 4.2
    card.ticker.timeout.emit()
    assert card.status.text() == "Searching your documents… 4 s"
    now[0] += 80
    card.ticker.timeout.emit()
    assert card.status.text() == "Searching your documents… 1 min 24 s"

    words = " ".join(["word"] * 50)
    card.finish(words, {"completion_tokens": 56, "seconds": 169.2, "tokens_per_second": 0.33,
                        "prompt_tokens": 812, "time_to_first_token": 12.4,
                        "model": "lease-model.gguf"}, [])
    assert not card.ticker.isActive() and not card.status.isVisible()
    assert card.details.text() == "Written in 2 min 49 s · about 0.3 words a second"
    assert "token" not in card.details.text()
    tip = card.details.toolTip()
    assert "56 tokens in 169.2 s" in tip and "lease-model.gguf" in tip  # the figures, for IT


def test_the_pdf_export_names_the_model_and_its_text_can_be_searched(qtbot, enclave_home,
                                                                     tmp_path) -> None:
    store = ConversationStore.open(enclave_home)
    c = store.create(title="Office filing")
    store.add_message(c.id, "user", "Where is the office filing kept?")
    store.add_message(c.id, "assistant", "In the office filing cabinet on the first floor [1].",
                      citations=[{"source": "/m/office.pdf", "page": 2, "score": 0.5,
                                  "text": "The office filing cabinet is on the first floor."}],
                      stats={"model": "SmolLM2-135M-Instruct-Q4_1.gguf"})
    pdf = write_pdf(tmp_path / "export.pdf", store.get(c.id), store.messages(c.id))
    store.close()
    text = "\n".join(page.extract_text() for page in pypdf.PdfReader(pdf).pages)
    assert "ﬁ" not in text and "ﬃ" not in text, "no ligatures"
    assert "office filing" in text, "a search for the words finds them"
    assert "verify" in text and "machine-generated" in text
    assert "Written by the model SmolLM2-135M-Instruct-Q4_1.gguf." in text
