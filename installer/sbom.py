"""A CycloneDX 1.5 software bill of materials for the bundle: every wheel and every model.

Names, versions and licences come from each wheel's own METADATA; hashes from the files. No
timestamp and a serial number derived from the contents, so the same inputs give the same SBOM.
"""

from __future__ import annotations

import json
import uuid
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass
from email.parser import HeaderParser
from pathlib import Path
from typing import Any

from installer.bootstrap.manifest import file_sha256

_NAMESPACE = uuid.UUID("6f1d3f5e-5b8a-4c51-9a43-3c1f0e5d2a10")  # fixed: serials from content


@dataclass(frozen=True)
class ModelComponent:
    name: str
    version: str
    path: Path
    license_id: str | None
    description: str


def wheel_metadata(wheel: Path) -> Any:
    with zipfile.ZipFile(wheel) as zf:
        name = next(n for n in zf.namelist()
                    if n.endswith(".dist-info/METADATA") and n.count("/") == 1)
        text = zf.read(name).decode("utf-8", "replace")
    return HeaderParser().parsestr(text)


def licenses_of(meta: Any) -> list[dict[str, Any]]:
    """CycloneDX licence entries from core metadata, most precise source first."""
    expression = meta.get("License-Expression")
    if expression:
        return [{"expression": str(expression).strip()}]
    declared = str(meta.get("License") or "").strip()
    if declared and "\n" not in declared and len(declared) <= 80 and declared != "UNKNOWN":
        return [{"license": {"name": declared}}]
    classifiers = [str(c).split("::")[-1].strip() for c in meta.get_all("Classifier") or []
                   if str(c).startswith("License ::")]
    return [{"license": {"name": c}} for c in sorted(set(classifiers))]


def _purl(name: str, version: str) -> str:
    normalised = name.lower().replace("_", "-").replace(".", "-")
    return f"pkg:pypi/{normalised}@{version.replace('+', '%2B')}"


def wheel_component(wheel: Path) -> dict[str, Any]:
    meta = wheel_metadata(wheel)
    name, version = str(meta["Name"]), str(meta["Version"])
    component: dict[str, Any] = {
        "type": "library",
        "bom-ref": _purl(name, version),
        "name": name,
        "version": version,
        "purl": _purl(name, version),
        "hashes": [{"alg": "SHA-256", "content": file_sha256(wheel)}],
        "properties": [{"name": "enclave:file", "value": f"wheelhouse/{wheel.name}"}],
    }
    if meta.get("Summary"):
        component["description"] = str(meta["Summary"]).strip()
    licenses = licenses_of(meta)
    if licenses:
        component["licenses"] = licenses
    return component


def model_component(model: ModelComponent, bundle_root: Path) -> dict[str, Any]:
    component: dict[str, Any] = {
        "type": "machine-learning-model",
        "bom-ref": f"model:{model.path.name}",
        "name": model.name,
        "version": model.version,
        "description": model.description,
        "hashes": [{"alg": "SHA-256", "content": file_sha256(model.path)}],
        "properties": [{"name": "enclave:file",
                        "value": model.path.relative_to(bundle_root).as_posix()}],
    }
    if model.license_id:
        component["licenses"] = [{"license": {"id": model.license_id}}]
    return component


def build_properties(record: dict[str, Any]) -> list[dict[str, str]]:
    """CycloneDX properties for how llama.cpp was compiled."""
    return [
        {"name": "enclave:llama.cpp:cmake_args", "value": str(record.get("cmake_args", ""))},
        {"name": "enclave:llama.cpp:portable", "value": str(bool(record.get("portable"))).lower()},
        {"name": "enclave:llama.cpp:cpu_variants",
         "value": ",".join(record.get("cpu_variants", []))},
        {"name": "enclave:llama.cpp:backend", "value": str(record.get("backend", ""))},
        {"name": "enclave:llama.cpp:compiler", "value": str(record.get("compiler", ""))},
    ]


def build_sbom(bundle_root: Path, app_wheel: Path, wheels: Sequence[Path],
               models: Sequence[ModelComponent],
               llama_cpp_build: dict[str, Any] | None = None) -> dict[str, Any]:
    app = wheel_component(app_wheel)
    app["type"] = "application"
    components = [wheel_component(w) for w in sorted(wheels) if w != app_wheel]
    if llama_cpp_build is not None:
        for component in components:
            if component["name"].lower().replace("_", "-") == "llama-cpp-python":
                component["properties"] += build_properties(llama_cpp_build)
    components += [model_component(m, bundle_root) for m in sorted(models, key=lambda m: m.name)]
    components.sort(key=lambda c: (c["type"], c["name"].lower(), c["version"]))
    digest = "".join(c["hashes"][0]["content"] for c in [app, *components])
    return {
        "bomFormat": "CycloneDX",
        "specVersion": "1.5",
        "serialNumber": f"urn:uuid:{uuid.uuid5(_NAMESPACE, digest)}",
        "version": 1,
        "metadata": {"component": app},
        "components": components,
        "dependencies": [{"ref": app["bom-ref"],
                          "dependsOn": [c["bom-ref"] for c in components]}],
    }


def write_sbom(path: Path, sbom: dict[str, Any]) -> None:
    path.write_text(json.dumps(sbom, indent=2, sort_keys=True) + "\n", encoding="utf-8")
