"""Desktop tests: Qt runs offscreen, and no test may leave a thread running behind it."""

from __future__ import annotations

import os
import threading
import weakref
from collections.abc import Iterator

import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")


def _enclave_or_foreground(thread: threading.Thread) -> bool:
    # Enclave's own worker threads are daemons (so a crash can never hang the process), so they
    # are checked by name; any other thread counts when it would keep the process alive.
    return thread.is_alive() and (thread.name.startswith("enclave") or not thread.daemon)


@pytest.fixture(autouse=True)
def no_thread_left_running(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Fail a test that leaves a QThread or a Python thread running when it ends."""
    before = {t.ident for t in threading.enumerate()}
    started: list[weakref.ref[object]] = []
    try:
        from PySide6.QtCore import QThread
    except ImportError:  # pragma: no cover - PySide6 is a dependency
        QThread = None  # type: ignore[assignment,misc]
    if QThread is not None:
        original_start = QThread.start

        def recording_start(self: QThread, *args: object) -> None:
            started.append(weakref.ref(self))
            original_start(self, *args)

        monkeypatch.setattr(QThread, "start", recording_start)
    yield
    left = [t.name for t in threading.enumerate()
            if t.ident not in before and _enclave_or_foreground(t)]
    running_qthreads = []
    for ref in started:
        qthread = ref()
        try:
            if qthread is not None and qthread.isRunning():
                running_qthreads.append(qthread.objectName() or type(qthread).__name__)
        except RuntimeError:  # the C++ object is gone: it cannot be running
            continue
    assert not left, f"threads still running after the test: {left}"
    assert not running_qthreads, f"QThreads still running after the test: {running_qthreads}"
