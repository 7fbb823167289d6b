"""Read the key/value metadata of a GGUF file without loading the model.

GGUF layout (v2/v3): magic ``GGUF``, uint32 version, uint64 tensor count, uint64 key/value count,
then the key/value pairs. We stop before the tensor infos, so reading a 10 GB model costs a few KB.
"""

from __future__ import annotations

import struct
from pathlib import Path
from typing import Any, BinaryIO

GGUF_MAGIC = b"GGUF"

# GGUF value types.
_SCALARS = {
    0: "<B", 1: "<b", 2: "<H", 3: "<h", 4: "<I", 5: "<i", 6: "<f", 7: "<?", 10: "<Q", 11: "<q",
    12: "<d",
}
_STRING, _ARRAY = 8, 9

# llama.cpp's general.file_type enum, for the quantizations people meet.
FILE_TYPES = {
    0: "F32", 1: "F16", 2: "Q4_0", 3: "Q4_1", 7: "Q8_0", 8: "Q5_0", 9: "Q5_1", 10: "Q2_K",
    11: "Q3_K_S", 12: "Q3_K_M", 13: "Q3_K_L", 14: "Q4_K_S", 15: "Q4_K_M", 16: "Q5_K_S",
    17: "Q5_K_M", 18: "Q6_K", 19: "IQ2_XXS", 20: "IQ2_XS", 24: "IQ1_S", 25: "IQ4_NL",
    26: "IQ3_S", 27: "IQ3_M", 28: "IQ2_S", 29: "IQ2_M", 30: "IQ4_XS", 31: "IQ1_M", 32: "BF16",
}

# Arrays longer than this (token lists, merges) are skipped: nobody needs them for a registry.
_MAX_ARRAY_KEEP = 64


class GGUFFormatError(ValueError):
    pass


def is_gguf(path: Path) -> bool:
    try:
        with path.open("rb") as f:
            return f.read(4) == GGUF_MAGIC
    except OSError:
        return False


def read_metadata(path: Path) -> dict[str, Any]:
    with path.open("rb") as f:
        if f.read(4) != GGUF_MAGIC:
            raise GGUFFormatError(f"{path.name} is not a GGUF model file")
        (version,) = _unpack(f, "<I")
        if version < 2:
            raise GGUFFormatError(f"{path.name} uses GGUF version {version}, which is too old")
        _tensors, kv_count = _unpack(f, "<QQ")
        if kv_count > 1_000_000:
            raise GGUFFormatError(f"{path.name} has a corrupt GGUF header")
        meta: dict[str, Any] = {"gguf.version": version}
        for _ in range(kv_count):
            key = _read_string(f)
            (value_type,) = _unpack(f, "<I")
            meta[key] = _read_value(f, value_type)
        return meta


def _unpack(f: BinaryIO, fmt: str) -> tuple[Any, ...]:
    size = struct.calcsize(fmt)
    data = f.read(size)
    if len(data) != size:
        raise GGUFFormatError("the GGUF file ends too early (truncated download or copy?)")
    return struct.unpack(fmt, data)


def _read_string(f: BinaryIO) -> str:
    (length,) = _unpack(f, "<Q")
    if length > 64 * 1024 * 1024:
        raise GGUFFormatError("a GGUF string is implausibly long (corrupt file?)")
    data = f.read(length)
    if len(data) != length:
        raise GGUFFormatError("the GGUF file ends too early (truncated download or copy?)")
    return data.decode("utf-8", errors="replace")


def _read_value(f: BinaryIO, value_type: int) -> Any:
    if value_type in _SCALARS:
        return _unpack(f, _SCALARS[value_type])[0]
    if value_type == _STRING:
        return _read_string(f)
    if value_type == _ARRAY:
        item_type, count = _unpack(f, "<IQ")
        if item_type in _SCALARS and count > _MAX_ARRAY_KEEP:
            f.seek(struct.calcsize(_SCALARS[item_type]) * count, 1)
            return f"<array of {count}>"
        items = [_read_value(f, item_type) for _ in range(count)]
        return items if count <= _MAX_ARRAY_KEEP else f"<array of {count}>"
    raise GGUFFormatError(f"unknown GGUF value type {value_type} (corrupt file?)")
