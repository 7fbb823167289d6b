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
