from __future__ import annotations

from pathlib import Path

import pytest

from models.gguf_metadata import GGUFFormatError, read_metadata
from models.provisioning import DEFAULT_MODEL_SHA256
from models.registry import describe, scan


def test_the_default_model_is_described_from_its_header(default_model_path: Path) -> None:
    info = describe(default_model_path)
    assert info.quantization == "Q4_1"
    assert info.architecture == "llama"
    assert info.context_length == 8192
    assert info.chat_template and "<|im_start|>" in info.chat_template
    assert info.size_bytes == default_model_path.stat().st_size
    assert info.sha256() == DEFAULT_MODEL_SHA256


def test_scan_lists_good_models_and_skips_broken_ones(tmp_path: Path,
                                                      default_model_path: Path) -> None:
    (tmp_path / "junk.gguf").write_bytes(b"GGUF\x03\x00\x00\x00")
    (tmp_path / "notes.txt").write_text("not a model")
    found = scan(tmp_path, extra=(default_model_path,))
    assert [m.path for m in found] == [default_model_path.resolve()]


def test_a_non_gguf_file_is_named_as_such(tmp_path: Path) -> None:
    bad = tmp_path / "model.gguf"
    bad.write_bytes(b"PK\x03\x04 zip file")
    with pytest.raises(GGUFFormatError, match="not a GGUF"):
        read_metadata(bad)
