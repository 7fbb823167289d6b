"""Every indexed document reaches the audit log, even when the run that indexed it was killed:
the next ingest records what the killed run could not (desktop/app/ingest_service.py, with the
run markers of rag/run_marker.py)."""

from __future__ import annotations

import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from desktop.app import audit_log

LICENCES = Path("/usr/share/common-licenses")


def _complete(database: Path) -> list[str]:
    if not database.exists():
        return []
    try:
        with sqlite3.connect(f"file:{database}?mode=ro", uri=True) as db:
            return [row[0] for row in db.execute(
                "SELECT path FROM documents WHERE state = 'complete' ORDER BY path")]
    except sqlite3.Error:
        return []


@pytest.mark.e2e
def test_documents_indexed_by_a_killed_run_are_recorded_by_the_next(
        cli_env: dict[str, str], enclave_home: Path, tmp_path: Path) -> None:
    folder = tmp_path / "bundle"
    folder.mkdir()
    for licence in sorted(LICENCES.iterdir()):
        text = licence.read_text(encoding="utf-8", errors="replace")
        for copy in range(3):  # enough files that the run is still going after its first batch
            (folder / f"{licence.name}-{copy}.txt").write_text(f"Copy {copy}.\n{text}",
                                                               encoding="utf-8")
    (tmp_path / "empty").mkdir()
    database = enclave_home / "index" / "library.sqlite3"
    run = subprocess.Popen([sys.executable, "-m", "desktop", "ingest", "--collection", "Bundle",
                            str(folder)], env=cli_env, stdout=subprocess.DEVNULL,
                           stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 300
        while not _complete(database) and run.poll() is None and time.monotonic() < deadline:
            time.sleep(0.05)
        run.send_signal(signal.SIGKILL)
    finally:
        run.wait()
    assert run.returncode == -signal.SIGKILL, "the run ended before it could be killed"
    indexed = _complete(database)
    assert 0 < len(indexed) < len(list(folder.iterdir()))
    audit = enclave_home / "audit" / "audit.jsonl"
    before = audit_log.read_entries(audit) if audit.exists() else []
    assert not [e for e in before if e["kind"] == "ingest"], "the killed run recorded nothing"

    again = subprocess.run([sys.executable, "-m", "desktop", "ingest", "--collection", "Other",
                            str(tmp_path / "empty")], env=cli_env, capture_output=True,
                           text=True, timeout=600, check=False)
    assert again.returncode in (0, 3), again.stderr
    entries = [e for e in audit_log.read_entries(audit) if e["kind"] == "ingest"]
    recovered = [e["data"] for e in entries if e["data"].get("recovered")]
    assert len(recovered) == 1
    assert recovered[0]["collection"] == "Bundle"
    assert sorted(recovered[0]["indexed"]) == indexed
    assert recovered[0]["complete"] is False

    verified = subprocess.run([sys.executable, "-m", "desktop", "audit", "verify"], env=cli_env,
                              capture_output=True, text=True, timeout=300, check=False)
    assert verified.returncode == 0, verified.stdout + verified.stderr
    # Recorded once: a third run finds nothing left to record.
    subprocess.run([sys.executable, "-m", "desktop", "ingest", "--collection", "Other",
                    str(tmp_path / "empty")], env=cli_env, capture_output=True, timeout=600,
                   check=False)
    entries = [e for e in audit_log.read_entries(audit) if e["kind"] == "ingest"]
    assert len([e for e in entries if e["data"].get("recovered")]) == 1
