"""Can the window open? Qt's platform plugin checked for real: a library that is missing (a real
shared object whose dependency was deleted) is named with its Debian package, and Qt is started
in a child process on the platform the session would use (offscreen, a real X server, or one
that does not exist)."""

from __future__ import annotations

import os
import shutil
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from installer.doctor import check_window
from installer.window_check import (
    WindowProbe,
    missing_libraries,
    open_window_platform,
    packages_for,
    session_platform,
    xcb_plugin,
)

COMPILER = shutil.which("cc") or shutil.which("gcc")


def _library_whose_dependency_is_gone(folder: Path) -> Path:
    """libuser.so links to libenclavegone.so, which is then deleted (as a missing package)."""
    assert COMPILER, "a C compiler is needed (CI installs g++)"
    (folder / "gone.c").write_text("int gone(void) { return 1; }\n")
    (folder / "user.c").write_text("int gone(void);\nint user(void) { return gone(); }\n")
    subprocess.run([COMPILER, "-shared", "-fPIC", "-o", str(folder / "libenclavegone.so"),
                    str(folder / "gone.c")], check=True)
    subprocess.run([COMPILER, "-shared", "-fPIC", "-o", str(folder / "libuser.so"),
                    str(folder / "user.c"), f"-L{folder}", "-lenclavegone"], check=True)
    (folder / "libenclavegone.so").unlink()
    return folder / "libuser.so"


def test_a_library_the_plugin_needs_but_the_system_lacks_is_named(tmp_path: Path) -> None:
    assert missing_libraries(_library_whose_dependency_is_gone(tmp_path)) == ["libenclavegone.so"]


def test_pyside6_xcb_plugin_is_found_and_complete_here() -> None:
    plugin = xcb_plugin()
    assert plugin is not None and plugin.name == "libqxcb.so"
    # make setup installs the window's system packages: nothing may be missing after it.
    assert missing_libraries(plugin) == []


def test_a_missing_xcb_library_fails_the_check_with_the_package_to_install() -> None:
    def never() -> WindowProbe:
        raise AssertionError("Qt must not be started when its plugin cannot load")

    result = check_window(["libxcb-icccm.so.4", "libxcb-keysyms.so.1"], "xcb", never)
    assert result.status == "fail"
    assert "libxcb-icccm.so.4" in result.message
    assert "sudo apt install libxcb-icccm4 libxcb-keysyms1" in result.fix
    assert "install.py" in result.fix
    # Over SSH (no screen) the desktop would still fail to open the window: still a failure.
    assert check_window(["libxcb-icccm.so.4"], None, never).status == "fail"
    # A session that draws offscreen only warns (the desktop session would need them).
    assert check_window(["libxcb-icccm.so.4"], "offscreen", never).status == "warn"
    assert packages_for(["libfoo.so.9"]) == ["the package that provides libfoo.so.9"]


def test_the_platform_follows_the_session() -> None:
    assert session_platform({"QT_QPA_PLATFORM": "offscreen"}) == "offscreen"
    assert session_platform({"DISPLAY": ":0"}) == "xcb"
    assert session_platform({"WAYLAND_DISPLAY": "wayland-0", "DISPLAY": ":0"}) == "wayland"
    assert session_platform({}) is None


def _env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items()
           if k not in ("QT_QPA_PLATFORM", "DISPLAY", "WAYLAND_DISPLAY")}
    return {**env, **extra}


def test_qt_is_started_for_real_and_a_broken_platform_fails_in_words() -> None:
    started = open_window_platform(_env(QT_QPA_PLATFORM="offscreen"))
    assert started == WindowProbe(True, "offscreen", "")
    assert check_window([], "offscreen", lambda: started).message == "Qt starts on 'offscreen'"
    broken = open_window_platform(_env(QT_QPA_PLATFORM="nosuchplatform"))
    assert not broken.opened and broken.platform == "nosuchplatform"
    assert "platform plugin" in broken.message.lower()
    result = check_window([], "nosuchplatform", lambda: broken)
    assert result.status == "fail" and "Qt could not start on 'nosuchplatform'" in result.message


@pytest.fixture
def x_display() -> Iterator[str]:
    if shutil.which("Xvfb") is None:
        pytest.skip("Xvfb is not installed (.ci/run installs it)")
    display = f":{90 + os.getpid() % 100}"
    server = subprocess.Popen(["Xvfb", display, "-screen", "0", "1024x700x24", "-nolisten",
                               "tcp"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    socket = Path(f"/tmp/.X11-unix/X{display[1:]}")
    deadline = time.monotonic() + 15
    while not socket.exists() and time.monotonic() < deadline:
        time.sleep(0.1)
    try:
        yield display
    finally:
        server.terminate()
        server.wait(10)


def test_on_a_real_x_server_the_window_platform_opens(x_display: str) -> None:
    probe = open_window_platform(_env(DISPLAY=x_display))
    assert probe == WindowProbe(True, "xcb", ""), probe

