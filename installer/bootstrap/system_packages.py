"""Install the bundle's system packages (``system-packages/*.deb``) with no network.

The bundle carries the Debian packages the window and the OCR of scans need, with every
dependency a minimal system lacks. Only the packages this machine does not have yet are given
to apt (an installed one, perhaps newer, is left alone); apt installs them from the files
alone. Run as anyone but root, the installer prints the command for IT.
Standard library only.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Callable, Sequence
from pathlib import Path

from installer.bootstrap.steplog import StepLog

FOLDER = "system-packages"

Runner = Callable[..., "subprocess.CompletedProcess[str]"]


def package_of_deb(deb: Path) -> str:
    """A Debian file's package name: ``name_version_arch.deb``."""
    return deb.name.split("_", 1)[0]


def installed_packages(names: Sequence[str], run: Runner = subprocess.run) -> set[str]:
    if not names:
        return set()
    proc = run(["dpkg-query", "-W", "-f", "${Package}\\t${db:Status-Status}\\n", *names],
               capture_output=True, text=True, check=False)
    return {line.split("\t")[0].split(":")[0] for line in proc.stdout.splitlines()
            if line.endswith("\tinstalled")}


def apt_command(debs: Sequence[Path]) -> list[str]:
    # Not --no-download: apt then refuses local files ("Pathname to install is not absolute").
    # Every dependency is among the files, so nothing is fetched; one that were not would fail
    # here, offline, with apt naming it.
    return ["apt-get", "install", "-y", "-q", "--no-install-recommends",
            *[str(d.resolve()) for d in debs]]


def install_bundled(bundle: Path, log: StepLog, run: Runner = subprocess.run,
                    is_root: bool | None = None) -> bool:
    """Install the bundle's missing system packages; False when they still need installing."""
    debs = sorted((bundle / FOLDER).glob("*.deb"))
    if not debs:
        return True
    if shutil.which("dpkg-query") is None or shutil.which("apt-get") is None:
        log(f"this is not a Debian-family system: the {len(debs)} packages in {FOLDER}/ do not "
            "apply; install the Qt xcb libraries and Tesseract OCR with the system's own tools")
        return False
    have = installed_packages([package_of_deb(d) for d in debs], run)
    wanted = [d for d in debs if package_of_deb(d) not in have]
    if not wanted:
        log(f"system packages: all {len(debs)} already installed")
        return True
    names = " ".join(package_of_deb(d) for d in wanted)
    root = os.geteuid() == 0 if is_root is None else is_root
    if not root:
        log(f"system packages missing ({names}): the window or the OCR of scans will not "
            f"work until IT runs, as root: {' '.join(apt_command(wanted))}")
        return False
    log(f"installing {len(wanted)} system packages from the bundle (no network): {names}")
    proc = run(apt_command(wanted), capture_output=True, text=True, check=False,
               env={**os.environ, "DEBIAN_FRONTEND": "noninteractive"})
    for line in (proc.stdout + proc.stderr).splitlines():
        log.detail(line)
    if proc.returncode != 0:
        tail = " / ".join(line.strip() for line in (proc.stdout + proc.stderr).splitlines()[-4:])
        log(f"apt-get could not install the system packages: {tail}")
        return False
    log(f"system packages installed: {names}")
    return True
