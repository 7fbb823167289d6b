"""The portable llama.cpp build: what is installed has no native CPU code outside the run-time
variants, the variants hold only the instructions their processor generation has, and the
wheel Enclave stamps is one pip accepts, with its flags inside."""

from __future__ import annotations

import base64
import hashlib
import re
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from installer import llama_wheel
from installer.llama_wheel import (
    build_record,
    cmake_args_for,
    find_built,
    installed_record,
    is_portable,
    record_of,
    stamp,
)
from models.llama_backends import cpu_variants, library_dir

# Register names by instruction set: AVX-512 uses zmm registers, AMX its tile instructions.
AVX512 = re.compile(r"%zmm\d")
AMX = re.compile(r"\b(?:tileloadd|tileloaddt1|tilestored|tilezero|tilerelease|ldtilecfg"
                 r"|tdpb[su][su]d|tdpbf16ps|tdpfp16ps)\b")
AVX = re.compile(r"%ymm\d")
# The variants llama.cpp builds for processors with AVX-512 (GGML_CPU_ALL_VARIANTS).
AVX512_VARIANTS = {"skylakex", "cannonlake", "cascadelake", "icelake", "cooperlake", "zen4",
                   "sapphirerapids"}


def disassembly(path: Path) -> str:
    done = subprocess.run(["objdump", "-d", "--no-show-raw-insn", str(path)],
                          capture_output=True, text=True, check=True)
    return done.stdout


def test_the_installed_llama_cpp_is_the_portable_build() -> None:
    record = installed_record()
    assert record is not None, "llama-cpp-python was not installed by 'make setup'"
    assert record["portable"] and "-DGGML_NATIVE=OFF" in record["cmake_args"]
    assert "native" not in record["cmake_args"].replace("GGML_NATIVE=OFF", "")
    assert record["cpu_variants"] == sorted(v.name for v in cpu_variants())


@pytest.mark.skipif(shutil.which("objdump") is None, reason="needs binutils' objdump")
def test_no_avx512_or_amx_outside_the_variants_that_check_for_them() -> None:
    variants = {v.name: v.path for v in cpu_variants()}
    if not variants:
        pytest.skip("this llama.cpp build has no run-time CPU variants")
    core = [p for p in library_dir().iterdir()
            if p.name in ("libllama.so", "libggml.so", "libggml-base.so")]
    assert len(core) == 3
    for path in core:
        code = disassembly(path)
        assert not AVX.search(code) and not AVX512.search(code) and not AMX.search(code), \
            f"{path.name} is loaded on every processor, so it must hold plain x86-64 only"
    for name, path in variants.items():
        code = disassembly(path)
        if name not in AVX512_VARIANTS:
            assert not AVX512.search(code), f"{name} holds AVX-512 code"
        if name != "sapphirerapids":
            assert not AMX.search(code), f"{name} holds AMX code"
        if name in ("x64", "sse42"):
            assert not AVX.search(code), f"{name} holds AVX code"
    assert AMX.search(disassembly(variants["sapphirerapids"])), \
        "the AMX variant exists, so the self-test's fallback is what keeps it safe"


def test_a_stamped_wheel_moves_the_backends_beside_llama_cpp_and_pip_accepts_it(
        tmp_path: Path) -> None:
    raw = tmp_path / "llama_cpp_python-0.3.36-py3-none-linux_x86_64.whl"
    files = {
        "llama_cpp/__init__.py": b"__version__ = '0.3.36'\n",
        "llama_cpp/lib/libllama.so": b"\x7fELF core",
        "bin/libggml-cpu-haswell.so": b"\x7fELF haswell",
        "bin/libggml-cpu-x64.so": b"\x7fELF x64",
        "lib/libllama.so": b"\x7fELF copy",
        "include/llama.h": b"/* header */",
        "llama_cpp_python-0.3.36.dist-info/METADATA":
            b"Metadata-Version: 2.1\nName: llama_cpp_python\nVersion: 0.3.36\n",
        "llama_cpp_python-0.3.36.dist-info/WHEEL":
            b"Wheel-Version: 1.0\nGenerator: test\nRoot-Is-Purelib: false\nTag: py3-none-any\n",
    }
    with zipfile.ZipFile(raw, "w") as zf:
        record = []
        for name, data in files.items():
            zf.writestr(name, data)
            digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=")
            record.append(f"{name},sha256={digest.decode()},{len(data)}")
        record.append("llama_cpp_python-0.3.36.dist-info/RECORD,,")
        zf.writestr("llama_cpp_python-0.3.36.dist-info/RECORD", "\n".join(record) + "\n")
    out = tmp_path / "out"
    out.mkdir()
    args = cmake_args_for("cpu")
    stamped = out / raw.name
    stamp(raw, build_record("cpu", args, "0.3.36", ["haswell", "x64"], "cc 12"), stamped)

    names = set(zipfile.ZipFile(stamped).namelist())
    assert {"llama_cpp/lib/libggml-cpu-haswell.so", "llama_cpp/lib/libggml-cpu-x64.so",
            llama_wheel.RECORD_NAME} <= names
    assert not any(n.startswith(("bin/", "lib/", "include/")) for n in names)
    assert record_of(stamped)["cmake_args"] == args  # type: ignore[index]
    target = tmp_path / "site"
    done = subprocess.run([sys.executable, "-m", "pip", "install", "--no-deps", "--no-index",
                           "--target", str(target), str(stamped)], capture_output=True, text=True)
    assert done.returncode == 0, done.stdout + done.stderr
    assert (target / "llama_cpp" / "lib" / "libggml-cpu-haswell.so").read_bytes() == \
        b"\x7fELF haswell"
    assert (target / "llama_cpp" / "enclave_build.json").is_file()
    assert find_built(out, "cpu", "0.3.36") == stamped


def test_a_wheel_built_with_other_flags_is_never_reused(tmp_path: Path) -> None:
    source = Path(".whl")
    built = find_built(source, "cpu") if source.is_dir() else None
    if built is None:
        pytest.skip("no portable wheel in .whl/ (make setup builds it)")
    other = tmp_path / built.name
    record = dict(record_of(built) or {})
    record["cmake_args"] = "-DGGML_NATIVE=ON"
    stamp(built, record, other)
    assert find_built(tmp_path, "cpu") is None, "a native wheel is not taken for a portable one"
    assert not is_portable("-DGGML_NATIVE=ON") and is_portable(cmake_args_for("cpu"))
    assert not is_portable(cmake_args_for("cpu") + " -DCMAKE_C_FLAGS=-march=native")
