"""enclave doctor: each check on real files and directories, with the GPU and package versions
as the seams; and the real command, green on a healthy home and failing on an exposed one."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

from installer import doctor
from installer.doctor import (
    check_backend,
    check_chat_model,
    check_data_permissions,
    check_disk,
    check_egress_guard,
    check_embedding_engine,
    check_embedding_model,
    check_memory,
    check_offline_environment,
    check_packages,
    check_python,
)
from models.gpu_fit import MIB, NvidiaGpu

GIB = 1 << 30


def test_a_private_data_directory_passes_and_an_open_one_fails(tmp_path: Path) -> None:
    home = tmp_path / "home"
    home.mkdir()
    home.chmod(0o700)
    assert check_data_permissions(home).status == "ok"
    home.chmod(0o755)
    result = check_data_permissions(home)
    assert result.status == "fail"
    assert "other users" in result.message
    assert result.fix == f"chmod 700 {home}"
    assert check_data_permissions(tmp_path / "nowhere").status == "fail"


def test_the_default_model_is_checked_against_its_known_hash(
        tmp_path: Path, default_model_path: Path) -> None:
    assert check_chat_model(default_model_path).status == "ok"
    damaged = tmp_path / default_model_path.name
    shutil.copyfile(default_model_path, damaged)
    with damaged.open("r+b") as f:
        f.seek(1_000_000)
        byte = f.read(1)
        f.seek(1_000_000)
        f.write(bytes([byte[0] ^ 0xFF]))
    result = check_chat_model(damaged)
    assert result.status == "fail" and "SHA-256" in result.message
    assert "install-default" in result.fix


def test_another_gguf_is_checked_by_its_header(tmp_path: Path, default_model_path: Path) -> None:
    other = tmp_path / "company-model.Q4_1.gguf"
    shutil.copyfile(default_model_path, other)
    result = check_chat_model(other)
    assert result.status == "ok" and "readable GGUF" in result.message
    junk = tmp_path / "junk.gguf"
    junk.write_bytes(b"not a model at all")
    assert check_chat_model(junk).status == "fail"
    assert check_chat_model(tmp_path / "absent.gguf").status == "fail"


def test_the_embedding_model_folder_must_be_complete(tmp_path: Path) -> None:
    from rag.embedder import bundled_model_dir

    assert check_embedding_model(bundled_model_dir).status == "ok"
    partial = tmp_path / "model"
    shutil.copytree(bundled_model_dir(), partial, ignore=shutil.ignore_patterns("*.safetensors"))
    result = check_embedding_model(lambda: partial)
    assert result.status == "fail" and "weights" in result.message


def test_package_versions_are_compared_with_the_declared_ranges() -> None:
    requirements = ["numpy>=1.26,<3", "pypdf>=5.0,<8", "pywin32>=300; sys_platform == 'win32'"]
    versions: dict[str, str] = {"numpy": "2.4.6", "pypdf": "4.3.0"}
    result = check_packages(requirements, versions.get)
    assert result.status == "fail"
    assert "pypdf 4.3.0 is outside" in result.message
    assert "pywin32" not in result.message, "requirements for other platforms are ignored"
    assert check_packages(requirements[:1], versions.get).status == "ok"
    nothing: dict[str, str] = {}
    assert "numpy is missing" in check_packages(requirements[:1], nothing.get).message


def test_python_version_against_requires_python() -> None:
    assert check_python(">=3.11", (3, 11, 7)).status == "ok"
    assert check_python(">=3.11", (3, 10, 4)).status == "fail"


def _gpus(found: list[NvidiaGpu] | None) -> Callable[[], list[NvidiaGpu] | None]:
    return lambda: found


def test_backend_and_gpu_are_reported_honestly() -> None:
    card = [NvidiaGpu("NVIDIA L4", 23034 * MIB, 22000 * MIB)]
    unchecked = check_backend(lambda: "CPU", _gpus(None), platform="linux")
    assert unchecked.status == "ok" and "not checked" in unchecked.message
    wasted = check_backend(lambda: "CPU", _gpus(card), platform="linux")
    assert wasted.status == "warn" and "--backend cuda" in wasted.fix
    assert check_backend(lambda: "CUDA", _gpus(card), platform="linux").status == "ok"
    assert check_backend(lambda: "CUDA", _gpus([]), platform="linux").status == "warn"
    assert check_backend(lambda: "Metal", _gpus(None), platform="darwin").status == "ok"
    assert check_backend(lambda: "CPU", _gpus(None), platform="darwin").status == "warn"

    def missing() -> str:
        raise ImportError("libllama.so: cannot open shared object file")
    assert check_backend(missing, _gpus(None), platform="linux").status == "fail"


def test_memory_and_disk_against_the_model_size(tmp_path: Path) -> None:
    assert check_memory(4 * GIB, 16 * GIB).status == "ok"
    assert check_memory(4 * GIB, int(4.5 * GIB)).status == "warn"
    assert check_memory(4 * GIB, 3 * GIB).status == "fail"
    assert check_memory(4 * GIB, None).status == "warn"
    assert check_disk(tmp_path, GIB, free_bytes=lambda _: 50 * GIB).status == "ok"
    assert check_disk(tmp_path, 8 * GIB, free_bytes=lambda _: 5 * GIB).status == "warn"
    assert check_disk(tmp_path, GIB, free_bytes=lambda _: 100 * MIB).status == "fail"


def test_guard_and_offline_switches() -> None:
    assert check_egress_guard(True).status == "ok"
    assert check_egress_guard(False).status == "fail"
    forced = {"HF_HUB_OFFLINE": "1", "DO_NOT_TRACK": "1"}
    assert check_offline_environment(forced, dict(forced)).status == "ok"
    result = check_offline_environment(forced, {"HF_HUB_OFFLINE": "0", "DO_NOT_TRACK": "1"})
    assert result.status == "fail" and "HF_HUB_OFFLINE" in result.message


def test_the_worst_result_decides() -> None:
    results = [doctor.ok("a", "fine"), doctor.warn("b", "hmm", "do x")]
    assert doctor.worst(results) == "warn"
    assert doctor.worst([*results, doctor.fail("c", "bad", "do y")]) == "fail"


class _Engine:
    """The embedder's seam: a name, its ONNX file, and embed."""

    name = "all-MiniLM-L6-v2 (ONNX Runtime, int8)"

    def __init__(self, fails: bool = False) -> None:
        self.exported = type("Exported", (), {"path": Path("/data/cache/embedder/m.onnx")})()
        self._fails = fails

    def embed(self, texts: list[str]) -> list[list[float]]:
        if self._fails:
            raise RuntimeError("tokenizer.json is damaged")
        return [[0.0] * 384 for _ in texts]


def test_the_embedding_engine_is_made_ready_and_a_fallback_or_a_failure_is_named() -> None:
    ready = check_embedding_engine(lambda: (_Engine(), ""), "onnx-int8")
    assert ready.status == "ok" and "int8" in ready.message and "m.onnx" in ready.message
    fell_back = check_embedding_engine(
        lambda: (_Engine(), "OSError: No space left on device"), "onnx-int8")
    assert fell_back.status == "warn" and "No space left on device" in fell_back.message
    assert "embedding_backend = onnx-int8" in fell_back.message
    broken = check_embedding_engine(lambda: (_Engine(fails=True), ""), "onnx-int8")
    assert broken.status == "fail" and "tokenizer.json is damaged" in broken.message
    assert broken.fix and "Reinstall" in broken.fix


def _doctor(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    exe = Path(sys.executable).with_name("enclave")
    return subprocess.run([str(exe), "doctor", *args], env=env, capture_output=True, text=True,
                          timeout=300)


def test_enclave_doctor_is_green_on_a_healthy_home_and_red_on_an_exposed_one(
        cli_env: dict[str, str], enclave_home: Path) -> None:
    enclave_home.chmod(0o700)
    healthy = _doctor(cli_env, "--json")
    report = json.loads(healthy.stdout)
    assert healthy.returncode == 0, healthy.stdout + healthy.stderr
    assert report["ok"] and {c["name"] for c in report["checks"]} >= {
        "packages", "chat model", "embedding model", "embedding engine", "llama.cpp backend",
        "memory", "data directory", "egress guard", "offline switches", "window"}
    enclave_home.chmod(0o755)
    exposed = _doctor(cli_env)
    assert exposed.returncode == 1
    line = next(ln for ln in exposed.stdout.splitlines() if "data directory" in ln)
    assert line.startswith("[FAIL]")
    assert f"fix: chmod 700 {enclave_home}" in exposed.stdout
    assert os.stat(enclave_home).st_mode & 0o077  # the doctor reports; it changes nothing


def test_the_llama_build_check_names_the_flags_and_refuses_a_native_build() -> None:
    from installer.doctor import check_llama_build
    from installer.llama_wheel import build_record, cmake_args_for

    portable = build_record("cpu", cmake_args_for("cpu"), "0.3.36", ["haswell", "x64"], "gcc 12")
    result = check_llama_build(portable, ["haswell", "x64"])
    assert result.status == "ok"
    assert "GGML_NATIVE=OFF" in result.message and "haswell, x64" in result.message
    native = build_record("cpu", "-DGGML_NATIVE=ON", "0.3.36", [], "gcc 12")
    assert check_llama_build(native, []).status == "fail"
    unknown = check_llama_build(None, [])
    assert unknown.status == "warn" and "make setup" in unknown.fix


def test_the_self_test_check_reports_the_childs_verdict() -> None:
    from installer.doctor import check_engine
    from models.engine_selftest import EngineCheck
    from models.errors import ModelError

    passed = EngineCheck(True, "zen4", "a 4-token test passed on CPU variant zen4 in 0.9 s")
    assert check_engine(lambda: passed).status == "ok"
    crashed = EngineCheck(False, None, "llama.cpp stops with an illegal instruction ...")
    result = check_engine(lambda: crashed)
    assert result.status == "fail" and "illegal instruction" in result.message

    def no_model() -> EngineCheck:
        raise ModelError("No model file at /x.gguf.")

    assert check_engine(no_model).status == "fail"


def test_the_ocr_check_names_the_engine_its_languages_and_what_to_install() -> None:
    from installer.doctor import check_ocr
    from rag.ocr import EngineInfo

    engine = EngineInfo("/usr/bin/tesseract", "tesseract 5.3.0", ("deu", "eng"), True)
    good = check_ocr(engine, (), ("deu", "eng"))
    assert good.status == "ok" and "tesseract 5.3.0" in good.message
    assert "deu+eng" in good.message and "with orientation detection" in good.message
    missing = check_ocr(engine, ("fra",), ())
    assert missing.status == "warn" and "fra" in missing.message
    assert missing.fix == "apt install tesseract-ocr-fra"
    none = check_ocr(None, (), ())
    assert none.status == "warn" and "cannot be read" in none.message
    assert "tesseract-ocr" in none.fix


def test_the_index_check_names_lost_vectors_and_the_repair() -> None:
    from installer.doctor import check_index
    from rag.services import IndexCheck

    healthy = check_index(lambda: [IndexCheck("Smith v Jones", 120, 0)], repaired=False)
    assert healthy.status == "ok" and "120 passages, every one with its vectors" in \
        healthy.message
    broken = check_index(lambda: [IndexCheck("Smith v Jones", 120, 7, ("/m/lease.pdf",))],
                         repaired=False)
    assert broken.status == "fail"
    assert "'Smith v Jones': 7 passages without vectors in /m/lease.pdf" in broken.message
    assert "enclave doctor --repair" in broken.fix
    mended = check_index(lambda: [IndexCheck("Smith v Jones", 120, 7, ("/m/lease.pdf",),
                                             repaired=True)], repaired=True)
    assert mended.status == "ok" and "7 passages embedded again" in mended.message

    def unreadable() -> list[IndexCheck]:
        raise RuntimeError("Error executing plan")

    failed = check_index(unreadable, repaired=False)
    assert failed.status == "fail" and "could not be read" in failed.message


def test_the_model_server_check_warns_when_questions_would_cross_the_network_unencrypted(
        ) -> None:
    """A seam: the connected server as the check sees it (host, URL, the model it serves)."""
    from types import SimpleNamespace

    from installer.doctor import check_chat_server
    from models.errors import ModelError

    def server(url: str, host: str) -> SimpleNamespace:
        return SimpleNamespace(base=f"{url}/v1", host=host, where=f"{host}:8080",
                               name="model.gguf", context_size=8192,
                               options=SimpleNamespace(token="t"), version=lambda: "b4000",
                               close=lambda: None)

    plain = check_chat_server(lambda: server("http://10.0.0.5:8080", "10.0.0.5"))
    assert plain.status == "warn" and "unencrypted" in plain.message
    assert "https" in plain.fix
    secure = check_chat_server(lambda: server("https://gpu.clinic.internal:8080",
                                              "gpu.clinic.internal"))
    assert secure.status == "ok" and secure.message.endswith("over TLS")
    assert "the token was accepted" in secure.message
    local = check_chat_server(lambda: server("http://127.0.0.1:8080", "127.0.0.1"))
    assert local.status == "ok"  # loopback never leaves this computer

    def down() -> SimpleNamespace:
        raise ModelError("The model server at 10.0.0.5:8080 cannot be reached (refused).")

    failed = check_chat_server(down)
    assert failed.status == "fail" and "cannot be reached" in failed.message
