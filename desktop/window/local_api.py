"""The window's Local API: start and stop ``desktop/api``'s server from the File menu, see its
address and token. Off by default; it serves the window's own model (the same thread, so the
window's questions and other programs' wait their turn together) and stops with the window."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from desktop.api.server import ApiServer, ApiService
from desktop.api.token import load_or_create_token
from desktop.app.application import Application
from desktop.app.settings_table import BY_NAME
from desktop.window.model_worker import ModelWorker

EXPLANATION = (
    "Lets other programs on this computer (a dictation tool, a word-processor add-in, a "
    "script) use Enclave's model and your collections, in the OpenAI format. It listens on "
    "this computer only (127.0.0.1), every request needs the token below, and every request "
    "is written to the audit log.")


class LocalApi:
    """The server the window runs, if any."""

    def __init__(self, app: Application, worker: ModelWorker) -> None:
        self._app = app
        self._worker = worker
        self._server: ApiServer | None = None

    @property
    def token(self) -> str:
        return load_or_create_token(self._app.settings.home)

    @property
    def address(self) -> str | None:
        return self._server.address if self._server is not None else None

    def start(self, port: int) -> str:
        """Listen on 127.0.0.1:``port``; the address, or OSError saying why not."""
        if self._server is not None:
            return self._server.address
        service = ApiService(self._app, self._worker.shared_model(), self.token)
        server = ApiServer(service, "127.0.0.1", port)
        address = server.start()
        self._server = server
        return address

    def stop(self) -> None:
        server, self._server = self._server, None
        if server is not None:
            server.stop()


class LocalApiDialog(QDialog):
    def __init__(self, api: LocalApi, port: int, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.api = api
        self.setWindowTitle("Local API")
        self.setMinimumWidth(560)
        layout = QVBoxLayout(self)
        explanation = QLabel(EXPLANATION)
        explanation.setWordWrap(True)
        layout.addWidget(explanation)
        form = QFormLayout()
        self.state = QLabel()
        self.state.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        form.addRow("Status", self.state)
        setting = BY_NAME["api_port"]
        self.port = QSpinBox()
        self.port.setRange(int(setting.minimum or 1024), int(setting.maximum or 65535))
        self.port.setValue(port)
        self.port.setToolTip(setting.help)
        form.addRow("Port", self.port)
        self.token = QLineEdit(api.token)
        self.token.setReadOnly(True)
        self.token.setEchoMode(QLineEdit.EchoMode.Password)
        show = QPushButton("Show")
        show.setCheckable(True)
        show.toggled.connect(lambda on: self.token.setEchoMode(
            QLineEdit.EchoMode.Normal if on else QLineEdit.EchoMode.Password))
        copy = QPushButton("Copy")
        copy.clicked.connect(lambda: QGuiApplication.clipboard().setText(self.token.text()))
        token_row = QHBoxLayout()
        token_row.addWidget(self.token, 1)
        token_row.addWidget(show)
        token_row.addWidget(copy)
        form.addRow("Token", token_row)
        layout.addLayout(form)
        self.problem = QLabel()
        self.problem.setObjectName("errorText")
        self.problem.setWordWrap(True)
        layout.addWidget(self.problem)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        self.toggle = QPushButton()
        buttons.addButton(self.toggle, QDialogButtonBox.ButtonRole.ActionRole)
        buttons.rejected.connect(self.reject)
        self.toggle.clicked.connect(self._toggle)
        layout.addWidget(buttons)
        self._show_state()

    def _toggle(self) -> None:
        self.problem.setText("")
        if self.api.address is not None:
            self.api.stop()
        else:
            try:
                self.api.start(self.port.value())
            except OSError as exc:
                self.problem.setText(str(exc))
        self._show_state()

    def _show_state(self) -> None:
        address = self.api.address
        if address is None:
            self.state.setText("Off: no program can reach Enclave.")
            self.toggle.setText("Start")
        else:
            self.state.setText(f"On at {address}")
            self.toggle.setText("Stop")
        self.port.setEnabled(address is None)
