"""The document library and the assistant, opened once, lazily, on the worker that needs them.

Opening them imports chromadb and loads the embedder (seconds), so it never happens on the GUI
thread: the first background job that asks pays for it, under a lock, and the rest share them.
"""

from __future__ import annotations

import threading
from typing import Any

from desktop.settings import Settings
from rag.services import AssistantService, LibraryService


class DocumentsUnavailable(RuntimeError):
    """This build cannot search documents; the message says so in plain words."""


class LibraryHost:
    def __init__(self, settings: Settings) -> None:
        self._settings = settings
        self._lock = threading.Lock()
        self._library: LibraryService | None = None
        self._assistant: AssistantService | None = None

    @property
    def settings(self) -> Settings:
        return self._settings

    def update_settings(self, settings: Settings) -> None:
        """New grounding settings take effect on the next question."""
        with self._lock:
            self._settings = settings
            self._assistant = None

    @staticmethod
    def _builders() -> tuple[Any, Any]:
        from desktop import wiring

        open_library = getattr(wiring, "open_library", None)
        open_assistant = getattr(wiring, "open_assistant", None)
        if open_library is None or open_assistant is None:
            raise DocumentsUnavailable("Answering from documents is not available in this build.")
        return open_library, open_assistant

    def library(self) -> LibraryService:
        with self._lock:
            if self._library is None:
                open_library, _ = self._builders()
                self._library = open_library(self._settings)
            return self._library

    def assistant(self) -> AssistantService:
        library = self.library()
        with self._lock:
            if self._assistant is None:
                _, open_assistant = self._builders()
                self._assistant = open_assistant(self._settings, library)
            return self._assistant

    def close(self) -> None:
        with self._lock:
            for thing in (self._assistant, self._library):
                close = getattr(thing, "close", None)
                if callable(close):
                    close()
            self._assistant = self._library = None
