"""The window's and the OCR's Debian packages: the minimal system they are resolved against, the
completeness check with no package source, and the bundle's offline install (real .deb files
built here, installed by the real apt in a network namespace with no network)."""

from __future__ import annotations

import io
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from installer.bootstrap.steplog import StepLog
from installer.bootstrap.system_packages import FOLDER, install_bundled, installed_packages
from installer.system_packages import (
    PACKAGES,
    SystemPackagesError,
    check_closure,
    minimal_status,
)

REPO = Path(__file__).resolve().parents[2]
DEBIAN = shutil.which("apt-get") is not None and shutil.which("dpkg-deb") is not None
needs_debian = pytest.mark.skipif(not DEBIAN, reason="a Debian-family system (apt, dpkg-deb)")
DUMMY = "enclave-test-dummy"


def _deb(folder: Path, name: str, depends: str = "") -> Path:
    """A real, tiny Debian package: one file under /usr/share/doc/<name>."""
    root = folder / f"{name}-root"
    (root / "DEBIAN").mkdir(parents=True)
    (root / "usr" / "share" / "doc" / name).mkdir(parents=True)
    (root / "usr" / "share" / "doc" / name / "README").write_text("made by Enclave's tests\n")
    control = (f"Package: {name}\nVersion: 1.0\nArchitecture: all\nMaintainer: Enclave tests "
               f"<tests@localhost>\nDescription: a package made by Enclave's tests\n")
    (root / "DEBIAN" / "control").write_text(control + (f"Depends: {depends}\n" if depends else ""))
    for part in [root, *root.rglob("*")]:  # dpkg-deb wants 0755 folders, whatever the umask
        part.chmod(0o755 if part.is_dir() else 0o644)
    deb = folder / f"{name}_1.0_all.deb"
    proc = subprocess.run(["dpkg-deb", "--root-owner-group", "--build", str(root), str(deb)],
                          capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    return deb


@needs_debian
def test_the_minimal_system_holds_the_base_but_not_the_extras() -> None:
    status = minimal_status(Path("/var/lib/dpkg/status").read_text())
    names = {line.split(": ", 1)[1] for line in status.splitlines() if line.startswith("Package: ")}
    assert {"dpkg", "libc6", "bash", "coreutils"} <= names
    assert not names & set(PACKAGES), "the packages Enclave adds are not part of a minimal system"


@needs_debian
def test_a_package_whose_dependency_is_not_carried_is_refused_by_name(tmp_path: Path) -> None:
    complete = _deb(tmp_path, DUMMY, depends="libc6")
    assert check_closure([complete]) == [DUMMY]
    incomplete = _deb(tmp_path, "enclave-test-needy", depends="enclave-test-not-carried")
    with pytest.raises(SystemPackagesError, match="enclave-test-not-carried"):
        check_closure([incomplete])


@needs_debian
def test_without_root_the_installer_prints_the_command_for_it(tmp_path: Path) -> None:
    (tmp_path / FOLDER).mkdir()
    shutil.copy(_deb(tmp_path, DUMMY), tmp_path / FOLDER)
    out = io.StringIO()
    assert install_bundled(tmp_path, StepLog("test", out), is_root=False) is False
    line = out.getvalue()
    assert f"system packages missing ({DUMMY})" in line
    assert "apt-get install -y -q --no-install-recommends /" in line
    assert f"{DUMMY}_1.0_all.deb" in line


@needs_debian
@pytest.mark.skipif(os.geteuid() != 0 or shutil.which("unshare") is None,
                    reason="installing a package needs root and unshare")
def test_as_root_the_bundle_installs_its_missing_packages_with_no_network(tmp_path: Path) -> None:
    (tmp_path / FOLDER).mkdir()
    shutil.copy(_deb(tmp_path, DUMMY, depends="libc6"), tmp_path / FOLDER)
    script = ("import sys\nfrom pathlib import Path\n"
              "from installer.bootstrap.steplog import StepLog\n"
              "from installer.bootstrap.system_packages import install_bundled\n"
              "sys.exit(0 if install_bundled(Path(sys.argv[1]), StepLog('install')) else 1)\n")
    try:
        proc = subprocess.run(["unshare", "--net", "--", sys.executable, "-c", script,
                               str(tmp_path)], cwd=REPO, capture_output=True, text=True,
                              timeout=300)
        assert proc.returncode == 0, proc.stdout + proc.stderr
        assert f"system packages installed: {DUMMY}" in proc.stdout
        assert installed_packages([DUMMY]) == {DUMMY}
        again = io.StringIO()
        assert install_bundled(tmp_path, StepLog("again", again))
        assert "system packages: all 1 already installed" in again.getvalue()
    finally:
        subprocess.run(["dpkg", "--purge", DUMMY], capture_output=True)
