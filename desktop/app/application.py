"""The application: every service the window and the CLI use, built once from the settings.

``build_application`` (desktop/app/wiring.py) is the one place that chooses the real parts;
tests build the same object with honest stand-ins at the seams they are about (a scripted chat
model, a deterministic embedder). Nothing heavy happens here until it is needed: the document
library (Chroma and the embedder) opens on the first call that wants it, under a lock, on
whichever worker thread asks first, and the model loads on its own thread. Qt-free.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from desktop.app.ask_service import AskOptions, AskService
from desktop.app.audit_events import DocumentForgotten, PassagesSearched
from desktop.app.audit_log import AuditLog
from desktop.app.ingest_service import IngestService
from desktop.app.settings import Settings
from models.chat_model import ChatModel
from models.model_thread import ModelThread
from rag.documents import display_path

if TYPE_CHECKING:
    from rag.retrieval_types import Hit
    from rag.services import AssistantService, LibraryService

LibraryFactory = Callable[[Settings], "LibraryService"]
AssistantFactory = Callable[[Settings, "LibraryService"], "AssistantService"]
ModelFactory = Callable[[Settings], ChatModel]


def ask_options(settings: Settings) -> AskOptions:
    return AskOptions(collection=settings.collection, grounded=settings.grounded,
                      max_tokens=settings.max_tokens, temperature=settings.temperature)


# Where the document index lives (rag/index_storage.py): a change reopens the library there.
INDEX_KEYS = ("index_backend", "index_vector_server_url", "index_vector_token_file",
              "index_database_url", "index_database_password_file", "index_server_ca_file")

class Application:
    def __init__(self, settings: Settings, *, open_library: LibraryFactory,
                 open_assistant: AssistantFactory, load_model: ModelFactory) -> None:
        self._settings = settings
        self._open_library = open_library
        self._open_assistant = open_assistant
        self._load_model = load_model
        self._lock = threading.RLock()
        self._library: LibraryService | None = None
        self._assistant: AssistantService | None = None
        self.audit = AuditLog(settings.home / "audit" / "audit.jsonl",
                              question_logging=settings.question_logging)
        self.ask = AskService(self.assistant, self.audit, ask_options(settings))
        self.ingest = IngestService(self.library, self.audit)

    @property
    def settings(self) -> Settings:
        return self._settings

    def library(self) -> LibraryService:
        """The document library, opened on first use (it loads Chroma and the embedder)."""
        with self._lock:
            if self._library is None:
                self._library = self._open_library(self._settings)
            return self._library

    def assistant(self) -> AssistantService:
        library = self.library()
        with self._lock:
            if self._assistant is None:
                self._assistant = self._open_assistant(self._settings, library)
            return self._assistant

    def search(self, query: str, collection: str, top_k: int, interface: str = "cli"
               ) -> list[Hit]:
        """The library's search, audited (what was searched for, per question_logging, and
        which passages it found)."""
        hits = self.library().search(query, collection, top_k)
        self.audit.record_event(PassagesSearched(
            query=query, collection=collection,
            sources=[{"source": display_path(Path(h.passage.source)), "page": h.passage.page}
                     for h in hits], interface=interface))
        return hits

    def forget(self, path: Path, collection: str, interface: str = "cli") -> bool:
        """Remove one document from a collection, audited whether or not it was there."""
        removed = self.library().forget(path, collection)
        self.audit.record_event(DocumentForgotten(collection=collection,
                                                  path=display_path(path), removed=removed,
                                                  interface=interface))
        return removed

    @property
    def library_open(self) -> bool:
        return self._library is not None

    def start_model_thread(self, settings: Settings | None = None) -> ModelThread[Any]:
        """A thread that owns a newly loaded model (the caller closes it)."""
        chosen = settings or self._settings
        return ModelThread(lambda: self._load_model(chosen)).start()

    def reconfigure(self, settings: Settings) -> None:
        """New settings take effect on the next question: the assistant is rebuilt, the library
        reopened where the index settings now say, and the audit log follows the
        question-logging choice."""
        with self._lock:
            moved = any(getattr(settings, k) != getattr(self._settings, k) for k in INDEX_KEYS)
            self._settings = settings
            if moved and self._library is not None:
                # The documents are somewhere else now (the practice's servers, or back on
                # this computer): the library opens there on its next use.
                close = getattr(self._library, "close", None)
                if callable(close):
                    close()
                self._library = None
            self._assistant = None
            self.audit.question_logging = settings.question_logging
            self.ask = AskService(self.assistant, self.audit, ask_options(settings))

    def close(self) -> None:
        with self._lock:
            for thing in (self._assistant, self._library):
                close = getattr(thing, "close", None)
                if callable(close):
                    close()
            self._assistant = self._library = None
