"""The CLI tests run ``enclave`` in this process, with the real parts: the real model, Chroma,
and the bundled embedder, loaded once for the session and shared by every run."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from desktop.app.application import Application
from desktop.app.wiring import load_chat_model, open_assistant, open_library
from rag.embedder import MiniLMEmbedder
from tests.desktop.cli.cli_runner import Ran, run_enclave

Enclave = Callable[..., Ran]


@pytest.fixture(scope="session")
def enclave(embedder: MiniLMEmbedder) -> Enclave:
    """``enclave(*args, env=..., stdin=None)``: the real command, in process."""
    def build(settings):  # type: ignore[no-untyped-def]
        return Application(settings, open_library=lambda s: open_library(s, embedder),
                           open_assistant=open_assistant, load_model=load_chat_model)

    def run(*args: str, env: dict[str, str], stdin: str | None = None) -> Ran:
        return run_enclave(args, env, stdin, build)

    return run
