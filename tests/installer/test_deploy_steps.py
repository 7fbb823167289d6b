"""The installation steps that need no packages: models, launcher, desktop entry, removal."""

from __future__ import annotations

import io
import subprocess
from pathlib import Path

import pytest

from installer.bootstrap import deploy
from installer.bootstrap.manifest import compute_entries, write_manifest
from installer.bootstrap.steplog import StepLog


def _log() -> StepLog:
    return StepLog("test", out=io.StringIO())


def test_models_are_placed_verified_and_only_once(tmp_path: Path) -> None:
    bundle = tmp_path / "bundle"
    (bundle / "models").mkdir(parents=True)
    (bundle / "models" / "a.gguf").write_bytes(b"GGUF" + b"a" * 1000)
    write_manifest(bundle)
    entries = compute_entries(bundle)
    out = io.StringIO()
    log = StepLog("test", out=out)
    placed = deploy.place_models(bundle, entries, tmp_path / "data" / "models", log)
    assert [p.name for p in placed] == ["a.gguf"]
    assert placed[0].read_bytes() == (bundle / "models" / "a.gguf").read_bytes()
    deploy.place_models(bundle, entries, tmp_path / "data" / "models", log)
    assert "already in place (checksum matches)" in out.getvalue()


def test_the_launcher_sets_enclave_home_and_runs_the_environment(tmp_path: Path) -> None:
    venv = tmp_path / "venvs" / "enclave-0.1.0"
    (venv / "bin").mkdir(parents=True)
    fake = venv / "bin" / "enclave"
    fake.write_text('#!/bin/sh\necho "home=$ENCLAVE_HOME args=$*"\n')
    fake.chmod(0o755)
    data = tmp_path / "user's data"
    launcher = deploy.write_launcher(tmp_path, venv, data, _log())
    out = subprocess.run([str(launcher), "doctor", "--json"], capture_output=True, text=True,
                         env={"PATH": "/usr/bin:/bin", "ENCLAVE_HOME": "/elsewhere"})
    assert out.stdout.strip() == f"home={data} args=doctor --json"


def test_the_desktop_entry_is_a_valid_freedesktop_entry(tmp_path: Path) -> None:
    import configparser

    entry = deploy.write_desktop_entry(tmp_path / "apps", Path("/opt/enclave/bin/enclave"),
                                       _log())
    parser = configparser.ConfigParser(interpolation=None)
    parser.optionxform = str  # type: ignore[assignment,method-assign]
    parser.read(entry)
    section = parser["Desktop Entry"]
    assert section["Type"] == "Application" and section["Name"] == "Enclave"
    assert section["Exec"] == '"/opt/enclave/bin/enclave"'


def test_each_install_gets_its_own_environment_directory(tmp_path: Path) -> None:
    first = deploy.new_venv_dir(tmp_path, "0.1.0")
    first.mkdir(parents=True)
    assert deploy.new_venv_dir(tmp_path, "0.1.0").name == "enclave-0.1.0-2"


@pytest.mark.parametrize("purge", [False, True])
def test_uninstall_removes_the_program_and_keeps_data_unless_purged(
        tmp_path: Path, purge: bool) -> None:
    prefix, data, apps = tmp_path / "opt", tmp_path / "data", tmp_path / "apps"
    venv = prefix / "venvs" / "enclave-0.1.0"
    venv.mkdir(parents=True)
    data.mkdir()
    (data / "index").mkdir()
    launcher = deploy.write_launcher(prefix, venv, data, _log())
    entry = deploy.write_desktop_entry(apps, launcher, _log())
    record = deploy.InstallRecord("0.1.0", "cpu", str(venv), str(data), str(launcher),
                                  str(entry))
    record.write(prefix)
    assert deploy.InstallRecord.read(prefix) == record
    deploy.uninstall(prefix, record, purge_data=purge, log=_log())
    assert not (prefix / "venvs").exists() and not launcher.exists() and not entry.exists()
    assert deploy.InstallRecord.read(prefix) is None
    assert data.exists() is not purge


def test_pip_runs_with_no_index_and_no_admin_config(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PIP_INDEX_URL", "https://mirror.example/simple")
    monkeypatch.setenv("PIP_FIND_LINKS", "/opt/wheels")
    env = deploy.offline_pip_env()
    assert env["PIP_NO_INDEX"] == "1"
    assert "PIP_INDEX_URL" not in env and "PIP_FIND_LINKS" not in env
    assert env["PIP_CONFIG_FILE"] == "/dev/null"
