"""What an installation should look like: from command-line flags and/or a config file.

For mass roll-out IT writes one JSON or TOML file and runs ``install.py --config FILE --yes``
on every workstation; flags given on the command line win over the file. Standard library only.
"""

from __future__ import annotations

import json
import os
import sys
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from installer.bootstrap import settings_keys


class OptionsError(ValueError):
    """An installation option a person has to fix; the message says which and how."""


# The keys Enclave's config.toml accepts, generated from Enclave's settings table.
SETTINGS_KEYS: Mapping[str, type] = settings_keys.SETTINGS_KEYS

# Keys of the installer's own config file.
_FILE_KEYS = {"prefix", "data", "applications_dir", "desktop_entry", "model", "settings", "yes",
              "python", "system_packages"}


@dataclass(frozen=True)
class InstallOptions:
    prefix: Path
    data: Path
    applications_dir: Path | None  # None: no desktop entry
    model: str | None  # file name of a bundled GGUF to use as the chat model
    settings: Mapping[str, Any] = field(default_factory=dict)
    yes: bool = False
    python: Path = Path(sys.executable)
    system_packages: bool = True  # install the bundle's Debian packages that are missing


def default_data_dir(environ: Mapping[str, str] = os.environ) -> Path:
    """The same directory Enclave uses by default (platformdirs' user data dir)."""
    if sys.platform == "darwin":
        return Path.home() / "Library" / "Application Support" / "enclave"
    base = environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "enclave"


def default_applications_dir(environ: Mapping[str, str] = os.environ) -> Path | None:
    if sys.platform == "darwin" or os.name == "nt":
        return None  # .desktop entries are a freedesktop (Linux) convention
    base = environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "applications"


def read_config_file(path: Path) -> dict[str, Any]:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise OptionsError(f"The installer config file {path} cannot be read "
                           f"({exc.strerror}).") from exc
    try:
        raw = json.loads(text) if path.suffix.lower() == ".json" else tomllib.loads(text)
    except (ValueError, tomllib.TOMLDecodeError) as exc:
        kind = "JSON" if path.suffix.lower() == ".json" else "TOML"
        raise OptionsError(f"The installer config file {path} is not valid {kind}: "
                           f"{exc}") from exc
    if not isinstance(raw, dict):
        raise OptionsError(f"The installer config file {path} must hold a table of options.")
    unknown = sorted(set(raw) - _FILE_KEYS)
    if unknown:
        raise OptionsError(f"The installer config file {path} has unknown option(s): "
                           f"{', '.join(unknown)}. Known: {', '.join(sorted(_FILE_KEYS))}.")
    return raw


def check_settings(values: Mapping[str, Any], where: str) -> dict[str, Any]:
    checked: dict[str, Any] = {}
    for key, value in values.items():
        expected = SETTINGS_KEYS.get(key)
        if expected is None:
            raise OptionsError(f"In {where}, '{key}' is not an Enclave setting. "
                               f"Known: {', '.join(sorted(SETTINGS_KEYS))}.")
        if expected is float and isinstance(value, int) and not isinstance(value, bool):
            value = float(value)
        if not isinstance(value, expected) or (expected is int and isinstance(value, bool)):
            raise OptionsError(f"In {where}, '{key}' should be {expected.__name__}, "
                               f"not {value!r}.")
        checked[key] = value
    return checked


def resolve_options(flags: Mapping[str, Any], config_path: Path | None,
                    environ: Mapping[str, str] = os.environ) -> InstallOptions:
    """Merge the config file (if any) and the flags (which win) into one InstallOptions."""
    values: dict[str, Any] = read_config_file(config_path) if config_path else {}
    where = str(config_path) if config_path else "the options"
    values.update({k: v for k, v in flags.items() if v is not None})
    if not values.get("prefix"):
        raise OptionsError("Say where to install: --prefix DIR (or 'prefix' in the config file).")
    settings = values.get("settings") or {}
    if not isinstance(settings, dict):
        raise OptionsError(f"In {where}, 'settings' must be a table of Enclave settings.")
    if values.get("desktop_entry", True) is False:
        apps: Path | None = None
    elif values.get("applications_dir"):
        apps = Path(str(values["applications_dir"])).expanduser().resolve()
    else:
        apps = default_applications_dir(environ)
    data = Path(str(values["data"])).expanduser() if values.get("data") else \
        default_data_dir(environ)
    return InstallOptions(
        prefix=Path(str(values["prefix"])).expanduser().resolve(),
        data=data.resolve(),
        applications_dir=apps,
        model=str(values["model"]) if values.get("model") else None,
        settings=check_settings(settings, where),
        yes=bool(values.get("yes", False)),
        python=Path(str(values.get("python") or sys.executable)),
        system_packages=bool(values.get("system_packages", True)),
    )
