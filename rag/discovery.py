"""Finding the files to ingest under the paths a person gave, and only those.

Folders are walked without following links; a link that leads outside the folder that was
added is reported and never read. Hidden files and folders (".git", ".DS_Store") and office lock
files ("~$report.docx") are passed over silently: they are never documents.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

OUTSIDE = "points outside the folder you added"


@dataclass(frozen=True)
class Candidate:
    path: Path  # absolute, as the person sees it (a link keeps its own name)
    skip_reason: str = ""  # non-empty: report as skipped, do not read


def discover(paths: Sequence[Path], is_supported: Callable[[Path], bool],
             unsupported_reason: Callable[[Path], str]) -> Iterator[Candidate]:
    seen: set[Path] = set()
    for given in paths:
        given = Path(os.path.abspath(given))
        if given.is_dir():
            found = _walk(given, is_supported, unsupported_reason)
        elif given.exists() or given.is_symlink():
            found = iter([_one_file(given, is_supported, unsupported_reason)])
        else:
            found = iter([Candidate(given, "")])  # the loader reports "file not found"
        for candidate in found:
            if candidate.path not in seen:
                seen.add(candidate.path)
                yield candidate


def _one_file(path: Path, is_supported: Callable[[Path], bool],
              unsupported_reason: Callable[[Path], str]) -> Candidate:
    if not is_supported(path):
        return Candidate(path, unsupported_reason(path))
    return Candidate(path)


def _walk(root: Path, is_supported: Callable[[Path], bool],
          unsupported_reason: Callable[[Path], str]) -> Iterator[Candidate]:
    real_root = root.resolve()
    for folder, dirnames, filenames in os.walk(root, followlinks=False):
        dirnames[:] = sorted(d for d in dirnames if not d.startswith("."))
        base = Path(folder)
        for name in list(dirnames):
            link = base / name
            if link.is_symlink() and not _inside(link, real_root):
                yield Candidate(link, OUTSIDE)
        for name in sorted(filenames):
            if name.startswith((".", "~$")):
                continue
            path = base / name
            if path.is_symlink() and not _inside(path, real_root):
                yield Candidate(path, OUTSIDE)
            else:
                yield _one_file(path, is_supported, unsupported_reason)


def _inside(link: Path, real_root: Path) -> bool:
    try:
        return link.resolve().is_relative_to(real_root)
    except (OSError, RuntimeError):  # a loop of links resolves nowhere
        return False
