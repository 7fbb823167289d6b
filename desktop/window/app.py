"""Start the Qt application: theme, settings, the main window, then the background work.

Only PySide6 and light Enclave modules are imported before the window is shown; the model and
the document index load afterwards, on their own threads.
"""

from __future__ import annotations

import os
import sys
import time

from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication, QMessageBox

from desktop.app.conversations import ConversationStoreError
from desktop.app.settings import SettingsError, load_settings
from desktop.app.wiring import build_application
from desktop.egress.arming import arm_egress_guard
from desktop.window.main_window import MainWindow
from desktop.window.theme import apply_theme
from installer.window_check import missing_libraries, packages_for, session_platform, xcb_plugin


def process_started_at() -> float:
    """Wall-clock time the process started (Linux: from /proc; elsewhere: this import)."""
    try:
        with open("/proc/self/stat", encoding="ascii") as f:
            start_ticks = int(f.read().rsplit(")", 1)[1].split()[19])
        with open("/proc/uptime", encoding="ascii") as f:
            uptime = float(f.read().split()[0])
        return time.time() - uptime + start_ticks / os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError, IndexError):
        return _IMPORTED_AT


_IMPORTED_AT = time.time()


def _platform_libraries_missing() -> bool:
    """Qt aborts, blaming its plugin, when the xcb plugin lacks a system library: say which."""
    if QApplication.instance() is not None or session_platform(os.environ) != "xcb":
        return False
    plugin = xcb_plugin()
    missing = missing_libraries(plugin) if plugin else []
    if not missing:
        return False
    packages = " ".join(p for p in packages_for(missing) if " " not in p)
    print(f"Enclave's window cannot open: this system lacks {', '.join(missing)}, which Qt "
          f"needs to draw windows on this desktop.\nIT can install them with: sudo apt install "
          f"{packages}\n(or run the offline bundle's install.py as root).", file=sys.stderr)
    return True


def run_window(measure_startup: bool = False) -> int:
    if _platform_libraries_missing():
        return 1
    app = QApplication.instance() or QApplication(sys.argv[:1])
    assert isinstance(app, QApplication)
    app.setApplicationName("Enclave")
    app.setApplicationDisplayName("Enclave")
    app.setDesktopFileName("enclave")
    colors = apply_theme(app)
    try:
        settings = load_settings()
        application = build_application(settings)
        # On-prem hosts allowed, blocked attempts audited.
        guard = arm_egress_guard(settings, application.audit)
        window = MainWindow(application, guard=guard, colors=colors)
    except (SettingsError, ConversationStoreError) as exc:
        QMessageBox.critical(None, "Enclave cannot start", str(exc))
        return 1

    def follow_system_theme() -> None:
        window.colors = apply_theme(app)

    app.styleHints().colorSchemeChanged.connect(follow_system_theme)
    if measure_startup:
        started = process_started_at()

        def report() -> None:
            elapsed = (time.time() - started) * 1000
            print(f"enclave: window painted {elapsed:.0f} ms after the process started",
                  flush=True)
            heavy = sorted(m for m in ("torch", "chromadb", "llama_cpp", "sentence_transformers")
                           if m in sys.modules)
            print(f"enclave: heavy modules loaded before the window: {heavy or 'none'}",
                  flush=True)
            QTimer.singleShot(0, window.close)

        window.first_painted.connect(report)
    else:
        window.first_painted.connect(lambda: QTimer.singleShot(0, window.start_background))
    window.show()
    return app.exec()
