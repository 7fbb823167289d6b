"""The chat model for the window: a ModelThread wrapped in a QObject that speaks in signals.

The model is created, used and freed on its own thread (models/model_thread.py); the GUI thread
only submits work and receives queued signals. A question runs through the application's one
ask service (desktop/app/ask_service.py) inside a job on the model thread, so retrieval and
generation never happen on the GUI thread; this worker only re-emits the service's events.
Cancel is a threading.Event checked between tokens.
"""

from __future__ import annotations

import threading
from concurrent.futures import Future
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from PySide6.QtCore import QObject, Signal

from desktop.app.application import Application
from desktop.app.ask_service import (
    AskRequest,
    Finished,
    Generating,
    Quoted,
    Refused,
    Searching,
    Token,
)
from desktop.app.conversations import ConversationStoreError
from desktop.app.settings import Settings, SettingsError
from models.errors import ModelError
from models.model_thread import ModelThread, ThreadChatModel
from models.registry import describe
from models.server_chat_model import ServerChatModel
from rag.catalog import CollectionError
from rag.documents import UnreadableDocument


@dataclass(frozen=True)
class ModelStatus:
    name: str
    path: Path
    size_bytes: int
    quantization: str
    backend: str
    note: str = ""  # e.g. why the GPU was not used
    on_server: bool = False  # the practice's model server answers, not a file here


def human_error(exc: BaseException) -> str:
    """One sentence a person can act on, never a traceback."""
    if isinstance(exc, ModelError | CollectionError | SettingsError | ConversationStoreError):
        return str(exc)
    if isinstance(exc, UnreadableDocument):
        return f"{exc.path.name}: {exc.reason}"
    if isinstance(exc, MemoryError):
        return ("The computer ran out of memory. Close other programs, or choose a smaller "
                "model or a smaller context size in Settings.")
    if isinstance(exc, OSError) and exc.errno == 28:
        return "The disk is full. Free some space and try again."
    return f"Something went wrong: {exc}. Try again; if it keeps happening, restart Enclave."


class ModelWorker(QObject):
    """Signals carry the id of the request they belong to, so a late token never lands in the
    wrong conversation."""

    loading = Signal()
    loaded = Signal(object)  # ModelStatus
    load_failed = Signal(str)
    searching = Signal(int)  # retrieval started for request id
    quoted = Signal(int, object)  # rag.quote.Quote: the documents' own words, before the model
    generating = Signal(int)  # the model started on request id
    token = Signal(int, str)
    refused = Signal(int, object)  # desktop.app.ask_service.Answer
    finished = Signal(int, object)  # desktop.app.ask_service.Answer
    failed = Signal(int, str)

    def __init__(self, app: Application, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._app = app
        self._settings = app.settings
        self._thread: ModelThread[Any] | None = None
        self._closers: list[threading.Thread] = []
        self._cancel = threading.Event()
        self._next_id = 0

    # -- lifecycle -----------------------------------------------------------------------------
    def start(self, settings: Settings | None = None) -> None:
        """Load (or reload) the model in the background."""
        if settings is not None:
            self._settings = settings
        self._retire_thread()
        self.loading.emit()
        thread = self._app.start_model_thread(self._settings)
        self._thread = thread
        thread.loaded.add_done_callback(lambda f: self._on_loaded(thread, f))

    def _on_loaded(self, thread: ModelThread[Any], future: Future[Any]) -> None:
        if thread is not self._thread:
            return  # a reload replaced it meanwhile
        exc = future.exception()
        if exc is not None:
            self.load_failed.emit(human_error(exc))
            return
        model = future.result()
        if isinstance(model, ServerChatModel):
            self.loaded.emit(ModelStatus(model.name, Path(model.name), 0, "", model.backend,
                                         f"Answers come from the practice's model server at "
                                         f"{model.where} (context {model.context_size} tokens).",
                                         on_server=True))
            return
        path = Path(getattr(model, "path", self._settings.model_path))
        try:
            info = describe(path)
            name, size, quant = info.name, info.size_bytes, info.quantization
        except (OSError, ValueError):
            name, size, quant = path.stem, 0, "unknown"
        self.loaded.emit(ModelStatus(name, path, size, quant, str(model.backend),
                                     getattr(model, "fallback_reason", None) or ""))

    def _retire_thread(self) -> None:
        """Stop generation and free the old model without blocking the window."""
        old, self._thread = self._thread, None
        if old is None:
            return
        self._cancel.set()
        closer = threading.Thread(target=old.close, name="enclave-model-close", daemon=True)
        closer.start()
        self._closers.append(closer)

    def shutdown(self) -> None:
        """Stop, free the model on its thread, and wait for every thread we started."""
        self._cancel.set()
        old, self._thread = self._thread, None
        if old is not None:
            old.close()
        for closer in self._closers:
            closer.join()
        self._closers.clear()

    # -- answering -----------------------------------------------------------------------------
    def shared_model(self) -> ThreadChatModel:
        """The window's model for another caller (the local API): its questions join the same
        queue on the same thread, after whatever the window is answering."""
        def current() -> ModelThread[Any]:
            if self._thread is None:
                raise ModelError("The model is not loaded. Choose a model file in Settings.")
            return self._thread

        return ThreadChatModel(current, borrowed=True)

    def ask(self, request: AskRequest) -> int:
        if self._thread is None:
            raise ModelError("The model is not loaded. Choose a model file in Settings.")
        self._next_id += 1
        request_id = self._next_id
        self._cancel = cancel = threading.Event()
        future = self._thread.submit(lambda model: self._answer(model, request_id, request, cancel))
        future.add_done_callback(lambda f: self._on_done(request_id, f))
        return request_id

    def stop(self) -> None:
        self._cancel.set()

    def _on_done(self, request_id: int, future: Future[None]) -> None:
        exc = future.exception()
        if exc is not None:
            self.failed.emit(request_id, human_error(exc))

    def _answer(self, model: Any, request_id: int, request: AskRequest,
                cancel: threading.Event) -> None:
        """On the model thread: the ask service's events, re-emitted as queued signals."""
        for event in self._app.ask.ask(request, model, cancel):
            if isinstance(event, Token):
                self.token.emit(request_id, event.text)
            elif isinstance(event, Searching):
                self.searching.emit(request_id)
            elif isinstance(event, Quoted):
                self.quoted.emit(request_id, event.quote)
            elif isinstance(event, Generating):
                self.generating.emit(request_id)
            elif isinstance(event, Refused):
                self.refused.emit(request_id, event.answer)
            elif isinstance(event, Finished):
                self.finished.emit(request_id, event.answer)
