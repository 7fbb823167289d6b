"""Fixtures for the index, retrieval and assistant tests: the real embedder, loaded once."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from rag.embedder import MiniLMEmbedder
from rag.library import Library
from tests.rag.corpus import write_corpus


@pytest.fixture
def library(enclave_home: Path, embedder: MiniLMEmbedder) -> Iterator[Library]:
    lib = Library(enclave_home / "index", embedder)
    yield lib
    lib.close()


@pytest.fixture(scope="session")
def corpus_library(tmp_path_factory: pytest.TempPathFactory,
                   embedder: MiniLMEmbedder) -> Iterator[Library]:
    """The evaluation corpus (tests/rag/corpus.py), ingested once into collection "eval"."""
    root = tmp_path_factory.mktemp("corpus")
    write_corpus(root)
    lib = Library(root / "index", embedder)
    events = list(lib.ingest([root / "docs"], "eval"))
    assert not [e for e in events if e.kind == "failed"], events
    yield lib
    lib.close()
