"""The settings a person may change from the window; saved with save_settings()."""

from __future__ import annotations

import os
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
    QPushButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from desktop.settings import Settings
from models.registry import ModelInfo, scan

# Changing these means loading the model again.
RELOAD_KEYS = frozenset({"model_path", "gpu_layers", "context_size"})


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


class SettingsDialog(QDialog):
    def __init__(self, settings: Settings, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Settings")
        self.setMinimumWidth(560)
        self.settings = settings
        layout = QVBoxLayout(self)
        layout.setContentsMargins(20, 18, 20, 14)
        layout.setSpacing(12)
        form = QFormLayout()
        form.setSpacing(10)

        self.model = QComboBox()
        self.model.setEditable(False)
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

        self.gpu_layers = QSpinBox()
        self.gpu_layers.setRange(-1, 999)
        self.gpu_layers.setSpecialValueText("All (when a GPU is available)")
        self.gpu_layers.setValue(settings.gpu_layers)
        self.gpu_layers.setToolTip("Layers to run on the graphics card; 0 keeps everything on "
                                   "the processor.")
        form.addRow("GPU layers", self.gpu_layers)

        self.context_size = QSpinBox()
        self.context_size.setRange(256, 131072)
        self.context_size.setSingleStep(512)
        self.context_size.setSuffix(" tokens")
        self.context_size.setValue(settings.context_size)
        self.context_size.setToolTip("How much text the model can consider at once: "
                                     "larger uses more memory.")
        form.addRow("Context size", self.context_size)

        self.temperature = QDoubleSpinBox()
        self.temperature.setRange(0.0, 2.0)
        self.temperature.setSingleStep(0.05)
        self.temperature.setDecimals(2)
        self.temperature.setValue(settings.temperature)
        self.temperature.setToolTip("Lower is more literal and repeatable; higher is more varied.")
        form.addRow("Temperature", self.temperature)

        self.grounded = QCheckBox("Answer only from my documents")
        self.grounded.setChecked(settings.grounded)
        self.grounded.setToolTip("When nothing relevant is found, say so instead of answering.")
        form.addRow("Grounded mode", self.grounded)

        self.threshold = QDoubleSpinBox()
        self.threshold.setRange(0.0, 1.0)
        self.threshold.setSingleStep(0.05)
        self.threshold.setDecimals(2)
        self.threshold.setValue(settings.relevance_threshold)
        self.threshold.setToolTip("How relevant a passage must be to count (0 to 1). Higher "
                                  "refuses more often.")
        self.grounded.toggled.connect(self.threshold.setEnabled)
        self.threshold.setEnabled(settings.grounded)
        form.addRow("Relevance threshold", self.threshold)

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
        }
        return {k: v for k, v in wanted.items() if getattr(self.settings, k) != v}
