"""Unattended roll-out: options from flags and/or a JSON or TOML file, flags winning."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import pytest

from desktop.app import settings as desktop_settings
from installer.bootstrap.deploy import to_toml, write_config
from installer.bootstrap.install_options import SETTINGS_KEYS, OptionsError, resolve_options
from installer.bootstrap.steplog import StepLog


def test_the_installer_knows_exactly_the_settings_enclave_reads() -> None:
    assert dict(SETTINGS_KEYS) == dict(desktop_settings._FILE_KEYS)
    assert list(SETTINGS_KEYS) == [f.name for f in dataclasses.fields(desktop_settings.Settings)
                                   if f.name != "home"], "one table, every setting"


def test_a_toml_file_gives_every_option(tmp_path: Path) -> None:
    config = tmp_path / "rollout.toml"
    config.write_text(f'prefix = "{tmp_path}/opt"\ndata = "{tmp_path}/data"\n'
                      f'applications_dir = "{tmp_path}/apps"\nyes = true\n'
                      '[settings]\ncontext_size = 8192\ngpu_layers = -1\ntemperature = 0\n')
    options = resolve_options({}, config)
    assert options.prefix == tmp_path / "opt" and options.data == tmp_path / "data"
    assert options.applications_dir == tmp_path / "apps"
    assert options.yes
    assert options.settings == {"context_size": 8192, "gpu_layers": -1, "temperature": 0.0}


def test_flags_win_over_a_json_file(tmp_path: Path) -> None:
    config = tmp_path / "rollout.json"
    config.write_text(json.dumps({"prefix": str(tmp_path / "a"), "desktop_entry": False}))
    options = resolve_options({"prefix": str(tmp_path / "b"), "yes": None}, config)
    assert options.prefix == tmp_path / "b"
    assert options.applications_dir is None
    assert not options.yes


@pytest.mark.parametrize(("text", "message"), [
    ('prefix = "/x"\ncolour = "blue"\n', "unknown option"),
    ('prefix = "/x"\n[settings]\ncontext_size = "big"\n', "'context_size' should be int"),
    ('prefix = "/x"\n[settings]\nturbo = true\n', "'turbo' is not an Enclave setting"),
    ('prefix = \n', "not valid TOML"),
    ('data = "/x"\n', "--prefix"),
])
def test_a_bad_config_file_says_what_to_fix(tmp_path: Path, text: str, message: str) -> None:
    config = tmp_path / "rollout.toml"
    config.write_text(text)
    with pytest.raises(OptionsError, match=message):
        resolve_options({}, config)


def test_written_settings_are_read_back_by_enclave(tmp_path: Path) -> None:
    (tmp_path / "config.toml").write_text('collection = "matters"\n')
    model = tmp_path / "models" / "x.gguf"
    write_config(tmp_path, {"model_path": str(model), "context_size": 2048, "grounded": True,
                            "allowed_hosts": ["chroma.local"], "temperature": 0.5},
                 StepLog("test"))
    loaded = desktop_settings.load_settings({"ENCLAVE_HOME": str(tmp_path)})
    assert loaded.model_path == model
    assert loaded.context_size == 2048 and loaded.temperature == 0.5
    assert loaded.collection == "matters", "keys the installer doesn't set are kept"
    assert loaded.allowed_hosts == ("chroma.local",)
    assert (tmp_path / "config.toml").stat().st_mode & 0o077 == 0


def test_toml_strings_are_escaped() -> None:
    import tomllib

    assert tomllib.loads(to_toml({"model_path": 'C:\\models\\"odd".gguf'})) == \
        {"model_path": 'C:\\models\\"odd".gguf'}
