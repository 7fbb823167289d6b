"""One long-lived thread that owns the chat model: it is created, used and freed there.

Callers hand it work as functions of the model and get futures back; the GUI wraps this with Qt
signals, the CLI waits on the futures. Nothing else ever touches the model object.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable
from concurrent.futures import Future
from typing import Any, Generic, TypeVar

from models.chat_model import ChatModel

M = TypeVar("M", bound=ChatModel)
T = TypeVar("T")

_STOP = object()


class ModelThread(Generic[M]):
    def __init__(self, factory: Callable[[], M], name: str = "enclave-model") -> None:
        self._factory = factory
        self._jobs: queue.Queue[Any] = queue.Queue()
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)
        self.loaded: Future[M] = Future()  # resolves with the model once loaded, or its error

    def start(self) -> ModelThread[M]:
        self._thread.start()
        return self

    def submit(self, work: Callable[[M], T]) -> Future[T]:
        """Run ``work(model)`` on the model thread; fails with the load error if loading failed."""
        future: Future[T] = Future()
        self._jobs.put((work, future))
        return future

    def close(self, timeout: float | None = 30.0) -> None:
        """Finish queued work, free the model on its own thread, and join the thread."""
        if self._thread.is_alive():
            self._jobs.put(_STOP)
            self._thread.join(timeout)

    @property
    def running(self) -> bool:
        return self._thread.is_alive()

    def _run(self) -> None:
        model: M | None = None
        try:
            model = self._factory()
        except BaseException as exc:
            self.loaded.set_exception(exc)
        else:
            self.loaded.set_result(model)
        while True:
            item = self._jobs.get()
            if item is _STOP:
                break
            work, future = item
            if not future.set_running_or_notify_cancel():
                continue
            if model is None:
                future.set_exception(self.loaded.exception() or RuntimeError("no model"))
                continue
            try:
                future.set_result(work(model))
            except BaseException as exc:
                future.set_exception(exc)
        if model is not None:
            model.close()
