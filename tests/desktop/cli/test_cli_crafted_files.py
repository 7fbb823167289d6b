"""A real ``enclave ingest`` on a folder of crafted files beside an ordinary note: each crafted
file ends at its limit (the time limit from config.toml, the unpacked-size and drawing limits)
and is named with the reason; the note is indexed and found (bench/crafted_files.py measures
the same files at the default limits)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from bench.crafted_files import docx_bomb, shared_stream_pdf


@pytest.mark.e2e
def test_crafted_files_end_at_their_limits_and_the_note_is_indexed(
        cli_env: dict[str, str], enclave_home: Path, tmp_path: Path) -> None:
    folder = tmp_path / "matter"
    folder.mkdir()
    shared_stream_pdf(folder / "slow.pdf", pages=2, stream_mb=70, shared=False)
    shared_stream_pdf(folder / "many-streams.pdf", pages=40, stream_mb=70, shared=False)
    docx_bomb(folder / "bomb.docx", unpacked_mb=450)
    (folder / "note.txt").write_text("Tenancy note: the deposit of 1,200 pounds was returned on "
                                     "3 March.", encoding="utf-8")
    (enclave_home / "config.toml").write_text("reading_time_limit = 10\n", encoding="utf-8")

    done = subprocess.run([sys.executable, "-m", "desktop", "ingest", "--collection", "Matter",
                           str(folder)], env=cli_env, capture_output=True, text=True,
                          timeout=600, check=False)
    lines = {name: next(line for line in done.stdout.splitlines() if name in line)
             for name in ("slow.pdf", "many-streams.pdf", "bomb.docx", "note.txt")}
    assert done.returncode == 3, done.stdout + done.stderr  # some files failed, the rest indexed
    assert "took longer than 10 seconds to read" in lines["slow.pdf"]
    assert "more than 256 MB of drawing instructions" in lines["many-streams.pdf"]
    assert "its text would unpack to 450 MB" in lines["bomb.docx"]
    assert "indexed" in lines["note.txt"]

    found = subprocess.run([sys.executable, "-m", "desktop", "search", "--collection", "Matter",
                            "when was the deposit returned"], env=cli_env, capture_output=True,
                           text=True, timeout=300, check=False)
    assert found.returncode == 0, found.stderr
    assert "note.txt" in found.stdout and "3 March" in found.stdout
