"""Qt worker threads: a serial task runner for library calls, and the ingestion thread.

Both report back through queued signals, so their results are handled on the GUI thread.
Closing the window stops them: cancel, quit, wait.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from PySide6.QtCore import QObject, QThread, Signal, Slot

from desktop.app.application import Application
from desktop.window.model_worker import human_error


class _TaskWorker(QObject):
    done = Signal(int, object, object)  # task id, result, error message (str) or None

    @Slot(int, object)
    def run(self, task_id: int, work: Callable[[], Any]) -> None:
        try:
            result = work()
        except Exception as exc:  # reported to the person as a sentence, never raised into Qt
            self.done.emit(task_id, None, human_error(exc))
        else:
            self.done.emit(task_id, result, None)


class BackgroundTasks(QObject):
    """Runs functions one after another on one QThread; callbacks run on the GUI thread."""

    _submit = Signal(int, object)

    def __init__(self, name: str, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._thread = QThread()
        self._thread.setObjectName(name)
        self._worker = _TaskWorker()
        self._worker.moveToThread(self._thread)
        self._submit.connect(self._worker.run)
        self._worker.done.connect(self._deliver)
        self._callbacks: dict[int, tuple[Callable[[Any], None], Callable[[str], None] | None]] = {}
        self._next_id = 0
        self._thread.start()

    def run(self, work: Callable[[], Any], on_done: Callable[[Any], None],
            on_error: Callable[[str], None] | None = None) -> None:
        self._next_id += 1
        self._callbacks[self._next_id] = (on_done, on_error)
        self._submit.emit(self._next_id, work)

    @property
    def pending(self) -> int:
        return len(self._callbacks)

    @Slot(int, object, object)
    def _deliver(self, task_id: int, result: Any, error: str | None) -> None:
        on_done, on_error = self._callbacks.pop(task_id, (None, None))
        if error is not None:
            if on_error is not None:
                on_error(error)
        elif on_done is not None:
            on_done(result)

    def stop(self) -> None:
        self._thread.quit()
        self._thread.wait()
        self._callbacks.clear()


class IngestThread(QThread):
    """Indexes files into a collection; one ``progressed`` signal per IngestEvent."""

    progressed = Signal(object)  # rag.services.IngestEvent (not "event": QThread.event exists)
    failed = Signal(str)

    def __init__(self, app: Application, paths: Sequence[Path], collection: str,
                 parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("enclave-ingest")
        self.paths = list(paths)
        self.collection = collection
        self._app = app
        self._cancel = threading.Event()

    def cancel(self) -> None:
        self._cancel.set()

    def run(self) -> None:
        try:
            for event in self._app.ingest.ingest(self.paths, self.collection, self._cancel,
                                                 interface="window"):
                self.progressed.emit(event)
        except Exception as exc:
            self.failed.emit(human_error(exc))
