"""The main window: conversations on the left, the chat in the middle, documents on the right.

It owns the workers (model, library tasks, ingestion) and ties their signals to the widgets.
Heavy work never runs here: the model loads after the window is shown, on its own thread.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import (
    QAction,
    QCloseEvent,
    QDragEnterEvent,
    QDropEvent,
    QKeySequence,
    QPaintEvent,
)
from PySide6.QtWidgets import (
    QFileDialog,
    QHBoxLayout,
    QInputDialog,
    QLabel,
    QMainWindow,
    QMessageBox,
    QSplitter,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from desktop.app.application import Application
from desktop.app.ask_service import Answer, AskRequest
from desktop.app.conversations import UNTITLED, Conversation, ConversationStore
from desktop.app.export import write_markdown
from desktop.app.settings import Settings, SettingsError, save_settings
from desktop.app.settings_table import RELOAD_KEYS
from desktop.egress.arming import allowed_endpoints
from desktop.egress.guard import EgressGuard
from desktop.window.background import BackgroundTasks
from desktop.window.banner import Banner
from desktop.window.composer import Composer
from desktop.window.documents_panel import DocumentsPanel, dropped_paths
from desktop.window.elided_label import ElidedLabel
from desktop.window.help_menu import AboutDialog, ShortcutsDialog
from desktop.window.local_api import LocalApi, LocalApiDialog
from desktop.window.model_worker import ModelStatus, ModelWorker
from desktop.window.pdf_export import write_pdf
from desktop.window.settings_dialog import SettingsDialog
from desktop.window.sidebar import ConversationSidebar
from desktop.window.source_viewer import SourceViewer
from desktop.window.status_bar import EnclaveStatusBar
from desktop.window.theme import LIGHT, Colors
from desktop.window.transcript import AnswerCard, Transcript
from models.chat_model import ChatMessage
from rag.quote import Quote

TITLE_LENGTH = 60


@dataclass
class PendingAnswer:
    request_id: int
    conversation_id: int
    card: AnswerCard | None
    model_only: bool


class MainWindow(QMainWindow):
    first_painted = Signal()
    answer_done = Signal()  # an answer, a refusal or an error has been shown and saved

    def __init__(self, app: Application, guard: EgressGuard | None = None,
                 colors: Colors = LIGHT, model_worker: ModelWorker | None = None) -> None:
        super().__init__()
        self.app = app
        self.settings: Settings = app.settings
        settings = app.settings
        self.colors = colors
        self.setWindowTitle("Enclave")
        self.resize(1280, 800)
        self.setAcceptDrops(True)
        self.store = ConversationStore.open(settings.home)
        self.tasks = BackgroundTasks("enclave-library", self)
        self.model = model_worker or ModelWorker(app, parent=self)
        self.current: Conversation | None = None
        self.pending: PendingAnswer | None = None
        self.model_ready = False
        self.model_problem = ""
        self._painted = False
        self._closed = False
        self._guard = guard
        self._build(guard)
        self._connect()
        self.refresh_sidebar()

    # -- layout --------------------------------------------------------------------------------
    def _build(self, guard: EgressGuard | None) -> None:
        self.sidebar = ConversationSidebar()
        self.documents = DocumentsPanel(self.app, self.tasks, self.settings.collection,
                                        self.colors.error_text)

        center = QWidget()
        column = QVBoxLayout(center)
        column.setContentsMargins(0, 0, 0, 0)
        column.setSpacing(0)
        header = QWidget()
        titles = QVBoxLayout(header)
        titles.setContentsMargins(28, 14, 20, 6)
        titles.setSpacing(2)
        # One line each, cut with "…" (the whole text in the tooltip): never wider than the
        # window, whatever the title or the instructions. The title has the column's whole
        # width (beside the buttons it kept 180 pixels at 1024x700: "What must a redi…").
        self.title = ElidedLabel(UNTITLED)
        self.title.setObjectName("conversationTitle")
        self.subtitle = ElidedLabel("")
        self.subtitle.setObjectName("muted")
        titles.addWidget(self.title)
        header_row = QHBoxLayout()
        header_row.setContentsMargins(0, 0, 0, 0)
        header_row.addWidget(self.subtitle, 1)
        titles.addLayout(header_row)
        self.instructions_button = QToolButton()
        self.instructions_button.setText("Instructions…")
        self.instructions_button.setToolTip("How this conversation should answer, e.g. "
                                            "“answer as for a discharge summary”")
        self.instructions_button.clicked.connect(self._ask_system_prompt)
        self.export_button = QToolButton()
        self.export_button.setText("Export…")
        self.export_button.setToolTip("Save this conversation, with its sources, as Markdown "
                                      "or PDF")
        self.export_button.clicked.connect(lambda: self._ask_export("pdf"))
        header_row.addWidget(self.instructions_button)
        header_row.addWidget(self.export_button)

        self.banner = Banner()
        banner_box = QWidget()
        banner_row = QVBoxLayout(banner_box)
        banner_row.setContentsMargins(24, 6, 24, 0)
        banner_row.addWidget(self.banner)
        self.transcript = Transcript()
        self.transcript.empty_state.show_where(_on_servers(self.settings))
        self.documents.documents_changed.connect(
            lambda: self.transcript.empty_state.show_documents(self.documents.document_count,
                                                               self.documents.collection))
        self.composer = Composer()
        column.addWidget(header)
        column.addWidget(banner_box)
        column.addWidget(self.transcript, 1)
        column.addWidget(self.composer)

        splitter = QSplitter(Qt.Orientation.Horizontal)
        splitter.setHandleWidth(1)
        splitter.addWidget(self.sidebar)
        splitter.addWidget(center)
        splitter.addWidget(self.documents)
        splitter.setStretchFactor(1, 1)
        splitter.setSizes([240, 720, 320])
        splitter.setChildrenCollapsible(False)
        self.sidebar.setMinimumWidth(190)
        self.documents.setMinimumWidth(260)
        self.setCentralWidget(splitter)

        self.status = EnclaveStatusBar(guard, self.settings.models_dir, self.settings.model_path)
        self.setStatusBar(self.status)
        self.local_api = LocalApi(self.app, self.model)
        self.api_label = QLabel("")
        self.api_label.setObjectName("muted")
        self.api_label.setToolTip("Enclave's local API is on: programs on this computer with "
                                  "the token can ask questions (File ▸ Local API…)")
        self.api_label.setVisible(False)
        self.status.addPermanentWidget(self.api_label)
        self._menus()

    def _menus(self) -> None:
        file_menu = self.menuBar().addMenu("&File")
        self._action(file_menu, "&New conversation", QKeySequence.StandardKey.New,
                     self.new_conversation)
        file_menu.addSeparator()
        self._action(file_menu, "Export as &Markdown…", None, lambda: self._ask_export("md"))
        self._action(file_menu, "Export as &PDF…", None, lambda: self._ask_export("pdf"))
        file_menu.addSeparator()
        self._action(file_menu, "&Settings…", QKeySequence("Ctrl+,"), self.open_settings)
        self._action(file_menu, "Local &API…", None, self.open_local_api)
        self._action(file_menu, "&Models…", None, self.open_models)  # model manager (issue 20)
        file_menu.addSeparator()
        self._action(file_menu, "&Quit", QKeySequence.StandardKey.Quit, self.close)
        edit_menu = self.menuBar().addMenu("&Edit")
        self._action(edit_menu, "Type a &question", QKeySequence("Ctrl+L"), self.focus_question)
        self._action(edit_menu, "&Find a conversation", QKeySequence.StandardKey.Find,
                     self.focus_search)
        help_menu = self.menuBar().addMenu("&Help")
        self._action(help_menu, "&Keyboard shortcuts", QKeySequence("F1"),
                     self.show_shortcuts)
        self._action(help_menu, "&About Enclave", None, self.show_about)
        self.composer.edit.setToolTip("Type your question here; Ctrl+L brings you back to it "
                                      "from anywhere in the window")
        stop = QAction("Stop answering", self)
        stop.setShortcut(QKeySequence(Qt.Key.Key_Escape))
        stop.setShortcutContext(Qt.ShortcutContext.WindowShortcut)
        stop.triggered.connect(self.stop_answer)
        self.addAction(stop)

    def _action(self, menu: Any, text: str, shortcut: Any, slot: Callable[[], Any]) -> QAction:
        action = QAction(text, self)
        if shortcut is not None:
            action.setShortcut(shortcut)
        action.triggered.connect(slot)
        menu.addAction(action)
        return action

    def _connect(self) -> None:
        self.sidebar.selected.connect(self.open_conversation)
        self.sidebar.search_changed.connect(lambda _text: self.refresh_sidebar())
        self.sidebar.new_requested.connect(self.new_conversation)
        self.sidebar.rename_requested.connect(self._ask_rename)
        self.sidebar.delete_requested.connect(self._ask_delete)
        self.sidebar.export_requested.connect(self._ask_export_of)
        self.composer.send.connect(self.ask)
        self.composer.stop.connect(self.stop_answer)
        self.transcript.citation_clicked.connect(self.show_citation)
        self.documents.collection_changed.connect(self._collection_picked)
        self.documents.message.connect(lambda text: self.status.showMessage(text, 8000))
        self.status.model_chosen.connect(lambda path: self.apply_settings(model_path=path))
        self.status.settings_requested.connect(self.open_settings)
        self.status.models_requested.connect(self.open_models)
        self.model.loading.connect(self._model_loading)
        self.model.loaded.connect(self._model_loaded)
        self.model.load_failed.connect(self._model_failed)
        self.model.searching.connect(self._on_searching)
        self.model.quoted.connect(self._on_quoted)
        self.model.token.connect(self._on_token)
        self.model.finished.connect(self._on_finished)
        self.model.refused.connect(self._on_refused)
        self.model.failed.connect(self._on_failed)

    def start_background(self) -> None:
        """Called once the window is on screen: load the model and open the documents."""
        self.model.start()
        self.documents.refresh()

    def paintEvent(self, event: QPaintEvent) -> None:
        super().paintEvent(event)
        if not self._painted:
            self._painted = True
            self.first_painted.emit()

    # -- model status --------------------------------------------------------------------------
    def _model_loading(self) -> None:
        self.model_ready = False
        self.model_problem = ""
        self.banner.hide()
        self.status.show_loading(self.settings.model_path)
        self.composer.set_hint(f"Loading the model ({self.settings.model_path.name})… you can "
                               "type your question meanwhile.")

    def _model_loaded(self, status: ModelStatus) -> None:
        self.model_ready = True
        self.status.show_model(status)
        self.composer.set_hint(status.note)

    def _model_failed(self, message: str) -> None:
        self.model_ready = False
        self.model_problem = message
        self.status.show_no_model()
        self.composer.set_hint("Enclave needs a model file to answer (see above).")
        title = "Enclave cannot answer yet: the model could not be loaded"
        if not self.settings.model_path.exists():  # model manager (issue 20): no terminal needed
            from desktop.window.model_manager import NO_MODEL_TEXT

            title, message = "Enclave needs a model before it can answer", NO_MODEL_TEXT
        self.banner.show_problem(title, message,
                                 [("Models…", self.open_models), ("Settings…", self.open_settings)])

    # -- model manager (issue 20, item 6: install, import, choose and remove models) ----------
    def open_models(self) -> None:
        """The "Models" dialog (File ▸ Models…, the status bar's model menu, the no-model
        banner); "Use this model" switches models as the status bar's menu does."""
        from desktop.window.model_manager import ModelManagerDialog

        dialog = self.findChild(ModelManagerDialog)
        if dialog is None:
            dialog = ModelManagerDialog(lambda: self.settings, self, self.colors)
            dialog.model_chosen.connect(lambda path: self.apply_settings(model_path=path))
        dialog.refresh()
        if dialog.isVisible():
            dialog.raise_()  # already open behind the window: bring it forward
        dialog.show()

    # -- conversations -------------------------------------------------------------------------
    def refresh_sidebar(self) -> None:
        self.sidebar.show_conversations(self.store.conversations(self.sidebar.search_text()),
                                        self.current.id if self.current else None)

    def focus_question(self) -> None:
        self.activateWindow()
        self.composer.edit.setFocus(Qt.FocusReason.ShortcutFocusReason)

    def focus_search(self) -> None:
        self.sidebar.search.setFocus(Qt.FocusReason.ShortcutFocusReason)
        self.sidebar.search.selectAll()

    def new_conversation(self) -> None:
        self._leave_answer()
        self.current = None
        self.transcript.clear()
        self.title.setText(UNTITLED)
        self._show_subtitle()
        self.refresh_sidebar()
        self.composer.edit.setFocus()

    def open_conversation(self, conversation_id: int) -> None:
        if self.current is not None and self.current.id == conversation_id:
            return
        self._leave_answer()
        self.current = self.store.get(conversation_id)
        self.transcript.show_messages(self.store.messages(conversation_id))
        self.title.setText(self.current.title)
        self.documents.set_collection(self.current.collection)
        self._show_subtitle()
        self.refresh_sidebar()

    def _leave_answer(self) -> None:
        """Switching away stops the answer in progress; what was written so far is kept."""
        if self.pending is not None:
            self.pending.card = None
            self.model.stop()

    def _show_subtitle(self) -> None:
        collection = self.current.collection if self.current else self.documents.collection
        parts = [f"Documents: {collection}" if collection else "Model only, no documents"]
        if self.current is not None and self.current.system_prompt:
            parts.append(f"Instructions: {self.current.system_prompt}")
        self.subtitle.setText("  ·  ".join(parts))

    def rename_conversation(self, conversation_id: int, title: str) -> None:
        renamed = self.store.rename(conversation_id, title)
        if self.current is not None and self.current.id == conversation_id:
            self.current = renamed
            self.title.setText(renamed.title)
        self.refresh_sidebar()

    def delete_conversation(self, conversation_id: int) -> None:
        if self.current is not None and self.current.id == conversation_id:
            self.new_conversation()
        self.store.delete(conversation_id)
        self.refresh_sidebar()

    def set_system_prompt(self, prompt: str) -> None:
        if self.current is None:
            self.current = self.store.create(collection=self.documents.collection)
        self.current = self.store.set_system_prompt(self.current.id, prompt)
        self._show_subtitle()
        self.refresh_sidebar()

    def _collection_picked(self, name: str | None) -> None:
        if self.current is not None:
            self.current = self.store.set_collection(self.current.id, name)
        self._show_subtitle()

    def _ask_rename(self, conversation_id: int) -> None:
        title, ok = QInputDialog.getText(self, "Rename conversation", "Title:",
                                         text=self.store.get(conversation_id).title)
        if ok:
            self.rename_conversation(conversation_id, title)

    def _ask_delete(self, conversation_id: int) -> None:
        title = self.store.get(conversation_id).title
        if QMessageBox.question(self, "Delete conversation",
                                f"Delete “{title}”? This cannot be undone."
                                ) == QMessageBox.StandardButton.Yes:
            self.delete_conversation(conversation_id)

    def _ask_system_prompt(self) -> None:
        current = self.current.system_prompt if self.current else ""
        text, ok = QInputDialog.getMultiLineText(
            self, "Instructions for this conversation",
            "How should Enclave answer in this conversation?\n"
            "For example: “Answer as for a discharge summary.” Leave empty for the default.",
            current)
        if ok:
            self.set_system_prompt(text)

    # -- asking --------------------------------------------------------------------------------
    def ask(self, question: str) -> None:
        if self.pending is not None:
            return
        if self.model_problem:
            self.banner.show()
            self.status.showMessage("Enclave needs a model before it can answer.", 8000)
            self.composer.edit.setPlainText(question)
            return
        if self.current is None:
            self.current = self.store.create(collection=self.documents.collection)
        conversation = self.current
        history = self._history(conversation.id)
        self.store.add_message(conversation.id, "user", question)
        if conversation.title == UNTITLED:
            self.current = conversation = self.store.rename(conversation.id,
                                                            _title_from(question))
            self.title.setText(conversation.title)
        self.transcript.add_question(question)
        collection = conversation.collection
        use_documents = collection is not None and self.documents.available
        request = AskRequest(
            question=question, use_documents=use_documents, collection=collection,
            history=history, instructions=conversation.system_prompt,
            conversation=conversation.id, interface="window")
        card = self.transcript.add_answer()
        card.set_status("Thinking…" if self.model_ready else "Waiting for the model to load…")
        self.pending = PendingAnswer(self.model.ask(request), conversation.id, card,
                                     not use_documents)
        self.composer.set_answering(True)
        self.refresh_sidebar()

    def _history(self, conversation_id: int) -> list[ChatMessage]:
        return self.store.history(conversation_id)

    def stop_answer(self) -> None:
        if self.pending is not None:
            self.model.stop()
            if self.pending.card is not None:
                self.pending.card.set_status("Stopping…")

    def _mine(self, request_id: int) -> PendingAnswer | None:
        pending = self.pending
        return pending if pending is not None and pending.request_id == request_id else None

    def _on_searching(self, request_id: int) -> None:
        pending = self._mine(request_id)
        if pending is not None and pending.card is not None:
            pending.card.set_status("Searching your documents…")

    def _on_quoted(self, request_id: int, quote: Quote) -> None:
        pending = self._mine(request_id)
        if pending is not None and pending.card is not None:
            pending.card.set_quote(quote.to_json())

    def _on_token(self, request_id: int, piece: str) -> None:
        pending = self._mine(request_id)
        if pending is not None and pending.card is not None:
            pending.card.append(piece)

    def _on_finished(self, request_id: int, answer: Answer) -> None:
        pending = self._mine(request_id)
        if pending is None:
            return
        shown = answer.to_json()
        # Kept with the message: the quote and each sentence's check, for a restart and exports.
        stats = dict(answer.stats.to_json(), model_only=answer.model_only,
                     quote=shown["quote"], sentences=shown["sentences"],
                     model=self.settings.model_path.name)  # exports name the model
        citations = shown["citations"]
        self._save(pending, "assistant", answer.text, citations=citations, stats=stats)
        if pending.card is not None:
            note = answer.note or ("Answered from the model alone" if answer.model_only else "")
            pending.card.finish(answer.text, stats, citations, note)
        self._done()

    def _on_refused(self, request_id: int, answer: Answer) -> None:
        pending = self._mine(request_id)
        if pending is None:
            return
        self._save(pending, "assistant", answer.text, refused=True)
        if pending.card is not None:
            self.transcript.remove(pending.card)
            self.transcript.add_notice("refusal", "Not in your documents", answer.text)
        self._done()

    def _on_failed(self, request_id: int, message: str) -> None:
        pending = self._mine(request_id)
        if pending is None:
            return
        if pending.card is not None:
            self.transcript.remove(pending.card)
            self.transcript.add_notice("error", "No answer", message)
        self._done()

    def _save(self, pending: PendingAnswer, role: str, content: str, **extra: Any) -> None:
        try:
            self.store.add_message(pending.conversation_id, role, content, **extra)
        except Exception as exc:  # a full disk must not take the window down
            self.status.showMessage(str(exc), 15000)

    def _done(self) -> None:
        self.pending = None
        self.composer.set_answering(False)
        self.refresh_sidebar()
        self.answer_done.emit()

    # -- sources -------------------------------------------------------------------------------
    def show_citation(self, citation: dict[str, Any]) -> SourceViewer:
        viewer = SourceViewer(citation, self.tasks, self.colors.highlight_passage, self)
        viewer.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        # Closed (Esc, Close or the window's ×), the viewer hands the keyboard back to the
        # question box: without this nothing has the focus, or the citation does and Space
        # opens it again.
        viewer.finished.connect(lambda _result: self.focus_question())
        viewer.show()
        return viewer

    # -- help ----------------------------------------------------------------------------------
    def show_shortcuts(self) -> ShortcutsDialog:
        dialog = ShortcutsDialog(self)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.show()
        return dialog

    def show_about(self) -> AboutDialog:
        dialog = AboutDialog(self.settings, self)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.show()
        return dialog

    # -- export --------------------------------------------------------------------------------
    def export_conversation(self, conversation_id: int, path: Path, kind: str) -> Path:
        conversation = self.store.get(conversation_id)
        messages = self.store.messages(conversation_id)
        written = (write_pdf if kind == "pdf" else write_markdown)(path, conversation, messages)
        self._record("export", conversation=conversation_id, path=str(written), format=kind)
        return written

    def _ask_export(self, kind: str) -> None:
        if self.current is None:
            self.status.showMessage("Ask something first: there is nothing to export yet.", 6000)
            return
        self._ask_export_of(self.current.id, kind)

    def _ask_export_of(self, conversation_id: int, kind: str) -> None:
        title = self.store.get(conversation_id).title
        suffix, label = (".pdf", "PDF (*.pdf)") if kind == "pdf" else (".md", "Markdown (*.md)")
        safe = "".join(c if c.isalnum() or c in " -_" else "_" for c in title).strip() or "export"
        path, chosen = QFileDialog.getSaveFileName(
            self, "Export conversation", str(Path.home() / f"{safe}{suffix}"),
            f"{label};;{'Markdown (*.md)' if kind == 'pdf' else 'PDF (*.pdf)'}")
        if not path:
            return
        target = Path(path)
        if target.suffix.lower() not in (".md", ".pdf"):
            target = target.with_suffix(".pdf" if "pdf" in chosen.lower() else ".md")
        try:
            written = self.export_conversation(conversation_id, target,
                                               "pdf" if target.suffix.lower() == ".pdf" else "md")
        except OSError as exc:
            QMessageBox.warning(self, "Export failed",
                                f"The conversation could not be saved to {target}: "
                                f"{exc.strerror or exc}.")
            return
        self.status.showMessage(f"Saved {written}", 8000)

    # -- settings ------------------------------------------------------------------------------
    def open_settings(self) -> None:
        dialog = SettingsDialog(self.settings, self)
        if dialog.exec() and dialog.changes():
            self.apply_settings(**dialog.changes())

    def open_local_api(self) -> None:
        dialog = LocalApiDialog(self.local_api, self.settings.api_port, self)
        dialog.exec()
        self._after_local_api(dialog.port.value())

    def _after_local_api(self, port: int) -> None:
        address = self.local_api.address
        self.api_label.setText(f"API on {address.removeprefix('http://')}" if address else "")
        self.api_label.setVisible(address is not None)
        if address is not None and port != self.settings.api_port:
            self.apply_settings(api_port=port)

    def apply_settings(self, **changes: Any) -> None:
        try:
            new = save_settings(self.settings, **changes)
        except (SettingsError, OSError) as exc:
            QMessageBox.warning(self, "Settings not saved", str(exc))
            return
        self.settings = new
        self.app.reconfigure(new)
        if self._guard is not None:
            self._guard.allow(allowed_endpoints(new))  # the model server's, if it changed
            self.status.refresh_privacy()
        self.transcript.empty_state.show_where(_on_servers(new))
        self.transcript.empty_state.show_documents(self.documents.document_count,
                                                   self.documents.collection)
        self._record("settings_change", changes={k: str(v) for k, v in changes.items()})
        if RELOAD_KEYS & changes.keys():
            if self.pending is not None:
                self._leave_answer()
            self.model.start(new)

    # -- audit ---------------------------------------------------------------------------------
    def _record(self, kind: str, **data: Any) -> None:
        try:
            self.app.audit.record(kind, **data)
        except Exception as exc:  # the person must know their audit trail has a gap
            self.status.showMessage(f"The audit log could not be written: {exc}", 15000)

    # -- drag and drop, closing ----------------------------------------------------------------
    def dragEnterEvent(self, event: QDragEnterEvent) -> None:
        if dropped_paths(event):
            event.acceptProposedAction()

    def dropEvent(self, event: QDropEvent) -> None:
        paths = dropped_paths(event)
        if paths:
            event.acceptProposedAction()
            self.documents.add_paths(paths)

    def closeEvent(self, event: QCloseEvent) -> None:
        self.shutdown()
        super().closeEvent(event)

    def shutdown(self) -> None:
        """Stop every worker and wait for it: cancel, quit, wait."""
        if self._closed:
            return
        self._closed = True
        self.status.detach()
        self.local_api.stop()
        self.model.stop()
        self.documents.shutdown()
        self.model.shutdown()
        self.tasks.stop()
        self.app.close()
        self.store.close()


def _title_from(question: str) -> str:
    title = " ".join(question.split())
    return title if len(title) <= TITLE_LENGTH else title[: TITLE_LENGTH - 1].rstrip() + "…"


def _on_servers(settings: Settings) -> bool:
    """Whether questions or documents go to the practice's servers."""
    return settings.chat_backend == "server" or settings.index_backend == "server"
