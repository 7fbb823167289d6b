"""The bundle manifest: every file's SHA-256 and size; any change is refused with its name."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from installer.archive import extract, make_tar_gz
from installer.bootstrap.manifest import (
    ManifestError,
    compute_entries,
    render,
    verify,
    write_manifest,
)


@pytest.fixture
def bundle(tmp_path: Path) -> Path:
    root = tmp_path / "enclave-bundle"
    (root / "wheelhouse").mkdir(parents=True)
    (root / "models").mkdir()
    (root / "wheelhouse" / "demo-1.0-py3-none-any.whl").write_bytes(b"PK\x03\x04 wheel " * 100)
    (root / "models" / "tiny.gguf").write_bytes(b"GGUF" + bytes(range(256)) * 4)
    (root / "install.py").write_text("print('installer')\n")
    write_manifest(root)
    return root


def test_an_intact_bundle_verifies(bundle: Path) -> None:
    entries = verify(bundle)
    assert [e.path for e in entries] == ["install.py", "models/tiny.gguf",
                                         "wheelhouse/demo-1.0-py3-none-any.whl"]
    doc = json.loads((bundle / "manifest.json").read_text())
    assert all(len(f["sha256"]) == 64 and f["size"] > 0 for f in doc["files"])


def test_one_flipped_byte_is_refused_with_the_file_name(bundle: Path) -> None:
    wheel = bundle / "wheelhouse" / "demo-1.0-py3-none-any.whl"
    data = bytearray(wheel.read_bytes())
    data[10] ^= 0x01
    wheel.write_bytes(bytes(data))
    with pytest.raises(ManifestError, match=r"wheelhouse/demo-1\.0-py3-none-any\.whl does not "
                                            r"match its SHA-256"):
        verify(bundle)


def test_a_truncated_model_is_refused_by_size(bundle: Path) -> None:
    model = bundle / "models" / "tiny.gguf"
    model.write_bytes(model.read_bytes()[:100])
    with pytest.raises(ManifestError, match=r"models/tiny\.gguf has the wrong size"):
        verify(bundle)


def test_a_missing_file_is_named(bundle: Path) -> None:
    (bundle / "models" / "tiny.gguf").unlink()
    with pytest.raises(ManifestError, match=r"models/tiny\.gguf is missing"):
        verify(bundle)


def test_an_added_file_is_named(bundle: Path) -> None:
    (bundle / "wheelhouse" / "evil-6.6-py3-none-any.whl").write_bytes(b"surprise")
    with pytest.raises(ManifestError, match=r"wheelhouse/evil-6\.6-py3-none-any\.whl is in the "
                                            r"bundle but not in its manifest"):
        verify(bundle)


def test_no_manifest_is_not_a_bundle(bundle: Path) -> None:
    (bundle / "manifest.json").unlink()
    with pytest.raises(ManifestError, match=r"manifest\.json is missing"):
        verify(bundle)


def test_the_manifest_step_is_deterministic(bundle: Path) -> None:
    first = (bundle / "manifest.json").read_text()
    (bundle / "install.py").touch()  # a new mtime must not change anything
    assert render(compute_entries(bundle)) == first
    assert "time" not in first.lower()


def test_the_archive_is_reproducible_and_unpacks_to_a_verified_bundle(
        bundle: Path, tmp_path: Path) -> None:
    one = make_tar_gz(bundle, tmp_path / "one.tar.gz").read_bytes()
    (bundle / "models" / "tiny.gguf").touch()
    two = make_tar_gz(bundle, tmp_path / "two.tar.gz").read_bytes()
    assert one == two
    unpacked = extract(tmp_path / "one.tar.gz", tmp_path / "unpacked")
    assert unpacked.name == "enclave-bundle"
    assert len(verify(unpacked)) == 3
