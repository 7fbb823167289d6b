"""How many layers of a GGUF model to put on the GPU, from the card's free memory.

Used when the settings say ``gpu_layers = -1`` ("as many as fit") and llama.cpp was built with
a GPU backend. The estimate: each repeating layer costs its share of the file (the file size
split over ``block_count + 1`` layers, the extra one standing for the embeddings and output
head) plus its slice of the f16 KV cache for the context; a margin is kept for llama.cpp's
compute buffers and the desktop. Everything fits: offload all. Otherwise: as many layers as the
budget allows. None: run on the CPU. If the estimate is wrong and loading fails, the runtime
falls back to the CPU anyway (models/llama_runtime.py).
"""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from models.gguf_metadata import GGUFFormatError, read_metadata

MIB = 1 << 20
# Room for llama.cpp's compute buffers, the CUDA context and the desktop's own use of the card.
DEFAULT_MARGIN_BYTES = 768 * MIB
KV_BYTES_PER_VALUE = 2  # llama.cpp's default KV cache type is f16
# When a GGUF does not say its width, assume a 7B-class model's (errs on the side of fewer layers).
FALLBACK_EMBEDDING_LENGTH = 4096

FreeMemoryProbe = Callable[[], int | None]  # free bytes the GPU can use, None when unknown
Runner = Callable[..., "subprocess.CompletedProcess[str]"]


@dataclass(frozen=True)
class ModelShape:
    file_bytes: int
    layer_count: int
    embedding_length: int | None = None
    head_count: int | None = None
    head_count_kv: int | None = None

    @staticmethod
    def of(path: Path) -> ModelShape:
        """Read the shape from the GGUF header. Raises GGUFFormatError or OSError."""
        meta = read_metadata(path)
        arch = meta.get("general.architecture")
        blocks = meta.get(f"{arch}.block_count")
        if not isinstance(blocks, int) or blocks < 1:
            raise GGUFFormatError(f"{path.name} does not say how many layers it has")
        return ModelShape(
            file_bytes=path.stat().st_size,
            layer_count=blocks,
            embedding_length=_int_or_none(meta.get(f"{arch}.embedding_length")),
            head_count=_int_or_none(meta.get(f"{arch}.attention.head_count")),
            head_count_kv=_int_or_none(meta.get(f"{arch}.attention.head_count_kv")),
        )

    def kv_bytes_per_layer(self, context_size: int) -> int:
        width = self.embedding_length or FALLBACK_EMBEDDING_LENGTH
        if self.head_count and self.head_count_kv:
            width = width * self.head_count_kv // self.head_count  # grouped-query attention
        return 2 * context_size * width * KV_BYTES_PER_VALUE  # keys and values

    def weight_bytes_per_layer(self) -> int:
        return self.file_bytes // (self.layer_count + 1)


def _int_or_none(value: Any) -> int | None:
    return value if isinstance(value, int) and value > 0 else None


@dataclass(frozen=True)
class GpuPlan:
    layers: int  # repeating layers to offload, 0..layer_count
    layer_count: int
    offload_all: bool  # every layer and the output head
    reason: str

    @property
    def n_gpu_layers(self) -> int:
        """The value for llama.cpp: -1 offloads everything."""
        return -1 if self.offload_all else self.layers


def choose_gpu_layers(free_bytes: int, shape: ModelShape, context_size: int,
                      margin_bytes: int = DEFAULT_MARGIN_BYTES) -> GpuPlan:
    budget = free_bytes - margin_bytes
    kv = shape.kv_bytes_per_layer(context_size)
    per_layer = shape.weight_bytes_per_layer() + kv
    everything = shape.file_bytes + kv * shape.layer_count
    free_mib, need_mib = free_bytes // MIB, everything // MIB
    if everything <= budget:
        return GpuPlan(shape.layer_count, shape.layer_count, True,
                       f"all {shape.layer_count} layers fit in {free_mib} MiB of free GPU "
                       f"memory (need about {need_mib} MiB)")
    layers = max(0, min(shape.layer_count, budget // per_layer)) if budget > 0 else 0
    if layers == 0:
        return GpuPlan(0, shape.layer_count, False,
                       f"not enough free GPU memory ({free_mib} MiB free, one layer needs "
                       f"about {per_layer // MIB} MiB plus {margin_bytes // MIB} MiB margin); "
                       "running on the CPU")
    return GpuPlan(int(layers), shape.layer_count, False,
                   f"{layers} of {shape.layer_count} layers fit in {free_mib} MiB of free GPU "
                   f"memory (the whole model needs about {need_mib} MiB); the rest run on the CPU")


@dataclass(frozen=True)
class NvidiaGpu:
    name: str
    total_bytes: int
    free_bytes: int


def nvidia_gpus(run: Runner = subprocess.run, which: Callable[[str], str | None] = shutil.which
                ) -> list[NvidiaGpu] | None:
    """The NVIDIA GPUs the driver reports; None when nvidia-smi is absent or does not answer
    (so: not checked, which is not the same as "no GPU")."""
    exe = which("nvidia-smi")
    if exe is None:
        return None
    try:
        proc = run([exe, "--query-gpu=name,memory.total,memory.free",
                    "--format=csv,noheader,nounits"], capture_output=True, text=True, timeout=15)
    except (OSError, subprocess.SubprocessError):
        return None
    if proc.returncode != 0:
        return None
    gpus = []
    for line in proc.stdout.splitlines():
        parts = [p.strip() for p in line.split(",")]
        if len(parts) != 3:
            continue
        try:
            gpus.append(NvidiaGpu(parts[0], int(float(parts[1])) * MIB,
                                  int(float(parts[2])) * MIB))
        except ValueError:
            continue
    return gpus


def nvidia_free_bytes(run: Runner = subprocess.run,
                      which: Callable[[str], str | None] = shutil.which) -> int | None:
    """Free memory of the first GPU (llama.cpp's main GPU by default)."""
    gpus = nvidia_gpus(run, which)
    return gpus[0].free_bytes if gpus else None


def unified_memory_bytes() -> int | None:
    """Apple silicon: the GPU shares system memory, and macOS lets Metal use roughly two thirds
    of it (its recommended working set), so that is the budget."""
    try:
        total = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (ValueError, OSError, AttributeError):
        return None
    return total * 2 // 3


def default_probe(backend: str) -> FreeMemoryProbe | None:
    if backend == "CUDA":
        return nvidia_free_bytes
    if backend == "Metal":
        return unified_memory_bytes
    return None  # other backends: no portable way to ask; offload all and rely on the fallback


def plan_for_model(path: Path, context_size: int, backend: str,
                   probe: FreeMemoryProbe | None = None,
                   margin_bytes: int = DEFAULT_MARGIN_BYTES) -> GpuPlan | None:
    """The plan for ``path``, or None when free GPU memory or the model's shape is unknown."""
    probe = probe or default_probe(backend)
    free = probe() if probe is not None else None
    if free is None:
        return None
    try:
        shape = ModelShape.of(path)
    except (GGUFFormatError, OSError):
        return None
    return choose_gpu_layers(free, shape, context_size, margin_bytes)
