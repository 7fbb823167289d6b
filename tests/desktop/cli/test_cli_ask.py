"""``enclave ask`` and the model commands against the real default model: in process through
``main(argv)``, and twice end to end in a real subprocess (the installed command as a person
runs it)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.desktop.cli.conftest import Enclave


def enclave_process(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "desktop", *args], env=env,
                          capture_output=True, text=True, timeout=300)


@pytest.mark.e2e
def test_ask_no_rag_json_answers_from_the_real_model(cli_env: dict[str, str]) -> None:
    done = enclave_process("ask", "What is the capital of France?", "--no-rag", "--max-tokens",
                           "24", "--json", env=cli_env)
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    assert result["answer"].strip()
    assert result["citations"] == [] and result["refused"] is False
    stats = result["stats"]
    for key in ("prompt_tokens", "completion_tokens", "seconds", "tokens_per_second",
                "time_to_first_token"):
        assert key in stats
    assert 0 < stats["completion_tokens"] <= 24
    assert stats["tokens_per_second"] > 0


@pytest.mark.e2e
def test_a_missing_model_is_one_line_not_a_traceback(cli_env: dict[str, str],
                                                     tmp_path: Path) -> None:
    env = dict(cli_env, ENCLAVE_MODEL=str(tmp_path / "missing.gguf"))
    done = enclave_process("ask", "hi", "--no-rag", env=env)
    assert done.returncode == 1
    assert "Traceback" not in done.stderr
    assert done.stderr.strip().count("\n") == 0
    assert "No model file" in done.stderr


def test_ask_streams_plain_text_on_a_terminal(cli_env: dict[str, str], enclave: Enclave) -> None:
    done = enclave("ask", "Say hello.", "--no-rag", "--max-tokens", "8", env=cli_env)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() and not done.stdout.lstrip().startswith("{")


def test_ask_a_collection_that_does_not_exist_is_a_usage_error(
        cli_env: dict[str, str], enclave: Enclave) -> None:
    done = enclave("ask", "What is the notice period?", "--collection", "Nobody", env=cli_env)
    assert done.returncode == 2
    assert "no collection named 'Nobody'" in done.stderr


def test_an_empty_question_is_a_usage_error_that_says_so(
        cli_env: dict[str, str], enclave: Enclave) -> None:
    for empty in ("", "   "):
        done = enclave("ask", empty, "--json", env=cli_env)
        assert done.returncode == 2 and done.stdout == ""
        assert "the question is empty" in done.stderr


def test_help_lists_only_working_commands(cli_env: dict[str, str], enclave: Enclave) -> None:
    from desktop.cli.main import COMMAND_NAMES, build_parser

    done = enclave("--help", env=cli_env)
    assert done.returncode == 0
    assert "ask" in done.stdout and "models" in done.stdout
    # The command table is what the parser holds (verify-egress plans its steps from it).
    parser = build_parser()
    registered = next(a.choices for a in parser._actions if isinstance(a.choices, dict))
    assert sorted(registered) == sorted(COMMAND_NAMES)


def test_models_list_shows_the_active_model(cli_env: dict[str, str], enclave: Enclave) -> None:
    done = enclave("models", "list", "--json", env=cli_env)
    assert done.returncode == 0, done.stderr
    models = json.loads(done.stdout)["models"]
    assert any(m["active"] and m["quantization"] == "Q4_1" for m in models)
