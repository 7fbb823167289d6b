"""The documents side panel: a collection per matter or patient, its documents, and ingestion.

Every library call runs on a background thread (BackgroundTasks) and ingestion on its own
IngestThread, so the window stays responsive while a folder of PDFs is indexed.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from PySide6.QtCore import QEvent, QObject, Qt, Signal
from PySide6.QtGui import QColor, QDragEnterEvent, QDropEvent, QKeyEvent, QKeySequence
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
from desktop.window.document_removal import UndoBar, listed_names, removal_question
from desktop.window.failed_files_view import FailedFilesView
from rag.documents import display_path
from rag.services import CollectionInfo, DocumentInfo, FailedFile, IngestEvent

MODEL_ONLY = "No documents (model only)"

_ROW_MARK = {"indexed": "✓", "unchanged": "=", "skipped": "–", "failed": "⚠"}


# What a file without pages is, by its suffix (its size is shown instead of "1 page").
_PAGELESS_KIND = {".txt": "text", ".text": "text", ".md": "Markdown", ".markdown": "Markdown",
                  ".html": "web page", ".htm": "web page", ".docx": "Word"}
_Loaded = tuple[list[CollectionInfo], list[DocumentInfo], list[FailedFile]]


def plural(count: int, word: str) -> str:
    return f"{count} {word}{'' if count == 1 else 's'}"


def file_size(size: int) -> str:
    """'812 bytes', '3 KB', '1.4 MB'."""
    if size < 1024:
        return plural(size, "byte")
    if size < 1024 * 1024:
        return f"{round(size / 1024)} KB"
    return f"{size / (1024 * 1024):.1f} MB"


def document_details(doc: DocumentInfo) -> str:
    """The second line of a document's row: its pages, or for a file without pages its kind
    and size; then its passages."""
    details = [doc.path.name] if doc.title and doc.title != doc.path.stem else []
    if doc.pages:
        details.append(plural(doc.pages, "page"))
    else:
        kind = _PAGELESS_KIND.get(doc.path.suffix.lower(), "file")
        details.append(f"{kind}, {file_size(doc.size)}" if doc.size else kind)
    details.append(plural(doc.passages, "passage"))
    return " · ".join(details)


def wrapping_list(max_height: int | None = None) -> QListWidget:
    widget = QListWidget()
    widget.setWordWrap(True)
    widget.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
    widget.setResizeMode(QListView.ResizeMode.Adjust)
    widget.setTextElideMode(Qt.TextElideMode.ElideNone)
    # By pixel: a wrapped row taller than a short list (a long reason at 1024x700) can be
    # scrolled into view; scrolling by item never shows its end.
    widget.setVerticalScrollMode(QListView.ScrollMode.ScrollPerPixel)
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
        self.failed_files: list[FailedFile] = []
        self.confirmation: QMessageBox | None = None  # "Remove … from …?", while it is asked
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
        # Once a batch ends its rows fold away behind this button: the indexed files are in
        # the collection's list and the failed ones under "Could not be indexed", so showing
        # them again only pushed the collection's own list out of a 700-pixel-high window.
        self.details_button = QToolButton()
        self.details_button.setObjectName("linkButton")
        self.details_button.setCheckable(True)
        self.details_button.toggled.connect(self._show_details)
        self.details_button.hide()
        layout.addWidget(self.details_button, 0, Qt.AlignmentFlag.AlignLeft)
        layout.addWidget(self.activity)

        self.failed_view = FailedFilesView(self._failed_color)
        self.failed_view.retry_requested.connect(self.retry)
        self.failed_view.dismiss_requested.connect(self.dismiss_failed)
        layout.addWidget(self.failed_view)

        self.documents_title = QLabel("IN THIS COLLECTION")
        self.documents_title.setObjectName("sectionTitle")
        layout.addWidget(self.documents_title)
        self.document_list = wrapping_list()
        self.document_list.setObjectName("documentList")  # theme.py: selection and focus
        self.document_list.setSelectionMode(QListWidget.SelectionMode.ExtendedSelection)
        # Two rows at least, however much the last batch and the failed files take.
        self.document_list.setMinimumHeight(120)
        self.document_list.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        self.document_list.customContextMenuRequested.connect(self._document_menu)
        layout.addWidget(self.document_list, 1)
        # Takes the list's room while the list is hidden (an empty collection), so the rest
        # stays together at the top instead of being spread down the panel.
        self._filler = QWidget()
        self._filler.hide()
        layout.addWidget(self._filler, 1)
        self.remove_button = QPushButton("Remove from collection…")
        # Only a document the person selected can be removed: Tab makes a row current without
        # selecting it, and that row must not be the one removed.
        self.document_list.itemSelectionChanged.connect(
            lambda: self.remove_button.setEnabled(bool(self.document_list.selectedItems())))
        self.remove_button.setEnabled(False)
        self.remove_button.setToolTip("Forget the selected documents: their passages leave the "
                                      "index; the files themselves are not touched.")
        self.remove_button.clicked.connect(self._remove_selected)
        self.document_list.installEventFilter(self)  # the Delete key asks to remove
        layout.addWidget(self.remove_button)
        self.undo_bar = UndoBar()
        self.undo_bar.undo_requested.connect(self.undo_removal)
        layout.addWidget(self.undo_bar)
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
        def load() -> _Loaded:
            library = self._app.library()
            known = library.collections()
            # A collection exists once something is added to it (or it is created).
            exists = any(c.name == self._collection for c in known)
            docs = library.documents(self._collection) if exists and self._collection else []
            failed = library.failed_files(self._collection) if exists and self._collection \
                else []
            return known, docs, failed

        self._tasks.run(load, self._loaded, self._unavailable)

    def _loaded(self, result: _Loaded) -> None:
        self.available = True
        self._set_enabled(True)
        self._known, self.documents, self.failed_files = result
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
            item = QListWidgetItem(f"{doc.title or doc.path.name}\n{document_details(doc)}")
            item.setToolTip(str(doc.path))
            item.setData(Qt.ItemDataRole.UserRole, str(doc.path))
            self.document_list.addItem(item)
        in_use = self._collection is not None
        self.failed_view.show_files(self.failed_files if in_use else [])
        # An empty collection: its status says so, under no empty list, no heading and no
        # Remove button that cannot do anything.
        listed = in_use and bool(self.documents)
        for widget in (self.document_list, self.documents_title, self.remove_button):
            widget.setVisible(listed)
        self._filler.setVisible(not listed)
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
        if not item.isSelected():  # the menu acts on the row it was opened on, shown selected
            self.document_list.setCurrentItem(item)
        menu = QMenu(self)
        menu.addAction("Remove from collection…", self._remove_selected)
        menu.exec(self.document_list.viewport().mapToGlobal(pos))

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if (watched is self.document_list and event.type() == QEvent.Type.KeyPress
                and isinstance(event, QKeyEvent)
                and event.matches(QKeySequence.StandardKey.Delete)):
            self._remove_selected()
            return True
        return super().eventFilter(watched, event)

    def selected_documents(self) -> list[Path]:
        return [Path(item.data(Qt.ItemDataRole.UserRole))
                for item in self.document_list.selectedItems()]

    def _remove_selected(self) -> None:
        """Ask first, naming the documents; remove them only on "Remove"."""
        paths = self.selected_documents()
        collection = self._collection
        if not paths or collection is None or self.confirmation is not None:
            return
        box = QMessageBox(QMessageBox.Icon.Question, "Remove from collection",
                          removal_question(paths, collection), parent=self)
        box.addButton("Remove", QMessageBox.ButtonRole.DestructiveRole)
        box.setDefaultButton(box.addButton(QMessageBox.StandardButton.Cancel))
        box.setWindowModality(Qt.WindowModality.WindowModal)

        def answered() -> None:
            self.confirmation = None
            if box.buttonRole(box.clickedButton()) == QMessageBox.ButtonRole.DestructiveRole:
                self.remove(paths, collection)
            box.deleteLater()

        box.finished.connect(answered)
        self.confirmation = box
        box.open()

    def remove(self, paths: list[Path], collection: str) -> None:
        """Forget the documents now (each audited as a forget), then offer Undo."""
        def forget() -> list[Path]:
            return [p for p in paths if self._app.forget(p, collection, interface="window")]

        def done(removed: list[Path]) -> None:
            if removed:
                self.undo_bar.offer(removed, collection)
            self.refresh()

        self._tasks.run(forget, done, self._problem)

    def forget(self, path: Path) -> None:
        if self._collection is not None:
            self.remove([path], self._collection)

    def undo_removal(self, paths: list[Path], collection: str) -> None:
        """Add removed documents back from their files (the ordinary ingest, so they are
        found again). A file moved or deleted since cannot come back from here: say so."""
        present = [p for p in paths if p.is_file()]
        missing = [p for p in paths if p not in present]
        if missing:
            self.message.emit(f"{listed_names(missing)} cannot be brought back: the file is no "
                              "longer where it was. Add it again from where it is now.")
        if present:
            self.add_paths(present, collection)

    def retry(self, paths: list[Path]) -> None:
        """Read failed files again; those indexed now leave the failed list."""
        self.add_paths(paths)

    def dismiss_failed(self, paths: list[Path]) -> None:
        collection = self._collection
        if collection is None:
            return
        def dismiss() -> None:
            self._app.library().dismiss_failed(collection, paths)
        self._tasks.run(dismiss, lambda _: self.refresh(), self._problem)

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

    def add_paths(self, paths: Sequence[Path], collection: str | None = None) -> None:
        """Ingest ``paths`` into ``collection`` (by default the one shown)."""
        if not paths:
            return
        if not self.available:
            self.message.emit("Documents are not available yet; try again in a moment.")
            return
        target = collection if collection is not None else self._collection
        if target is None:
            self.message.emit("Choose or create a collection first: documents go into one.")
            return
        self._queue.append((list(paths), target))
        if self.ingest is None:
            self._start_next()

    def _start_next(self) -> None:
        if not self._queue:
            return
        paths, collection = self._queue.pop(0)
        self._batch, self._batch_collection = [], collection
        self.activity.clear()
        self.details_button.setChecked(False)
        self.details_button.hide()
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
        if event.kind == "opening":
            # A file being read (it may take a while: a long PDF, a large Word file).
            self.progress.setRange(0, max(event.total, 1))
            self.progress.setValue(event.done)
            name = display_path(event.path.name) if event.path is not None else ""
            self.progress_label.setText(f"Reading {name} (file {event.done + 1} of "
                                        f"{event.total})…")
            return
        if event.kind == "indexing" and event.texts:
            # Files being indexed: the bar follows their texts, so it never stands still.
            self.progress.setRange(0, event.texts)
            self.progress.setValue(event.texts_done)
            share = 100 * event.texts_done // event.texts
            if event.path is not None:
                self.progress_label.setText(
                    f"{display_path(event.path.name)}: indexing, {share}% (file "
                    f"{event.done + 1} of {event.total})…")
            else:
                self.progress_label.setText(
                    f"Indexing {event.files} files, {share}% (files {event.done + 1}–"
                    f"{event.done + event.files} of {event.total})…")
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

    def _show_details(self, shown: bool) -> None:
        self.activity.setVisible(shown)
        self.details_button.setText(f"{'Hide' if shown else 'Show'} each file of this batch "
                                    f"({self.activity.count()})")

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
        rows = self.activity_rows()
        failed = [e.path for e in self._batch if e.kind == "failed" and e.path is not None]
        done = sum(1 for kind, _ in rows if kind in ("indexed", "unchanged"))
        summary = f"Done: {plural(done, 'file')} ready"
        if failed:
            # Named here, and listed (with Retry) right under it in "Could not be indexed":
            # "see the list" pointed at a row that had often scrolled away.
            summary += f", {len(failed)} could not be read: {listed_names(failed)}"
        self.progress_label.setText(summary + ".")
        self.progress.hide()
        self.cancel_button.hide()
        self._show_details(False)  # folded: each file is listed in the collection or as failed
        self.details_button.setVisible(bool(rows))
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
