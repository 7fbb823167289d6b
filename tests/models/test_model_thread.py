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



def test_callers_at_once_share_one_model_thread() -> None:
    """Twenty programs asking the local API at the same moment: one model is loaded, not one
    per request (the others were left running, each with a copy of the model)."""
    import time

    from models.model_thread import ThreadChatModel

    started: list[ModelThread[RecordingModel]] = []

    def start() -> ModelThread[RecordingModel]:
        time.sleep(0.2)  # starting a thread and loading take a while
        started.append(ModelThread(RecordingModel).start())
        return started[-1]

    shared = ThreadChatModel(start)
    callers = [threading.Thread(target=lambda: shared.count_tokens("a b")) for _ in range(8)]
    for caller in callers:
        caller.start()
    for caller in callers:
        caller.join(10)
    shared.close()
    assert len(started) == 1
    assert not any(t.running for t in started)
