from __future__ import annotations

from pathlib import Path

import pytest

from desktop.app.settings import (
    DEFAULT_MODEL_FILE,
    Settings,
    SettingsError,
    load_settings,
    save_settings,
)


def test_defaults_live_under_enclave_home(enclave_home: Path) -> None:
    s = load_settings()
    assert s.home == enclave_home.resolve()
    assert s.model_path == enclave_home.resolve() / "models" / DEFAULT_MODEL_FILE
    assert s.gpu_layers == -1 and s.grounded


def test_enclave_model_overrides_the_config_file(enclave_home: Path, tmp_path: Path,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    config = 'model_path = "/models/a.gguf"\ncontext_size = 1024\n'
    (enclave_home / "config.toml").write_text(config)
    assert load_settings().model_path == Path("/models/a.gguf")
    monkeypatch.setenv("ENCLAVE_MODEL", str(tmp_path / "b.gguf"))
    s = load_settings()
    assert s.model_path == tmp_path / "b.gguf"
    assert s.context_size == 1024


def test_a_relative_model_name_resolves_inside_the_models_folder(enclave_home: Path) -> None:
    (enclave_home / "config.toml").write_text('model_path = "mine.gguf"\n')
    assert load_settings().model_path == enclave_home.resolve() / "models" / "mine.gguf"


def test_a_bad_value_names_the_key(enclave_home: Path) -> None:
    (enclave_home / "config.toml").write_text('temperature = "hot"\n')
    with pytest.raises(SettingsError, match="temperature"):
        load_settings()


def test_a_broken_file_says_how_to_recover(enclave_home: Path) -> None:
    (enclave_home / "config.toml").write_text("this is = = not toml")
    with pytest.raises(SettingsError, match="delete it"):
        load_settings()


def test_saved_settings_persist_and_settings_stay_frozen(enclave_home: Path) -> None:
    s = load_settings()
    s2 = save_settings(s, temperature=0.7, gpu_layers=0, allowed_hosts=["chroma.local"])
    assert s.temperature == 0.2  # the old object is unchanged
    again = load_settings()
    assert again.temperature == 0.7 and again.gpu_layers == 0
    assert again.allowed_hosts == ("chroma.local",) == s2.allowed_hosts
    with pytest.raises(AttributeError):
        s.temperature = 1.0  # type: ignore[misc]


def test_an_invalid_value_is_never_written(enclave_home: Path) -> None:
    s = load_settings()
    with pytest.raises(SettingsError, match="temperature"):
        save_settings(s, temperature=9.0)
    assert not (enclave_home / "config.toml").exists()


def test_a_new_data_directory_is_private(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    home = tmp_path / "fresh" / "enclave"
    monkeypatch.setenv("ENCLAVE_HOME", str(home))
    load_settings()
    assert home.is_dir() and home.stat().st_mode & 0o077 == 0


def test_two_enclaves_starting_at_once_both_start(tmp_path: Path,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    """The window and a CLI ingest started together on a fresh machine: the other one creates
    the data directory between this one's check and its own mkdir (CI saw "File exists")."""
    home = tmp_path / "fresh" / "enclave"
    monkeypatch.setenv("ENCLAVE_HOME", str(home))
    real_exists = Path.exists

    def created_meanwhile(path: Path, *args: object, **kwargs: object) -> bool:
        if path == home:
            home.mkdir(parents=True, mode=0o700)  # the other process wins the race
            return False
        return real_exists(path)

    monkeypatch.setattr(Path, "exists", created_meanwhile)
    assert load_settings().home == home
    assert home.is_dir()


def test_moving_the_index_to_the_practices_servers_reopens_the_library_there(
        enclave_home: Path) -> None:
    """A settings change that moves the documents (embedded to the shared servers) takes
    effect at the next use: the old library is closed, a new one opened with the new place."""
    from desktop.app.application import Application

    opened: list[tuple[str, str]] = []
    closed: list[int] = []

    class Opened:
        def __init__(self, settings: Settings) -> None:
            opened.append((settings.index_backend, settings.index_database_url))

        def close(self) -> None:
            closed.append(1)

    settings = load_settings()
    app = Application(settings, open_library=Opened, open_assistant=lambda s, lib: None,
                      load_model=lambda s: None)
    app.library()
    app.reconfigure(settings.replace(max_tokens=64))  # not about the index: kept open
    app.library()
    assert opened == [("embedded", "")] and closed == []
    shared = settings.replace(index_backend="server", index_database_url="postgresql://e@db/e",
                              index_vector_server_url="http://index:8000")
    app.reconfigure(shared)
    app.library()
    assert opened == [("embedded", ""), ("server", "postgresql://e@db/e")] and closed == [1]
