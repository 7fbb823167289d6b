"""A reproducible .tar.gz of the bundle directory.

Members in sorted order with a fixed time, owner and mode, and a gzip header without a time or
file name: the same directory always gives the same archive bytes.
"""

from __future__ import annotations

import gzip
import tarfile
from pathlib import Path

FIXED_MTIME = 315532800  # 1980-01-01, as for the wheels we build


def _normalise(info: tarfile.TarInfo) -> tarfile.TarInfo:
    info.mtime = FIXED_MTIME
    info.uid = info.gid = 0
    info.uname = info.gname = ""
    if info.isdir():
        info.mode = 0o755
    else:
        info.mode = 0o755 if info.name.endswith("/install.py") else 0o644
    return info


def make_tar_gz(source: Path, target: Path, compresslevel: int = 1) -> Path:
    """Archive ``source`` as one top-level folder of the same name. Wheels and models are
    already compressed, so a low gzip level costs little size and much less time."""
    paths = sorted(source.rglob("*"), key=lambda p: p.relative_to(source).as_posix())
    partial = target.with_name(target.name + ".partial")
    with partial.open("wb") as raw, \
            gzip.GzipFile(filename="", mode="wb", fileobj=raw, mtime=0,
                          compresslevel=compresslevel) as gz, \
            tarfile.open(fileobj=gz, mode="w", format=tarfile.PAX_FORMAT) as tar:
        tar.add(source, arcname=source.name, recursive=False, filter=_normalise)
        for path in paths:
            arcname = f"{source.name}/{path.relative_to(source).as_posix()}"
            tar.add(path, arcname=arcname, recursive=False, filter=_normalise)
    partial.replace(target)
    return target


def extract(archive: Path, into: Path) -> Path:
    """Unpack a bundle archive; returns the bundle directory. Refuses paths leaving ``into``."""
    into.mkdir(parents=True, exist_ok=True)
    with tarfile.open(archive, "r:gz") as tar:
        tar.extractall(into, filter="data")
        top = {m.name.split("/", 1)[0] for m in tar.getmembers()}
    if len(top) != 1:
        raise ValueError(f"{archive.name} is not an Enclave bundle (several top-level folders)")
    return into / top.pop()
