"""``enclave ask`` and ``enclave doctor`` with the model on a practice's server (a real
llama.cpp OpenAI-compatible server on the default GGUF, on 127.0.0.1), configured the way IT
configures a workstation: config.toml and a token file. The local model file is absent, so
every word must come from the server."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.model_server import PRACTICE_TOKEN, RunningServer

TOKEN = PRACTICE_TOKEN


@pytest.fixture
def server(practice_server: RunningServer) -> RunningServer:
    return practice_server


def configure(home: Path, url: str, token: str) -> None:
    (home / "token").write_text(token + "\n", encoding="utf-8")
    (home / "config.toml").write_text(
        'chat_backend = "server"\n'
        f'chat_server_url = "{url}"\n'
        f'chat_server_token_file = "{home / "token"}"\n'
        "context_size = 2048\n", encoding="utf-8")


def enclave(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "desktop", *args], env=env,
                          capture_output=True, text=True, timeout=300)


@pytest.fixture
def env(cli_env: dict[str, str], enclave_home: Path, tmp_path: Path) -> dict[str, str]:
    return dict(cli_env, ENCLAVE_MODEL=str(tmp_path / "no-local-model.gguf"))


@pytest.mark.e2e
def test_a_grounded_answer_comes_from_the_server_with_its_citation(
        server: RunningServer, env: dict[str, str], enclave_home: Path, tmp_path: Path) -> None:
    configure(enclave_home, server.url, TOKEN)
    policy = tmp_path / "retention.txt"
    policy.write_text("Records retention policy.\n\nPatient records are kept for ten years "
                      "after the last visit, then destroyed securely.\n", encoding="utf-8")
    assert enclave("ingest", str(policy), env=env).returncode == 0
    done = enclave("ask", "How long are patient records kept?", "--max-tokens", "32",
                   "--json", env=env)
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    assert result["answer"].strip() and not result["refused"]
    assert [Path(c["source"]).name for c in result["citations"]] == ["retention.txt"]
    assert result["stats"]["completion_tokens"] > 0
    assert TOKEN not in done.stdout + done.stderr


@pytest.mark.e2e
def test_doctor_checks_the_server_and_says_what_is_wrong(
        server: RunningServer, env: dict[str, str], enclave_home: Path) -> None:
    configure(enclave_home, server.url, TOKEN)
    done = enclave("doctor", "--json", env=env)
    checks = {c["name"]: c for c in json.loads(done.stdout)["checks"]}
    assert checks["model server"]["status"] == "ok", checks["model server"]
    assert "smollm2" in checks["model server"]["message"]
    assert "token was accepted" in checks["model server"]["message"]
    assert "chat model" not in checks  # the local file is not needed in server mode

    configure(enclave_home, server.url, "not-the-token")
    done = enclave("doctor", "--json", env=env)
    assert done.returncode == 1
    check = {c["name"]: c for c in json.loads(done.stdout)["checks"]}["model server"]
    assert check["status"] == "fail" and "refused Enclave's token" in check["message"]
    assert "not-the-token" not in done.stdout + done.stderr


@pytest.mark.e2e
def test_a_server_that_is_down_is_one_line(env: dict[str, str], enclave_home: Path) -> None:
    from tests.model_server import free_port

    configure(enclave_home, f"http://127.0.0.1:{free_port()}", TOKEN)
    done = enclave("ask", "hello", "--no-rag", env=env)
    assert done.returncode == 1
    assert "Traceback" not in done.stderr and done.stderr.strip().count("\n") == 0
    assert "cannot be reached" in done.stderr and "choose the local model" in done.stderr
