"""Choosing GPU layers from free GPU memory, and the CPU fallback. This machine has no GPU: the
free-memory probe and (for the fallback) a failing GPU load are the seams; the model, its GGUF
header and llama.cpp's CPU load are real."""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any

import pytest

from models import gpu_fit, llama_runtime
from models.gpu_fit import MIB, GpuPlan, ModelShape, choose_gpu_layers, plan_for_model
from models.llama_runtime import LlamaChatModel, LoadOptions

GIB = 1 << 30
# A 7B-class Q4 model: 4 GiB file, 32 layers, 4096 wide, grouped-query attention 32/8.
SEVEN_B = ModelShape(file_bytes=4 * GIB, layer_count=32, embedding_length=4096, head_count=32,
                     head_count_kv=8)


def test_everything_is_offloaded_when_the_model_fits() -> None:
    plan = choose_gpu_layers(24 * GIB, SEVEN_B, context_size=4096)
    assert plan.offload_all and plan.layers == 32
    assert plan.n_gpu_layers == -1
    assert "all 32 layers fit" in plan.reason


def test_a_small_card_gets_a_proportional_share_of_layers() -> None:
    full = choose_gpu_layers(24 * GIB, SEVEN_B, context_size=4096)
    half_card = choose_gpu_layers(3 * GIB, SEVEN_B, context_size=4096)
    assert not half_card.offload_all
    assert 0 < half_card.layers < 32
    assert half_card.n_gpu_layers == half_card.layers
    # Roughly proportional: 3 GiB less the margin over ~0.15 GiB a layer is about 15 layers.
    per_layer = SEVEN_B.weight_bytes_per_layer() + SEVEN_B.kv_bytes_per_layer(4096)
    assert half_card.layers == (3 * GIB - gpu_fit.DEFAULT_MARGIN_BYTES) // per_layer
    assert half_card.layers < full.layers


def test_a_longer_context_leaves_room_for_fewer_layers() -> None:
    short = choose_gpu_layers(3 * GIB, SEVEN_B, context_size=2048)
    long = choose_gpu_layers(3 * GIB, SEVEN_B, context_size=32768)
    assert long.layers < short.layers


def test_nothing_is_offloaded_when_not_even_one_layer_fits() -> None:
    for free in (0, 100 * MIB, gpu_fit.DEFAULT_MARGIN_BYTES + 10 * MIB):
        plan = choose_gpu_layers(free, SEVEN_B, context_size=4096)
        assert plan.layers == 0 and plan.n_gpu_layers == 0
        assert "running on the CPU" in plan.reason


def test_the_shape_comes_from_the_real_gguf_header(default_model_path: Path) -> None:
    shape = ModelShape.of(default_model_path)
    assert shape.layer_count == 30  # SmolLM2-135M: llama.block_count
    assert shape.embedding_length == 576 and shape.head_count_kv == 3
    assert shape.file_bytes == default_model_path.stat().st_size


def test_no_plan_when_free_memory_is_unknown(default_model_path: Path) -> None:
    assert plan_for_model(default_model_path, 2048, "CUDA", probe=lambda: None) is None
    assert plan_for_model(default_model_path, 2048, "Vulkan") is None  # no way to ask


def _nvidia_smi(stdout: str, returncode: int = 0) -> Any:
    def run(cmd: list[str], **_: Any) -> subprocess.CompletedProcess[str]:
        assert cmd[1] == "--query-gpu=name,memory.total,memory.free"
        return subprocess.CompletedProcess(cmd, returncode, stdout, "")
    return run


def test_free_memory_is_read_from_nvidia_smi() -> None:
    run = _nvidia_smi("NVIDIA H100 80GB HBM3, 81559, 80512\nNVIDIA H100 80GB HBM3, 81559, 100\n")
    gpus = gpu_fit.nvidia_gpus(run, which=lambda _: "/usr/bin/nvidia-smi")
    assert gpus is not None and gpus[0].name == "NVIDIA H100 80GB HBM3"
    assert gpu_fit.nvidia_free_bytes(run, which=lambda _: "/usr/bin/nvidia-smi") == 80512 * MIB


def test_no_nvidia_smi_means_not_checked_rather_than_no_gpu() -> None:
    assert gpu_fit.nvidia_gpus(which=lambda _: None) is None
    failing = _nvidia_smi("NVIDIA-SMI has failed because it couldn't communicate", 9)
    assert gpu_fit.nvidia_free_bytes(failing, which=lambda _: "/usr/bin/nvidia-smi") is None


class _GpuLoadFails:
    """llama_cpp.Llama as a GPU build behaves when the card cannot take the layers: offloading
    raises; a CPU load (n_gpu_layers=0) is the real llama.cpp load."""

    def __init__(self, real: Any) -> None:
        self.real = real
        self.requested: list[int] = []

    def __call__(self, **kwargs: Any) -> Any:
        self.requested.append(kwargs["n_gpu_layers"])
        if kwargs["n_gpu_layers"] != 0:
            raise ValueError("CUDA error: out of memory")
        return self.real(**kwargs)


@pytest.fixture
def pretend_cuda_build(monkeypatch: pytest.MonkeyPatch) -> _GpuLoadFails:
    import llama_cpp

    loader = _GpuLoadFails(llama_cpp.Llama)
    monkeypatch.setattr(llama_runtime, "compiled_backend", lambda: "CUDA")
    monkeypatch.setattr(llama_cpp, "Llama", loader)
    return loader


def test_too_little_gpu_memory_loads_straight_on_the_cpu(
        default_model_path: Path, pretend_cuda_build: _GpuLoadFails) -> None:
    model = LlamaChatModel(default_model_path, LoadOptions(
        context_size=512, gpu_layers=-1, free_gpu_memory=lambda: 64 * MIB))
    try:
        assert pretend_cuda_build.requested == [0], "no GPU attempt when nothing fits"
        assert model.backend == "CPU"
        assert model.fallback_reason is not None and "GPU memory" in model.fallback_reason
        assert model.count_tokens("hello world") > 0
    finally:
        model.close()


def test_a_failed_gpu_load_falls_back_to_the_cpu(
        default_model_path: Path, pretend_cuda_build: _GpuLoadFails) -> None:
    shape = ModelShape.of(default_model_path)
    free = gpu_fit.DEFAULT_MARGIN_BYTES + 10 * (shape.weight_bytes_per_layer()
                                                 + shape.kv_bytes_per_layer(512))
    expected = choose_gpu_layers(free, shape, 512)
    model = LlamaChatModel(default_model_path, LoadOptions(
        context_size=512, gpu_layers=-1, free_gpu_memory=lambda: free))
    try:
        assert pretend_cuda_build.requested == [expected.layers, 0]
        assert 0 < expected.layers < shape.layer_count
        assert model.backend == "CPU"
        assert model.fallback_reason is not None and "out of memory" in model.fallback_reason
    finally:
        model.close()


def test_an_explicit_layer_count_is_used_as_given(
        default_model_path: Path, pretend_cuda_build: _GpuLoadFails) -> None:
    model = LlamaChatModel(default_model_path, LoadOptions(
        context_size=512, gpu_layers=7, free_gpu_memory=lambda: 64 * MIB))
    try:
        assert pretend_cuda_build.requested == [7, 0], "a user's setting is not second-guessed"
    finally:
        model.close()


def test_plan_type_reports_all_for_llama_cpp() -> None:
    assert GpuPlan(32, 32, True, "").n_gpu_layers == -1
    assert GpuPlan(12, 32, False, "").n_gpu_layers == 12
