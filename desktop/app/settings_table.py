"""Every setting Enclave has, declared once: name, type, default, range, whether the model must
be loaded again, and the help a person reads.

Derived from this table: the frozen ``Settings`` defaults and their validation
(desktop/app/settings.py), the keys a config file may set, the settings dialog's ranges and
tooltips (desktop/window/settings_dialog.py), and the installer's standard-library copy of the
keys (installer/bootstrap/settings_keys.py, written by ``python -m desktop.app.settings_table``;
a test fails when it is stale).
"""

from __future__ import annotations

import sys
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

QUESTION_LOGGING = ("full", "hashed", "off")
EMBEDDING_BACKENDS = ("onnx-int8", "torch", "torch-fp32", "onnx")


@dataclass(frozen=True)
class Setting:
    name: str
    type: type  # int, float, bool, str or list (of str)
    default: Any
    help: str
    label: str = ""
    minimum: float | None = None
    maximum: float | None = None
    choices: tuple[str, ...] | None = None
    optional: bool = False  # may be left unset (None): Enclave then decides
    reload: bool = False  # changing it means loading the model again
    step: float | None = None  # the dialog's step, where it has one
    items: str = "names"  # what a list holds, for its error message

    def check(self, value: Any) -> str | None:
        """Why ``value`` is not acceptable, in a sentence; None when it is."""
        if value is None:
            return None if self.optional else f"{self.name} must be set."
        if self.type is list:
            if not isinstance(value, list | tuple) or not all(isinstance(v, str) for v in value):
                return f"'{self.name}' must be a list of {self.items}."
            return None
        if self.type is float and isinstance(value, int) and not isinstance(value, bool):
            value = float(value)
        if not isinstance(value, self.type) or (self.type is not bool and isinstance(value, bool)):
            return f"'{self.name}' should be {self.type.__name__}, not {value!r}."
        if self.choices is not None and value not in self.choices:
            return f"'{self.name}' must be one of: {', '.join(self.choices)} (it is {value!r})."
        low, high = self.minimum, self.maximum
        number = float(value) if isinstance(value, int | float) else None
        if number is not None and ((low is not None and number < low)
                                   or (high is not None and number > high)):
            return f"'{self.name}' must be {_range_text(low, high)} (it is {value})."
        return None


def _range_text(low: float | None, high: float | None) -> str:
    if low is not None and high is not None:
        return f"between {_num(low)} and {_num(high)}"
    return f"at least {_num(low)}" if low is not None else f"at most {_num(high)}"


def _num(value: float | None) -> str:
    return f"{value:g}" if value is not None else ""


SETTINGS: tuple[Setting, ...] = (
    Setting("model_path", str, None, optional=True, reload=True, label="Model",
            help="The GGUF chat model: an absolute path, or a file name in "
                 "$ENCLAVE_HOME/models. Unset: the bundled default model."),
    Setting("context_size", int, 4096, minimum=256, maximum=131072, step=512, reload=True,
            label="Context size",
            help="How much text the model can consider at once, in tokens: larger uses more "
                 "memory."),
    Setting("gpu_layers", int, -1, minimum=-1, maximum=999, reload=True, label="GPU layers",
            help="Layers to run on the graphics card: -1 as many as fit, 0 keeps everything on "
                 "the processor."),
    Setting("threads", int, None, minimum=1, maximum=512, optional=True, reload=True,
            label="Threads",
            help="Processor threads for the model. Unset: every core of a small machine, half "
                 "the logical CPUs of a large one."),
    Setting("temperature", float, 0.2, minimum=0.0, maximum=2.0, step=0.05,
            label="Temperature",
            help="Lower is more literal and repeatable; higher is more varied."),
    Setting("max_tokens", int, 512, minimum=1, maximum=32768, step=64,
            label="Longest answer", help="The longest answer, in tokens."),
    Setting("grounded", bool, True, label="Grounded mode",
            help="Answer only from your documents: when nothing relevant is found, say so "
                 "instead of answering."),
    Setting("relevance_threshold", float, 0.25, minimum=0.0, maximum=1.0, step=0.05,
            label="Relevance threshold",
            help="How relevant a passage must be to count (0 to 1). Higher refuses more often."),
    Setting("top_k", int, 5, minimum=1, maximum=50, label="Passages per question",
            help="How many passages are given to the model with each question."),
    Setting("collection", str, "default", label="Collection",
            help="The collection (matter, patient) questions and ingests use when none is "
                 "named."),
    Setting("question_logging", str, "full", choices=QUESTION_LOGGING,
            label="Question logging",
            help="What the audit log keeps of each question: the full text, its SHA-256 only, "
                 "or nothing."),
    Setting("embedding_backend", str, "onnx-int8",
            choices=EMBEDDING_BACKENDS,
            label="Embedding engine",
            help="How documents are turned into vectors: ONNX Runtime with int8 weights (the "
                 "default: ingestion 3.5-4.3x the plain torch encoder on the benchmark machine, no "
                 "test set losing more than one question), torch (bf16 where the processor has "
                 "it, 2.5x there, else full precision), torch at full precision (the "
                 "reference), or ONNX Runtime at full precision. Changing to or from int8 "
                 "indexes documents again on their next ingest."),
    Setting("api_port", int, 4747, minimum=1024, maximum=65535, label="Local API port",
            help="The port of Enclave's OpenAI-compatible API for other programs on this "
                 "computer (enclave serve, or Local API in the window); it listens on "
                 "127.0.0.1 only."),
    Setting("ocr_languages", list, (), label="OCR languages", items="language names",
            help="The languages scans are read in, as Tesseract names them (deu, eng, fra...), "
                 "most likely first. Empty: this computer's language, then English."),
    Setting("allowed_hosts", list, (), label="Allowed hosts", items="host names",
            help="On-prem hosts Enclave may connect to besides this computer (host or "
                 "host:port)."),
    Setting("chat_backend", str, "local", choices=("local", "server"), reload=True,
            label="Model runs on",
            help="local: the model file on this computer. server: a model server the practice "
                 "runs on-prem (llama.cpp's server, vLLM, Ollama), at chat_server_url."),
    Setting("chat_server_url", str, "", reload=True, label="Model server",
            help="The on-prem model server's address, e.g. https://gpu.clinic.internal:8080; "
                 "Enclave may connect to this host and port and no other."),
    Setting("chat_server_model", str, "", reload=True, label="Server model",
            help="The model's name on the server. Empty: the only model it serves."),
    Setting("chat_server_token_file", str, None, optional=True, reload=True,
            label="Server token file",
            help="A file holding the server's access token (kept out of this settings file and "
                 "out of every log)."),
    Setting("chat_server_ca_file", str, None, optional=True, reload=True,
            label="Server CA certificate",
            help="The practice's CA certificate (PEM), for a server with its own certificate. "
                 "Unset: the certificates this computer trusts."),
    Setting("chat_server_timeout", int, 60, minimum=5, maximum=600, step=5, reload=True,
            label="Server time limit",
            help="How long to wait for the model server's next word, in seconds, before saying "
                 "it is not answering."),
    Setting("index_backend", str, "embedded", choices=("embedded", "server"), reload=True,
            label="Documents indexed on",
            help="embedded: the index lives in the data folder on this computer. server: the "
                 "practice's shared index, its vectors on a Chroma server "
                 "(index_vector_server_url) and its catalogue and keywords on PostgreSQL "
                 "(index_database_url), shared by every workstation."),
    Setting("index_vector_server_url", str, "", reload=True, label="Vector server",
            help="The practice's Chroma server, e.g. https://index.clinic.internal:8000; "
                 "Enclave may connect to this host and port."),
    Setting("index_vector_token_file", str, None, optional=True, reload=True,
            label="Vector server token file",
            help="A file holding the Chroma server's token (kept out of this settings file and "
                 "out of every log)."),
    Setting("index_database_url", str, "", reload=True, label="Document database",
            help="The practice's PostgreSQL, as postgresql://user@host:5432/database (no "
                 "password here); Enclave may connect to this host and port."),
    Setting("index_database_password_file", str, None, optional=True, reload=True,
            label="Database password file",
            help="A PostgreSQL password file (host:port:database:user:password) for that "
                 "database; unset: the server's own rules (e.g. a client certificate)."),
    Setting("index_server_ca_file", str, None, optional=True, reload=True,
            label="Index servers' CA certificate",
            help="The practice's CA certificate (PEM) that both index servers' certificates are "
                 "signed by; set, the database is reached over verified TLS."),
    Setting("reading_time_limit", int, 180, minimum=10, maximum=3600, step=30,
            label="Time limit per file",
            help="How long one file may take to read, in seconds, before it is skipped as "
                 "damaged or made to be slow (a 2,000-page PDF of text took 31 seconds on a "
                 "two-core machine); the files after it are read as usual."),
    Setting("reading_memory_limit", int, 2048, minimum=512, maximum=65536, step=256,
            label="Memory per file",
            help="How much memory reading one file may take, in MB, before it is skipped as "
                 "damaged or made to swell when opened."),
)

BY_NAME: Mapping[str, Setting] = {s.name: s for s in SETTINGS}
RELOAD_KEYS = frozenset(s.name for s in SETTINGS if s.reload)


def default(name: str) -> Any:
    return BY_NAME[name].default


def file_keys() -> dict[str, type]:
    """The keys a config.toml may set, with their TOML types."""
    return {s.name: s.type for s in SETTINGS}


def installer_copy() -> str:
    """The installer's standard-library copy of the keys and their types."""
    lines = ['"""The keys Enclave\'s config.toml accepts and their types, for the installer.',
             "",
             "Generated from desktop/app/settings_table.py by "
             "``python -m desktop.app.settings_table``",
             "(the installer runs before Enclave exists, so it cannot import it); a test fails",
             'when this copy is stale. Do not edit by hand."""',
             "",
             "from __future__ import annotations",
             "",
             "from collections.abc import Mapping",
             "",
             "SETTINGS_KEYS: Mapping[str, type] = {"]
    lines += [f'    "{s.name}": {s.type.__name__},' for s in SETTINGS]
    lines += ["}", ""]
    return "\n".join(lines)


INSTALLER_COPY = Path(__file__).resolve().parents[2] / "installer" / "bootstrap" / \
    "settings_keys.py"

if __name__ == "__main__":
    INSTALLER_COPY.write_text(installer_copy(), encoding="utf-8")
    print(f"wrote {INSTALLER_COPY}")
    sys.exit(0)
