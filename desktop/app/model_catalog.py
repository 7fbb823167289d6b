"""The models a person can use, and putting new ones in place: the model manager's logic.

Qt-free, so the window's "Models" dialog and ``enclave models`` say and do the same. Listing
reads GGUF headers only (a few KB a file). Installing the included model and importing a GGUF
from a folder or USB stick share one copy: read once, hashing as it goes, into a hidden temporary
file in the models folder, renamed to its real name only when the SHA-256 is right; a refusal, a
cancel or a crash leaves nothing half-copied under a model's name.
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import tempfile
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from installer.doctor import RUNTIME_OVERHEAD_BYTES, available_memory_bytes, model_memory_bytes
from models import provisioning
from models.errors import ModelError
from models.gguf_metadata import GGUFFormatError, is_gguf, read_metadata
from models.registry import ModelInfo, describe, scan

GB = 1 << 30
CHUNK = 4 << 20
DEMO_LABEL = ("SmolLM2 135M — small demonstration model: fast, but its answers are often "
              "wrong; for real work import a larger model")
PARTIAL_PREFIX = ".import-"  # hidden and not *.gguf: never listed, never loaded

Progress = Callable[[int, int], None]  # bytes done, bytes in all
MemoryProbe = Callable[[], int | None]


class ImportRefused(ModelError):
    """A model file was not put in place; the message says why in plain words."""


@dataclass(frozen=True)
class MemoryFit:
    needed_bytes: int | None  # the weights and the context's cache, without Enclave itself
    available_bytes: int | None

    @property
    def fits(self) -> bool | None:
        if self.needed_bytes is None or self.available_bytes is None:
            return None
        return self.available_bytes >= self.needed_bytes + RUNTIME_OVERHEAD_BYTES

    def text(self) -> str:
        if self.needed_bytes is None:
            return "Memory needed: unknown (the file does not say enough about itself)"
        need = f"about {gigabytes(self.needed_bytes)}"
        if self.available_bytes is None:
            return f"Needs {need} of memory; this computer's free memory could not be read"
        if self.fits:
            return (f"Fits this computer's memory (needs {need}; "
                    f"{gigabytes(self.available_bytes)} free)")
        return (f"Needs {need}, this computer has {gigabytes(self.available_bytes)} free: "
                "close other programs or choose a smaller model")


@dataclass(frozen=True)
class CatalogEntry:
    info: ModelInfo
    licence: str | None
    is_default: bool  # the small demonstration model shipped with Enclave
    in_use: bool
    removable: bool  # imported into the models folder, and not the one in use
    memory: MemoryFit

    @property
    def title(self) -> str:
        return DEMO_LABEL if self.is_default else self.info.name

    def licence_text(self) -> str:
        return self.licence or "not stated in the file (check it before use)"

    def details(self) -> str:
        context = (f"reads up to {self.info.context_length:,} tokens"
                   if self.info.context_length else "context length not stated")
        return (f"{self.info.path.name} · {size_text(self.info.size_bytes)} · "
                f"{self.info.quantization} · {context}")


@dataclass(frozen=True)
class Imported:
    path: Path
    sha256: str
    size_bytes: int
    checked: bool  # an expected SHA-256 was given and matched


def gigabytes(size: int) -> str:
    return f"{size / GB:.1f} GB"


def size_text(size: int) -> str:
    return gigabytes(size) if size >= GB else f"{size / (1 << 20):.0f} MB"


def default_model_target(models_dir: Path) -> Path:
    return models_dir / provisioning.DEFAULT_MODEL_FILE


def default_installed(models_dir: Path) -> bool:
    return default_model_target(models_dir).is_file()


def entries(models_dir: Path, current_model: Path, context_size: int,
            available: MemoryProbe = available_memory_bytes) -> list[CatalogEntry]:
    """Every usable GGUF in the models folder, plus the one the settings name; in use first."""
    free = available()
    current = current_model.resolve()
    folder = models_dir.resolve()
    found = []
    for info in scan(models_dir, extra=(current_model,)):
        is_default = info.path.name == provisioning.DEFAULT_MODEL_FILE
        in_use = info.path == current
        found.append(CatalogEntry(
            info=info,
            licence=provisioning.DEFAULT_MODEL_LICENSE if is_default else _licence(info.path),
            is_default=is_default,
            in_use=in_use,
            removable=info.path.parent == folder and not is_default and not in_use,
            memory=MemoryFit(model_memory_bytes(info.path, context_size), free),
        ))
    # The one answering first: it is what the person looks for when they open the list.
    return sorted(found, key=lambda e: (not e.in_use, e.info.name.lower()))


def _licence(path: Path) -> str | None:
    try:
        licence = read_metadata(path).get("general.license")
    except (GGUFFormatError, OSError):
        return None
    return str(licence) if licence else None


def normalise_sha256(text: str) -> str | None:
    """The hex digest from what a person pasted ("SHA256: AB12…", spaces); None when empty."""
    cleaned = re.sub(r"\s+", "", text).lower().removeprefix("sha256:").removeprefix("sha-256:")
    if not cleaned:
        return None
    if not re.fullmatch(r"[0-9a-f]{64}", cleaned):
        raise ImportRefused("The expected SHA-256 must be 64 characters, 0-9 and a-f, as "
                            "published with the model.")
    return cleaned


def check_model_file(source: Path) -> ModelInfo:
    """Refuse, in plain words, anything that is not a readable GGUF model file."""
    if not source.is_file():
        raise ImportRefused(f"There is no file at {source}.")
    try:
        return describe(source)
    except GGUFFormatError as exc:
        if not is_gguf(source):
            raise ImportRefused(f"“{source.name}” is not a model file Enclave can use. Enclave "
                                "uses GGUF model files (ending in .gguf).") from exc
        raise ImportRefused(f"“{source.name}” is a GGUF model file, but a damaged one: {exc}. "
                            "Copy it again from the original.") from exc
    except OSError as exc:
        raise ImportRefused(f"“{source.name}” cannot be read ({exc.strerror or exc}). If it "
                            "is on a USB stick, check that the stick is still plugged in.") from exc


def import_model(source: Path, models_dir: Path, expected_sha256: str | None = None,
                 progress: Progress | None = None, cancel: threading.Event | None = None,
                 name: str | None = None) -> Imported:
    """Copy a GGUF into the models folder, checking its SHA-256 on the way; all or nothing."""
    check_model_file(source)
    expected = normalise_sha256(expected_sha256) if expected_sha256 else None
    target = models_dir / (name or _gguf_name(source))
    if target.exists():
        raise ImportRefused(f"The models folder already has a file called “{target.name}”. "
                            "Rename the new file first, or remove the old one.")
    models_dir.mkdir(parents=True, exist_ok=True)
    size = source.stat().st_size
    free = shutil.disk_usage(models_dir).free
    if free < size:
        raise ImportRefused(f"Not enough disk space: the model needs {size_text(size)} and "
                            f"only {size_text(free)} is free.")
    digest = _copy_hashing(source, models_dir, target, size, expected, progress, cancel)
    return Imported(target, digest, size, checked=expected is not None)


def install_default(models_dir: Path, progress: Progress | None = None,
                    cancel: threading.Event | None = None) -> Imported:
    """Put the included demonstration model in place (verified); nothing to do if it is."""
    target = default_model_target(models_dir)
    if provisioning.verify_default_model(target):
        return Imported(target, provisioning.DEFAULT_MODEL_SHA256, target.stat().st_size, True)
    if target.exists():
        target.unlink()  # a damaged copy: replaced by a verified one
    try:
        source = provisioning.packaged_default_model()
    except ModelError as exc:
        raise ImportRefused(
            "The included model is missing from this installation of Enclave. Ask IT to "
            f"reinstall Enclave from its offline bundle. ({exc})") from exc
    return import_model(source, models_dir,
                        provisioning.DEFAULT_MODEL_SHA256, progress, cancel,
                        name=provisioning.DEFAULT_MODEL_FILE)


def remove_model(path: Path, models_dir: Path, current_model: Path) -> None:
    path = path.resolve()
    if path.parent != models_dir.resolve() or path.name == provisioning.DEFAULT_MODEL_FILE:
        raise ModelError("Only models imported into Enclave's models folder can be removed here.")
    if path == current_model.resolve():
        raise ModelError("This model is in use. Choose another model first, then remove it.")
    path.unlink(missing_ok=True)


def _gguf_name(source: Path) -> str:
    return source.name if source.suffix.lower() == ".gguf" else f"{source.name}.gguf"


def _copy_hashing(source: Path, models_dir: Path, target: Path, size: int,
                  expected: str | None, progress: Progress | None,
                  cancel: threading.Event | None) -> str:
    digest = hashlib.sha256()
    handle, partial_name = tempfile.mkstemp(dir=models_dir, prefix=PARTIAL_PREFIX,
                                            suffix=".partial")
    partial = Path(partial_name)
    try:
        with os.fdopen(handle, "wb") as out, source.open("rb") as src:
            done = 0
            while block := src.read(CHUNK):
                if cancel is not None and cancel.is_set():
                    raise ImportRefused("Import cancelled; nothing was added.")
                digest.update(block)
                out.write(block)
                done += len(block)
                if progress is not None:
                    progress(done, size)
            out.flush()
            os.fsync(out.fileno())
        actual = digest.hexdigest()
        if expected is not None and actual != expected:
            raise ImportRefused(
                f"“{source.name}” is not the published file: its SHA-256 is {actual}, not "
                f"{expected}. It may be damaged or a different model. Nothing was added.")
        os.replace(partial, target)
    except OSError as exc:
        partial.unlink(missing_ok=True)
        raise ImportRefused(
            f"The copy of “{source.name}” stopped ({exc.strerror or exc}); nothing was added. "
            "Check the disk or USB stick and try again.") from exc
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
    return actual
