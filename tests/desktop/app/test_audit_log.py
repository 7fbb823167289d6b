from __future__ import annotations

import hashlib
import itertools
import json
import multiprocessing
import os
import socket
import subprocess
import sys
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from desktop.app import audit_log
from desktop.app.audit_log import AuditLog, entry_hash, verify
from desktop.egress import guard as egress_guard


def _log_with(path: Path, n: int) -> AuditLog:
    log = AuditLog(path)
    for i in range(n):
        log.record("question", question=f"question {i}", collection="default")
    return log


def _lines(path: Path) -> list[str]:
    return path.read_text().splitlines(keepends=True)


def test_entries_are_chained_by_sha256(tmp_path: Path) -> None:
    path = tmp_path / "audit.jsonl"
    _log_with(path, 3)
    entries = [json.loads(line) for line in _lines(path)]
    assert [e["seq"] for e in entries] == [1, 2, 3]
    assert entries[0]["prev"] == "0" * 64
    for before, after in itertools.pairwise(entries):
        assert after["prev"] == before["hash"]
    body = {k: v for k, v in entries[1].items() if k != "hash"}
    canonical = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    assert entries[1]["hash"] == hashlib.sha256(canonical.encode()).hexdigest()
    assert verify(path) == audit_log.VerifyResult(True, 3, None, "3 entries, chain intact")


def test_editing_one_line_is_detected_at_that_entry(tmp_path: Path) -> None:
    path = tmp_path / "audit.jsonl"
    _log_with(path, 5)
    lines = _lines(path)
    lines[2] = lines[2].replace("question 2", "something else")
    path.write_text("".join(lines))
    result = verify(path)
    assert not result.ok and result.first_broken == 3 and result.entries == 2
    assert "changed" in result.reason


def test_an_edit_that_recomputes_its_own_hash_breaks_the_next_link(tmp_path: Path) -> None:
    path = tmp_path / "audit.jsonl"
    _log_with(path, 5)
    lines = _lines(path)
    entry = json.loads(lines[1])
    entry["data"]["question"] = "rewritten"
    entry["hash"] = entry_hash(entry)
    lines[1] = json.dumps(entry) + "\n"
    path.write_text("".join(lines))
    result = verify(path)
    assert not result.ok and result.first_broken == 3
    assert "does not follow" in result.reason


def test_deleting_one_line_is_detected_where_it_was(tmp_path: Path) -> None:
    path = tmp_path / "audit.jsonl"
    _log_with(path, 5)
    lines = _lines(path)
    del lines[1]
    path.write_text("".join(lines))
    result = verify(path)
    assert not result.ok and result.first_broken == 2


def test_deleting_the_last_lines_is_detected(tmp_path: Path) -> None:
    path = tmp_path / "audit.jsonl"
    _log_with(path, 4)
    path.write_text("".join(_lines(path)[:2]))
    result = verify(path)
    assert not result.ok and result.first_broken == 3 and "removed" in result.reason


def test_a_torn_last_line_is_reported_and_the_log_goes_on(tmp_path: Path) -> None:
    path = tmp_path / "audit.jsonl"
    log = _log_with(path, 2)
    with open(path, "ab") as f:
        f.write(b'{"seq": 3, "time": "2026-')  # a crash in the middle of a write
    result = verify(path)
    assert not result.ok and result.first_broken == 3 and "cut off" in result.reason
    written = log.record("export", what="conversation")
    assert written["seq"] == 3  # chained to the last whole entry
    result = verify(path)
    assert not result.ok and result.first_broken == 3  # never silently accepted
    assert len(_lines(path)) == 4


def _append_many(path: str, tag: str, n: int) -> None:
    log = AuditLog(Path(path))
    for i in range(n):
        log.record("ingest", path=f"{tag}-{i}.pdf")


def test_two_processes_appending_keep_one_intact_chain(tmp_path: Path) -> None:
    path = tmp_path / "audit.jsonl"
    ctx = multiprocessing.get_context("spawn")
    workers = [ctx.Process(target=_append_many, args=(str(path), tag, 40)) for tag in "ab"]
    for w in workers:
        w.start()
    for w in workers:
        w.join(60)
        assert w.exitcode == 0
    result = verify(path)
    assert result.ok and result.entries == 80


@pytest.mark.parametrize("mode", ["full", "hashed", "off"])
def test_question_text_is_logged_as_configured(tmp_path: Path, mode: str) -> None:
    log = AuditLog(tmp_path / "audit.jsonl", question_logging=mode)
    data = log.record("question", question="Is patient 12 allergic?", collection="ward")["data"]
    assert data["collection"] == "ward"
    text = json.dumps(data)
    if mode == "full":
        assert data["question"] == "Is patient 12 allergic?"
    elif mode == "hashed":
        assert "allergic" not in text
        assert data["question_sha256"] == hashlib.sha256(b"Is patient 12 allergic?").hexdigest()
    else:
        assert "allergic" not in text and "question_sha256" not in data
    assert verify(log.path).ok


def test_export_since_a_date(tmp_path: Path) -> None:
    path = tmp_path / "audit.jsonl"
    _log_with(path, 3)
    lines = _lines(path)
    first = json.loads(lines[0])
    first["time"] = "2020-01-01T00:00:00.000+00:00"
    first["hash"] = entry_hash(first)
    path.write_text(json.dumps(first) + "\n" + "".join(lines[1:]))
    dest = tmp_path / "out" / "export.json"
    assert audit_log.export(path, date(2021, 1, 1), dest) == 2
    doc = json.loads(dest.read_text())
    assert [e["seq"] for e in doc["entries"]] == [2, 3]
    assert doc["verification"]["ok"] is False  # entry 2 no longer follows the edited entry 1
    assert audit_log.export(path, date(2019, 1, 1), dest) == 3


def test_the_guard_blocks_and_logs_a_non_loopback_connect(tmp_path: Path) -> None:
    log = AuditLog(tmp_path / "audit.jsonl")
    guard = egress_guard.current()
    assert guard is not None
    armed = egress_guard.install(
        guard.allowed_hosts, on_blocked=[lambda a: log.record("egress_blocked", **a.to_json())])
    before = armed.blocked_count
    try:
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s, \
                pytest.raises(egress_guard.EgressBlocked):
            s.connect(("192.0.2.1", 443))
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as server:
            server.bind(("127.0.0.1", 0))
            server.listen(1)
            with socket.create_connection(server.getsockname(), timeout=5):
                pass  # loopback stays open, and is not logged
    finally:
        egress_guard.install(guard.allowed_hosts)  # the suite's guard again, without this log
    assert armed.blocked_count == before + 1
    entries = audit_log.read_entries(log.path)
    assert [e["kind"] for e in entries] == ["egress_blocked"]
    assert entries[0]["data"]["target"] == "192.0.2.1:443"
    assert "test_the_guard_blocks_and_logs" in entries[0]["data"]["stack"]
    assert verify(log.path).ok


def _enclave(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "desktop", *args], env=env,
                          capture_output=True, text=True, timeout=120)


def test_audit_cli_verify_and_export(enclave_home: Path, tmp_path: Path) -> None:
    env = dict(os.environ)
    ok = _enclave(env, "audit", "verify")
    assert ok.returncode == 0 and "OK" in ok.stdout
    path = enclave_home / "audit" / "audit.jsonl"
    _log_with(path, 3)
    out = tmp_path / "kept.json"
    done = _enclave(env, "audit", "export", "--since", "2000-01-01", "--out", str(out))
    assert done.returncode == 0, done.stderr
    assert len(json.loads(out.read_text())["entries"]) == 3
    assert audit_log.read_entries(path)[-1]["kind"] == "export"  # exporting is itself audited
    lines = _lines(path)
    lines[1] = lines[1].replace("question 1", "question one")
    path.write_text("".join(lines))
    broken = _enclave(env, "audit", "verify")
    assert broken.returncode == 1
    assert "entry 2" in broken.stderr and "Traceback" not in broken.stderr
    bad_date = _enclave(env, "audit", "export", "--since", "yesterday")
    assert bad_date.returncode == 2 and "2026-01-31" in bad_date.stderr


@pytest.mark.slow
def test_ingest_and_ask_leave_their_events_in_the_audit_log(
        cli_env: dict[str, str], enclave_home: Path, tmp_path: Path) -> None:
    from desktop.egress.check.sample import write_sample_pdf

    pdf = write_sample_pdf(tmp_path / "protocol.pdf")
    ingest = _enclave(cli_env, "ingest", str(pdf), "--json")
    assert ingest.returncode == 0, ingest.stderr
    ask = _enclave(cli_env, "ask", "What about hand hygiene?", "--max-tokens", "4", "--json")
    assert ask.returncode == 0, ask.stderr
    path = enclave_home / "audit" / "audit.jsonl"
    entries = audit_log.read_entries(path)
    assert [e["kind"] for e in entries] == ["ingest", "question", "answer"]
    assert entries[0]["data"]["indexed"] == [str(pdf)]
    assert entries[1]["data"]["question"] == "What about hand hygiene?"
    assert entries[2]["data"]["sources"][0]["source"].endswith("protocol.pdf")
    assert verify(path).ok


@pytest.mark.slow
def test_search_batch_search_eval_and_forget_are_audited(
        cli_env: dict[str, str], enclave_home: Path, tmp_path: Path) -> None:
    from desktop.egress.check.sample import write_sample_pdf

    pdf = write_sample_pdf(tmp_path / "protocol.pdf")
    assert _enclave(cli_env, "ingest", str(pdf)).returncode == 0
    assert _enclave(cli_env, "search", "hand hygiene").returncode == 0
    (tmp_path / "queries.txt").write_text("gloves\nmasks\n", encoding="utf-8")
    assert _enclave(cli_env, "search", "--batch", str(tmp_path / "queries.txt")).returncode == 0
    (tmp_path / "qa.jsonl").write_text(json.dumps(
        {"q": "When are hands washed?", "source": "protocol.pdf", "key": "hand"}) + "\n",
        encoding="utf-8")
    assert _enclave(cli_env, "eval", str(tmp_path / "qa.jsonl")).returncode == 0
    assert _enclave(cli_env, "forget", str(pdf)).returncode == 0
    entries = audit_log.read_entries(enclave_home / "audit" / "audit.jsonl")
    assert [e["kind"] for e in entries] == ["ingest", "search", "search", "search", "search",
                                            "forget"]
    searches = [e["data"] for e in entries[1:5]]
    assert [d["query"] for d in searches[:3]] == ["hand hygiene", "gloves", "masks"]
    assert searches[0]["sources"] and searches[0]["sources"][0]["source"].endswith(
        "protocol.pdf")
    assert searches[3]["questions"] == 1 and searches[3]["interface"] == "eval"
    assert entries[5]["data"] == {"collection": "default", "path": str(pdf), "removed": True,
                                  "interface": "cli"}
    assert verify(enclave_home / "audit" / "audit.jsonl").ok


def test_paths_and_dates_in_event_data_are_logged_as_text(tmp_path: Path) -> None:
    log = AuditLog(tmp_path / "audit.jsonl")
    entry = log.record("export", path=tmp_path / "chat.md", day=date(2026, 1, 31))
    assert entry["data"] == {"path": str(tmp_path / "chat.md"), "day": "2026-01-31"}
    assert verify(log.path).ok


def _forged(entries: list[dict[str, Any]], seq: int, **changes: Any) -> dict[str, Any]:
    """An entry as a forger writes it: changed, its hash recomputed, chained to the one before."""
    entry = dict(entries[seq - 2], **changes) if seq > 1 else dict(changes)
    entry.update(seq=seq, prev=entries[seq - 2]["hash"] if seq > 1 else audit_log.GENESIS)
    entry["hash"] = audit_log.entry_hash(entry)
    return entry


def test_a_line_appended_with_a_recomputed_hash_is_caught_by_the_head(tmp_path: Path) -> None:
    path = tmp_path / "audit.jsonl"
    _log_with(path, 3)
    entries = audit_log.read_entries(path)
    with path.open("a") as f:
        f.write(json.dumps(_forged([*entries, {}], 4, kind="question",
                                   data={"question": "planted"})) + "\n")
    result = verify(path)
    assert not result.ok and result.first_broken == 4
    assert "come after the last one Enclave recorded writing" in result.reason


def test_an_entry_dated_before_the_one_ahead_of_it_is_caught(tmp_path: Path) -> None:
    path = tmp_path / "audit.jsonl"
    _log_with(path, 3)
    entries = audit_log.read_entries(path)
    lines = _lines(path)
    lines[2] = json.dumps(_forged(entries, 3, time="2001-01-01T00:00:00+00:00",
                                  kind="question", data={"question": "backdated"})) + "\n"
    path.write_text("".join(lines))
    audit_log._write_head(path, json.loads(lines[2]))  # the forger rewrites the head too
    result = verify(path)
    assert not result.ok and result.first_broken == 3 and "is dated 2001-01-01" in result.reason


def test_deleting_both_files_of_a_used_home_is_not_no_log_yet(enclave_home: Path) -> None:
    cli_env = dict(os.environ)
    _log_with(enclave_home / "audit" / "audit.jsonl", 2)
    (enclave_home / "index").mkdir()
    assert _enclave(cli_env, "audit", "verify").returncode == 0
    for name in ("audit.jsonl", "audit.jsonl.head"):
        (enclave_home / "audit" / name).unlink()
    gone = _enclave(cli_env, "audit", "verify")
    assert gone.returncode == 1 and "both missing" in gone.stderr


def test_an_anchor_proves_a_rewritten_log_was_rewritten(enclave_home: Path) -> None:
    cli_env = dict(os.environ)
    path = enclave_home / "audit" / "audit.jsonl"
    _log_with(path, 3)
    anchored = _enclave(cli_env, "audit", "anchor")
    assert anchored.returncode == 0, anchored.stderr
    code = anchored.stdout.strip()
    assert code.startswith("ENCLAVE-AUDIT-3-") and "Record this code" in anchored.stderr
    _log_with(path, 1)  # the log grows: the anchor still holds
    ok = _enclave(cli_env, "audit", "verify", "--anchor", code)
    assert ok.returncode == 0 and "anchor matches" in ok.stdout
    # Rewritten from entry 2 on with every hash recomputed and the head rewritten: the chain
    # alone cannot tell; the anchor can.
    entries = audit_log.read_entries(path)
    rewritten = entries[:1]
    for seq in range(2, 5):
        rewritten.append(_forged([*rewritten, {}], seq, kind="question", time=entries[seq - 1][
            "time"], data={"question": f"rewritten {seq}", "collection": "default"}))
    path.write_text("".join(json.dumps(e) + "\n" for e in rewritten))
    audit_log._write_head(path, rewritten[-1])
    assert verify(path).ok, "a full rewrite passes the chain: that is what anchors are for"
    caught = _enclave(cli_env, "audit", "verify", "--anchor", code)
    assert caught.returncode == 1 and "entry 3 is not the one anchored" in caught.stderr
