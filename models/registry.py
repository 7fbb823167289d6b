"""The registry of GGUF model files under the data directory (and any the settings name)."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from models.gguf_metadata import FILE_TYPES, GGUFFormatError, read_metadata


@dataclass(frozen=True)
class ModelInfo:
    name: str
    path: Path
    size_bytes: int
    quantization: str
    context_length: int | None
    chat_template: str | None
    architecture: str | None

    def sha256(self) -> str:
        return file_sha256(self.path)

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "path": str(self.path),
            "size_bytes": self.size_bytes,
            "quantization": self.quantization,
            "context_length": self.context_length,
            "architecture": self.architecture,
            "has_chat_template": self.chat_template is not None,
        }


def file_sha256(path: Path, chunk: int = 1 << 20) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        while block := f.read(chunk):
            digest.update(block)
    return digest.hexdigest()


def describe(path: Path) -> ModelInfo:
    """Read a GGUF file's identity from its header. Raises GGUFFormatError or OSError."""
    path = path.resolve()
    meta = read_metadata(path)
    arch = meta.get("general.architecture")
    ctx = meta.get(f"{arch}.context_length") if arch else None
    file_type = meta.get("general.file_type")
    quant = FILE_TYPES.get(file_type, f"type {file_type}") if file_type is not None else "unknown"
    template = meta.get("tokenizer.chat_template")
    return ModelInfo(
        name=str(meta.get("general.name") or path.stem),
        path=path,
        size_bytes=path.stat().st_size,
        quantization=quant,
        context_length=int(ctx) if isinstance(ctx, int) else None,
        chat_template=template if isinstance(template, str) else None,
        architecture=str(arch) if arch else None,
    )


def scan(models_dir: Path, extra: tuple[Path, ...] = ()) -> list[ModelInfo]:
    """Every readable GGUF in ``models_dir`` plus ``extra`` paths; unreadable files are skipped."""
    candidates = sorted(models_dir.glob("*.gguf")) if models_dir.is_dir() else []
    seen: set[Path] = set()
    found: list[ModelInfo] = []
    for path in [*candidates, *extra]:
        resolved = path.resolve()
        if resolved in seen or not resolved.is_file():
            continue
        seen.add(resolved)
        try:
            found.append(describe(resolved))
        except (GGUFFormatError, OSError):
            continue
    return found
