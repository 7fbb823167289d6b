"""The "Models" dialog: which models are installed, which one answers, and adding one.

Listing, importing and installing are desktop/app/model_catalog.py's; this module only shows
them. Copies run on their own thread (one at a time) with a progress bar and a Cancel; closing
the dialog cancels a copy and waits for it, so nothing is left half-copied.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import QEvent, QObject, Qt, QThread, Signal
from PySide6.QtGui import QCloseEvent, QFocusEvent, QMouseEvent
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QFrame,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QMessageBox,
    QProgressBar,
    QPushButton,
    QScrollArea,
    QVBoxLayout,
    QWidget,
)

from desktop.app.model_catalog import (
    CatalogEntry,
    Imported,
    ImportRefused,
    MemoryProbe,
    Progress,
    default_installed,
    entries,
    import_model,
    install_default,
    normalise_sha256,
    remove_model,
    size_text,
)
from desktop.app.settings import Settings
from desktop.window.model_worker import human_error
from desktop.window.theme import LIGHT, Colors
from installer.doctor import available_memory_bytes
from models.errors import ModelError

CopyWork = Callable[[Progress, threading.Event], Imported]
NO_MODEL_TEXT = ("No model file is installed yet. Click “Models…” to install the small model "
                 "included with Enclave, or to import a model file from a folder or a USB "
                 "stick. (IT staff can also run: enclave models install-default.)")
INTRO = ("Enclave's answers are written by a model: a file on this computer that never "
         "leaves it. Install the included model to try Enclave, or import a larger model "
         "(a .gguf file from a folder or a USB stick) for real work.")


class CopyThread(QThread):
    """Runs one install or import; cancel is a flag the copy checks between blocks."""

    progressed = Signal(object, object)  # bytes done, bytes in all (may exceed 32 bits)
    succeeded = Signal(object)  # model_catalog.Imported
    failed = Signal(str)

    def __init__(self, work: CopyWork, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("enclave-model-copy")
        self._work = work
        self._cancel = threading.Event()

    def cancel(self) -> None:
        self._cancel.set()

    def run(self) -> None:
        try:
            result = self._work(lambda done, total: self.progressed.emit(done, total),
                                self._cancel)
        except Exception as exc:  # shown as a sentence, never raised into Qt
            self.failed.emit(human_error(exc))
        else:
            self.succeeded.emit(result)


class ModelCard(QFrame):
    """One installed model; click (or tab to) it to select it."""

    clicked = Signal(Path)

    def __init__(self, entry: CatalogEntry, colors: Colors) -> None:
        super().__init__()
        self.entry = entry
        self.setObjectName("modelCard")
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(12, 10, 12, 10)
        layout.setSpacing(3)
        top = QHBoxLayout()
        self.title = QLabel(entry.title)
        self.title.setWordWrap(True)
        self.title.setStyleSheet("font-weight: 600;")
        top.addWidget(self.title, 1)
        self.in_use = QLabel("In use")
        self.in_use.setStyleSheet(f"color: {colors.accent}; font-weight: 600;")
        self.in_use.setVisible(entry.in_use)
        top.addWidget(self.in_use, 0, Qt.AlignmentFlag.AlignTop)
        layout.addLayout(top)
        self.details = QLabel(entry.details())
        self.details.setObjectName("muted")
        self.details.setWordWrap(True)
        self.licence = QLabel(f"Licence: {entry.licence_text()}")
        self.licence.setWordWrap(True)
        self.memory = QLabel(entry.memory.text())
        self.memory.setWordWrap(True)
        if entry.memory.fits is False:
            self.memory.setStyleSheet(f"color: {colors.error_text};")
        for label in (self.details, self.licence, self.memory):
            layout.addWidget(label)
        self.setToolTip(str(entry.info.path))
        self.set_selected(False)

    def set_selected(self, selected: bool) -> None:
        self.setProperty("selected", selected)
        self.style().unpolish(self)
        self.style().polish(self)

    def mousePressEvent(self, event: QMouseEvent) -> None:
        self.clicked.emit(self.entry.info.path)
        super().mousePressEvent(event)

    def focusInEvent(self, event: QFocusEvent) -> None:
        self.clicked.emit(self.entry.info.path)
        super().focusInEvent(event)


class ModelManagerDialog(QDialog):
    model_chosen = Signal(Path)  # "Use this model": the window switches as it does today
    copy_finished = Signal()  # an install or import ended (done, refused or cancelled)

    def __init__(self, settings: Callable[[], Settings], parent: QWidget | None = None,
                 colors: Colors = LIGHT,
                 available: MemoryProbe = available_memory_bytes) -> None:
        super().__init__(parent)
        self.setWindowTitle("Models")
        self.resize(860, 640)
        # A fixed floor: the layout would otherwise move it each time the list or a message
        # changes, and the window system is asked to resize the dialog under the person.
        self.setMinimumSize(600, 520)
        self._settings = settings
        self._colors = colors
        self._available = available
        self._copy: CopyThread | None = None
        self._selected: Path | None = None
        self._nothing_in_use = False  # when a copy started: it is then used straight away
        self.cards: list[ModelCard] = []
        self.setStyleSheet(
            f"#modelCard {{ background: {colors.surface}; border: 1px solid {colors.border};"
            f" border-radius: 8px; }}"
            f"#modelCard[selected=\"true\"] {{ border: 2px solid {colors.accent};"
            f" background: {colors.user_bubble}; }}")
        self._build()
        self.refresh()
        if parent is not None:
            parent.installEventFilter(self)  # the window closing ends a copy first

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if watched is self.parent() and event.type() == QEvent.Type.Close:
            self._stop_copy()
            self.close()
        return super().eventFilter(watched, event)

    # -- layout --------------------------------------------------------------------------------
    def _build(self) -> None:
        layout = QVBoxLayout(self)
        layout.setContentsMargins(18, 16, 18, 14)
        layout.setSpacing(10)
        intro = QLabel(INTRO)
        intro.setWordWrap(True)
        layout.addWidget(intro)

        self.list_body = QWidget()
        self.list_layout = QVBoxLayout(self.list_body)
        self.list_layout.setContentsMargins(0, 0, 4, 0)
        self.list_layout.setSpacing(8)
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QFrame.Shape.NoFrame)
        scroll.setWidget(self.list_body)
        layout.addWidget(scroll, 1)
        self.empty = QLabel("No model is installed yet. “Install the included model” adds "
                            "SmolLM2 135M, a small demonstration model (about 100 MB), so you "
                            "can try Enclave; for real work, import a larger model file.")
        self.empty.setObjectName("muted")
        self.empty.setWordWrap(True)

        chosen = QHBoxLayout()
        self.use_button = QPushButton("Use this model")
        self.use_button.setObjectName("primary")
        self.use_button.setToolTip("Answer with the selected model from now on")
        self.use_button.clicked.connect(self.use_selected)
        self.remove_button = QPushButton("Remove…")
        self.remove_button.setToolTip("Delete the selected imported model from Enclave's "
                                      "models folder")
        self.remove_button.clicked.connect(self.remove_selected)
        chosen.addWidget(self.use_button)
        chosen.addWidget(self.remove_button)
        chosen.addStretch(1)
        layout.addLayout(chosen)

        adding = QFrame()
        adding.setObjectName("modelCard")
        add = QVBoxLayout(adding)
        add.setContentsMargins(12, 10, 12, 10)
        heading = QLabel("Add a model")
        heading.setStyleSheet("font-weight: 600;")
        add.addWidget(heading)
        sha_row = QHBoxLayout()
        sha_label = QLabel("Expected SHA-256 (optional):")
        self.expected = QLineEdit()
        self.expected.setPlaceholderText("paste the SHA-256 published with the model, to "
                                         "check the copy")
        self.expected.setToolTip("If you paste it, a file whose SHA-256 differs is refused "
                                 "and nothing is added.")
        sha_label.setBuddy(self.expected)
        sha_row.addWidget(sha_label)
        sha_row.addWidget(self.expected, 1)
        add.addLayout(sha_row)
        buttons = QHBoxLayout()
        self.import_button = QPushButton("Import a model file…")
        self.import_button.setToolTip("Copy a .gguf model file from any folder or USB stick "
                                      "into Enclave, checking it on the way")
        self.import_button.clicked.connect(self.choose_import)
        self.install_button = QPushButton("Install the included model")
        self.install_button.setToolTip("Install SmolLM2 135M, the small demonstration model "
                                       "that comes with Enclave")
        self.install_button.clicked.connect(self.install_included)
        buttons.addWidget(self.import_button)
        buttons.addWidget(self.install_button)
        buttons.addStretch(1)
        add.addLayout(buttons)
        progress_row = QHBoxLayout()
        self.progress_label = QLabel()
        self.progress = QProgressBar()
        self.progress.setRange(0, 1000)
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.clicked.connect(self.cancel_copy)
        progress_row.addWidget(self.progress_label)
        progress_row.addWidget(self.progress, 1)
        progress_row.addWidget(self.cancel_button)
        self.progress_box = QWidget()
        self.progress_box.setLayout(progress_row)
        progress_row.setContentsMargins(0, 0, 0, 0)
        self.progress_box.hide()
        add.addWidget(self.progress_box)
        self.message = QLabel()
        self.message.setWordWrap(True)
        self.message.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.message.hide()
        add.addWidget(self.message)
        layout.addWidget(adding)

        close = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        close.rejected.connect(self.reject)
        layout.addWidget(close)

    # -- the list ------------------------------------------------------------------------------
    def refresh(self) -> None:
        settings = self._settings()
        found = entries(settings.models_dir, settings.model_path, settings.context_size,
                        self._available)
        while self.list_layout.count():
            item = self.list_layout.takeAt(0)
            widget = item.widget() if item is not None else None
            if widget is not None and widget is not self.empty:
                widget.hide()  # deleted later: until then it must not show through
                widget.deleteLater()
        self.cards = []
        for entry in found:
            card = ModelCard(entry, self._colors)
            card.clicked.connect(self.select)
            self.list_layout.addWidget(card)
            self.cards.append(card)
        if not found:
            self.list_layout.addWidget(self.empty)
        self.empty.setVisible(not found)
        self.list_layout.addStretch(1)
        paths = [card.entry.info.path for card in self.cards]
        if self._selected not in paths:
            in_use = [card.entry.info.path for card in self.cards if card.entry.in_use]
            first = in_use or paths
            self._selected = first[0] if first else None
        self.select(self._selected)
        # The included model listed (installed, or in use from where it came): nothing more to
        # install. No model that can be removed: no Remove button that can do nothing.
        self.install_button.setVisible(not default_installed(settings.models_dir)
                                       and not any(card.entry.is_default for card in self.cards))
        self.use_button.setVisible(bool(found))
        self.remove_button.setVisible(any(card.entry.removable for card in self.cards))
        # With nothing installed, installing is the one thing to do: it looks like it.
        self.install_button.setObjectName("" if found else "primary")
        self.install_button.style().unpolish(self.install_button)
        self.install_button.style().polish(self.install_button)

    def select(self, path: Path | None) -> None:
        self._selected = path
        for card in self.cards:
            card.set_selected(card.entry.info.path == path)
        entry = self.selected_entry()
        busy = self._copy is not None
        self.use_button.setEnabled(entry is not None and not entry.in_use and not busy)
        self.remove_button.setEnabled(entry is not None and entry.removable and not busy)

    def selected_entry(self) -> CatalogEntry | None:
        return next((c.entry for c in self.cards if c.entry.info.path == self._selected), None)

    def card_for(self, path: Path) -> ModelCard | None:
        return next((c for c in self.cards if c.entry.info.path == path.resolve()), None)

    def use_selected(self) -> None:
        entry = self.selected_entry()
        if entry is not None:
            self._use(entry.info.path)

    def _use(self, path: Path) -> None:
        self.model_chosen.emit(path)
        self.refresh()
        self._say(f"Enclave now answers with {path.name}; it is loading.")

    def remove_selected(self) -> None:
        entry = self.selected_entry()
        if entry is None or not entry.removable:
            return
        answer = QMessageBox.question(
            self, "Remove model",
            f"Remove “{entry.info.name}”?\n\nThe file {entry.info.path.name} "
            f"({size_text(entry.info.size_bytes)}) is deleted from Enclave's models folder. "
            "The file you imported it from is not touched.")
        if answer != QMessageBox.StandardButton.Yes:
            return
        settings = self._settings()
        try:
            remove_model(entry.info.path, settings.models_dir, settings.model_path)
        except (ModelError, OSError) as exc:
            self._say(human_error(exc), error=True)
            return
        self._say(f"Removed {entry.info.path.name}.")
        self._selected = None
        self.refresh()

    # -- adding --------------------------------------------------------------------------------
    def install_included(self) -> None:
        models_dir = self._settings().models_dir
        self._start("Installing the included model…",
                    lambda progress, cancel: install_default(models_dir, progress, cancel))

    def choose_import(self) -> None:
        path, _ = QFileDialog.getOpenFileName(
            self, "Import a model file", str(Path.home()),
            "GGUF model files (*.gguf);;All files (*)")
        if path:
            self.import_file(Path(path))

    def import_file(self, source: Path) -> None:
        try:
            expected = normalise_sha256(self.expected.text())
        except ImportRefused as exc:
            self._say(str(exc), error=True)
            return
        models_dir = self._settings().models_dir
        self._start(f"Checking and copying {source.name}…",
                    lambda progress, cancel: import_model(source, models_dir, expected,
                                                          progress, cancel))

    def _start(self, label: str, work: CopyWork) -> None:
        if self._copy is not None:
            return
        self._nothing_in_use = not self._settings().model_path.is_file()
        self._copy = CopyThread(work, self)
        self._copy.progressed.connect(self._progressed)
        self._copy.succeeded.connect(self._copied)
        self._copy.failed.connect(self._refused)
        self._copy.finished.connect(self._copy_ended)
        self.message.hide()
        self.progress_label.setText(label)
        self.progress.setValue(0)
        self.progress_box.show()
        self._set_busy(True)
        self._copy.start()

    def _set_busy(self, busy: bool) -> None:
        for button in (self.import_button, self.install_button):
            button.setEnabled(not busy)
        self.expected.setEnabled(not busy)
        self.select(self._selected)
        if busy:
            self.use_button.setEnabled(False)
            self.remove_button.setEnabled(False)

    def _progressed(self, done: int, total: int) -> None:
        self.progress.setValue(int(1000 * done / total) if total else 1000)

    def _copied(self, result: Imported) -> None:
        if result.checked:
            text = (f"Added {result.path.name}. Its SHA-256 matches: {result.sha256}")
        else:
            text = (f"Added {result.path.name}. Its SHA-256 is {result.sha256}. Compare it "
                    "with the one published for the model; if they differ, remove it.")
        self._selected = result.path
        if self._nothing_in_use:
            # Nothing usable was in use: the new model answers straight away.
            self.model_chosen.emit(result.path)
            text += " Enclave now answers with it."
        self._say(text)
        self.expected.clear()

    def _refused(self, message: str) -> None:
        self._say(message, error=True)

    def _copy_ended(self) -> None:
        thread, self._copy = self._copy, None
        if thread is not None:
            thread.wait()
            thread.deleteLater()
        self.progress_box.hide()
        self._set_busy(False)
        self.refresh()
        self.copy_finished.emit()

    def cancel_copy(self) -> None:
        if self._copy is not None:
            self._copy.cancel()
            self.progress_label.setText("Cancelling…")

    @property
    def copying(self) -> bool:
        return self._copy is not None

    def _say(self, text: str, error: bool = False) -> None:
        self.message.setText(text)
        self.message.setObjectName("errorNotice" if error else "infoNotice")
        self.message.setStyleSheet("padding: 8px;")
        self.message.show()

    # -- closing -------------------------------------------------------------------------------
    def done(self, result: int) -> None:
        self._stop_copy()
        super().done(result)

    def closeEvent(self, event: QCloseEvent) -> None:
        self._stop_copy()
        super().closeEvent(event)

    def _stop_copy(self) -> None:
        """Cancel a copy and wait for it: the temporary file is removed before we return."""
        thread = self._copy
        if thread is not None:
            thread.cancel()
            thread.wait()
