"""The CLI on a practice's shared index, configured as IT configures a workstation (config.toml,
a token file and a PostgreSQL password file): what one desk ingests, another desk's ``search``
and ``ask`` find; ``doctor`` checks both servers. Real PostgreSQL and Chroma servers on
127.0.0.1 (tests/index_servers.py)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from bench.index_scale import configure_desk
from bench.index_servers import DB_PASSWORD, INDEX_TOKEN
from rag.index_servers import IndexServers


def enclave(*args: str, env: dict[str, str], home: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "desktop", *args],
                          env=dict(env, ENCLAVE_HOME=str(home)), capture_output=True, text=True,
                          timeout=300)


@pytest.mark.e2e
def test_what_one_desk_ingests_another_desk_finds_and_cites(
        shared_index: IndexServers, cli_env: dict[str, str], tmp_path: Path) -> None:
    reception, surgery = tmp_path / "reception", tmp_path / "surgery"
    for home in (reception, surgery):
        configure_desk(home, shared_index)
    policy = tmp_path / "retention.txt"
    policy.write_text("Records retention policy.\n\nPatient records are kept for ten years "
                      "after the last visit, then destroyed securely.\n", encoding="utf-8")
    ingested = enclave("ingest", str(policy), "--collection", "Policies", env=cli_env,
                       home=reception)
    assert ingested.returncode == 0, ingested.stderr
    found = enclave("search", "how long are patient records kept", "--collection", "Policies",
                    "--json", env=cli_env, home=surgery)
    assert found.returncode == 0, found.stderr
    hits = json.loads(found.stdout)["hits"]
    assert Path(hits[0]["source"]).name == "retention.txt" and "ten years" in hits[0]["text"]
    asked = enclave("ask", "How long are patient records kept?", "--collection", "Policies",
                    "--max-tokens", "24", "--json", env=cli_env, home=surgery)
    assert asked.returncode == 0, asked.stderr
    answer = json.loads(asked.stdout)
    assert [Path(c["source"]).name for c in answer["citations"]][:1] == ["retention.txt"]
    # Nothing of the index is on the desk that asked: its data folder holds no library.
    assert not (surgery / "index" / "library.sqlite3").exists()
    assert not (surgery / "index" / "chroma").exists()
    for done in (ingested, found, asked):
        assert INDEX_TOKEN not in done.stdout + done.stderr
        assert DB_PASSWORD not in done.stdout + done.stderr


@pytest.mark.e2e
def test_doctor_checks_both_index_servers_and_names_the_wrong_token(
        shared_index: IndexServers, cli_env: dict[str, str], tmp_path: Path) -> None:
    home = tmp_path / "desk"
    configure_desk(home, shared_index)
    report = enclave("doctor", "--json", env=cli_env, home=home)
    checks = {c["name"]: c for c in json.loads(report.stdout)["checks"]}
    assert checks["vector server"]["status"] == "ok", checks["vector server"]
    assert "the token was accepted" in checks["vector server"]["message"]
    assert checks["document database"]["status"] == "ok", checks["document database"]
    assert "PostgreSQL" in checks["document database"]["message"]
    assert checks["document index"]["status"] == "ok"

    (home / "index-token").write_text("not-the-token\n", encoding="utf-8")
    report = enclave("doctor", "--json", env=cli_env, home=home)
    checks = {c["name"]: c for c in json.loads(report.stdout)["checks"]}
    assert checks["vector server"]["status"] == "fail"
    assert "refused Enclave's token" in checks["vector server"]["message"]
    assert "not-the-token" not in report.stdout
    searched = enclave("search", "records", "--json", env=cli_env, home=home)
    assert searched.returncode != 0
    assert "refused Enclave's token" in searched.stderr
    assert "Traceback" not in searched.stderr
