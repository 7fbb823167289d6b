"""The model lives on one thread: created, used and freed there."""

from __future__ import annotations

import threading
from collections.abc import Iterator, Sequence

import pytest

from models.chat_model import Cancel, ChatMessage
from models.model_thread import ModelThread


class RecordingModel:
    """An honest ChatModel that records which thread touched it."""

    context_size = 1024
    backend = "CPU"

    def __init__(self) -> None:
        self.threads = {"created": threading.get_ident()}

    def count_tokens(self, text: str) -> int:
        return len(text.split())

    def chat(self, messages: Sequence[ChatMessage], *, max_tokens: int, temperature: float,
             cancel: Cancel | None = None) -> Iterator[str]:
        self.threads["used"] = threading.get_ident()
        yield from ["a", "b"]

    def close(self) -> None:
        self.threads["closed"] = threading.get_ident()


def test_create_use_and_free_happen_on_the_model_thread() -> None:
    worker: ModelThread[RecordingModel] = ModelThread(RecordingModel).start()
    out = worker.submit(lambda m: "".join(m.chat([], max_tokens=2, temperature=0))).result(5)
    model = worker.loaded.result(5)
    worker.close()
    assert out == "ab"
    assert not worker.running
    idents = set(model.threads.values())
    assert len(idents) == 1 and threading.get_ident() not in idents


def test_a_load_failure_reaches_every_caller() -> None:
    def broken() -> RecordingModel:
        raise RuntimeError("no such model")

    worker: ModelThread[RecordingModel] = ModelThread(broken).start()
    with pytest.raises(RuntimeError, match="no such model"):
        worker.submit(lambda m: m.count_tokens("x")).result(5)
    with pytest.raises(RuntimeError):
        worker.loaded.result(5)
    worker.close()
    assert not worker.running

