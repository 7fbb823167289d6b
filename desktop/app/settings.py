"""The one typed, frozen settings object, loaded once at start-up and passed down.

Sources, later ones winning: built-in defaults, ``$ENCLAVE_HOME/config.toml``, then the
environment (``ENCLAVE_HOME`` for the data directory, ``ENCLAVE_MODEL`` for the model file).
Defaults, types, ranges and help come from the one settings table (desktop/app/settings_table.py).
"""

from __future__ import annotations

import dataclasses
import os
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import platformdirs

from desktop.app.settings_table import BY_NAME, SETTINGS, default, file_keys

DEFAULT_MODEL_FILE = "SmolLM2-135M-Instruct.Q4_1.gguf"
CONFIG_FILE = "config.toml"


class SettingsError(ValueError):
    """A configuration value a person has to fix; the message says which and how."""


@dataclass(frozen=True)
class Settings:
    home: Path
    model_path: Path
    context_size: int = default("context_size")
    gpu_layers: int = default("gpu_layers")  # -1: as many layers as fit on the GPU
    threads: int | None = default("threads")  # None: Enclave picks from the cores
    temperature: float = default("temperature")
    max_tokens: int = default("max_tokens")
    grounded: bool = default("grounded")
    relevance_threshold: float = default("relevance_threshold")
    top_k: int = default("top_k")
    collection: str = default("collection")
    question_logging: str = default("question_logging")  # full | hashed | off (audit log)
    embedding_backend: str = default("embedding_backend")  # onnx-int8 | torch | torch-fp32 | onnx
    api_port: int = default("api_port")  # enclave serve, on 127.0.0.1
    # Tesseract's names ("deu", "eng"); empty: the system's language and English (rag/ocr.py).
    ocr_languages: tuple[str, ...] = field(default_factory=tuple)
    allowed_hosts: tuple[str, ...] = field(default_factory=tuple)
    chat_backend: str = default("chat_backend")  # local | server (an on-prem model server)
    chat_server_url: str = default("chat_server_url")
    chat_server_model: str = default("chat_server_model")
    chat_server_token_file: str | None = default("chat_server_token_file")
    chat_server_ca_file: str | None = default("chat_server_ca_file")
    chat_server_timeout: int = default("chat_server_timeout")  # seconds
    index_backend: str = default("index_backend")  # embedded | server (shared servers)
    index_vector_server_url: str = default("index_vector_server_url")
    index_vector_token_file: str | None = default("index_vector_token_file")
    index_database_url: str = default("index_database_url")
    index_database_password_file: str | None = default("index_database_password_file")
    index_server_ca_file: str | None = default("index_server_ca_file")
    reading_time_limit: int = default("reading_time_limit")  # seconds per file (ingest)
    reading_memory_limit: int = default("reading_memory_limit")  # MB per file (ingest)

    @property
    def models_dir(self) -> Path:
        return self.home / "models"

    @property
    def index_dir(self) -> Path:
        return self.home / "index"

    @property
    def config_path(self) -> Path:
        return self.home / CONFIG_FILE

    def replace(self, **changes: Any) -> Settings:
        return dataclasses.replace(self, **changes)


LIST_KEYS = frozenset(s.name for s in SETTINGS if s.type is list)
# Keys a config file may set, with the type each must have.
_FILE_KEYS: Mapping[str, type] = file_keys()


def default_home() -> Path:
    return Path(platformdirs.user_data_dir("enclave", appauthor=False))


def load_settings(environ: Mapping[str, str] | None = None) -> Settings:
    env = os.environ if environ is None else environ
    home = Path(env.get("ENCLAVE_HOME") or default_home()).expanduser().resolve()
    values: dict[str, Any] = {}
    config_path = home / CONFIG_FILE
    if config_path.is_file():
        values.update(_read_config(config_path))
    model = env.get("ENCLAVE_MODEL") or values.pop("model_path", None)
    values.pop("model_path", None)
    model_path = Path(model).expanduser() if model else home / "models" / DEFAULT_MODEL_FILE
    if not model_path.is_absolute():
        # Models are loaded from absolute local paths only: resolve relative ones against the
        # data directory's model folder, never against a hub or a search path.
        model_path = (home / "models" / model_path).resolve()
    for key in LIST_KEYS & values.keys():
        values[key] = tuple(str(h) for h in values[key])
    settings = Settings(home=home, model_path=model_path, **values)
    _validate(settings)
    if not home.exists():
        # Created private on first use: it will hold documents' text and people's questions.
        # Another Enclave started at the same moment (the window and a CLI ingest) may create it
        # between the check and here; that is not an error.
        home.mkdir(mode=0o700, parents=True, exist_ok=True)
    return settings


def _read_config(path: Path) -> dict[str, Any]:
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise SettingsError(f"The settings file {path} cannot be read ({exc}). "
                            "Fix it or delete it to go back to the defaults.") from exc
    values: dict[str, Any] = {}
    for key, value in raw.items():
        setting = BY_NAME.get(key)
        if setting is None:
            continue  # unknown keys are ignored so an older Enclave can read a newer file
        if setting.type is float and isinstance(value, int) and not isinstance(value, bool):
            value = float(value)
        problem = setting.check(value)
        if problem is not None:
            raise SettingsError(f"In {path}, {problem} Fix it or delete the line to go back "
                                "to the default.")
        values[key] = value
    return values


def _validate(s: Settings) -> None:
    """Every value within its range, as the settings table says; the message names the key."""
    for setting in SETTINGS:
        if setting.name == "model_path":
            continue
        value = getattr(s, setting.name)
        if setting.type is list:
            value = list(value)
        problem = setting.check(value)
        if problem is not None:
            raise SettingsError(problem)
    if s.chat_backend == "server" and not s.chat_server_url:
        raise SettingsError("'chat_backend' is server but 'chat_server_url' is not set: set it "
                            "to the model server's address, or set chat_backend to local.")
    if s.index_backend == "server" and not (s.index_vector_server_url and s.index_database_url):
        raise SettingsError("'index_backend' is server but 'index_vector_server_url' or "
                            "'index_database_url' is not set: set both to the practice's index "
                            "servers, or set index_backend to embedded.")


def save_settings(settings: Settings, **changes: Any) -> Settings:
    """Validate, then write the changed keys to the config file (keeping the others)."""
    for key in changes:
        if key not in _FILE_KEYS:
            raise SettingsError(f"'{key}' is not a setting Enclave can save.")
    updated: dict[str, Any] = {}
    for key, value in changes.items():
        if key == "model_path":
            value = Path(value)
        elif key in LIST_KEYS:
            value = tuple(str(h) for h in value)
        updated[key] = value
    new = settings.replace(**updated)
    _validate(new)  # a bad value never reaches the file
    path = settings.config_path
    current = _read_config(path) if path.is_file() else {}
    for key, value in updated.items():
        current[key] = str(value) if isinstance(value, Path) else value
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(_to_toml(current), encoding="utf-8")
    os.replace(tmp, path)  # atomic: a crash never leaves half a settings file
    return new


def _to_toml(values: Mapping[str, Any]) -> str:
    lines = []
    for key, value in sorted(values.items()):
        lines.append(f"{key} = {_toml_value(value)}")
    return "\n".join(lines) + "\n"


def _toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, list | tuple):
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    escaped = str(value).replace("\\", "\\\\").replace('"', '\\"')
    return f'"{escaped}"'
