"""``python -m installer.llama_wheel``: build llama-cpp-python the portable way, once.

llama.cpp's default build compiles for the machine it is built on (``-march=native``). Such a
wheel dies of an illegal instruction on any processor with fewer features, and even on the
build machine when a sandbox refuses what CPUID lists (AMX). Enclave builds llama.cpp's core
for plain x86-64 (``GGML_NATIVE=OFF``) with its CPU kernels as run-time variants, one library
per processor generation (``GGML_BACKEND_DL=ON GGML_CPU_ALL_VARIANTS=ON``); the application's
self-test picks the variant this computer runs safely (models/engine_selftest.py).

pip caches built wheels by source, not by CMAKE_ARGS, so a native wheel cached earlier would
come back: the build always runs with ``--no-cache-dir`` into Enclave's own wheel folder
(``.whl/`` by default), and a wheel there is reused only when its recorded flags match. The
flags, the compiler and the variants are stamped into the wheel as
``llama_cpp/enclave_build.json``: the bundle's manifest and SBOM and ``enclave doctor`` read
them from there.

Standard library only: it runs before anything else is installed.
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import json
import os
import platform
import re
import shutil
import subprocess
import sys
import tempfile
import zipfile
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

DIST = "llama-cpp-python"
VERSION = "0.3.36"  # the version Enclave is tested with (docs/GPU.md)
RECORD_NAME = "llama_cpp/enclave_build.json"
RECORD_FORMAT = 1

# No -march=native; the CPU kernels as run-time variants; no multimodal (llava/mtmd) library,
# which Enclave does not use. llama.cpp's own tools and tests are not built.
PORTABLE_CPU = ("-DGGML_NATIVE=OFF -DGGML_BACKEND_DL=ON -DGGML_CPU_ALL_VARIANTS=ON "
                "-DLLAVA_BUILD=OFF -DLLAMA_BUILD_TESTS=OFF -DLLAMA_BUILD_EXAMPLES=OFF "
                "-DLLAMA_BUILD_TOOLS=OFF -DLLAMA_BUILD_SERVER=OFF")
# CMAKE_ARGS per backend. CUDA is a run-time module beside the CPU variants; with
# GGML_NATIVE=OFF llama.cpp compiles for a range of GPU generations, not only the build's.
BACKEND_CMAKE_ARGS: Mapping[str, str] = {
    "cpu": PORTABLE_CPU,
    "cuda": PORTABLE_CPU + " -DGGML_CUDA=ON",
    # Apple silicon: Metal and the ARM kernels are linked in (one kind of processor family).
    "metal": "-DGGML_METAL=ON -DLLAVA_BUILD=OFF",
}
# Flags that make a build unportable, whatever else it sets.
NATIVE_FLAGS = ("-DGGML_NATIVE=ON", "-march=native", "-mcpu=native")


class BuildError(RuntimeError):
    pass


def cmake_args_for(backend: str) -> str:
    try:
        return BACKEND_CMAKE_ARGS[backend]
    except KeyError:
        raise BuildError(f"unknown backend {backend!r}; choose one of "
                         f"{', '.join(BACKEND_CMAKE_ARGS)}") from None


def is_portable(cmake_args: str) -> bool:
    upper = cmake_args.upper()
    return "-DGGML_NATIVE=OFF" in upper and not any(f.upper() in upper for f in NATIVE_FLAGS)


def record_of(wheel: Path) -> dict[str, Any] | None:
    """The build record stamped into ``wheel``, or None for a wheel Enclave did not build."""
    try:
        with zipfile.ZipFile(wheel) as zf:
            data = json.loads(zf.read(RECORD_NAME).decode("utf-8"))
    except (OSError, KeyError, ValueError, zipfile.BadZipFile):
        return None
    return data if isinstance(data, dict) else None


def find_built(folder: Path, backend: str, version: str = VERSION) -> Path | None:
    """A wheel in ``folder`` built here for ``backend`` at ``version`` with today's flags."""
    wanted = cmake_args_for(backend)
    prefix = f"llama_cpp_python-{version}-"
    for wheel in sorted(folder.glob(f"{prefix}*.whl")) if folder.is_dir() else []:
        record = record_of(wheel)
        if record and record.get("cmake_args") == wanted and record.get("backend") == backend \
                and record.get("machine") == platform.machine():
            return wheel
    return None


def build(backend: str, out: Path, version: str = VERSION, sdist: Path | None = None,
          log: Any = print) -> Path:
    """Compile llama-cpp-python for ``backend`` into ``out`` and stamp the build record."""
    cmake_args = cmake_args_for(backend)
    out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="enclave-llama-build-") as tmp:
        env = dict(os.environ)
        env.update(CMAKE_ARGS=cmake_args, FORCE_CMAKE="1",
                   CMAKE_BUILD_PARALLEL_LEVEL=env.get("CMAKE_BUILD_PARALLEL_LEVEL")
                   or str(os.cpu_count() or 2))
        source = str(sdist) if sdist else f"{DIST}=={version}"
        cmd = [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-cache-dir",
               "--no-binary", DIST, "--wheel-dir", tmp, source]
        log(f"compiling {DIST} {version} for {backend} (portable: {cmake_args}); this takes "
            "a while (about 15 minutes on two cores)")
        proc = subprocess.run(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                              text=True, errors="replace")
        if proc.returncode != 0:
            tail = "\n".join(proc.stdout.splitlines()[-30:])
            raise BuildError(f"compiling {DIST} failed (exit {proc.returncode}). Check that a "
                             f"C/C++ compiler and CMake are installed.\n{tail}")
        built = sorted(Path(tmp).glob("llama_cpp_python-*.whl"))
        if not built:
            raise BuildError("pip produced no llama-cpp-python wheel")
        wheel = built[-1]
        record = build_record(backend, cmake_args, version, variants_in(wheel),
                              compiler_version())
        stamped = out / wheel.name
        stamp(wheel, record, stamped)
    log(f"built {stamped.name}: {len(record['cpu_variants'])} CPU variants "
        f"({', '.join(record['cpu_variants']) or 'none'})")
    return stamped


def build_record(backend: str, cmake_args: str, version: str, variants: Sequence[str],
                 compiler: str) -> dict[str, Any]:
    return {
        "format": RECORD_FORMAT,
        "dist": DIST,
        "version": version,
        "backend": backend,
        "cmake_args": cmake_args,
        "portable": is_portable(cmake_args),
        "cpu_dispatch": bool(variants),
        "cpu_variants": list(variants),
        "machine": platform.machine(),
        "compiler": compiler,
    }


def variants_in(wheel: Path) -> list[str]:
    pattern = re.compile(r"(?:^|/)libggml-cpu-([A-Za-z0-9_.]+)\.(?:so|dylib|dll)$")
    with zipfile.ZipFile(wheel) as zf:
        return sorted({m[1] for n in zf.namelist() if (m := pattern.search(n))})


def compiler_version() -> str:
    for cc in (os.environ.get("CC"), "cc", "gcc", "clang"):
        if cc and shutil.which(cc):
            proc = subprocess.run([cc, "--version"], capture_output=True, text=True)
            if proc.returncode == 0 and proc.stdout:
                return proc.stdout.splitlines()[0].strip()
    return "unknown"


def wheel_path(name: str) -> str | None:
    """Where a file of pip's wheel goes in Enclave's: the run-time backends (installed under
    ``bin/`` by llama.cpp's CMake, which would put them in site-packages/bin) beside
    llama-cpp-python's own libraries; the top-level ``lib/`` copies of those libraries and
    their CMake and header files are dropped (None)."""
    if name.startswith("bin/") and Path(name).name.startswith("libggml-"):
        return "llama_cpp/lib/" + Path(name).name
    if name.startswith(("bin/", "lib/", "include/")):
        return None
    return name


def stamp(wheel: Path, record: Mapping[str, Any], target: Path) -> None:
    """Copy ``wheel`` to ``target`` with the backends beside the other libraries, and the build
    record added; the wheel's RECORD lists exactly what it holds."""
    payload = (json.dumps(record, indent=2, sort_keys=True) + "\n").encode("utf-8")
    digest = base64.urlsafe_b64encode(hashlib.sha256(payload).digest()).rstrip(b"=").decode()
    partial = target.with_name(target.name + ".partial")
    with zipfile.ZipFile(wheel) as src, \
            zipfile.ZipFile(partial, "w", compression=zipfile.ZIP_DEFLATED) as dst:
        items = [i for i in src.infolist() if i.filename != RECORD_NAME]
        record_item = next(i for i in items if i.filename.endswith(".dist-info/RECORD"))
        for item in items:
            name = wheel_path(item.filename)
            if name is None or item is record_item:
                continue
            data = src.read(item)
            item.filename = name
            dst.writestr(item, data)
        lines = [f"{RECORD_NAME},sha256={digest},{len(payload)}"]
        for line in src.read(record_item).decode("utf-8").splitlines():
            path, _, rest = line.partition(",")
            moved = wheel_path(path) if line else None
            if moved is not None and path != RECORD_NAME:
                lines.append(f"{moved},{rest}")
        info = zipfile.ZipInfo(RECORD_NAME, date_time=(1980, 1, 1, 0, 0, 0))
        info.external_attr = 0o644 << 16
        info.compress_type = zipfile.ZIP_DEFLATED
        dst.writestr(info, payload)
        dst.writestr(record_item, ("\n".join(lines) + "\n").encode("utf-8"))
    os.replace(partial, target)


def ensure(backend: str, out: Path, version: str = VERSION, log: Any = print) -> Path:
    """The portable wheel for ``backend``: reused from ``out`` when its flags match, else built."""
    found = find_built(out, backend, version)
    if found is not None:
        log(f"reusing {found} (built here with the same flags)")
        return found
    return build(backend, out, version, log=log)


def installed_record() -> dict[str, Any] | None:
    """The build record of the llama-cpp-python installed in this environment."""
    import importlib.util

    spec = importlib.util.find_spec("llama_cpp")
    if spec is None or not spec.submodule_search_locations:
        return None
    path = Path(next(iter(spec.submodule_search_locations))) / Path(RECORD_NAME).name
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def main(argv: Sequence[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m installer.llama_wheel",
                                description="Build (or reuse) the portable llama-cpp-python "
                                            "wheel and print its path.")
    p.add_argument("--backend", choices=sorted(BACKEND_CMAKE_ARGS), default="cpu")
    p.add_argument("--out", type=Path, default=Path(".whl"),
                   help="folder for the wheel (default: .whl)")
    p.add_argument("--version", default=VERSION)
    p.add_argument("--check-installed", action="store_true",
                   help="exit 1 unless the installed llama-cpp-python is a portable build")
    args = p.parse_args(argv)

    def log(text: str) -> None:
        print(f"llama-wheel: {text}", file=sys.stderr, flush=True)

    if args.check_installed:
        record = installed_record()
        if not record or not record.get("portable"):
            log("the installed llama-cpp-python is not Enclave's portable build; run "
                "'make setup' again (it reinstalls it)")
            return 1
        log(f"installed: portable {record.get('backend')} build, "
            f"{len(record.get('cpu_variants', []))} CPU variants")
        return 0
    try:
        wheel = ensure(args.backend, args.out.resolve(), args.version, log)
    except BuildError as exc:
        log(str(exc))
        return 1
    print(wheel)
    return 0


if __name__ == "__main__":
    sys.exit(main())
