"""``enclave`` with no command: the desktop window. PySide6 is imported only when it opens."""

from __future__ import annotations


def open_window(measure_startup: bool = False) -> int:
    from desktop.window.app import run_window

    return run_window(measure_startup=measure_startup)
