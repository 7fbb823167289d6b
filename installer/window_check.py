"""Can the window open here? The platform plugin's libraries, and a real start of Qt.

Qt's own message when its xcb plugin cannot load names the plugin, not the library that is
missing (and suggests reinstalling Qt). Here ``ldd`` says which system library the plugin lacks
and :data:`~installer.system_packages.LIBRARY_PACKAGES` names the Debian package; and a child
process starts Qt for real on the platform this session would use, so that doctor reports what
the window would meet. No Qt is imported in this process.
"""

from __future__ import annotations

import importlib.util
import re
import shutil
import subprocess
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from installer.system_packages import LIBRARY_PACKAGES

# Started in a child: a Qt application on this session's platform, its name printed.
_PROBE = ("import sys\n"
          "from PySide6.QtGui import QGuiApplication\n"
          "app = QGuiApplication(sys.argv[:1])\n"
          "print('platform=' + app.platformName(), flush=True)\n")
PROBE_SECONDS = 30


@dataclass(frozen=True)
class WindowProbe:
    opened: bool
    platform: str  # the platform Qt used, or the one it tried
    message: str  # Qt's own words when it failed


def xcb_plugin() -> Path | None:
    """PySide6's xcb platform plugin (Linux), without importing PySide6."""
    spec = importlib.util.find_spec("PySide6")
    if spec is None or not spec.submodule_search_locations:
        return None
    for folder in spec.submodule_search_locations:
        plugin = Path(folder) / "Qt" / "plugins" / "platforms" / "libqxcb.so"
        if plugin.is_file():
            return plugin
    return None


def missing_libraries(library: Path) -> list[str]:
    """The shared libraries ``library`` needs that this system cannot find (``ldd``)."""
    if shutil.which("ldd") is None:
        return []
    try:
        proc = subprocess.run(["ldd", str(library)], capture_output=True, text=True, timeout=30)
    except (OSError, subprocess.TimeoutExpired):
        return []
    return sorted(set(re.findall(r"^\s*(\S+) => not found", proc.stdout, re.M)))


def packages_for(libraries: Sequence[str]) -> list[str]:
    return sorted({LIBRARY_PACKAGES.get(lib, f"the package that provides {lib}")
                   for lib in libraries})


def session_platform(environ: Mapping[str, str]) -> str | None:
    """The platform Qt would pick in this session; None when there is no screen to use."""
    if environ.get("QT_QPA_PLATFORM"):
        return environ["QT_QPA_PLATFORM"].split(":")[0].split(";")[0]
    if sys.platform != "linux":
        return "cocoa" if sys.platform == "darwin" else "windows"
    if environ.get("WAYLAND_DISPLAY"):
        return "wayland"
    return "xcb" if environ.get("DISPLAY") else None


def open_window_platform(environ: Mapping[str, str], python: str = sys.executable,
                         timeout: float = PROBE_SECONDS) -> WindowProbe:
    """Start Qt in a child process on this session's platform, as the window would."""
    platform = session_platform(environ) or "xcb"
    try:
        proc = subprocess.run([python, "-c", _PROBE], capture_output=True, text=True,
                              timeout=timeout, env=dict(environ))
    except subprocess.TimeoutExpired:
        return WindowProbe(False, platform, f"Qt did not start within {timeout:.0f} s")
    found = re.search(r"^platform=(\S+)", proc.stdout, re.M)
    if proc.returncode == 0 and found:
        return WindowProbe(True, found.group(1), "")
    return WindowProbe(False, platform, _qt_reason(proc.stderr or proc.stdout))


def _qt_reason(text: str) -> str:
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    for line in lines:
        if "could not" in line.lower() or "cannot" in line.lower() or "failed" in line.lower():
            return line
    return lines[-1] if lines else "Qt stopped without a message"
