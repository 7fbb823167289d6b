"""End to end, as IT does it: build the CPU bundle (connected), carry the archive, install it
inside a network namespace with no network at all (``unshare --net``), check it with
``enclave doctor`` and ask the installed Enclave a question; a tampered bundle is refused.

Slow (several minutes: pip fills the wheelhouse from the registry mirror and its cache, then
the offline install unpacks ~1.5 GB of packages). One build per test session.
"""

from __future__ import annotations

import importlib.metadata
import json
import os
import shutil
import subprocess
import sys
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from installer.archive import extract, make_tar_gz
from installer.bootstrap.manifest import compute_entries, file_sha256, read_build_record, render
from installer.bootstrap.system_packages import FOLDER, package_of_deb
from installer.system_packages import PACKAGES, SystemPackagesError, check_closure
from models.provisioning import DEFAULT_MODEL_FILE, DEFAULT_MODEL_SHA256

pytestmark = [pytest.mark.slow, pytest.mark.e2e]

REPO = Path(__file__).resolve().parents[2]
# The target's own python3: the interpreter this virtual environment was made from.
TARGET_PYTHON = Path(sys.base_prefix) / "bin" / f"python{sys.version_info[0]}.{sys.version_info[1]}"


@dataclass(frozen=True)
class Built:
    archive: Path
    staging: Path
    log: str


@dataclass(frozen=True)
class Installed:
    root: Path
    prefix: Path
    data: Path
    apps: Path
    output: str


@pytest.fixture(scope="session")
def built(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Built]:
    out = tmp_path_factory.mktemp("bundle-out")
    proc = subprocess.run(
        [sys.executable, "-m", "installer.bundle", "build", "--out", str(out), "--keep-staging"],
        cwd=REPO, capture_output=True, text=True, timeout=3600)
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-4000:]
    archive = Path(proc.stdout.strip().splitlines()[-1])
    yield Built(archive, out / archive.name.removesuffix(".tar.gz"), proc.stdout)
    shutil.rmtree(out)  # about 1.5 GB: not left for pytest's temporary-directory rotation


@pytest.fixture(scope="session")
def carried(built: Built, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """The archive unpacked on the 'workstation', away from where it was built."""
    workstation = tmp_path_factory.mktemp("workstation")
    yield extract(built.archive, workstation)
    shutil.rmtree(workstation)


def offline(cmd: list[str], home: Path, timeout: int = 1800) -> subprocess.CompletedProcess[str]:
    """Run ``cmd`` in a new network namespace: no interface up, not even loopback."""
    env = {"PATH": "/usr/bin:/bin", "HOME": str(home), "LANG": "C.UTF-8"}
    # Root can make a network namespace directly; anyone else needs a user namespace too.
    as_user = [] if os.geteuid() == 0 else ["--map-root-user"]
    return subprocess.run(["unshare", "--net", *as_user, "--", *cmd], env=env,
                          capture_output=True, text=True, timeout=timeout)


def install_cmd(bundle: Path, root: Path, *extra: str) -> list[str]:
    return [str(TARGET_PYTHON), str(bundle / "install.py"), *extra,
            "--prefix", str(root / "opt" / "enclave"), "--data", str(root / "data"),
            "--applications-dir", str(root / "applications"), "--yes"]


@pytest.fixture(scope="session")
def installed(carried: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Installed]:
    root = tmp_path_factory.mktemp("offline-install")
    (root / "home").mkdir()
    proc = offline(install_cmd(carried, root), root / "home")
    assert proc.returncode == 0, proc.stdout[-6000:] + proc.stderr[-3000:]
    yield Installed(root, root / "opt" / "enclave", root / "data", root / "applications",
                    proc.stdout)
    shutil.rmtree(root)


def test_the_namespace_really_has_no_network(tmp_path: Path) -> None:
    proc = offline(["cat", "/proc/net/dev"], tmp_path)
    interfaces = [line.split(":")[0].strip() for line in proc.stdout.splitlines()[2:]]
    assert interfaces == ["lo"]
    route = offline([str(TARGET_PYTHON), "-c",
                     "import socket; socket.create_connection(('10.0.0.1', 443), timeout=2)"],
                    tmp_path)
    assert route.returncode != 0 and "unreachable" in route.stderr.lower()


def test_the_bundle_holds_pinned_wheels_models_licences_and_sbom(built: Built) -> None:
    staging = built.staging
    info = json.loads((staging / "bundle.json").read_text())
    assert info["backend"] == "cpu" and info["default_model"] == DEFAULT_MODEL_FILE
    wheels = {p.name: p for p in (staging / "wheelhouse").glob("*.whl")}
    for name in wheels:
        dist, version = name.split("-")[:2]
        if dist == "enclave":
            continue
        assert importlib.metadata.version(dist) == version, f"{name} is not the installed version"
    assert any(n.startswith("torch-2.13.0+cpu-") for n in wheels)
    assert any(n.startswith("llama_cpp_python-") for n in wheels)
    assert set(info["model_wheels"]) <= set(wheels)
    assert file_sha256(staging / "models" / DEFAULT_MODEL_FILE) == DEFAULT_MODEL_SHA256
    assert "Apache License" in (staging / "licenses" / "SmolLM2-135M-Instruct.LICENSE.txt"
                                ).read_text()
    assert "license: apache-2.0" in (staging / "licenses" / "all-MiniLM-L6-v2.MODEL-CARD.md"
                                     ).read_text()

    sbom = json.loads((staging / "sbom.cdx.json").read_text())
    manifest = {f["path"]: f for f in json.loads((staging / "manifest.json").read_text())["files"]}
    assert sbom["bomFormat"] == "CycloneDX" and sbom["specVersion"] == "1.5"
    libraries = {c["name"].lower().replace("_", "-"): c for c in sbom["components"]
                 if c["type"] == "library"}
    assert len(libraries) == len(wheels) - 1  # every wheel but Enclave's own (the metadata one)
    torch = libraries["torch"]
    assert torch["purl"] == "pkg:pypi/torch@2.13.0%2Bcpu"
    torch_file = next(p["value"] for p in torch["properties"] if p["name"] == "enclave:file")
    assert torch["hashes"][0]["content"] == manifest[torch_file]["sha256"]
    assert libraries["llama-cpp-python"].get("licenses")
    # How llama.cpp was compiled, where IT looks: the manifest, bundle.json and the SBOM.
    build = read_build_record(staging)
    assert build is not None and build["portable"] and "-DGGML_NATIVE=OFF" in build["cmake_args"]
    assert json.loads((staging / "bundle.json").read_text())["llama_cpp_build"] == build
    properties = {p["name"]: p["value"] for p in libraries["llama-cpp-python"]["properties"]}
    assert properties["enclave:llama.cpp:cmake_args"] == build["cmake_args"]
    assert properties["enclave:llama.cpp:portable"] == "true"
    models = [c for c in sbom["components"] if c["type"] == "machine-learning-model"]
    assert {m["name"] for m in models} == {"SmolLM2-135M-Instruct", "all-MiniLM-L6-v2"}
    assert all(m["licenses"] == [{"license": {"id": "Apache-2.0"}}] for m in models)
    with zipfile.ZipFile(next(p for n, p in wheels.items() if n.startswith("enclave-"))) as zf:
        assert "installer/doctor.py" in zf.namelist()


def test_the_bundle_carries_the_window_and_ocr_packages_a_minimal_system_lacks(
        built: Built) -> None:
    debs = sorted((built.staging / FOLDER).glob("*.deb"))
    names = {package_of_deb(d) for d in debs}
    assert set(PACKAGES) | {"libtesseract5", "liblept5"} <= names
    info = json.loads((built.staging / "bundle.json").read_text())
    assert info["system_packages"] == [d.name for d in debs]
    manifest = {e.path for e in compute_entries(built.staging)}
    assert {f"{FOLDER}/{d.name}" for d in debs} <= manifest
    # apt, with no package source, installs them all onto a minimal Debian system...
    assert set(PACKAGES) <= set(check_closure(debs))
    # ...and would refuse the set were a dependency left out.
    with pytest.raises(SystemPackagesError, match="libtesseract5"):
        check_closure([d for d in debs if package_of_deb(d) != "libtesseract5"])


def test_the_same_staged_inputs_give_the_same_manifest_and_archive(
        built: Built, tmp_path: Path) -> None:
    assert render(compute_entries(built.staging), read_build_record(built.staging)) == \
        (built.staging / "manifest.json").read_text()
    again = make_tar_gz(built.staging, tmp_path / built.archive.name)
    try:
        assert file_sha256(again) == file_sha256(built.archive)
    finally:
        again.unlink()


def test_a_tampered_bundle_is_refused_before_anything_is_installed(
        carried: Path, tmp_path: Path) -> None:
    copy = tmp_path / carried.name
    shutil.copytree(carried, copy, copy_function=os.link)  # cheap: the same files, linked
    wheel = next((copy / "wheelhouse").glob("llama_cpp_python-*.whl"))
    data = bytearray(wheel.read_bytes())
    data[len(data) // 2] ^= 0x01  # one bit in the middle of the wheel
    wheel.unlink()  # a new file, so the linked original stays intact
    wheel.write_bytes(bytes(data))
    (tmp_path / "home").mkdir()
    proc = offline(install_cmd(copy, tmp_path), tmp_path / "home")
    assert proc.returncode == 1
    assert f"wheelhouse/{wheel.name} does not match its SHA-256" in proc.stdout
    assert not (tmp_path / "opt").exists() and not (tmp_path / "data").exists()


def test_the_offline_install_is_complete(installed: Installed) -> None:
    assert "enclave doctor: all checks passed" in installed.output
    launcher = installed.prefix / "bin" / "enclave"
    assert f"ENCLAVE_HOME='{installed.data}'" in launcher.read_text()
    entry = (installed.apps / "enclave.desktop").read_text()
    assert f'Exec="{launcher}"' in entry and "Type=Application" in entry
    config = (installed.data / "config.toml").read_text()
    assert str(installed.data / "models" / DEFAULT_MODEL_FILE) in config
    assert file_sha256(installed.data / "models" / DEFAULT_MODEL_FILE) == DEFAULT_MODEL_SHA256
    assert installed.data.stat().st_mode & 0o077 == 0
    log = (installed.prefix / "logs" / "install.log").read_text()
    for step in ("bundle intact", "creating a dedicated Python environment",
                 "installing enclave", "placed model", "wrote launcher", "added desktop"):
        assert step in log
    # The window's and the OCR's packages: present already, or installed from the bundle.
    assert "system packages: all" in log or "system packages installed" in log, log


def test_the_installed_doctor_is_green_offline(installed: Installed) -> None:
    proc = offline([str(installed.prefix / "bin" / "enclave"), "doctor", "--json"],
                   installed.root / "home", timeout=600)
    report = json.loads(proc.stdout)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert report["status"] == "ok", [c for c in report["checks"] if c["status"] != "ok"]


def test_the_installed_enclave_answers_offline(installed: Installed) -> None:
    proc = offline([str(installed.prefix / "bin" / "enclave"), "ask",
                    "What is the capital of France?", "--no-rag", "--max-tokens", "8", "--json"],
                   installed.root / "home", timeout=600)
    assert proc.returncode == 0, proc.stderr
    answer = json.loads(proc.stdout)
    assert answer["answer"].strip()
    assert 1 <= answer["stats"]["completion_tokens"] <= 8


def test_upgrade_keeps_data_and_uninstall_keeps_it_unless_asked(
        installed: Installed, carried: Path) -> None:
    # Runs last in this file: it replaces the installation the tests above used.
    notes = installed.data / "conversations-kept.txt"
    notes.write_text("a user's work")
    (installed.data / "config.toml").write_text(
        (installed.data / "config.toml").read_text() + "collection = \"matter-42\"\n")
    before = json.loads((installed.prefix / "enclave-install.json").read_text())
    up = offline(install_cmd(carried, installed.root, "upgrade", "--skip-doctor"),
                 installed.root / "home")
    assert up.returncode == 0, up.stdout[-4000:]
    after = json.loads((installed.prefix / "enclave-install.json").read_text())
    assert after["venv"] != before["venv"] and not Path(before["venv"]).exists()
    assert notes.read_text() == "a user's work"
    assert 'collection = "matter-42"' in (installed.data / "config.toml").read_text()
    ask = offline([str(installed.prefix / "bin" / "enclave"), "doctor"], installed.root / "home")
    assert ask.returncode == 0, ask.stdout + ask.stderr

    gone = offline(install_cmd(carried, installed.root, "uninstall"), installed.root / "home")
    assert gone.returncode == 0, gone.stdout
    assert not (installed.prefix / "venvs").exists()
    assert not (installed.prefix / "bin" / "enclave").exists()
    assert not (installed.apps / "enclave.desktop").exists()
    assert notes.read_text() == "a user's work", "uninstall keeps data unless --purge-data"
    again = offline(install_cmd(carried, installed.root, "uninstall"), installed.root / "home")
    assert again.returncode == 2 and "no Enclave installation" in again.stdout
