"""The window with its model on the practice's server: a real llama.cpp OpenAI-compatible
server on the default GGUF, on 127.0.0.1; no local model file."""

from __future__ import annotations

from pathlib import Path

import pytest

from desktop.app.settings import load_settings
from desktop.window.settings_dialog import SettingsDialog
from desktop.window.transcript import AnswerCard
from tests.desktop.window.window_helpers import ask, open_window
from tests.model_server import PRACTICE_TOKEN, RunningServer, free_port

pytestmark = pytest.mark.qt_log_ignore("does not support propagateSizeHints")


@pytest.fixture
def server(practice_server: RunningServer) -> RunningServer:
    return practice_server


def test_the_window_answers_from_the_server_and_says_where_the_model_runs(
        qtbot, server: RunningServer, tmp_path: Path) -> None:
    (tmp_path / "token").write_text(PRACTICE_TOKEN, encoding="utf-8")
    window = open_window(qtbot, model_only=True, chat_backend="server",
                         chat_server_url=server.url, context_size=2048,
                         chat_server_token_file=str(tmp_path / "token"),
                         model_path=str(tmp_path / "absent.gguf"))
    assert window.model_ready, window.model_problem
    assert f"server 127.0.0.1:{server.port}" in window.status.model_button.text()
    ask(qtbot, window, "Name one colour.")
    answer = window.transcript.cards()[-1]
    assert isinstance(answer, AnswerCard) and answer.text.strip()
    [message] = [m for m in window.store.messages(window.current.id) if m.role == "assistant"]
    assert message.stats["completion_tokens"] > 0


def test_a_server_that_is_down_is_said_in_words_and_the_window_stays_usable(
        qtbot, tmp_path: Path) -> None:
    window = open_window(qtbot, start=False, chat_backend="server",
                         chat_server_url=f"http://127.0.0.1:{free_port()}",
                         model_path=str(tmp_path / "absent.gguf"))
    with qtbot.waitSignal(window.model.load_failed, timeout=30_000):
        window.start_background()
    assert not window.model_ready
    assert "cannot be reached" in window.model_problem
    assert window.documents.isEnabled() and window.composer.isEnabled()


def test_the_settings_dialog_switches_the_model_to_the_server(qtbot) -> None:
    dialog = SettingsDialog(load_settings())
    qtbot.addWidget(dialog)
    assert dialog.model.isEnabled() and not dialog.server_url.isEnabled()
    dialog.runs_on.setCurrentIndex(dialog.runs_on.findData("server"))
    assert not dialog.model.isEnabled() and dialog.server_url.isEnabled()
    dialog.server_url.setText(" https://gpu.clinic.internal:8080 ")
    assert dialog.changes() == {"chat_backend": "server",
                                "chat_server_url": "https://gpu.clinic.internal:8080"}


def test_with_a_server_allowed_the_status_bar_does_not_claim_offline(qtbot, tmp_path) -> None:
    """A compliance officer reads the status bar: with the model on the practice's server it
    says which servers are reached, never plain "Offline"."""
    from desktop.egress.guard import EgressGuard
    from desktop.window.status_bar import EnclaveStatusBar

    guard = EgressGuard()
    bar = EnclaveStatusBar(guard, tmp_path, tmp_path / "m.gguf")
    qtbot.addWidget(bar)
    assert bar.privacy.text() == "● Offline · 0 network attempts blocked"
    guard.allow(["10.77.0.2:8080"])
    bar.refresh_privacy()
    assert bar.privacy.text() == "● On-prem servers only · 0 network attempts blocked"
    assert "10.77.0.2:8080" in bar.privacy.toolTip()
    bar.detach()


def test_the_window_on_a_shared_index_shows_and_cites_what_another_desk_indexed(
        qtbot, shared_index, embedder, default_model_path: Path, tmp_path: Path) -> None:
    """Reception indexes the practice's policy; a clinician's window, on the same shared index
    (a real PostgreSQL and Chroma server), lists the collection, answers from it with its
    citation (what the guard then allows: tests/desktop/egress/test_egress_guard.py)."""
    from rag.index_storage import ServerStorage
    from rag.library import Library
    from tests.factories import make_text

    policy = make_text(tmp_path / "retention.txt", "Records retention policy.\n\nPatient "
                       "records are kept for ten years after the last visit.\n")
    reception = Library(tmp_path / "reception", embedder, storage=ServerStorage(shared_index))
    list(reception.ingest([policy], "Policies"))
    reception.close()
    (tmp_path / "index-token").write_text(shared_index.vectors.token, encoding="utf-8")
    window = open_window(qtbot, max_tokens=24, collection="Policies", index_backend="server",
                         model_path=str(default_model_path),
                         index_vector_server_url=shared_index.vectors.url,
                         index_vector_token_file=str(tmp_path / "index-token"),
                         index_database_url=shared_index.database.url,
                         index_database_password_file=str(shared_index.database.password_file))
    qtbot.waitUntil(lambda: window.documents.document_list.count() == 1)
    assert window.documents.collection == "Policies"
    # The window never claims that everything stays on this computer.
    assert "this computer and the practice's own servers" in \
        window.transcript.empty_state.steps.text()
    ask(qtbot, window, "How long are patient records kept?")
    answer = window.transcript.cards()[-1]
    assert isinstance(answer, AnswerCard)
    assert [Path(c["source"]).name for c in answer.citations][:1] == ["retention.txt"]


def test_the_settings_dialog_moves_the_documents_to_the_shared_index(qtbot) -> None:
    dialog = SettingsDialog(load_settings())
    qtbot.addWidget(dialog)
    assert not dialog.vector_server_url.isEnabled() and not dialog.database_url.isEnabled()
    assert dialog.problem() is None
    dialog.index_on.setCurrentIndex(dialog.index_on.findData("server"))
    assert dialog.vector_server_url.isEnabled() and dialog.database_url.isEnabled()
    assert "both addresses" in (dialog.problem() or "")
    dialog.vector_server_url.setText(" https://index.clinic.internal:8000 ")
    dialog.database_url.setText("postgresql://enclave:secret@db.clinic.internal/enclave")
    # A password typed into the address would be saved in the settings file: refused.
    assert "holds a password" in (dialog.problem() or "")
    dialog.database_url.setText("postgresql://enclave@db.clinic.internal:5432/enclave")
    assert dialog.problem() is None
    assert dialog.changes() == {
        "index_backend": "server",
        "index_vector_server_url": "https://index.clinic.internal:8000",
        "index_database_url": "postgresql://enclave@db.clinic.internal:5432/enclave"}
