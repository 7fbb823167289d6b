"""Shared fixtures. The whole suite runs offline with non-loopback sockets refused, and every
test gets its own ENCLAVE_HOME."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from desktop.egress import guard as egress_guard
from desktop.egress.offline import force_offline_environment

force_offline_environment()
GUARD = egress_guard.install()


@pytest.fixture(autouse=True)
def enclave_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    home = tmp_path / "enclave-home"
    home.mkdir()
    home.chmod(0o700)  # as Enclave makes it, whatever umask an earlier test left
    monkeypatch.setenv("ENCLAVE_HOME", str(home))
    monkeypatch.delenv("ENCLAVE_MODEL", raising=False)
    return home


@pytest.fixture(scope="session")
def default_model_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The real default GGUF, installed once per session the way `make setup` does it.

    llama.cpp's CPU variant for this test process is chosen the way the application chooses
    it, by the self-test in a child process: a variant the processor refuses would otherwise
    take the whole test run down."""
    from models.engine_selftest import SelfTestOptions, check_engine
    from models.llama_backends import load_backends
    from models.provisioning import install_default_model

    path = install_default_model(tmp_path_factory.mktemp("models")).path
    engine = check_engine(path, SelfTestOptions(gpu_layers=0))
    assert engine.ok, engine.message
    load_backends(engine.cpu_variant)
    return path


@pytest.fixture(scope="session")
def chat_model(default_model_path: Path) -> Iterator[object]:
    """The real default model on the CPU, loaded once and used from the test thread only."""
    from models.llama_runtime import LlamaChatModel, LoadOptions

    model = LlamaChatModel(default_model_path, LoadOptions(context_size=2048, gpu_layers=0))
    yield model
    model.close()


@pytest.fixture(scope="session")
def embedder() -> object:
    """The bundled all-MiniLM-L6-v2 on the CPU, loaded once for the whole session."""
    from rag.embedder import MiniLMEmbedder

    return MiniLMEmbedder().load()


@pytest.fixture(scope="session")
def practice_server(default_model_path: Path, tmp_path_factory: pytest.TempPathFactory
                    ) -> Iterator[object]:
    """The practice's model server: the real llama.cpp OpenAI-compatible server on the default
    GGUF, on 127.0.0.1, asking for ``tests.model_server.PRACTICE_TOKEN``; one for the session."""
    from tests.model_server import PRACTICE_TOKEN, model_server

    with model_server(default_model_path, tmp_path_factory.mktemp("practice-server"),
                      token=PRACTICE_TOKEN) as running:
        yield running


@pytest.fixture(scope="session")
def practice_index(tmp_path_factory: pytest.TempPathFactory) -> Iterator[object]:
    """The practice's shared index servers, one of each for the session: a real PostgreSQL (a
    fresh cluster with password authentication) and Chroma's server with its token auth, on
    127.0.0.1 (tests/index_servers.py)."""
    from bench.index_servers import PracticeIndex, chroma_server, postgres_server

    work = tmp_path_factory.mktemp("practice-index")
    with postgres_server(work / "postgres") as postgres, chroma_server(work / "chroma") as chroma:
        yield PracticeIndex(postgres, chroma)


@pytest.fixture
def shared_index(practice_index: object) -> object:
    """The index servers as a new practice's: an empty database, no collections."""
    from bench.index_servers import PracticeIndex

    assert isinstance(practice_index, PracticeIndex)
    return practice_index.fresh()


@pytest.fixture(scope="session")
def embedder_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The default embedding engine's ONNX file (int8), made once for the session the way
    Enclave makes it under a data directory."""
    from rag.onnx_embedder import exported_model

    cache = tmp_path_factory.mktemp("embedder-cache")
    exported_model(cache, "int8")
    return cache


@pytest.fixture(scope="session")
def default_embedder(embedder_cache: Path) -> object:
    """The engine Enclave embeds with by default (ONNX Runtime, int8): the real-document
    measurements are of what a person's installation does."""
    from rag.onnx_embedder import OnnxEmbedder, exported_model

    return OnnxEmbedder(exported_model(embedder_cache, "int8"))


@pytest.fixture
def cli_env(enclave_home: Path, default_model_path: Path,
            embedder_cache: Path) -> dict[str, str]:
    """Environment for running the real `enclave` command in a subprocess. The home starts with
    the session's ONNX file linked in, as after the installer's doctor made it: each command
    would otherwise make its own (it is checked by its SHA-256 all the same)."""
    target = enclave_home / "cache" / "embedder"
    target.mkdir(parents=True, exist_ok=True)
    for made in embedder_cache.iterdir():
        if made.suffix in (".onnx", ".json") and "fp32" not in made.name:
            os.link(made, target / made.name)
    env = dict(os.environ)
    env["ENCLAVE_HOME"] = str(enclave_home)
    env["ENCLAVE_MODEL"] = str(default_model_path)
    return env


# A test that loads the real chat model or the embedder is slow, however it says so: the mark
# follows the fixtures it uses (directly or through others), so the quick lane stays quick.
SLOW_FIXTURES = frozenset({"default_model_path", "chat_model", "embedder", "cli_env",
                           "embedder_cache", "default_embedder",
                           "practice_server", "practice_index"})


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if SLOW_FIXTURES & set(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.slow)
