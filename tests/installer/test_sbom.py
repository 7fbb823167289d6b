"""The CycloneDX SBOM: names, versions, purls, hashes and licences from the wheels' metadata."""

from __future__ import annotations

import zipfile
from pathlib import Path

from installer.bootstrap.manifest import file_sha256
from installer.sbom import ModelComponent, build_sbom


def _wheel(folder: Path, name: str, version: str, *headers: str) -> Path:
    path = folder / f"{name.replace('-', '_')}-{version}-py3-none-any.whl"
    meta = "\n".join(["Metadata-Version: 2.4", f"Name: {name}", f"Version: {version}",
                      "Summary: a test package", *headers]) + "\n\nlong description\n"
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr(f"{name.replace('-', '_')}-{version}.dist-info/METADATA", meta)
    return path


def test_components_carry_purl_hash_and_licence(tmp_path: Path) -> None:
    app = _wheel(tmp_path, "enclave", "0.1.0", "License: Proprietary")
    torch = _wheel(tmp_path, "torch", "2.13.0+cpu", "License-Expression: BSD-3-Clause")
    old = _wheel(tmp_path, "Old_Package", "1.0",
                 "Classifier: License :: OSI Approved :: MIT License")
    gguf = tmp_path / "m.gguf"
    gguf.write_bytes(b"GGUF....")
    sbom = build_sbom(tmp_path, app, [app, torch, old],
                      [ModelComponent("Tiny", "Q4_1", gguf, "Apache-2.0", "a model")])
    assert sbom["bomFormat"] == "CycloneDX" and sbom["specVersion"] == "1.5"
    assert sbom["metadata"]["component"]["name"] == "enclave"
    by_name = {c["name"]: c for c in sbom["components"]}
    assert set(by_name) == {"torch", "Old_Package", "Tiny"}
    assert by_name["torch"]["purl"] == "pkg:pypi/torch@2.13.0%2Bcpu"
    assert by_name["torch"]["hashes"] == [{"alg": "SHA-256", "content": file_sha256(torch)}]
    assert by_name["torch"]["licenses"] == [{"expression": "BSD-3-Clause"}]
    assert by_name["Old_Package"]["purl"] == "pkg:pypi/old-package@1.0"
    assert by_name["Old_Package"]["licenses"] == [{"license": {"name": "MIT License"}}]
    assert by_name["Tiny"]["type"] == "machine-learning-model"
    assert by_name["Tiny"]["licenses"] == [{"license": {"id": "Apache-2.0"}}]


def test_the_same_inputs_give_the_same_sbom(tmp_path: Path) -> None:
    app = _wheel(tmp_path, "enclave", "0.1.0")
    dep = _wheel(tmp_path, "numpy", "2.4.6", "License-Expression: BSD-3-Clause")
    first = build_sbom(tmp_path, app, [dep, app], [])
    second = build_sbom(tmp_path, app, [app, dep], [])
    assert first == second
    assert "timestamp" not in first["metadata"]
