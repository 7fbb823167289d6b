"""The chat: real window, real default model, real SQLite, offscreen Qt."""

from __future__ import annotations

from pathlib import Path

import pypdf
import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QGuiApplication

from desktop.app.audit_log import read_entries
from desktop.app.conversations import ConversationStore
from desktop.app.settings import load_settings
from desktop.window.transcript import AnswerCard, NoticeCard, QuestionCard
from tests.desktop.window.window_helpers import ANSWER_TIMEOUT_MS, ask, open_window

pytestmark = [
    pytest.mark.slow,
    # The offscreen platform cannot resize native windows; a real desktop never says this.
    pytest.mark.qt_log_ignore("does not support propagateSizeHints"),
]


@pytest.fixture(autouse=True)
def real_default_model(monkeypatch: pytest.MonkeyPatch, default_model_path: Path) -> Path:
    monkeypatch.setenv("ENCLAVE_MODEL", str(default_model_path))
    return default_model_path


def test_a_question_streams_an_answer_token_by_token(qtbot, enclave_home: Path) -> None:
    window = open_window(qtbot, model_only=True)
    tokens: list[str] = []
    window.model.token.connect(lambda _id, piece: tokens.append(piece))
    ask(qtbot, window, "Name three colours of the rainbow.")

    cards = window.transcript.cards()
    assert isinstance(cards[0], QuestionCard)
    answer = cards[1]
    assert isinstance(answer, AnswerCard)
    assert len(tokens) > 1, "the answer should arrive in several pieces"
    assert answer.text == "".join(tokens) and answer.text.strip()
    assert answer.copy_button.isVisible()
    # The conversation is saved, named after the question, and shown on the side.
    assert window.sidebar.titles() == ["Name three colours of the rainbow."]
    store = ConversationStore.open(enclave_home)
    [conversation] = store.conversations()
    question, saved = store.messages(conversation.id)
    assert question.content == "Name three colours of the rainbow."
    assert saved.content == answer.text
    assert saved.stats["completion_tokens"] >= len(tokens) - 1
    store.close()


def test_escape_stops_the_answer_and_keeps_what_was_written(qtbot) -> None:
    window = open_window(qtbot, max_tokens=400, model_only=True)
    window.composer.edit.setPlainText("Write a long story about a lighthouse keeper.")
    with qtbot.waitSignal(window.model.token, timeout=ANSWER_TIMEOUT_MS):
        window.composer.button.click()
    assert window.composer.button.text() == "Stop"
    with qtbot.waitSignal(window.answer_done, timeout=ANSWER_TIMEOUT_MS):
        qtbot.keyClick(window.composer.edit, Qt.Key.Key_Escape)
    answer = window.transcript.cards()[-1]
    assert isinstance(answer, AnswerCard)
    assert "Stopped" in answer.details.text()
    [message] = [m for m in window.store.messages(window.current.id) if m.role == "assistant"]
    assert message.stats["cancelled"] is True
    assert message.stats["completion_tokens"] < 400
    assert window.composer.button.text() == "Ask"


def test_the_conversation_is_there_after_a_restart(qtbot) -> None:
    first = open_window(qtbot, model_only=True)
    ask(qtbot, first, "What is the capital of France?")
    first.set_system_prompt("Answer in one word.")
    answer_text = first.transcript.cards()[1].text
    first.close()

    second = open_window(qtbot, start=False)
    assert second.sidebar.titles() == ["What is the capital of France?"]
    second.sidebar.list.setCurrentRow(0)
    cards = second.transcript.cards()
    assert isinstance(cards[0], QuestionCard)
    assert cards[0].body.text() == "What is the capital of France?"
    assert isinstance(cards[1], AnswerCard) and cards[1].text == answer_text
    assert "Instructions: Answer in one word." in second.subtitle.text()


def test_new_rename_delete_and_copy(qtbot) -> None:
    window = open_window(qtbot, model_only=True)
    ask(qtbot, window, "Say hello.")
    answer = window.transcript.cards()[1]
    answer.copy_button.click()
    assert QGuiApplication.clipboard().text() == answer.text
    conversation_id = window.current.id
    window.rename_conversation(conversation_id, "Greetings")
    assert window.title.text() == "Greetings" and window.sidebar.titles() == ["Greetings"]

    qtbot.keyClick(window, Qt.Key.Key_N, Qt.KeyboardModifier.ControlModifier)
    assert window.current is None
    assert window.transcript.cards() == [] and window.transcript.empty_state.isVisible()
    ask(qtbot, window, "Say goodbye.")
    assert window.sidebar.titles() == ["Say goodbye.", "Greetings"]
    # The new conversation starts clean: it holds only its own question and answer.
    assert [m.role for m in window.store.messages(window.current.id)] == ["user", "assistant"]
    assert window.store.messages(window.current.id)[0].content == "Say goodbye."

    window.delete_conversation(conversation_id)
    assert window.sidebar.titles() == ["Say goodbye."]


def test_an_empty_collection_says_there_is_nothing_to_answer_from(qtbot) -> None:
    window = open_window(qtbot)
    ask(qtbot, window, "What is the notice period?")
    [_, notice] = window.transcript.cards()
    assert isinstance(notice, NoticeCard)
    assert "There are no documents in the collection “default” yet" in notice.body.text()
    saved = window.store.messages(window.current.id)[-1]
    assert saved.refused, "no answer was made up"


def test_a_missing_model_is_a_banner_with_what_to_do(qtbot, monkeypatch, enclave_home) -> None:
    monkeypatch.setenv("ENCLAVE_MODEL", str(enclave_home / "models" / "absent.gguf"))
    window = open_window(qtbot, start=False)
    with qtbot.waitSignal(window.model.load_failed, timeout=30_000):
        window.start_background()
    assert window.banner.isVisible()
    assert "No model file" in window.banner.body.text()
    assert "enclave models install-default" in window.banner.body.text()
    window.composer.edit.setPlainText("Anyone there?")
    window.composer.button.click()
    assert window.transcript.cards() == []  # nothing sent, nothing lost
    assert window.composer.edit.toPlainText() == "Anyone there?"
    assert window.status.model_button.text().startswith("No model loaded")


def test_status_bar_names_the_model_and_counts_blocked_network_attempts(qtbot) -> None:
    import socket

    from desktop.egress import guard as egress_guard

    guard = egress_guard.current()
    window = open_window(qtbot)
    text = window.status.model_button.text()
    assert "SmolLM2-135M-Instruct" in text and "Q4_1" in text and "CPU" in text and "MB" in text
    before = guard.blocked_count
    assert f"Offline · {before} network attempt" in window.status.privacy.text()
    with pytest.raises(ConnectionRefusedError):
        socket.getaddrinfo("example.com", 443)
    qtbot.waitUntil(lambda: f"Offline · {before + 1} network attempt"
                    in window.status.privacy.text())


def test_settings_persist_and_a_context_change_reloads_the_model(qtbot) -> None:
    window = open_window(qtbot)
    with qtbot.waitSignal(window.model.loaded, timeout=60_000):
        window.apply_settings(temperature=0.7, grounded=False, relevance_threshold=0.4,
                              context_size=1024)
    saved = load_settings()
    assert (saved.temperature, saved.grounded, saved.relevance_threshold,
            saved.context_size) == (0.7, False, 0.4, 1024)
    assert window.settings.context_size == 1024
    ask(qtbot, window, "Say yes.")
    assert isinstance(window.transcript.cards()[-1], AnswerCard)


def test_export_to_markdown_and_pdf(qtbot, tmp_path: Path) -> None:
    window = open_window(qtbot, model_only=True)  # an answer, not a refusal, to export
    ask(qtbot, window, "List two fruits.")
    md = window.export_conversation(window.current.id, tmp_path / "chat.md", "md")
    pdf = window.export_conversation(window.current.id, tmp_path / "chat.pdf", "pdf")
    assert "## Question\n\nList two fruits." in md.read_text(encoding="utf-8")
    assert pdf.read_bytes().startswith(b"%PDF") and pdf.stat().st_size > 1000
    # Each answer names the model file that wrote it, in both, and the PDF reads as words.
    model = window.settings.model_path.name
    assert f"*Written by the model {model}.*" in md.read_text(encoding="utf-8")
    pdf_text = " ".join(" ".join(p.extract_text() for p in pypdf.PdfReader(pdf).pages).split())
    assert f"Written by the model {model}" in pdf_text
    assert "machine-generated: verify it against the sources" in pdf_text
    exports = [e["data"] for e in read_entries(window.settings.home / "audit" / "audit.jsonl")
               if e["kind"] == "export"]
    assert [e["format"] for e in exports] == ["md", "pdf"]


def test_an_error_answer_is_a_notice_not_an_answer(qtbot) -> None:
    window = open_window(qtbot)
    window.model.failed.emit(-1, "ignored: not the request in progress")
    window.composer.edit.setPlainText("Hello")
    window.composer.button.click()
    request_id = window.pending.request_id
    window.model.stop()
    with qtbot.waitSignal(window.answer_done, timeout=ANSWER_TIMEOUT_MS):
        pass
    # A failure for the request in progress replaces the answer card with a notice.
    window.composer.edit.setPlainText("Again")
    window.composer.button.click()
    with qtbot.waitSignal(window.answer_done, timeout=ANSWER_TIMEOUT_MS):
        window.model.failed.emit(window.pending.request_id, "The disk is full.")
    notice = window.transcript.cards()[-1]
    assert isinstance(notice, NoticeCard) and notice.kind == "error"
    assert notice.body.text() == "The disk is full."
    assert window.pending is None and window.composer.button.text() == "Ask"
    assert request_id < window.model._next_id
