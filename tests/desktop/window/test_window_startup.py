"""The window appears before any heavy library is imported, and `enclave` opens it."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]
HEAVY = ("torch", "chromadb", "llama_cpp", "sentence_transformers", "transformers")


def _run(code_or_args: list[str], home: Path) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", ENCLAVE_HOME=str(home))
    return subprocess.run([sys.executable, *code_or_args], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=120)


def test_enclave_with_no_command_paints_the_window_before_heavy_imports(
        enclave_home: Path) -> None:
    done = _run(["-m", "desktop", "--measure-startup"], enclave_home)
    assert done.returncode == 0, done.stderr
    assert "enclave: window painted" in done.stdout
    assert "heavy modules loaded before the window: none" in done.stdout


def test_the_window_path_imports_nothing_heavy(enclave_home: Path) -> None:
    # Import everything the window needs and build it, shown, then look at sys.modules.
    code = (
        "import sys\n"
        "from PySide6.QtWidgets import QApplication\n"
        "from desktop.app.settings import load_settings\n"
        "from desktop.app.wiring import build_application\n"
        "from desktop.window.app import run_window\n"
        "from desktop.window.main_window import MainWindow\n"
        "app = QApplication([])\n"
        "w = MainWindow(build_application(load_settings()))\n"
        "w.show()\n"
        "app.processEvents()\n"
        f"print(sorted(m for m in {HEAVY!r} if m in sys.modules))\n"
        "w.shutdown()\n"
    )
    done = _run(["-c", code], enclave_home)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip().splitlines()[-1] == "[]"
