"""Start-up and memory, each measured in a fresh process so nothing the benchmark itself
loaded (a second model, torch, Chroma) is counted.

Start-up: the real ``enclave --measure-startup`` (the window's own hook: it prints the time from
process start to the first paint of the main window, then quits), under Qt's offscreen platform
unless a display is set; the wall time the launcher saw is recorded next to it.

Memory: ``python -m bench.memory_probe`` loads the default model the way the app does (on the
ModelThread, through ``desktop.app.wiring``), waits until it is idle, and reads VmRSS; then opens
the document library with its embedder and reads VmRSS again.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from bench.stats import median, rounded

_PAINTED = re.compile(r"window painted (\d+) ms")
_HEAVY = re.compile(r"heavy modules loaded before the window: (.*)")


def _probe_env(home: Path, model_path: Path) -> dict[str, str]:
    env = dict(os.environ)
    env["ENCLAVE_HOME"] = str(home)
    env["ENCLAVE_MODEL"] = str(model_path)
    if not env.get("DISPLAY") and not env.get("WAYLAND_DISPLAY"):
        env["QT_QPA_PLATFORM"] = "offscreen"
    return env


def _enclave_command() -> list[str]:
    script = Path(sys.executable).parent / "enclave"
    if script.exists():
        return [str(script)]
    found = shutil.which("enclave")
    return [found] if found else [sys.executable, "-m", "desktop"]


def measure_startup(model_path: Path, runs: int) -> dict[str, Any]:
    painted: list[float] = []
    walls: list[float] = []
    heavy = ""
    with tempfile.TemporaryDirectory(prefix="enclave-bench-") as tmp:
        env = _probe_env(Path(tmp), model_path)
        for _ in range(runs + 1):  # the first launch warms the OS file cache; not counted
            started = time.perf_counter()
            done = subprocess.run([*_enclave_command(), "--measure-startup"], env=env,
                                  capture_output=True, text=True, timeout=120)
            wall = time.perf_counter() - started
            found = _PAINTED.search(done.stdout)
            if done.returncode != 0 or not found:
                return {"available": False,
                        "reason": (done.stderr or done.stdout).strip().splitlines()[-1:]}
            heavy_line = _HEAVY.search(done.stdout)
            heavy = heavy_line.group(1) if heavy_line else ""
            painted.append(int(found.group(1)) / 1000.0)
            walls.append(wall)
    painted, walls = painted[1:], walls[1:]
    return {
        "available": True,
        "method": "enclave --measure-startup: process start to the window's first paint",
        "runs": runs,
        "window_painted_s": rounded(median(painted), 3),
        "launch_to_exit_s": rounded(median(walls), 3),
        "heavy_modules_before_window": heavy,
        "runs_window_painted_s": [rounded(v, 3) for v in painted],
    }


def measure_memory(model_path: Path) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="enclave-bench-") as tmp:
        env = _probe_env(Path(tmp), model_path)
        done = subprocess.run([sys.executable, "-m", "bench.memory_probe"], env=env,
                              capture_output=True, text=True, timeout=300)
    if done.returncode != 0:
        raise RuntimeError(f"the memory probe failed: {done.stderr.strip()[-500:]}")
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result
