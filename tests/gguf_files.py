"""Small GGUF files for tests: a real GGUF header (what Enclave reads to list and check a model)
followed by filler bytes, so importing, hashing and listing run on real files without a model."""

from __future__ import annotations

import struct
from pathlib import Path

_UINT32, _STRING = 4, 8


def _string(text: str) -> bytes:
    data = text.encode("utf-8")
    return struct.pack("<Q", len(data)) + data


def make_gguf(path: Path, name: str = "Test Model 7B", licence: str | None = "MIT",
              file_type: int = 15, context_length: int = 8192, block_count: int = 32,
              embedding_length: int = 4096, filler: int = 1 << 20,
              sparse_size: int | None = None) -> Path:
    """A GGUF v3 header naming a llama-architecture model; ``file_type`` 15 is Q4_K_M.
    ``sparse_size`` makes the file that large without writing the bytes (for big-model sizes)."""
    values: list[tuple[str, int, bytes]] = [
        ("general.architecture", _STRING, _string("llama")),
        ("general.name", _STRING, _string(name)),
        ("general.file_type", _UINT32, struct.pack("<I", file_type)),
        ("llama.context_length", _UINT32, struct.pack("<I", context_length)),
        ("llama.block_count", _UINT32, struct.pack("<I", block_count)),
        ("llama.embedding_length", _UINT32, struct.pack("<I", embedding_length)),
    ]
    if licence is not None:
        values.append(("general.license", _STRING, _string(licence)))
    header = b"GGUF" + struct.pack("<IQQ", 3, 0, len(values))
    for key, kind, data in values:
        header += _string(key) + struct.pack("<I", kind) + data
    with path.open("wb") as f:
        f.write(header)
        f.write(bytes(range(256)) * (filler // 256))
        if sparse_size is not None:
            f.truncate(sparse_size)
    return path
