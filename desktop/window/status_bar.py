"""The status bar: which model answers (size, backend), and that Enclave is offline (or reaches
only the on-prem servers IT configured)."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QObject, Signal
from PySide6.QtWidgets import QLabel, QMenu, QStatusBar, QToolButton

from desktop.egress.guard import BlockedAttempt, EgressGuard
from desktop.window.model_worker import ModelStatus
from desktop.window.settings_dialog import format_size, model_choice_label
from models.provisioning import DEFAULT_MODEL_FILE
from models.registry import scan


def privacy_text(blocked: int | None, allowed: tuple[str, ...] = ()) -> str:
    """"Offline", or, when IT allowed on-prem servers (the model server), that only those are
    reached: a compliance officer must not read "Offline" on a workstation that talks to one."""
    if blocked is None:
        return "Offline · network guard not active"
    where = "On-prem servers only" if allowed else "Offline"
    return f"{where} · {blocked} network attempt{'s' * (blocked != 1)} blocked"


def privacy_tip(allowed: tuple[str, ...]) -> str:
    if not allowed:
        return ("Enclave refuses every connection that would leave this computer. This counts "
                "the attempts refused since it started.")
    return ("Enclave refuses every connection that would leave this computer, except to the "
            f"on-prem servers IT configured: {', '.join(allowed)}. This counts the attempts "
            "refused since it started.")


class _BlockedRelay(QObject):
    """The guard calls back on whichever thread tried the network; Qt queues it to us."""

    blocked = Signal()


class EnclaveStatusBar(QStatusBar):
    model_chosen = Signal(Path)
    settings_requested = Signal()
    models_requested = Signal()  # open the "Models" dialog (install, import, remove)

    def __init__(self, guard: EgressGuard | None, models_dir: Path, current_model: Path) -> None:
        super().__init__()
        self.setSizeGripEnabled(False)
        self._models_dir = models_dir
        self._current_model = current_model
        self.model_button = QToolButton()
        self.model_button.setPopupMode(QToolButton.ToolButtonPopupMode.InstantPopup)
        self.model_button.setToolTip("The model answering your questions; click to choose "
                                     "another")
        self.model_menu = QMenu(self)
        self.model_menu.aboutToShow.connect(self._fill_model_menu)
        self.model_button.setMenu(self.model_menu)
        self.model_button.setText("Model: loading…")
        self.addWidget(self.model_button)
        self.privacy = QLabel()
        self.addPermanentWidget(self.privacy)
        self._guard = guard
        self._relay = _BlockedRelay(self)
        self._relay.blocked.connect(self.refresh_privacy)
        if guard is not None:
            guard.on_blocked.append(self._on_blocked)
        self.refresh_privacy()

    def _on_blocked(self, _attempt: BlockedAttempt) -> None:
        self._relay.blocked.emit()

    def detach(self) -> None:
        """Stop listening to the guard (the window is closing)."""
        if self._guard is not None and self._on_blocked in self._guard.on_blocked:
            self._guard.on_blocked.remove(self._on_blocked)

    def refresh_privacy(self) -> None:
        count = self._guard.blocked_count if self._guard is not None else None
        allowed = tuple(sorted(self._guard.allowed_hosts)) if self._guard is not None else ()
        self.privacy.setText(("● " if count == 0 else "⚠ ") + privacy_text(count, allowed))
        self.privacy.setToolTip(privacy_tip(allowed))

    def show_loading(self, path: Path) -> None:
        self._current_model = path
        self.model_button.setText(f"Loading {path.name}…")

    def show_model(self, status: ModelStatus) -> None:
        if status.on_server:
            self.model_button.setText(f"Model: {status.name} · {status.backend}  ▾")
            self.model_button.setToolTip(f"{status.name}\n{status.note}\n"
                                         "Change it in Settings.")
            return
        self._current_model = status.path
        # The file name is what the person chose and recognises; GGUF names are often cryptic.
        label = status.path.stem
        if status.quantization.lower() not in label.lower():
            label += f" · {status.quantization}"
        if status.path.name == DEFAULT_MODEL_FILE:
            label += " · small demonstration model"
        self.model_button.setText(f"Model: {label} · {format_size(status.size_bytes)} · "
                                  f"{status.backend}  ▾")
        tip = f"{status.name}\n{status.path}\nRunning on: {status.backend}"
        if status.note:
            tip += f"\n{status.note}"
        self.model_button.setToolTip(tip + "\nClick to choose another model.")

    def show_no_model(self) -> None:
        self.model_button.setText("No model loaded  ▾")

    def _fill_model_menu(self) -> None:
        self.model_menu.clear()
        found = scan(self._models_dir, extra=(self._current_model,))
        if not found:
            action = self.model_menu.addAction("No model is installed yet")
            action.setEnabled(False)
        for info in found:
            action = self.model_menu.addAction(model_choice_label(info))
            action.setCheckable(True)
            action.setChecked(info.path == self._current_model.resolve())
            action.triggered.connect(lambda _=False, p=info.path: self.model_chosen.emit(p))
        self.model_menu.addSeparator()
        self.model_menu.addAction("Models… (install, import, remove)",
                                  self.models_requested.emit)
        self.model_menu.addAction("Settings…", self.settings_requested.emit)
