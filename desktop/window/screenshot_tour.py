"""``python -m desktop.window.screenshot_tour --out DIR``: every screen of the real window,
photographed at each size and in each theme, for a person to look at.

A developer's tool, not part of the product: it builds the real window on the real default
model in a fresh data folder (``--home``, or a temporary one), indexes a few real documents
(licence texts Debian ships, and a broken PDF so the failed-files list shows), asks a real
question, opens its first source, the dialogs, the removal confirmation and a conversation with a
long title, and saves ``<theme>-<W>x<H>-<screen>.png`` for each. One child process per theme,
since the palette is chosen when Qt starts (``ENCLAVE_THEME``).
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

SIZES = ((1024, 700), (1600, 1000))
THEMES = ("light", "dark")
DOCUMENTS = ("Apache-2.0", "GPL-3")
QUESTION = "What must a redistribution of the Work include under the Apache License?"
LONG_TITLE = ("Smith v Jones: the tenant's notice period under clause 4.2 of the lease, "
              "and what the landlord must do before ending it early")


def _sizes(text: str) -> list[tuple[int, int]]:
    pairs = [part.split("x") for part in text.split(",") if part]
    return [(int(w), int(h)) for w, h in pairs]


def _documents(folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for name in DOCUMENTS:
        shutil.copyfile(Path("/usr/share/common-licenses") / name, folder / f"{name}.txt")
    (folder / "lease (truncated).pdf").write_bytes(b"%PDF-1.7\n1 0 obj\n<< /Type /Catalog")
    return folder


def _tour(out: Path, theme: str, sizes: Sequence[tuple[int, int]], documents: Path) -> list[Path]:
    """The child's work: the window in ``theme`` (already in ENCLAVE_THEME)."""
    from desktop.egress.offline import force_offline_environment

    force_offline_environment()
    from PySide6.QtCore import QEventLoop, QTimer
    from PySide6.QtGui import QPainter, QPalette
    from PySide6.QtWidgets import QApplication, QMessageBox, QWidget

    from desktop.app.settings import load_settings, save_settings
    from desktop.app.wiring import build_application
    from desktop.egress.arming import arm_egress_guard
    from desktop.window.main_window import MainWindow
    from desktop.window.model_manager import ModelManagerDialog
    from desktop.window.settings_dialog import SettingsDialog
    from desktop.window.theme import apply_theme

    app = QApplication.instance() or QApplication(sys.argv[:1])
    assert isinstance(app, QApplication)
    colors = apply_theme(app)
    settings = save_settings(load_settings(), max_tokens=160)
    application = build_application(settings)
    window = MainWindow(application, guard=arm_egress_guard(settings, application.audit),
                        colors=colors)
    written: list[Path] = []

    def settle(ms: int = 300) -> None:
        loop = QEventLoop()
        QTimer.singleShot(ms, loop.quit)
        loop.exec()

    def wait(signal: Any, seconds: float) -> None:
        loop = QEventLoop()
        signal.connect(loop.quit)
        QTimer.singleShot(int(seconds * 1000), loop.quit)
        loop.exec()

    def shoot(screen: str, widget: Callable[[], QWidget] | None = None,
              over: QWidget | None = None) -> None:
        """``widget`` alone (a dialog), or the window with ``over`` (a sheet, its own top-level
        window that a grab of the window leaves out) painted in the middle, as a person sees
        it."""
        for width, height in sizes:
            window.resize(width, height)
            settle()
            picture = (widget() if widget else window).grab()
            if over is not None:
                sheet = over.grab()
                painter = QPainter(picture)
                x = (picture.width() - sheet.width()) // 2
                y = (picture.height() - sheet.height()) // 3
                painter.drawPixmap(x, y, sheet)
                painter.setPen(over.palette().color(QPalette.ColorRole.Mid))  # its frame
                painter.drawRect(x - 1, y - 1, sheet.width() + 1, sheet.height() + 1)
                painter.end()
            path = out / f"{theme}-{width}x{height}-{screen}.png"
            if not picture.save(str(path)):
                raise SystemExit(f"could not write {path}")
            written.append(path)

    window.resize(*sizes[0])
    window.show()
    window.start_background()
    wait(window.documents.documents_changed, 60)
    shoot("empty")  # the model is usually still loading here, as a person first sees it
    if not window.model_ready and not window.model_problem:
        wait(window.model.loaded, 120)
    window.documents.add_paths([documents])
    wait(window.documents.ingest_finished, 600)
    shoot("documents-with-a-failed-file")
    window.composer.edit.setPlainText(QUESTION)
    window.composer.button.click()  # as a person sends it: the box empties
    wait(window.answer_done, 300)
    shoot("answer")
    assert window.current is not None
    cited = [m for m in window.store.messages(window.current.id) if m.citations]
    if cited:
        viewer = window.show_citation(cited[-1].citations[0])
        settle(2000)
        shoot("source-viewer", lambda: viewer)
        viewer.close()
    dialog = SettingsDialog(window.settings, window)
    dialog.show()
    shoot("settings", lambda: dialog)
    dialog.close()
    window.open_models()
    settle(1000)
    models = window.findChild(ModelManagerDialog)
    if models is not None:
        shoot("models", lambda: models)
        models.close()
    about = window.show_about()
    shoot("about", lambda: about)
    about.close()
    shortcuts = window.show_shortcuts()
    shoot("shortcuts", lambda: shortcuts)
    shortcuts.close()
    listed = window.documents.document_list
    if listed.count():
        listed.setCurrentRow(0)
        window.documents.remove_button.click()  # as a person asks for it
        box = window.documents.confirmation
        if isinstance(box, QMessageBox):
            settle()
            shoot("removal-confirmation", over=box)
            box.reject()
    window.rename_conversation(window.current.id, LONG_TITLE)
    window.open_conversation(window.current.id)
    shoot("long-title")
    window.shutdown()
    return written


def main(argv: Sequence[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m desktop.window.screenshot_tour",
                                description="Photograph every screen of the real window.")
    p.add_argument("--out", type=Path, required=True)
    p.add_argument("--sizes", type=_sizes, default=list(SIZES), help="e.g. 1024x700,1600x1000")
    p.add_argument("--themes", default=",".join(THEMES), help="light,dark")
    p.add_argument("--home", type=Path, help="the data folder (default: a fresh temporary one)")
    p.add_argument("--theme-child", help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    if args.theme_child:
        documents = _documents(Path(os.environ["ENCLAVE_HOME"]) / "tour-documents")
        for path in _tour(args.out, args.theme_child, args.sizes, documents):
            print(path, flush=True)
        return 0
    from desktop.app.settings import load_settings

    model = os.environ.get("ENCLAVE_MODEL") or str(load_settings().model_path or "")
    status = 0
    for theme in args.themes.split(","):
        home = args.home or Path(tempfile.mkdtemp(prefix=f"enclave-tour-{theme}-"))
        env = {**os.environ, "ENCLAVE_THEME": theme, "ENCLAVE_HOME": str(home),
               "ENCLAVE_MODEL": model}  # the installed model, in the fresh data folder
        env.setdefault("QT_QPA_PLATFORM", "offscreen")
        sizes = ",".join(f"{w}x{h}" for w, h in args.sizes)
        status |= subprocess.call([sys.executable, "-m", "desktop.window.screenshot_tour",
                                   "--out", str(args.out), "--sizes", sizes,
                                   "--theme-child", theme], env=env)
    return status


if __name__ == "__main__":
    sys.exit(main())
