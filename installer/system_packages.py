"""The operating-system packages Enclave needs beyond Python: the window's Qt platform libraries
and the Tesseract OCR engine with its languages (Debian-family systems).

* ``python -m installer.system_packages install-here``: what ``make setup`` runs. Installs the
  missing ones from the configured apt sources when run as root, else prints the one command
  that installs them.
* :func:`download_closure`: what the bundle builder runs on a connected machine. It downloads
  the packages together with every dependency a minimal Debian system lacks, resolved by apt
  itself against the package list of a minimal system (the ``required``/``important``
  packages and what they depend on), so the offline bundle carries all a workstation needs.
* :func:`check_closure`: apt, with no package source at all, installs the downloaded files onto
  that minimal system in a simulation; a missing dependency fails it, naming the package.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path

from installer.bootstrap.system_packages import installed_packages

# What Qt's xcb platform plugin (the window on an X11 or XWayland desktop) links to or opens,
# beyond a minimal system: found with ldd on PySide6's libqxcb.so and the Qt libraries.
WINDOW_PACKAGES = (
    "libxcb-cursor0", "libxcb-icccm4", "libxcb-image0", "libxcb-keysyms1", "libxcb-randr0",
    "libxcb-render-util0", "libxcb-shape0", "libxcb-sync1", "libxcb-xfixes0", "libxcb-xkb1",
    "libxkbcommon-x11-0", "libx11-xcb1", "libegl1", "libgl1", "libfontconfig1", "libdbus-1-3",
    "fonts-dejavu-core",
)
# The OCR engine, orientation detection and the languages the settings offer by default.
OCR_PACKAGES = (
    "tesseract-ocr", "tesseract-ocr-osd", "tesseract-ocr-eng", "tesseract-ocr-deu",
    "tesseract-ocr-fra", "tesseract-ocr-ita", "tesseract-ocr-spa",
)
PACKAGES = WINDOW_PACKAGES + OCR_PACKAGES

# The library file a missing window package would have provided, so that doctor can name the
# package to install when the platform plugin cannot load.
LIBRARY_PACKAGES: Mapping[str, str] = {
    "libxcb-cursor.so.0": "libxcb-cursor0", "libxcb-icccm.so.4": "libxcb-icccm4",
    "libxcb-image.so.0": "libxcb-image0", "libxcb-keysyms.so.1": "libxcb-keysyms1",
    "libxcb-randr.so.0": "libxcb-randr0", "libxcb-render-util.so.0": "libxcb-render-util0",
    "libxcb-shape.so.0": "libxcb-shape0", "libxcb-sync.so.1": "libxcb-sync1",
    "libxcb-xfixes.so.0": "libxcb-xfixes0", "libxcb-xkb.so.1": "libxcb-xkb1",
    "libxkbcommon-x11.so.0": "libxkbcommon-x11-0", "libxkbcommon.so.0": "libxkbcommon0",
    "libX11-xcb.so.1": "libx11-xcb1", "libX11.so.6": "libx11-6", "libxcb.so.1": "libxcb1",
    "libEGL.so.1": "libegl1", "libGL.so.1": "libgl1", "libOpenGL.so.0": "libopengl0",
    "libfontconfig.so.1": "libfontconfig1", "libfreetype.so.6": "libfreetype6",
    "libdbus-1.so.3": "libdbus-1-3", "libglib-2.0.so.0": "libglib2.0-0",
}

_MINIMAL_SEEDS = re.compile(r"^(Priority: (required|important)|Essential: yes)$", re.M)

Runner = Callable[..., "subprocess.CompletedProcess[str]"]


class SystemPackagesError(RuntimeError):
    pass


def apt_available() -> bool:
    return shutil.which("apt-get") is not None and shutil.which("dpkg-query") is not None


def missing_here(packages: Sequence[str] = PACKAGES, run: Runner = subprocess.run) -> list[str]:
    have = installed_packages(packages, run)
    return [p for p in packages if p not in have]


def install_command(packages: Sequence[str]) -> list[str]:
    return ["apt-get", "install", "-y", "-q", "--no-install-recommends", *packages]


def install_here(packages: Sequence[str] = PACKAGES, run: Runner = subprocess.run,
                 is_root: bool | None = None, out: Callable[[str], None] = print) -> int:
    """Install the missing packages from apt's sources (root), or say how (anyone else)."""
    if not apt_available():
        out("note: this is not a Debian-family system: install the Qt xcb libraries and "
            "Tesseract OCR (with its English and orientation data) with the system's own tools")
        return 0
    missing = missing_here(packages, run)
    if not missing:
        return 0
    root = os.geteuid() == 0 if is_root is None else is_root
    if not root:
        out("note: the window and the OCR of scans need these system packages; install them "
            f"with: sudo {' '.join(install_command(missing))}")
        return 0
    out(f"installing system packages: {' '.join(missing)}")
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    if not list(Path("/var/lib/apt/lists").glob("*Packages*")):
        run(["apt-get", "update", "-q"], env=env, check=False)
    proc = run(install_command(missing), env=env, check=False)
    if proc.returncode != 0:
        run(["apt-get", "update", "-q"], env=env, check=False)
        proc = run(install_command(missing), env=env, check=False)
    if proc.returncode != 0:
        out(f"could not install {' '.join(missing)} (apt-get failed): the window or the OCR "
            "of scans may not work; 'enclave doctor' says which")
        return 1
    return 0


def minimal_status(status_text: str) -> str:
    """The dpkg status of a minimal Debian system, drawn from this machine's: the required,
    important and essential packages and, recursively, what they depend on."""
    stanzas: dict[str, str] = {}
    provides: dict[str, str] = {}
    for stanza in status_text.split("\n\n"):
        package = re.search(r"^Package: (\S+)$", stanza, re.M)
        if package is None or not re.search(r"^Status: install ok installed$", stanza, re.M):
            continue
        stanzas[package.group(1)] = stanza.strip("\n")
        offered = re.search(r"^Provides: (.*)$", stanza, re.M)
        for item in (offered.group(1).split(",") if offered else ()):
            provides.setdefault(item.split()[0].strip(), package.group(1))
    base: set[str] = set()
    todo = [n for n, s in stanzas.items() if _MINIMAL_SEEDS.search(s)]
    while todo:
        name = todo.pop()
        if name not in base:
            base.add(name)
            todo.extend(_dependencies(stanzas[name], stanzas, provides))
    return "".join(stanzas[n] + "\n\n" for n in sorted(base))


def _dependencies(stanza: str, stanzas: Mapping[str, str], provides: Mapping[str, str]
                  ) -> Iterable[str]:
    for field in ("Pre-Depends", "Depends"):
        found = re.search(rf"^{field}: (.*)$", stanza, re.M)
        for group in (found.group(1).split(",") if found else ()):
            for choice in group.split("|"):
                name = choice.strip().split()[0].split(":")[0]
                if name in stanzas or name in provides:
                    yield name if name in stanzas else provides[name]
                    break


def _isolated_apt(root: Path, status: str, with_sources: bool) -> list[str]:
    """apt options that see ``status`` as the installed system, and no sources unless asked."""
    (root / "status").write_text(status, encoding="utf-8")
    (root / "cache" / "archives" / "partial").mkdir(parents=True, exist_ok=True)
    options = {"Dir::State::status": root / "status", "Dir::Cache": root / "cache",
               "Dir::Cache::archives": root / "cache" / "archives", "Debug::NoLocking": "1"}
    if not with_sources:
        (root / "lists" / "partial").mkdir(parents=True, exist_ok=True)
        (root / "sources.d").mkdir(exist_ok=True)
        options.update({"Dir::State::lists": root / "lists", "Dir::Etc::sourcelist": "/dev/null",
                        "Dir::Etc::sourceparts": root / "sources.d"})
    return [arg for key, value in options.items() for arg in ("-o", f"{key}={value}")]


def download_closure(packages: Sequence[str], target: Path,
                     status_file: Path = Path("/var/lib/dpkg/status"),
                     run: Runner = subprocess.run) -> list[Path]:
    """Download ``packages`` and every dependency a minimal system lacks into ``target``."""
    if not apt_available():
        raise SystemPackagesError("apt-get is not available here: build the bundle on a "
                                  "Debian-family machine to include the system packages")
    status = minimal_status(status_file.read_text(encoding="utf-8"))
    target.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="enclave-apt-") as tmp:
        options = _isolated_apt(Path(tmp), status, with_sources=True)
        proc = run(["apt-get", "-q", "-y", *options, "--download-only", "--no-install-recommends",
                    "install", *packages], capture_output=True, text=True, check=False)
        if proc.returncode != 0:
            raise SystemPackagesError("apt-get could not download the system packages: "
                                      + _last_lines(proc.stdout + proc.stderr))
        for deb in sorted((Path(tmp) / "cache" / "archives").glob("*.deb")):
            shutil.move(str(deb), target / deb.name)
    return sorted(target.glob("*.deb"))


def check_closure(debs: Sequence[Path], status_file: Path = Path("/var/lib/dpkg/status"),
                  run: Runner = subprocess.run) -> list[str]:
    """Simulate installing ``debs`` onto a minimal system with no package source; return the
    packages apt would install. Raises when one is missing (the message names it)."""
    status = minimal_status(status_file.read_text(encoding="utf-8"))
    with tempfile.TemporaryDirectory(prefix="enclave-apt-") as tmp:
        options = _isolated_apt(Path(tmp), status, with_sources=False)
        proc = run(["apt-get", "-s", "-q", *options, "--no-install-recommends", "install",
                    *[str(d.resolve()) for d in debs]], capture_output=True, text=True,
                   check=False)
    if proc.returncode != 0:
        raise SystemPackagesError("the system packages are not complete for a minimal system: "
                                  + _last_lines(proc.stdout + proc.stderr, 12))
    return re.findall(r"^Inst (\S+)", proc.stdout, re.M)


def _last_lines(text: str, count: int = 6) -> str:
    return " / ".join(line.strip() for line in text.strip().splitlines()[-count:])


def main(argv: Sequence[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m installer.system_packages",
                                description="The system packages Enclave's window and OCR use.")
    sub = p.add_subparsers(dest="command", required=True)
    sub.add_parser("install-here", help="install the missing ones (root), or say how")
    sub.add_parser("list", help="print the packages, one a line")
    args = p.parse_args(argv)
    if args.command == "list":
        print("\n".join(PACKAGES))
        return 0
    return install_here()


if __name__ == "__main__":
    sys.exit(main())
