"""One long-lived thread that owns the chat model: it is created, used and freed there.

Callers hand it work as functions of the model and get futures back; the GUI wraps this with Qt
signals; ``ThreadChatModel`` is the same model seen from another thread, streaming through a
queue (what the CLI's ask uses). Nothing else ever touches the model object.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future
from typing import Any, Generic, TypeVar

from models.chat_model import Cancel, ChatMessage, ChatModel, GenerationStats

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


_END = object()


class ThreadChatModel:
    """A ChatModel whose model lives on a ModelThread: a caller on any other thread streams
    through it, and the model itself is only touched on its own thread.

    The thread starts on the first call that needs the model, so a question that is refused
    before generation never loads it. A ``borrowed`` one uses whichever thread ``start`` gives
    at each call (the window's, which a reload replaces) and never closes it."""

    def __init__(self, start: Callable[[], ModelThread[Any]], borrowed: bool = False) -> None:
        self._start = start
        self._borrowed = borrowed
        self._thread: ModelThread[Any] | None = None
        # Callers on many threads at once (the local API's requests): one model thread, never
        # a second copy of the model started beside the first and left running.
        self._starting = threading.Lock()

    def _model_thread(self) -> ModelThread[Any]:
        if self._borrowed:
            return self._start()
        with self._starting:
            if self._thread is None:
                self._thread = self._start()
            return self._thread

    def _call(self, work: Callable[[Any], T]) -> T:
        return self._model_thread().submit(work).result()

    @property
    def context_size(self) -> int:
        return int(self._call(lambda m: m.context_size))

    @property
    def backend(self) -> str:
        return str(self._call(lambda m: m.backend))

    def count_tokens(self, text: str) -> int:
        return int(self._call(lambda m: m.count_tokens(text)))

    def chat(self, messages: Sequence[ChatMessage], *, max_tokens: int, temperature: float,
             cancel: Cancel | None = None) -> ThreadCompletion:
        return ThreadCompletion(self._model_thread(), list(messages), max_tokens, temperature,
                                cancel)

    def close(self) -> None:
        with self._starting:
            thread, self._thread = self._thread, None
        if thread is not None and not self._borrowed:
            thread.close()


class ThreadCompletion:
    """One answer generated on the model thread, its pieces handed over through a queue."""

    def __init__(self, thread: ModelThread[Any], messages: list[ChatMessage], max_tokens: int,
                 temperature: float, cancel: Cancel | None) -> None:
        self._thread = thread
        self._args = (messages, max_tokens, temperature, cancel)
        self.stats: GenerationStats | None = None

    def __iter__(self) -> Iterator[str]:
        pieces: queue.Queue[Any] = queue.Queue()
        messages, max_tokens, temperature, cancel = self._args

        def generate(model: Any) -> GenerationStats | None:
            completion = model.chat(messages, max_tokens=max_tokens, temperature=temperature,
                                    cancel=cancel)
            for piece in completion:
                pieces.put(piece)
            return completion.stats

        future = self._thread.submit(generate)
        # The end is signalled however the job ends: done, failed, or never run because the
        # model could not be loaded (then the job itself never starts).
        future.add_done_callback(lambda _f: pieces.put(_END))
        while (piece := pieces.get()) is not _END:
            yield piece
        self.stats = future.result()  # raises what the generation raised
