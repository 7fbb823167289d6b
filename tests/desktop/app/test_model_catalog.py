"""The model manager's logic on real files: GGUF headers, SHA-256, the models folder."""

from __future__ import annotations

import hashlib
import re
import threading
from pathlib import Path

import pytest

from desktop.app.model_catalog import (
    DEMO_LABEL,
    GB,
    ImportRefused,
    MemoryFit,
    entries,
    import_model,
    normalise_sha256,
    remove_model,
)
from models.errors import ModelError
from models.provisioning import DEFAULT_MODEL_FILE
from tests.gguf_files import make_gguf


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_an_imported_model_is_copied_whole_and_its_sha256_checked(tmp_path: Path) -> None:
    (tmp_path / "usb").mkdir()
    usb = make_gguf(tmp_path / "usb" / "Mistral-7B.Q4_K_M.gguf", filler=9 << 20)
    models = tmp_path / "models"
    seen: list[tuple[int, int]] = []
    done = import_model(usb, models, expected_sha256=f"SHA256: {_sha(usb).upper()}",
                        progress=lambda n, total: seen.append((n, total)))
    assert done.checked and done.sha256 == _sha(usb)
    assert [p.name for p in models.iterdir()] == ["Mistral-7B.Q4_K_M.gguf"]
    assert (models / "Mistral-7B.Q4_K_M.gguf").read_bytes() == usb.read_bytes()
    assert seen[-1] == (usb.stat().st_size, usb.stat().st_size) and len(seen) > 1


def test_a_wrong_expected_sha256_is_refused_and_nothing_is_left(tmp_path: Path) -> None:
    source = make_gguf(tmp_path / "model.gguf")
    models = tmp_path / "models"
    with pytest.raises(ImportRefused, match="is not the published file") as refused:
        import_model(source, models, expected_sha256="0" * 64)
    assert _sha(source) in str(refused.value)  # the actual digest, to compare by eye
    assert list(models.iterdir()) == []  # no model, no half-copied temporary file


def test_a_cancelled_import_leaves_nothing(tmp_path: Path) -> None:
    source = make_gguf(tmp_path / "model.gguf", filler=12 << 20)
    models = tmp_path / "models"
    cancel = threading.Event()
    with pytest.raises(ImportRefused, match="cancelled"):
        import_model(source, models, progress=lambda n, total: cancel.set(), cancel=cancel)
    assert list(models.iterdir()) == []


def test_a_file_that_is_not_a_model_is_refused_in_plain_words(tmp_path: Path) -> None:
    contract = tmp_path / "contract.pdf"
    contract.write_bytes(b"%PDF-1.7 not a model")
    with pytest.raises(ImportRefused, match=re.escape(
            "“contract.pdf” is not a model file Enclave can use. Enclave uses GGUF model files")):
        import_model(contract, tmp_path / "models")
    assert not (tmp_path / "models").exists()


def test_a_pasted_sha256_must_look_like_one() -> None:
    assert normalise_sha256("  ") is None
    assert normalise_sha256("AB" * 32) == "ab" * 32
    with pytest.raises(ImportRefused, match="64 characters"):
        normalise_sha256("abc123")


def test_an_existing_model_file_is_never_overwritten(tmp_path: Path) -> None:
    models = tmp_path / "models"
    models.mkdir()
    kept = make_gguf(models / "model.gguf", name="Old")
    before = kept.read_bytes()
    with pytest.raises(ImportRefused, match=re.escape("already has a file called “model.gguf”")):
        import_model(make_gguf(tmp_path / "model.gguf", name="New"), models)
    assert kept.read_bytes() == before


def test_the_list_says_licence_size_quantisation_in_use_and_marks_the_demo(
        tmp_path: Path) -> None:
    models = tmp_path / "models"
    models.mkdir()
    demo = make_gguf(models / DEFAULT_MODEL_FILE, name="SmolLM2 135M Instruct", licence=None,
                     file_type=3, block_count=30, embedding_length=576)
    make_gguf(models / "llama-70b.gguf", name="Llama 70B", licence="llama3",
              sparse_size=40 * GB)
    make_gguf(models / "unknown-licence.gguf", name="Mystery", licence=None)
    found = {e.info.path.name: e for e in entries(models, demo, 4096, available=lambda: 16 * GB)}
    default, big, mystery = (found[DEFAULT_MODEL_FILE], found["llama-70b.gguf"],
                             found["unknown-licence.gguf"])
    assert default.title == DEMO_LABEL and "answers are often wrong" in default.title
    assert default.in_use and not default.removable and default.licence == "Apache-2.0"
    assert "Q4_1" in default.details()
    assert big.title == "Llama 70B" and big.licence_text() == "llama3"
    assert "40.0 GB · Q4_K_M · reads up to 8,192 tokens" in big.details()
    assert big.removable and not big.in_use
    assert mystery.licence_text().startswith("not stated in the file")
    assert default.memory.fits and default.memory.text().startswith("Fits this computer's")
    assert big.memory.fits is False
    assert big.memory.text().startswith("Needs about 42.0 GB, this computer has 16.0 GB free")


def test_memory_fit_counts_room_for_enclave_itself() -> None:
    assert MemoryFit(int(7.5 * GB), 8 * GB).fits is False  # fits alone, not with the app
    assert MemoryFit(6 * GB, 8 * GB).fits is True
    assert "could not be read" in MemoryFit(GB, None).text()
    assert MemoryFit(None, GB).text().startswith("Memory needed: unknown")


def test_only_imported_models_not_in_use_can_be_removed(tmp_path: Path) -> None:
    models = tmp_path / "models"
    models.mkdir()
    used = make_gguf(models / "used.gguf")
    spare = make_gguf(models / "spare.gguf")
    demo = make_gguf(models / DEFAULT_MODEL_FILE)
    with pytest.raises(ModelError, match="in use"):
        remove_model(used, models, current_model=used)
    with pytest.raises(ModelError, match="Only models imported"):
        remove_model(demo, models, current_model=used)
    remove_model(spare, models, current_model=used)
    assert sorted(p.name for p in models.iterdir()) == sorted([DEFAULT_MODEL_FILE, "used.gguf"])


def test_a_damaged_model_file_is_named_as_damaged(tmp_path: Path) -> None:
    whole = make_gguf(tmp_path / "whole.gguf").read_bytes()
    cut = tmp_path / "cut.gguf"
    cut.write_bytes(whole[:40])  # a copy that stopped in the header
    with pytest.raises(ImportRefused, match="is a GGUF model file, but a damaged one"):
        import_model(cut, tmp_path / "models")


def test_without_the_packaged_model_installing_says_to_ask_it(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from desktop.app.model_catalog import install_default
    from models import provisioning

    monkeypatch.setattr(provisioning, "DEFAULT_MODEL_PACKAGE", "enclave_no_such_package")
    with pytest.raises(ImportRefused, match="Ask IT to reinstall Enclave"):
        install_default(tmp_path / "models")
    assert not (tmp_path / "models").exists()
