"""Which llama.cpp compute backends this process loads, chosen by Enclave, never by a scan.

Enclave's llama-cpp-python is a portable build (installer/llama_wheel.py): llama.cpp's own
code is compiled for plain x86-64, and the CPU kernels come as one library per processor
generation (``libggml-cpu-haswell.so``, ``-icelake``, ``-sapphirerapids`` ...) that is loaded at
run time. llama.cpp would pick the variant with the highest score from CPUID, but CPUID can
promise instructions the operating system refuses: a sandboxed Sapphire Rapids lists AMX, and
the AMX variant then dies of SIGILL on its first matrix product. So the variant to load is an
input here, decided by a child-process self-test (models/engine_selftest.py).

Loading is explicit and happens before llama.cpp's ``llama_backend_init``, which then finds
backends already registered and skips its own ``ggml_backend_load_all``. That also keeps
llama.cpp from searching the current directory for ``libggml-*.so`` files to load.

A build without run-time dispatch (the CPU kernels linked in: a Metal build, an older wheel)
has no variants; everything here then does nothing, and that build is what it is.
"""

from __future__ import annotations

import ctypes
import json
import re
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from models.errors import ModelError

# The file the portable build stamps into the wheel (installer/llama_wheel.py writes it).
BUILD_RECORD = "enclave_build.json"
_CPU_VARIANT = re.compile(r"^libggml-cpu-(?P<name>[A-Za-z0-9_.]+)\.(?:so|dylib|dll)$")
_OTHER_BACKEND = re.compile(r"^libggml-(?P<name>[a-z0-9]+)\.(?:so|dylib|dll)$")
# Backends that are part of llama.cpp itself, not loadable modules.
_NOT_MODULES = {"base", "cpu"}


@dataclass(frozen=True)
class CpuVariant:
    name: str  # "haswell", "icelake", ...
    path: Path


def package_dir() -> Path:
    """The installed ``llama_cpp`` package folder, found without importing it."""
    import importlib.util

    spec = importlib.util.find_spec("llama_cpp")
    if spec is None or not spec.submodule_search_locations:
        raise ModelError("llama-cpp-python is not installed. Run 'make setup', or install "
                         "Enclave from its offline bundle.")
    return Path(next(iter(spec.submodule_search_locations)))


def library_dir() -> Path:
    return package_dir() / "lib"


def cpu_variants(lib_dir: Path | None = None) -> list[CpuVariant]:
    """The run-time CPU variants this build ships, by name; empty for a build without them."""
    folder = lib_dir or library_dir()
    found = []
    for path in sorted(folder.glob("libggml-cpu-*")):
        match = _CPU_VARIANT.match(path.name)
        if match and path.is_file():
            found.append(CpuVariant(match["name"], path))
    return found


def other_backend_modules(lib_dir: Path | None = None) -> list[Path]:
    """Loadable non-CPU backend modules (``libggml-cuda.so``, ``libggml-vulkan.so`` ...).

    In a dispatch build every backend is a module; ``libggml.so`` and ``libggml-base.so`` are
    llama.cpp's core and are linked, not loaded."""
    folder = lib_dir or library_dir()
    modules = []
    for path in sorted(folder.glob("libggml-*")):
        match = _OTHER_BACKEND.match(path.name)
        if match and match["name"] not in _NOT_MODULES and path.is_file():
            modules.append(path)
    return modules


def build_record(pkg_dir: Path | None = None) -> dict[str, Any] | None:
    """How this llama-cpp-python was built (flags, compiler), when Enclave built it."""
    path = (pkg_dir or package_dir()) / BUILD_RECORD
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def _libggml() -> Any:
    """llama.cpp's core library, the very copy llama-cpp-python's libllama is linked to.

    The wheel holds ``libggml.so``, ``.so.0`` and ``.so.0.25.3`` as three separate files, and
    each copy has a backend registry of its own: opening another than libllama's would
    register backends libllama never sees."""
    import llama_cpp  # noqa: F401  (loads libllama, and with it libggml and libggml-base)

    core = re.compile(r"^(?:lib)?ggml\.(?:so(?:\.\d+)*|dylib|\d+\.dylib|dll)$")
    mapped = [p for p in _mapped_libraries() if core.match(p.name)]
    if mapped:
        target = str(mapped[0])
    else:  # no /proc (macOS): the soname, which the dynamic loader matches to the loaded copy
        target = {"darwin": "libggml.0.dylib", "win32": "ggml.dll"}.get(sys.platform,
                                                                        "libggml.so.0")
    lib = ctypes.CDLL(target)
    lib.ggml_backend_load.argtypes = [ctypes.c_char_p]
    lib.ggml_backend_load.restype = ctypes.c_void_p
    lib.ggml_backend_reg_count.argtypes = []
    lib.ggml_backend_reg_count.restype = ctypes.c_size_t
    lib.ggml_backend_reg_by_name.argtypes = [ctypes.c_char_p]
    lib.ggml_backend_reg_by_name.restype = ctypes.c_void_p
    lib.ggml_backend_reg_get.argtypes = [ctypes.c_size_t]
    lib.ggml_backend_reg_get.restype = ctypes.c_void_p
    lib.ggml_backend_reg_name.argtypes = [ctypes.c_void_p]
    lib.ggml_backend_reg_name.restype = ctypes.c_char_p
    return lib


def registered_backends() -> list[str]:
    """The names of the backends registered in this process ("CPU", "CUDA" ...)."""
    lib = _libggml()
    names = []
    for i in range(int(lib.ggml_backend_reg_count())):
        raw = lib.ggml_backend_reg_name(lib.ggml_backend_reg_get(i))
        names.append(raw.decode("utf-8", "replace") if raw else "")
    return names


def _mapped_libraries() -> list[Path]:
    """The shared libraries mapped into this process (Linux); empty where that is unknown."""
    try:
        maps = Path("/proc/self/maps").read_text(encoding="utf-8", errors="replace")
    except OSError:
        return []
    return [Path(fields[-1]) for fields in (line.split() for line in maps.splitlines())
            if len(fields) >= 6 and fields[-1].startswith("/")]


def loaded_cpu_variant() -> str | None:
    """The CPU variant mapped into this process, read from the process's own memory map."""
    for path in _mapped_libraries():
        match = _CPU_VARIANT.match(path.name)
        if match:
            return match["name"]
    return None


def load_gpu_modules() -> None:
    """Register every GPU backend module the build has (CUDA, Vulkan ...), once.

    A module whose driver is missing fails to register, and llama.cpp then runs on the CPU."""
    if not cpu_variants():
        return
    lib = _libggml()
    mapped = {p.name for p in _mapped_libraries()}
    for module in other_backend_modules():
        if module.name not in mapped:
            lib.ggml_backend_load(str(module).encode())


def load_backends(cpu_variant: str | None) -> str | None:
    """Register llama.cpp's backends for this process, once: every GPU module the build has,
    then the CPU variant ``cpu_variant`` (None: the best-scoring one, llama.cpp's own rule).
    Returns the CPU variant in use, or None for a build without variants."""
    variants = cpu_variants()
    if not variants:
        return None
    load_gpu_modules()
    lib = _libggml()
    if lib.ggml_backend_reg_by_name(b"CPU"):
        return loaded_cpu_variant()  # already done in this process
    by_name = {v.name: v for v in variants}
    if cpu_variant is None:
        scores = variant_scores(variants)
        cpu_variant = best_variant(scores)
        if cpu_variant is None:
            raise ModelError("None of llama.cpp's CPU variants supports this processor. "
                             "Reinstall Enclave with 'make setup' on this computer.")
    chosen = by_name.get(cpu_variant)
    if chosen is None:
        raise ModelError(f"This llama.cpp build has no CPU variant '{cpu_variant}' (it has "
                         f"{', '.join(by_name)}). Run 'enclave doctor' to test it again.")
    if not lib.ggml_backend_load(str(chosen.path).encode()):
        raise ModelError(f"llama.cpp could not load its CPU library {chosen.path.name}. "
                         "Reinstall Enclave (make setup, or the offline bundle).")
    return chosen.name


def best_variant(scores: dict[str, int], exclude: frozenset[str] = frozenset()) -> str | None:
    """The highest-scoring variant not excluded, as llama.cpp would choose; None if none fits."""
    usable = {n: s for n, s in scores.items() if s > 0 and n not in exclude}
    return max(usable, key=lambda n: (usable[n], n)) if usable else None


def variant_scores(variants: list[CpuVariant]) -> dict[str, int]:
    """Each variant's own verdict on this CPU (0: unsupported), as llama.cpp asks it.

    Opening a variant only runs its CPUID check; its kernels run only once it is registered.
    Still, Enclave asks in the self-test's child process, never in the application's."""
    _libggml()  # the variants link against llama.cpp's core, which must be loaded first
    scores = {}
    for variant in variants:
        try:
            lib = ctypes.CDLL(str(variant.path))
            score = lib.ggml_backend_score
        except (OSError, AttributeError):
            scores[variant.name] = 0
            continue
        score.argtypes, score.restype = [], ctypes.c_int
        scores[variant.name] = int(score())
    return scores


def system_info() -> str:
    """llama.cpp's summary of the registered backends and the CPU features they use."""
    import llama_cpp

    return str(llama_cpp.llama_print_system_info().decode("utf-8", "replace")).strip()
