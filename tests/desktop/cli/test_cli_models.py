"""``enclave models import``: the window's import, for IT at a terminal (same checks)."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

from desktop.app.settings import load_settings
from tests.desktop.cli.cli_runner import run_enclave
from tests.gguf_files import make_gguf


def _env(home: Path) -> dict[str, str]:
    return {"ENCLAVE_HOME": str(home)}


def test_import_checks_the_sha256_and_refuses_a_mismatch(tmp_path: Path,
                                                          enclave_home: Path) -> None:
    usb = make_gguf(tmp_path / "Mistral-7B.Q4_K_M.gguf")
    digest = hashlib.sha256(usb.read_bytes()).hexdigest()
    refused = run_enclave(("models", "import", str(usb), "--sha256", "1" * 64),
                          _env(enclave_home))
    assert refused.returncode == 1 and "is not the published file" in refused.stderr
    assert os.listdir(enclave_home / "models") == []

    done = run_enclave(("models", "import", str(usb), "--sha256", digest, "--use"),
                       _env(enclave_home))
    assert done.returncode == 0, done.stderr
    assert f"SHA-256: {digest} (matches the one given)" in done.stdout
    copied = enclave_home / "models" / usb.name
    assert copied.read_bytes() == usb.read_bytes()
    assert load_settings().model_path == copied


def test_import_refuses_a_file_that_is_not_a_model(tmp_path: Path, enclave_home: Path) -> None:
    notes = tmp_path / "notes.txt"
    notes.write_text("meeting notes")
    done = run_enclave(("models", "import", str(notes)), _env(enclave_home))
    assert done.returncode == 1
    assert "“notes.txt” is not a model file Enclave can use" in done.stderr
