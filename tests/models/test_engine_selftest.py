"""The self-test before the first load: real children that die of a real illegal instruction,
a real segmentation fault or a hang are reported in one line with the cause and the fix; the
real llama.cpp child passes and names the CPU variant it used; a refused variant is skipped."""

from __future__ import annotations

import sys
from collections.abc import Sequence
from pathlib import Path

import pytest

from models import engine_selftest
from models.engine_selftest import (
    Attempt,
    SelfTestOptions,
    check_engine,
    checked_engine,
    child_command,
    run_child,
)
from models.llama_backends import cpu_variants

CRASHING = Path(__file__).with_name("crashing_child.py")
REPO = Path(__file__).resolve().parents[2]


def crash(mode: str, timeout_s: float = 60.0) -> Attempt:
    return run_child([sys.executable, str(CRASHING), mode], timeout_s, cwd=REPO)


def test_a_child_killed_by_an_illegal_instruction_is_named_with_the_fix(tmp_path: Path) -> None:
    attempt = crash("sigill")
    assert attempt.outcome == "illegal_instruction"
    result = check_engine(tmp_path / "model.gguf", runner=lambda exclude: attempt,
                          has_variants=False)
    assert not result.ok
    assert "\n" not in result.message
    assert "illegal instruction" in result.message
    assert "make setup" in result.message, "the message says how to fix it"


def test_a_segmentation_fault_and_a_hang_become_one_line_messages(tmp_path: Path) -> None:
    segv = crash("segv")
    assert (segv.outcome, segv.detail) == ("crashed", "segmentation fault")
    result = check_engine(tmp_path / "notes.gguf", runner=lambda exclude: segv,
                          has_variants=True)
    assert not result.ok and "\n" not in result.message
    assert "segmentation fault" in result.message and "notes.gguf" in result.message
    assert len(result.attempts) == 1, "a crash that is not an illegal instruction ends the test"

    hang = crash("hang", timeout_s=2)
    assert hang.outcome == "hung"
    result = check_engine(tmp_path / "big.gguf", runner=lambda exclude: hang, has_variants=True)
    assert not result.ok and "did not finish" in result.message and "smaller" in result.message


@pytest.mark.slow
def test_the_real_child_passes_on_a_cpu_variant(default_model_path: Path) -> None:
    result = check_engine(default_model_path, SelfTestOptions(threads=2))
    assert result.ok, result.message
    variants = {v.name for v in cpu_variants()}
    if variants:
        assert result.cpu_variant in variants
        assert result.cpu_variant in result.message
    assert result.attempts[-1].outcome == "passed"


@pytest.mark.slow
def test_a_variant_the_processor_refuses_is_skipped_for_the_next_one(
        default_model_path: Path) -> None:
    if len(cpu_variants()) < 2:
        pytest.skip("this llama.cpp build has no run-time CPU variants to choose between")

    def refuse_best(exclude: Sequence[str]) -> Attempt:
        cmd = child_command(default_model_path, SelfTestOptions(threads=2), exclude)
        wrapped = [sys.executable, str(CRASHING), "refuse-best", *cmd[3:]]
        return run_child(wrapped, 120, cwd=REPO)

    result = check_engine(default_model_path, runner=refuse_best)
    assert result.ok, result.message
    first, second = result.attempts
    assert first.outcome == "illegal_instruction" and second.outcome == "passed"
    assert result.cpu_variant == second.variant != first.variant
    assert f"{first.variant}: illegal instruction" in result.message


def test_a_pass_is_remembered_and_a_failure_is_not(tmp_path: Path) -> None:
    model = tmp_path / "m.gguf"
    model.write_bytes(b"GGUF")
    cache = tmp_path / "cache" / "engine-check.json"
    runs: list[str] = []

    def failing(exclude: Sequence[str]) -> Attempt:
        runs.append("fail")
        return Attempt("zen4", "crashed", "segmentation fault")

    def passing(exclude: Sequence[str]) -> Attempt:
        runs.append("pass")
        return Attempt("haswell", "passed", "4 tokens on CPU", 0.5)

    options = SelfTestOptions(threads=2)
    assert not checked_engine(model, options, cache, failing).ok
    assert not cache.exists(), "a failure is tested again at the next start"
    first = checked_engine(model, options, cache, passing)
    again = checked_engine(model, options, cache, passing)
    assert first.ok and not first.remembered
    assert again.ok and again.remembered and again.cpu_variant == "haswell"
    assert runs == ["fail", "pass"], "the remembered pass cost no child"
    model.write_bytes(b"GGUF and a different file")
    assert not checked_engine(model, options, cache, passing).remembered, \
        "another model file is tested again"
    assert runs == ["fail", "pass", "pass"]


def test_the_child_command_is_this_python_and_the_selftest_module(tmp_path: Path) -> None:
    cmd = child_command(tmp_path / "m.gguf", SelfTestOptions(gpu_layers=0, threads=3),
                        ["sapphirerapids"])
    assert cmd[:3] == [sys.executable, "-m", engine_selftest.__name__]
    assert cmd[cmd.index("--exclude") + 1] == "sapphirerapids"
    assert cmd[cmd.index("--threads") + 1] == "3"
