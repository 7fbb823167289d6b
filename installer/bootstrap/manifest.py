"""The bundle manifest: the SHA-256 and size of every file, and the check that nothing changed.

Standard library only: the installer verifies the bundle with the target's python3 before it
has installed anything. The manifest is deterministic (entries sorted by path, no timestamps),
so building twice from the same inputs gives the same bytes.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

MANIFEST_FILE = "manifest.json"
MANIFEST_FORMAT = "enclave-bundle-manifest/1"


class ManifestError(Exception):
    """The bundle is not exactly what was built; the message names the file."""


@dataclass(frozen=True)
class Entry:
    path: str  # relative, with forward slashes
    sha256: str
    size: int

    def to_json(self) -> dict[str, object]:
        return {"path": self.path, "sha256": self.sha256, "size": self.size}


def file_sha256(path: Path, chunk: int = 1 << 20) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        while block := f.read(chunk):
            digest.update(block)
    return digest.hexdigest()


def bundle_files(root: Path) -> list[str]:
    """Every file under ``root`` except the manifest itself, as sorted relative paths."""
    found = []
    for path in root.rglob("*"):
        if path.is_dir():
            continue
        rel = path.relative_to(root).as_posix()
        if rel != MANIFEST_FILE:
            found.append(rel)
    return sorted(found)


def compute_entries(root: Path) -> list[Entry]:
    return [Entry(rel, file_sha256(root / rel), (root / rel).stat().st_size)
            for rel in bundle_files(root)]


def render(entries: list[Entry], llama_cpp_build: dict[str, Any] | None = None) -> str:
    doc: dict[str, Any] = {"format": MANIFEST_FORMAT,
                           "files": [e.to_json() for e in sorted(entries, key=lambda e: e.path)]}
    if llama_cpp_build is not None:
        # How the bundled llama.cpp was compiled (flags, CPU variants): what IT checks first
        # when a workstation's processor differs from the build machine's.
        doc["llama_cpp_build"] = llama_cpp_build
    return json.dumps(doc, indent=2, sort_keys=True) + "\n"


def write_manifest(root: Path, llama_cpp_build: dict[str, Any] | None = None) -> Path:
    target = root / MANIFEST_FILE
    target.write_text(render(compute_entries(root), llama_cpp_build), encoding="utf-8")
    return target


def read_build_record(root: Path) -> dict[str, Any] | None:
    """The llama.cpp build flags the manifest records, if any."""
    try:
        doc = json.loads((root / MANIFEST_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    record = doc.get("llama_cpp_build") if isinstance(doc, dict) else None
    return record if isinstance(record, dict) else None


def read_manifest(root: Path) -> list[Entry]:
    path = root / MANIFEST_FILE
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
        if doc.get("format") != MANIFEST_FORMAT:
            raise ManifestError(f"{MANIFEST_FILE} has an unknown format {doc.get('format')!r}.")
        return [Entry(str(f["path"]), str(f["sha256"]), int(f["size"])) for f in doc["files"]]
    except FileNotFoundError as exc:
        raise ManifestError(f"{MANIFEST_FILE} is missing: this is not a complete Enclave "
                            "bundle.") from exc
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise ManifestError(f"{MANIFEST_FILE} cannot be read ({exc}).") from exc


def verify(root: Path, on_file: Callable[[Entry], None] | None = None) -> list[Entry]:
    """Check every file against the manifest; raise ManifestError naming the first bad file.

    Sizes are compared before hashes so a truncated copy is reported without reading it all.
    """
    entries = read_manifest(root)
    listed = {e.path for e in entries}
    present = set(bundle_files(root))
    missing = sorted(listed - present)
    if missing:
        raise ManifestError(f"{missing[0]} is missing from the bundle "
                            f"({len(missing)} file(s) missing). Copy the bundle again.")
    extra = sorted(present - listed)
    if extra:
        raise ManifestError(f"{extra[0]} is in the bundle but not in its manifest "
                            f"({len(extra)} unexpected file(s)). Unpack a fresh copy.")
    for entry in entries:
        path = root / entry.path
        if path.stat().st_size != entry.size:
            raise ManifestError(f"{entry.path} has the wrong size ({path.stat().st_size} bytes, "
                                f"expected {entry.size}): the bundle is damaged or was changed.")
        digest = file_sha256(path)
        if digest != entry.sha256:
            raise ManifestError(f"{entry.path} does not match its SHA-256 checksum: the bundle "
                                "is damaged or was changed. Copy it again from the source.")
        if on_file is not None:
            on_file(entry)
    return entries
