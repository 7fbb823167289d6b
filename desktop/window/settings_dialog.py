"""The settings a person may change from the window; saved with save_settings()."""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any

from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QDoubleSpinBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QMessageBox,
    QPushButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from desktop.app.settings import Settings
from desktop.app.settings_table import BY_NAME
from desktop.window.elided_combo_box import ElidedComboBox
from models.registry import ModelInfo, scan
from rag.index_servers import VectorServer
from rag.postgres import DatabaseOptions, IndexServerError


def model_choice_label(info: ModelInfo) -> str:
    # The file name is what a person chose and recognises; GGUF names are often cryptic.
    label = info.path.stem
    if info.quantization.lower() not in label.lower():
        label += f" · {info.quantization}"
    return f"{label} · {format_size(info.size_bytes)}"


def format_size(size: int) -> str:
    if size >= 1 << 30:
        return f"{size / (1 << 30):.1f} GB"
    return f"{size / (1 << 20):.0f} MB"


def _spin_box(name: str, value: int) -> QSpinBox:
    setting = BY_NAME[name]
    box = QSpinBox()
    box.setRange(int(setting.minimum if setting.minimum is not None else -2**31),
                 int(setting.maximum if setting.maximum is not None else 2**31 - 1))
    if setting.step:
        box.setSingleStep(int(setting.step))
    box.setValue(value)
    box.setToolTip(setting.help)
    return box


def _double_box(name: str, value: float) -> QDoubleSpinBox:
    setting = BY_NAME[name]
    box = QDoubleSpinBox()
    box.setRange(setting.minimum or 0.0, setting.maximum if setting.maximum is not None else 1e9)
    box.setSingleStep(setting.step or 0.1)
    box.setDecimals(2)
    box.setValue(value)
    box.setToolTip(setting.help)
    return box


class SettingsDialog(QDialog):
    def __init__(self, settings: Settings, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Settings")
        self.setMinimumWidth(600)
        self.settings = settings
        layout = QVBoxLayout(self)
        layout.setContentsMargins(20, 18, 20, 14)
        layout.setSpacing(12)
        form = QFormLayout()
        form.setSpacing(10)

        self.model = ElidedComboBox()
        for info in scan(settings.models_dir, extra=(settings.model_path,)):
            self.model.addItem(model_choice_label(info), str(info.path))
        if self.model.findData(str(settings.model_path)) < 0:
            self.model.addItem(f"{settings.model_path.name}  (file not found)",
                               str(settings.model_path))
        self.model.setCurrentIndex(self.model.findData(str(settings.model_path)))
        browse = QPushButton("Choose file…")
        browse.clicked.connect(self._browse)
        model_row = QHBoxLayout()
        model_row.addWidget(self.model, 1)
        model_row.addWidget(browse)
        form.addRow("Model", model_row)
        if os.environ.get("ENCLAVE_MODEL"):
            note = QLabel("ENCLAVE_MODEL is set for this session; it wins over the model saved "
                          "here when Enclave starts.")
            note.setObjectName("muted")
            note.setWordWrap(True)
            form.addRow("", note)

        # Where the model runs: this computer, or the practice's own model server.
        self.runs_on = QComboBox()
        self.runs_on.addItem("This computer", "local")
        self.runs_on.addItem("The practice's model server", "server")
        self.runs_on.setCurrentIndex(self.runs_on.findData(settings.chat_backend))
        self.runs_on.setToolTip(BY_NAME["chat_backend"].help)
        form.insertRow(0, BY_NAME["chat_backend"].label, self.runs_on)
        self.server_url = QLineEdit(settings.chat_server_url)
        self.server_url.setPlaceholderText("https://gpu.clinic.internal:8080")
        self.server_url.setToolTip(BY_NAME["chat_server_url"].help + " The token file and the "
                                   "CA certificate are set in the settings file by IT.")
        form.addRow(BY_NAME["chat_server_url"].label, self.server_url)
        self.server_model = QLineEdit(settings.chat_server_model)
        self.server_model.setPlaceholderText("The only model the server serves")
        self.server_model.setToolTip(BY_NAME["chat_server_model"].help)
        form.addRow(BY_NAME["chat_server_model"].label, self.server_model)
        self.runs_on.currentIndexChanged.connect(self._show_where_it_runs)
        self._model_widgets = (self.model, browse)
        self._show_where_it_runs()

        # Where the documents are indexed: this computer, or the practice's shared index.
        self.index_on = QComboBox()
        self.index_on.addItem("This computer", "embedded")
        self.index_on.addItem("The practice's shared index", "server")
        self.index_on.setCurrentIndex(self.index_on.findData(settings.index_backend))
        self.index_on.setToolTip(BY_NAME["index_backend"].help)
        form.addRow(BY_NAME["index_backend"].label, self.index_on)
        secrets = (" The token and password files and the CA certificate are set in the "
                   "settings file by IT.")
        self.vector_server_url = QLineEdit(settings.index_vector_server_url)
        self.vector_server_url.setPlaceholderText("https://index.clinic.internal:8000")
        self.vector_server_url.setToolTip(BY_NAME["index_vector_server_url"].help + secrets)
        form.addRow(BY_NAME["index_vector_server_url"].label, self.vector_server_url)
        self.database_url = QLineEdit(settings.index_database_url)
        self.database_url.setPlaceholderText("postgresql://enclave@db.clinic.internal:5432/"
                                             "enclave")
        self.database_url.setToolTip(BY_NAME["index_database_url"].help + secrets)
        form.addRow(BY_NAME["index_database_url"].label, self.database_url)
        self.index_on.currentIndexChanged.connect(self._show_where_documents_are)
        self._show_where_documents_are()

        # Ranges, steps, labels and help come from the one settings table.
        self.gpu_layers = _spin_box("gpu_layers", settings.gpu_layers)
        self.gpu_layers.setSpecialValueText("All (when a GPU is available)")
        form.addRow(BY_NAME["gpu_layers"].label, self.gpu_layers)

        self.context_size = _spin_box("context_size", settings.context_size)
        self.context_size.setSuffix(" tokens")
        form.addRow(BY_NAME["context_size"].label, self.context_size)

        self.temperature = _double_box("temperature", settings.temperature)
        form.addRow(BY_NAME["temperature"].label, self.temperature)

        self.grounded = QCheckBox("Answer only from my documents")
        self.grounded.setChecked(settings.grounded)
        self.grounded.setToolTip(BY_NAME["grounded"].help)
        form.addRow(BY_NAME["grounded"].label, self.grounded)

        self.threshold = _double_box("relevance_threshold", settings.relevance_threshold)
        self.grounded.toggled.connect(self.threshold.setEnabled)
        self.threshold.setEnabled(settings.grounded)
        form.addRow(BY_NAME["relevance_threshold"].label, self.threshold)

        self.ocr_languages = QLineEdit("+".join(settings.ocr_languages))
        self.ocr_languages.setPlaceholderText("Automatic: this computer's language, then "
                                              "English")
        self.ocr_languages.setToolTip(BY_NAME["ocr_languages"].help + " Separate them with +, "
                                      "for example deu+eng.")
        form.addRow(BY_NAME["ocr_languages"].label, self.ocr_languages)

        self.reading_time_limit = _spin_box("reading_time_limit", settings.reading_time_limit)
        self.reading_time_limit.setSuffix(" s")
        form.addRow(BY_NAME["reading_time_limit"].label, self.reading_time_limit)

        layout.addLayout(form)
        saved = QLabel(f"Saved in {settings.config_path}")
        saved.setObjectName("muted")
        saved.setWordWrap(True)
        layout.addWidget(saved)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Save
                                   | QDialogButtonBox.StandardButton.Cancel)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        layout.addWidget(buttons)

    def accept(self) -> None:
        """Saves nothing that cannot work, nor a password into the settings file."""
        problem = self.problem()
        if problem is not None:
            QMessageBox.warning(self, "Settings not saved", problem)
            return
        super().accept()

    def problem(self) -> str | None:
        """Why these settings cannot be saved, in words; None when they can."""
        if self.index_on.currentData() != "server":
            return None
        vectors, database = self.vector_server_url.text().strip(), self.database_url.text().strip()
        if not vectors or not database:
            return ("The shared index needs both addresses: the vector server's and the "
                    "document database's. Ask IT for them.")
        try:
            VectorServer(vectors).endpoint()
            DatabaseOptions(database).endpoint()
        except IndexServerError as exc:
            return str(exc)
        return None

    def _show_where_it_runs(self) -> None:
        on_server = self.runs_on.currentData() == "server"
        for widget in self._model_widgets:
            widget.setEnabled(not on_server)
        self.server_url.setEnabled(on_server)
        self.server_model.setEnabled(on_server)

    def _show_where_documents_are(self) -> None:
        shared = self.index_on.currentData() == "server"
        self.vector_server_url.setEnabled(shared)
        self.database_url.setEnabled(shared)

    def _browse(self) -> None:
        start = str(self.settings.models_dir if self.settings.models_dir.is_dir() else Path.home())
        path, _ = QFileDialog.getOpenFileName(self, "Choose a model file", start,
                                              "GGUF models (*.gguf)")
        if path:
            self.choose_model(Path(path))

    def choose_model(self, path: Path) -> None:
        index = self.model.findData(str(path))
        if index < 0:
            self.model.addItem(path.name, str(path))
            index = self.model.count() - 1
        self.model.setCurrentIndex(index)

    def changes(self) -> dict[str, Any]:
        """Only what differs from the current settings."""
        wanted: dict[str, Any] = {
            "model_path": Path(self.model.currentData()),
            "gpu_layers": self.gpu_layers.value(),
            "context_size": self.context_size.value(),
            "temperature": round(self.temperature.value(), 2),
            "grounded": self.grounded.isChecked(),
            "relevance_threshold": round(self.threshold.value(), 2),
            "ocr_languages": tuple(dict.fromkeys(
                part for part in re.split(r"[+,\s]+", self.ocr_languages.text().strip().lower())
                if part)),
            "reading_time_limit": self.reading_time_limit.value(),
            "chat_backend": self.runs_on.currentData(),
            "chat_server_url": self.server_url.text().strip(),
            "chat_server_model": self.server_model.text().strip(),
            "index_backend": self.index_on.currentData(),
            "index_vector_server_url": self.vector_server_url.text().strip(),
            "index_database_url": self.database_url.text().strip(),
        }
        return {k: v for k, v in wanted.items() if getattr(self.settings, k) != v}
