"""The window's Local API (File ▸ Local API…): off until started, then the official OpenAI
client gets answers from the window's own model; the address shows in the status bar; Stop
(or closing the window) ends it."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest
from openai import OpenAI

from desktop.app.audit_log import read_entries
from desktop.window.local_api import LocalApiDialog
from tests.desktop.window.window_helpers import ask, open_window

pytestmark = [pytest.mark.slow, pytest.mark.qt_log_ignore("does not support propagateSizeHints")]


@pytest.fixture(autouse=True)
def real_default_model(monkeypatch: pytest.MonkeyPatch, default_model_path: Path) -> Path:
    monkeypatch.setenv("ENCLAVE_MODEL", str(default_model_path))
    return default_model_path


def test_the_window_serves_its_own_model_to_other_programs_until_stopped(qtbot) -> None:
    window = open_window(qtbot, max_tokens=12)
    assert window.local_api.address is None, "off by default"
    dialog = LocalApiDialog(window.local_api, 0, window)
    qtbot.addWidget(dialog)
    assert dialog.state.text().startswith("Off") and dialog.toggle.text() == "Start"
    dialog.port.setMinimum(0)
    dialog.port.setValue(0)  # any free port, for the test
    dialog.toggle.click()
    address = window.local_api.address
    assert address is not None and address.startswith("http://127.0.0.1:")
    assert dialog.state.text() == f"On at {address}" and dialog.toggle.text() == "Stop"
    window._after_local_api(window.settings.api_port)
    assert window.api_label.text() == f"API on {address.removeprefix('http://')}"
    client = OpenAI(base_url=address, api_key=dialog.token.text(), max_retries=0, timeout=120)
    reply = client.chat.completions.create(
        model="enclave", max_tokens=8, messages=[{"role": "user", "content": "Say hello."}])
    assert reply.choices[0].message.content
    ask(qtbot, window, "Say hello.")  # the window still answers, on the same model
    dialog.toggle.click()
    assert window.local_api.address is None and dialog.toggle.text() == "Start"
    try:
        httpx.get(f"{address}/models", timeout=2)
        reachable = True
    except httpx.TransportError:
        reachable = False
    assert not reachable, "stopped means nothing listens"
    interfaces = [e["data"]["interface"] for e in read_entries(window.app.audit.path)
                  if e["kind"] == "question"]
    assert interfaces == ["api", "window"]
