"""The window and the CLI ask through the same service: for the same question they give the
model the same prompt, refuse with the same words, and leave the same audit events (but for
where the question came from). The real window and the real ``enclave`` entry point, in this
process; the model is scripted so the prompts it was given can be compared."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from desktop.app.audit_log import read_entries
from desktop.app.settings import load_settings, save_settings
from desktop.cli.main import main
from desktop.window.main_window import MainWindow
from tests.desktop.window.window_helpers import ANSWER_TIMEOUT_MS, open_window
from tests.doubles import ScriptedChatModel, application
from tests.factories import make_text

# The offscreen platform cannot resize a real window's frame; it says so, harmlessly.
pytestmark = pytest.mark.qt_log_ignore("does not support propagateSizeHints")

QUESTION = "How much notice must the tenant give?"
OFF_TOPIC = "What is a good recipe for banana bread?"


def _cli(argv: list[str], model: ScriptedChatModel, capsys: pytest.CaptureFixture[str]
         ) -> dict[str, Any]:
    code = main(argv, build=lambda settings: application(settings, model))
    out = capsys.readouterr().out
    assert code == 0, out
    return dict(json.loads(out.strip().splitlines()[-1]))


def _window_ask(qtbot: Any, window: MainWindow, question: str) -> None:
    from PySide6.QtCore import Qt

    window.composer.edit.setPlainText(question)
    with qtbot.waitSignal(window.answer_done, timeout=ANSWER_TIMEOUT_MS):
        qtbot.keyClick(window.composer.edit, Qt.Key.Key_Return,
                       Qt.KeyboardModifier.ControlModifier)


def _audited(home: Path, interface: str) -> list[tuple[str, dict[str, Any]]]:
    entries = read_entries(home / "audit" / "audit.jsonl")
    out = []
    for e in entries:
        if e["kind"] in ("question", "answer") and e["data"]["interface"] == interface:
            data = {k: v for k, v in e["data"].items() if k not in ("interface", "conversation")}
            out.append((e["kind"], data))
    return out


def test_the_window_and_the_cli_ask_alike(qtbot: Any, tmp_path: Path,
                                          capsys: pytest.CaptureFixture[str]) -> None:
    settings = save_settings(load_settings(), collection="Lease", max_tokens=32)
    make_text(tmp_path / "lease.txt", "4.2 Notice. The tenant may end this lease by giving "
                                      "three months' notice in writing to the landlord.")
    assert main(["ingest", str(tmp_path / "lease.txt"), "--collection", "Lease"],
                build=lambda s: application(s)) == 0
    capsys.readouterr()

    cli_model = ScriptedChatModel(["Three months' notice [1]."])
    cli_answer = _cli(["ask", QUESTION, "--json"], cli_model, capsys)
    cli_refusal = _cli(["ask", OFF_TOPIC, "--json"], cli_model, capsys)

    window_model = ScriptedChatModel(["Three months' notice [1]."])
    window = open_window(qtbot, max_tokens=32, collection="Lease",
                         build=lambda s: application(s, window_model))
    _window_ask(qtbot, window, QUESTION)
    window.new_conversation()
    _window_ask(qtbot, window, OFF_TOPIC)

    assert window_model.prompts == cli_model.prompts[:1], "the same prompt, word for word"
    saved = [m for c in window.store.conversations() for m in window.store.messages(c.id)
             if m.role == "assistant"]
    refusals = [m.content for m in saved if m.refused]
    assert refusals == [cli_refusal["answer"]] and cli_refusal["refused"] is True
    answered = next(m for m in saved if not m.refused)
    assert answered.content == cli_answer["answer"]
    assert [c["source"] for c in answered.citations] == \
        [c["source"] for c in cli_answer["citations"]]
    assert _audited(settings.home, "window") == _audited(settings.home, "cli")
    assert [kind for kind, _ in _audited(settings.home, "cli")] == \
        ["question", "answer", "question", "answer"]
