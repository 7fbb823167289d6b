"""The real default GGUF through the real llama.cpp, on the CPU."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

from models.chat_model import ChatMessage
from models.errors import ModelError
from models.llama_runtime import LlamaChatModel, LoadOptions, check_model_file

QUESTION = [ChatMessage("system", "You are a helpful assistant."),
            ChatMessage("user", "Name three colours of the rainbow.")]


def test_a_streamed_answer_arrives_piece_by_piece(chat_model: LlamaChatModel) -> None:
    completion = chat_model.chat(QUESTION, max_tokens=40, temperature=0.0)
    pieces = list(completion)
    assert len(pieces) > 3, "the answer should stream in several pieces"
    text = "".join(pieces)
    assert text.strip(), "the answer should not be empty"
    assert "<|im_end|>" not in text and "<|im_start|>" not in text, "no template tokens leak"


def test_stats_are_sane(chat_model: LlamaChatModel) -> None:
    completion = chat_model.chat(QUESTION, max_tokens=24, temperature=0.0)
    text = "".join(completion)
    stats = completion.stats
    assert stats is not None
    assert stats.prompt_tokens > 10
    assert 1 <= stats.completion_tokens <= 24
    assert 0 < stats.time_to_first_token <= stats.seconds
    assert stats.tokens_per_second > 0
    assert stats.finish_reason in ("stop", "length")
    assert text


def test_cancel_stops_generation_between_tokens(chat_model: LlamaChatModel) -> None:
    cancel = threading.Event()
    completion = chat_model.chat(
        [ChatMessage("user", "Write a very long story about a lighthouse keeper.")],
        max_tokens=400, temperature=0.0, cancel=cancel)
    received = []
    for piece in completion:
        received.append(piece)
        if len(received) == 5:
            cancel.set()
    assert completion.stats is not None
    assert completion.stats.cancelled
    assert completion.stats.finish_reason == "cancelled"
    assert completion.stats.completion_tokens <= 7


def test_a_too_long_history_is_trimmed_not_fatal(default_model_path: Path) -> None:
    model = LlamaChatModel(default_model_path, LoadOptions(context_size=512, gpu_layers=0))
    try:
        history = [ChatMessage("system", "Be brief.")]
        for i in range(40):
            history.append(ChatMessage("user", f"Tell me fact number {i} about the sea. " * 5))
            history.append(ChatMessage("assistant", "The sea is large and deep. " * 5))
        history.append(ChatMessage("user", "What is the capital of France?"))
        completion = model.chat(history, max_tokens=32, temperature=0.0)
        text = "".join(completion)
        assert text.strip()
        assert completion.stats is not None
        assert completion.stats.trimmed_messages > 0
        assert completion.stats.prompt_tokens + completion.stats.completion_tokens <= 512
    finally:
        model.close()


def test_one_huge_message_is_cut_to_fit(default_model_path: Path) -> None:
    model = LlamaChatModel(default_model_path, LoadOptions(context_size=512, gpu_layers=0))
    try:
        huge = "word " * 3000 + "\nQuestion: what is two plus two?"
        completion = model.chat([ChatMessage("user", huge)], max_tokens=16, temperature=0.0)
        assert "".join(completion) is not None
        assert completion.stats is not None and completion.stats.prompt_tokens <= 512
    finally:
        model.close()


def test_a_missing_model_gives_one_clear_line(tmp_path: Path) -> None:
    with pytest.raises(ModelError) as info:
        check_model_file(tmp_path / "nope.gguf")
    message = str(info.value)
    assert "\n" not in message
    assert "No model file" in message and "install-default" in message


def test_a_corrupt_model_gives_one_clear_line(tmp_path: Path) -> None:
    bad = tmp_path / "broken.gguf"
    bad.write_bytes(b"this is not a model at all" * 100)
    with pytest.raises(ModelError) as info:
        LlamaChatModel(bad, LoadOptions(gpu_layers=0))
    assert "not usable" in str(info.value) and "\n" not in str(info.value)


def test_a_truncated_model_is_refused_before_llama_cpp(tmp_path: Path,
                                                       default_model_path: Path) -> None:
    cut = tmp_path / "cut.gguf"
    cut.write_bytes(default_model_path.read_bytes()[:200])
    with pytest.raises(ModelError) as info:
        LlamaChatModel(cut, LoadOptions(gpu_layers=0))
    assert "truncated" in str(info.value)


def test_gpu_request_on_a_cpu_build_runs_on_the_cpu(default_model_path: Path) -> None:
    # This machine's build has no GPU backend: asking for all layers must still load cleanly.
    model = LlamaChatModel(default_model_path, LoadOptions(context_size=512, gpu_layers=-1))
    try:
        assert model.backend in ("CPU", "CUDA", "Metal", "Vulkan", "ROCm", "SYCL", "GPU")
        assert "".join(model.chat(QUESTION, max_tokens=4, temperature=0.0))
    finally:
        model.close()
