"""The documents side panel: a collection per matter or patient, its documents, and ingestion.

Every library call runs on a background thread (BackgroundTasks) and ingestion on its own
IngestThread, so the window stays responsive while a folder of PDFs is indexed.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QColor, QDragEnterEvent, QDropEvent
from PySide6.QtWidgets import (
    QComboBox,
    QFileDialog,
    QHBoxLayout,
    QInputDialog,
    QLabel,
    QListView,
    QListWidget,
    QListWidgetItem,
    QMenu,
    QMessageBox,
    QProgressBar,
    QPushButton,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from desktop.app.application import Application
from desktop.window.background import BackgroundTasks, IngestThread
from rag.documents import display_path
from rag.services import CollectionInfo, DocumentInfo, IngestEvent

MODEL_ONLY = "No documents (model only)"

_ROW_MARK = {"indexed": "✓", "unchanged": "=", "skipped": "–", "failed": "⚠"}


def plural(count: int, word: str) -> str:
    return f"{count} {word}{'' if count == 1 else 's'}"


def wrapping_list(max_height: int | None = None) -> QListWidget:
    widget = QListWidget()
    widget.setWordWrap(True)
    widget.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
    widget.setResizeMode(QListView.ResizeMode.Adjust)
    widget.setTextElideMode(Qt.TextElideMode.ElideNone)
    if max_height is not None:
        widget.setMaximumHeight(max_height)
    return widget


def dropped_paths(event: QDropEvent | QDragEnterEvent) -> list[Path]:
    """Local files and folders only: a dragged web link is never fetched."""
    mime = event.mimeData()
    if not mime.hasUrls():
        return []
    return [Path(url.toLocalFile()) for url in mime.urls() if url.isLocalFile()]


class DocumentsPanel(QWidget):
    collection_changed = Signal(object)  # str, or None for "model only"
    documents_changed = Signal()  # the document list was (re)loaded
    ingest_finished = Signal()  # a batch ended (its rows are shown)
    message = Signal(str)  # something to tell the person in the status bar

    def __init__(self, app: Application, tasks: BackgroundTasks,
                 default_collection: str, failed_color: str = "#b42318") -> None:
        super().__init__()
        self.setObjectName("documentsPanel")
        self.setAcceptDrops(True)
        self._app = app
        self._tasks = tasks
        self._collection: str | None = default_collection
        self._known: list[CollectionInfo] = []
        self.documents: list[DocumentInfo] = []
        self.available = False
        self._queue: list[tuple[list[Path], str]] = []
        self.ingest: IngestThread | None = None
        self._failed_color = failed_color
        self._batch: list[IngestEvent] = []
        self._batch_collection = ""
        self._build()

    # -- layout --------------------------------------------------------------------------------
    def _build(self) -> None:
        layout = QVBoxLayout(self)
        layout.setContentsMargins(12, 14, 12, 12)
        layout.setSpacing(8)
        title = QLabel("DOCUMENTS")
        title.setObjectName("sectionTitle")
        layout.addWidget(title)

        row = QHBoxLayout()
        self.collections = QComboBox()
        self.collections.setToolTip("The collection this conversation answers from: one per "
                                    "matter or patient. Collections never mix.")
        self.collections.currentIndexChanged.connect(self._picked)
        self.collection_menu = QToolButton()
        self.collection_menu.setText("⋯")
        self.collection_menu.setToolTip("New, rename or delete a collection")
        self.collection_menu.setPopupMode(QToolButton.ToolButtonPopupMode.InstantPopup)
        menu = QMenu(self)
        menu.addAction("New collection…", self._ask_create)
        menu.addAction("Rename collection…", self._ask_rename)
        menu.addAction("Delete collection…", self._ask_delete)
        self.collection_menu.setMenu(menu)
        row.addWidget(self.collections, 1)
        row.addWidget(self.collection_menu)
        layout.addLayout(row)

        buttons = QHBoxLayout()
        self.add_files_button = QPushButton("Add files…")
        self.add_files_button.clicked.connect(self._choose_files)
        self.add_folder_button = QPushButton("Add folder…")
        self.add_folder_button.clicked.connect(self._choose_folder)
        buttons.addWidget(self.add_files_button)
        buttons.addWidget(self.add_folder_button)
        layout.addLayout(buttons)
        self.hint = QLabel("PDF, Word, text, Markdown or HTML files, and scans (read by OCR). "
                           "You can also drag them "
                           "onto the window.")
        self.hint.setObjectName("muted")
        self.hint.setWordWrap(True)
        layout.addWidget(self.hint)

        self.progress_label = QLabel("")
        self.progress_label.setWordWrap(True)
        self.progress = QProgressBar()
        self.progress.setTextVisible(False)
        self.cancel_button = QToolButton()
        self.cancel_button.setText("Cancel")
        self.cancel_button.clicked.connect(self.cancel_ingest)
        progress_row = QHBoxLayout()
        progress_row.addWidget(self.progress, 1)
        progress_row.addWidget(self.cancel_button)
        layout.addWidget(self.progress_label)
        layout.addLayout(progress_row)
        self._show_progress(False)

        self.activity = wrapping_list(max_height=220)
        self.activity.setToolTip("What happened to each file of the last batch")
        self.activity.hide()
        layout.addWidget(self.activity)

        self.documents_title = QLabel("IN THIS COLLECTION")
        self.documents_title.setObjectName("sectionTitle")
        layout.addWidget(self.documents_title)
        self.document_list = wrapping_list()
        self.document_list.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        self.document_list.customContextMenuRequested.connect(self._document_menu)
        layout.addWidget(self.document_list, 1)
        self.remove_button = QPushButton("Remove from collection")
        self.document_list.currentItemChanged.connect(
            lambda item, _old: self.remove_button.setEnabled(item is not None))
        self.remove_button.setEnabled(False)
        self.remove_button.setToolTip("Forget the selected document: its passages leave the "
                                      "index; the file itself is not touched.")
        self.remove_button.clicked.connect(self._remove_selected)
        layout.addWidget(self.remove_button)
        self.status = QLabel("Opening your documents…")
        self.status.setObjectName("muted")
        self.status.setWordWrap(True)
        layout.addWidget(self.status)
        self._set_enabled(False)

    def _set_enabled(self, enabled: bool) -> None:
        for widget in (self.add_files_button, self.add_folder_button, self.collection_menu):
            widget.setEnabled(enabled)

    def _show_progress(self, visible: bool) -> None:
        for widget in (self.progress_label, self.progress, self.cancel_button):
            widget.setVisible(visible)

    # -- collections ---------------------------------------------------------------------------
    @property
    def collection(self) -> str | None:
        return self._collection

    @property
    def document_count(self) -> int:
        return len(self.documents)

    def refresh(self) -> None:
        """Reload the collections and the current collection's documents (off the GUI thread)."""
        def load() -> tuple[list[CollectionInfo], list[DocumentInfo]]:
            library = self._app.library()
            known = library.collections()
            # A collection exists once something is added to it (or it is created).
            exists = any(c.name == self._collection for c in known)
            docs = library.documents(self._collection) if exists and self._collection else []
            return known, docs

        self._tasks.run(load, self._loaded, self._unavailable)

    def _loaded(self, result: tuple[list[CollectionInfo], list[DocumentInfo]]) -> None:
        self.available = True
        self._set_enabled(True)
        self._known, self.documents = result
        self._fill_collections()
        self._fill_documents()
        self.documents_changed.emit()

    def _unavailable(self, message: str) -> None:
        self.available = False
        self._set_enabled(False)
        self.status.setText(f"Documents cannot be opened: {message}")
        self.documents_changed.emit()

    def _fill_collections(self) -> None:
        names = sorted({c.name for c in self._known}
                       | ({self._collection} if self._collection is not None else set()))
        self.collections.blockSignals(True)
        self.collections.clear()
        for name in names:
            self.collections.addItem(name, name)
        self.collections.addItem(MODEL_ONLY, None)
        index = self.collections.findData(self._collection)
        self.collections.setCurrentIndex(index if index >= 0 else self.collections.count() - 1)
        self.collections.blockSignals(False)

    def _fill_documents(self) -> None:
        self.document_list.clear()
        for doc in self.documents:
            details = [doc.path.name] if doc.title and doc.title != doc.path.stem else []
            if doc.pages:
                details.append(plural(doc.pages, "page"))
            details.append(plural(doc.passages, "passage"))
            item = QListWidgetItem(f"{doc.title or doc.path.name}\n{' · '.join(details)}")
            item.setToolTip(str(doc.path))
            item.setData(Qt.ItemDataRole.UserRole, str(doc.path))
            self.document_list.addItem(item)
        in_use = self._collection is not None
        self.document_list.setVisible(in_use)
        self.documents_title.setVisible(in_use)
        self.remove_button.setVisible(in_use)
        if not in_use:
            self.status.setText("Answers come from the model alone, without your documents.")
        elif not self.documents:
            self.status.setText(f"“{self._collection}” has no documents yet. Until you add "
                                "some, answers come from the model alone.")
        else:
            self.status.setText(f"{plural(len(self.documents), 'document')} in "
                                f"“{self._collection}”.")

    def set_collection(self, name: str | None) -> None:
        """Show ``name`` (the current conversation's collection) without re-announcing it."""
        if name == self._collection:
            return
        self._collection = name
        if self.available:
            self._fill_collections()
            self.refresh()

    def _picked(self, index: int) -> None:
        name = self.collections.itemData(index)
        if name == self._collection:
            return
        self._collection = name
        self.collection_changed.emit(name)
        self.refresh()

    def create_collection(self, name: str) -> None:
        name = name.strip()
        if not name:
            return
        def create() -> None:
            self._app.library().create_collection(name)
        self._collection = name
        self._tasks.run(create, lambda _: self._after_change(name), self._problem)

    def rename_collection(self, old: str, new: str) -> None:
        new = new.strip()
        if not new or new == old:
            return
        def rename() -> None:
            self._app.library().rename_collection(old, new)
        self._collection = new
        self._tasks.run(rename, lambda _: self._after_change(new), self._problem)

    def delete_collection(self, name: str) -> None:
        def delete() -> None:
            self._app.library().delete_collection(name)
        self._collection = None
        self._tasks.run(delete, lambda _: self._after_change(None), self._problem)

    def _after_change(self, name: str | None) -> None:
        self.collection_changed.emit(name)
        self.refresh()

    def _problem(self, message: str) -> None:
        self.status.setText(message)
        self.message.emit(message)
        self.refresh()

    def _ask_create(self) -> None:
        name, ok = QInputDialog.getText(self, "New collection",
                                        "Name (for example the matter or the patient):")
        if ok:
            self.create_collection(name)

    def _ask_rename(self) -> None:
        if self._collection is None:
            return
        name, ok = QInputDialog.getText(self, "Rename collection", "New name:",
                                        text=self._collection)
        if ok:
            self.rename_collection(self._collection, name)

    def _ask_delete(self) -> None:
        if self._collection is None:
            return
        answer = QMessageBox.question(
            self, "Delete collection",
            f"Delete the collection “{self._collection}” and its index?\n"
            "Your files themselves are not touched.")
        if answer == QMessageBox.StandardButton.Yes:
            self.delete_collection(self._collection)

    # -- documents -----------------------------------------------------------------------------
    def _document_menu(self, pos: Any) -> None:
        item = self.document_list.itemAt(pos)
        if item is None:
            return
        menu = QMenu(self)
        menu.addAction("Remove from collection", self._remove_selected)
        menu.exec(self.document_list.viewport().mapToGlobal(pos))

    def _remove_selected(self) -> None:
        item = self.document_list.currentItem()
        if item is not None:
            self.forget(Path(item.data(Qt.ItemDataRole.UserRole)))

    def forget(self, path: Path) -> None:
        collection = self._collection
        if collection is None:
            return
        def forget() -> bool:
            return self._app.forget(path, collection, interface="window")
        self._tasks.run(forget, lambda _: self.refresh(), self._problem)

    # -- ingestion -----------------------------------------------------------------------------
    def _choose_files(self) -> None:
        files, _ = QFileDialog.getOpenFileNames(
            self, "Add documents", str(Path.home()),
            "Documents (*.pdf *.docx *.txt *.md *.markdown *.html *.htm *.png *.jpg *.jpeg "
            "*.tif *.tiff);;All files (*)")
        if files:
            self.add_paths([Path(f) for f in files])

    def _choose_folder(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Add a folder of documents",
                                                  str(Path.home()))
        if folder:
            self.add_paths([Path(folder)])

    def add_paths(self, paths: Sequence[Path]) -> None:
        if not paths:
            return
        if not self.available:
            self.message.emit("Documents are not available yet; try again in a moment.")
            return
        if self._collection is None:
            self.message.emit("Choose or create a collection first: documents go into one.")
            return
        self._queue.append((list(paths), self._collection))
        if self.ingest is None:
            self._start_next()

    def _start_next(self) -> None:
        if not self._queue:
            return
        paths, collection = self._queue.pop(0)
        self._batch, self._batch_collection = [], collection
        self.activity.clear()
        self.activity.show()
        self.progress.setRange(0, 0)  # busy until the files are counted
        self.progress_label.setText(f"Reading {plural(len(paths), 'item')}…")
        self._show_progress(True)
        thread = IngestThread(self._app, paths, collection, self)
        thread.progressed.connect(self._on_event)
        thread.failed.connect(self._on_failed)
        thread.finished.connect(self._on_finished)
        self.ingest = thread
        thread.start()

    def _on_event(self, event: IngestEvent) -> None:
        if event.kind == "reading" and event.pages:
            # A scan, read page by page: the bar follows its pages, since OCR is slow.
            self.progress.setRange(0, event.pages)
            self.progress.setValue(event.pages_read)
            name = display_path(event.path.name) if event.path is not None else ""
            self.progress_label.setText(f"{name}: reading page {event.pages_read + 1} of "
                                        f"{plural(event.pages, 'scanned page')} by OCR "
                                        f"(file {event.done + 1} of {event.total})…")
            return
        if event.kind == "indexing" and event.texts:
            # A long document, indexed after the others: the bar follows its texts.
            self.progress.setRange(0, event.texts)
            self.progress.setValue(event.texts_done)
            name = display_path(event.path.name) if event.path is not None else ""
            self.progress_label.setText(
                f"{name}: indexing a long document, {100 * event.texts_done // event.texts}% "
                f"(file {event.done + 1} of {event.total})…")
            return
        if event.total:
            self.progress.setRange(0, event.total)
            self.progress.setValue(event.done)
            self.progress_label.setText(f"Indexing {event.done} of "
                                        f"{plural(event.total, 'file')}…")
        if event.kind in _ROW_MARK and event.path is not None:
            self._batch.append(event)
            self._add_row(event)

    def _add_row(self, event: IngestEvent) -> None:
        name = display_path(event.path.name) if event.path is not None else ""
        if event.kind == "indexed":
            outcome = f"indexed, {plural(event.passages, 'passage')}" + \
                (f"; {event.detail}" if event.detail else "")
        elif event.kind == "unchanged":
            outcome = event.detail or "already indexed, unchanged"
        elif event.kind == "skipped":
            outcome = f"skipped: {event.detail}"
        else:
            outcome = f"could not be read: {event.detail}"
        text = f"{_ROW_MARK[event.kind]}  {name}\n{outcome}"
        item = QListWidgetItem(text)
        item.setData(Qt.ItemDataRole.UserRole, event.kind)
        item.setToolTip(display_path(event.path) if event.path is not None else "")
        if event.kind == "failed":
            item.setForeground(QColor(self._failed_color))
        self.activity.addItem(item)
        self.activity.scrollToBottom()

    def activity_rows(self) -> list[tuple[str, str]]:
        """(kind, text) of each per-file row of the last batch."""
        return [(self.activity.item(i).data(Qt.ItemDataRole.UserRole),
                 self.activity.item(i).text()) for i in range(self.activity.count())]

    def _on_failed(self, message: str) -> None:
        item = QListWidgetItem(f"⚠  Indexing stopped: {message}")
        item.setData(Qt.ItemDataRole.UserRole, "error")
        self.activity.addItem(item)
        self.message.emit(message)

    def _on_finished(self) -> None:
        thread, self.ingest = self.ingest, None
        if thread is not None:
            thread.wait()
            thread.deleteLater()
        failed = sum(1 for kind, _ in self.activity_rows() if kind == "failed")
        done = sum(1 for kind, _ in self.activity_rows() if kind in ("indexed", "unchanged"))
        summary = f"Done: {plural(done, 'file')} ready"
        if failed:
            summary += f", {failed} could not be read (see the list)"
        self.progress_label.setText(summary + ".")
        self.progress.hide()
        self.cancel_button.hide()
        self.message.emit(summary + ".")
        self.refresh()
        self.ingest_finished.emit()
        self._start_next()

    def cancel_ingest(self) -> None:
        self._queue.clear()
        if self.ingest is not None:
            self.ingest.cancel()

    def shutdown(self) -> None:
        """Cancel ingestion and wait for its thread (closing the window)."""
        self.cancel_ingest()
        if self.ingest is not None:
            self.ingest.wait()
            self.ingest = None

    # -- drag and drop -------------------------------------------------------------------------
    def dragEnterEvent(self, event: QDragEnterEvent) -> None:
        if dropped_paths(event):
            event.acceptProposedAction()

    def dropEvent(self, event: QDropEvent) -> None:
        paths = dropped_paths(event)
        if paths:
            event.acceptProposedAction()
            self.add_paths(paths)
