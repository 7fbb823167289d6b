"""verify-egress: the trace reader on strace's own lines, and the real thing (unshare + strace)
passing on this install and failing when a leak is planted into its workflow."""

from __future__ import annotations

import dataclasses
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from desktop.app.settings import load_settings
from desktop.cli.main import command_names
from desktop.egress.check import command
from desktop.egress.check.trace import parse_trace

STRACE_LINES = """\
101 connect(3, {sa_family=AF_UNIX, sun_path="/var/run/nscd/socket"}, 110) = -1 ENOENT (No such file or directory)
101 connect(4, {sa_family=AF_INET, sin_port=htons(8000), sin_addr=inet_addr("127.0.0.1")}, 16) = 0
101 sendto(5, [{nlmsg_len=20, nlmsg_type=RTM_GETADDR}], 20, 0, {sa_family=AF_NETLINK, nl_pid=0, nl_groups=00000000}, 12) = 20
102 connect(6, {sa_family=AF_INET6, sin6_port=htons(443), sin6_flowinfo=htonl(0), inet_pton(AF_INET6, "2606:4700::6810:84e5", &sin6_addr), sin6_scope_id=0}, 28 <unfinished ...>
103 connect(7, {sa_family=AF_INET, sin_port=htons(53), sin_addr=inet_addr("127.0.0.53")}, 16) = 0
102 <... connect resumed>) = -1 ENETUNREACH (Network is unreachable)
104 sendto(8, "\\x12\\x34", 2, MSG_NOSIGNAL, {sa_family=AF_INET, sin_port=htons(443), sin_addr=inet_addr("10.1.2.3")}, 16) = -1 ENETUNREACH (Network is unreachable)
105 connect(9, {sa_family=AF_INET6, sin6_port=htons(80), sin6_flowinfo=htonl(0), inet_pton(AF_INET6, "::ffff:127.0.0.1", &sin6_addr), sin6_scope_id=0}, 28) = 0
"""  # noqa: E501 (strace's own lines, verbatim)


def test_the_trace_reader_separates_loopback_from_egress() -> None:
    attempts = parse_trace(STRACE_LINES)
    leaving = {(a.address, a.port, a.result) for a in attempts if a.leaves_machine}
    assert leaving == {("2606:4700::6810:84e5", 443, "ENETUNREACH"),  # joined across threads
                       ("127.0.0.53", 53, "ok"),  # a DNS query, even to a local stub resolver
                       ("10.1.2.3", 443, "ENETUNREACH")}
    local = [a for a in attempts if not a.leaves_machine]
    assert {a.family for a in local} == {"AF_UNIX", "AF_INET", "AF_NETLINK", "AF_INET6"}
    assert [a.address for a in local if a.reaches_host_daemon] == ["/var/run/nscd/socket"]


def _enclave(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "desktop", *args], env=env,
                          capture_output=True, text=True, timeout=900)


@pytest.mark.slow
def test_verify_egress_passes_on_this_install_even_when_the_shell_asks_for_the_hub(
        cli_env: dict[str, str], tmp_path: Path) -> None:
    env = dict(cli_env, HF_HUB_OFFLINE="0", TRANSFORMERS_OFFLINE="0", ANONYMIZED_TELEMETRY="True",
               HTTPS_PROXY="http://proxy.invalid:3128", HF_HUB_DISABLE_TELEMETRY="0")
    report_file = tmp_path / "egress.json"
    done = _enclave(env, "verify-egress", "--report", str(report_file), "--max-tokens", "4",
                    "--window-seconds", "8")
    assert done.returncode == 0, done.stdout + done.stderr
    assert "verify-egress: PASS" in done.stdout
    report = json.loads(report_file.read_text())
    assert report["verdict"] == "PASS"
    statuses = {c["name"]: c["status"] for c in report["checks"]}
    assert statuses["canary connect seen"] == "pass" and statuses["canary lookup seen"] == "pass"
    assert statuses["in-process guard"] == "pass"
    # every workflow step either ran clean or says plainly that this build lacks it
    steps = [s for s in report["steps"] if s["kind"] == "workflow"]
    assert {s["name"] for s in steps} >= {"ingest", "search", "ask (documents)",
                                          "ask (--no-rag)", "serve (one API request)", "window"}
    from rag.ocr import find_engine

    must_run = ["serve (one API request)"] + (
        ["ingest (OCR)"] if find_engine() is not None
        or os.environ.get("ENCLAVE_REQUIRE_OCR") == "1" else [])
    for name in must_run:
        step = next(s for s in steps if s["name"] == name)
        assert step["status"].startswith("ran"), step
    for step in steps:
        assert step["status"].startswith("ran") or step["status"] == "not available", step
        assert step.get("non_loopback_attempts", []) == []
    assert any(s["status"].startswith("ran") for s in steps)
    # what the shell asked for is on record, next to what Enclave forced
    inherited = {r["variable"]: r["inherited"] for r in report["offline_environment"]}
    assert inherited["HF_HUB_OFFLINE"] == "0" and inherited["HTTPS_PROXY"]
    assert any(m["kind"] == "chat model (GGUF)" and len(m["sha256"]) == 64
               for m in report["model_files"])
    assert any(m["kind"] == "embedding model" for m in report["model_files"])
    assert any(p["name"] == "chromadb" for p in report["packages"])
    page = report_file.with_suffix(".md").read_text()
    assert "**PASS**" in page and "Repeat it by hand" in page and "unshare" in page
    canary_trace = next(s["trace"] for s in report["steps"] if s["name"] == "canary")
    assert "192.0.2.1" in Path(canary_trace).read_text()  # the raw evidence is kept


@pytest.mark.slow
def test_a_leak_planted_in_the_workflow_makes_it_fail(
        cli_env: dict[str, str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for name, value in cli_env.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv(command.PLANT_LEAK_ENV, "1")
    args = command.argparse.Namespace(report=tmp_path / "r.json", max_tokens=4,
                                      window_seconds=5.0)
    options = command.options_from(args, command_names())
    assert options.plant_leak  # the documented seam is what turns it on
    # One real workflow step beside the planted one keeps the test short.
    options = dataclasses.replace(options, steps=("ask (--no-rag)",))
    result = command.run_verification(load_settings(), options)
    assert result["verdict"] == "FAIL"
    failed = [c for c in result["checks"] if c["status"] == "fail"]
    assert [c["name"] for c in failed] == ["no egress: planted leak (test seam)"]
    assert "198.51.100.7:80" in failed[0]["detail"]
    clean = next(c for c in result["checks"] if c["name"] == "no egress: ask (--no-rag)")
    assert clean["status"] == "pass"


@pytest.mark.slow
def test_it_can_run_with_this_installations_own_settings(
        cli_env: dict[str, str], enclave_home: Path, monkeypatch: pytest.MonkeyPatch,
        tmp_path: Path) -> None:
    for name, value in cli_env.items():
        monkeypatch.setenv(name, value)
    (enclave_home / "config.toml").write_text(
        'allowed_hosts = ["records.hospital.example:8443"]\nreading_time_limit = 60\n'
        'question_logging = "hashed"\n', encoding="utf-8")
    args = command.argparse.Namespace(report=tmp_path / "r.json", max_tokens=4,
                                      window_seconds=5.0, with_my_settings=True)
    options = dataclasses.replace(command.options_from(args, command_names()),
                                  steps=("ingest",))
    result = command.run_verification(load_settings(), options)
    assert result["verdict"] == "PASS", result["checks"]
    config = result["configuration"]
    assert config["source"].startswith("this installation's settings")
    assert config["allowed_hosts"] == ["records.hospital.example:8443"]
    assert config["settings"]["reading_time_limit"] == "60"
    assert config["settings"]["question_logging"] == "hashed"
    ingest = next(s for s in result["steps"] if s["name"] == "ingest")
    assert ingest["status"].startswith("ran"), ingest
    # The installation's own data is not touched: nothing indexed, nothing audited there.
    assert not (enclave_home / "index").exists() and not (enclave_home / "audit").exists()
    from desktop.egress.check.report import markdown

    assert "## Settings in effect" in markdown(result)


def test_without_the_tools_it_is_inconclusive_never_a_pass(tmp_path: Path) -> None:
    env = dict(os.environ, PATH=str(tmp_path))  # no strace, no unshare on this PATH
    done = _enclave(env, "verify-egress", "--report", str(tmp_path / "r.json"))
    assert done.returncode == 3, done.stdout + done.stderr
    assert "INCONCLUSIVE" in done.stdout and "apt-get install strace" in done.stdout
    report = json.loads((tmp_path / "r.json").read_text())
    assert report["verdict"] == "INCONCLUSIVE" and report["what_to_run_instead"]
    # Filed as it is: who ran it where, on which build, its limits, and a digest that changes
    # when the report does.
    import platform

    from desktop.egress.check.report import digest, traces_dir

    assert report["filed_by"]["host"] == platform.node() and report["filed_by"]["user"]
    assert report["filed_by"]["enclave_build"].count("+src.") == 1
    assert any("throwaway data folder" in line for line in report["limits"])
    assert report["digest"]["sha256"] == digest(report, traces_dir(tmp_path / "r.json"))
    assert digest(dict(report, verdict="PASS"), tmp_path / "none") != report["digest"]["sha256"]
    page = (tmp_path / "r.md").read_text()
    assert report["digest"]["sha256"] in page and "What this check cannot show" in page


def test_a_command_missing_from_the_build_is_reported_never_passed(tmp_path: Path) -> None:
    from desktop.egress.check import plan

    steps = plan.build_workflow(["ask"], tmp_path / "s.pdf", tmp_path / "m.gguf", 4, 5.0, False)
    by_name = {s.name: s for s in steps}
    assert not by_name["ingest"].available and not by_name["search"].available
    assert by_name["ingest"].unavailable_reason == "'enclave ingest' is not available in this build"
    assert not by_name["window (first paint)"].available
    assert by_name["ask (--no-rag)"].available and by_name["canary"].available
    judged = command._judge_step(by_name["search"], None)
    check = command._workflow_check(judged)
    assert check.status == "not available" and "not available in this build" in check.detail
    summary = command.report.summary_text({"verdict": "PASS", "checks": [check.to_json()],
                                           "steps": [judged]})
    assert "not available in this build: search" in summary


@pytest.mark.slow
def test_server_mode_passes_with_the_server_in_its_own_namespace_and_fails_on_planted_leaks(
        cli_env: dict[str, str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """verify-egress --server-mode: the verifier starts the practice's real servers (the model
    server, Chroma's server, PostgreSQL) in a network namespace of their own, cabled to the
    workflow's; the workflow's only connections beyond loopback go to their address and ports.
    A planted connection elsewhere, or to the servers' host on another port, fails it."""
    for name, value in cli_env.items():
        monkeypatch.setenv(name, value)
    args = command.argparse.Namespace(report=None, max_tokens=4, window_seconds=5.0,
                                      server_mode=True)
    options = dataclasses.replace(command.options_from(args, command_names()),
                                  steps=("ingest", "ask (documents)"))
    result = command.run_verification(load_settings(), options)
    assert result["verdict"] == "PASS", result["checks"]
    checks = {c["name"]: c for c in result["checks"]}
    assert checks["practice's servers"]["status"] == "pass"
    assert "enclave-c, lo" in checks["network namespace"]["detail"]
    servers = ["10.77.0.2:8080", "10.77.0.2:8000", "10.77.0.2:5432"]
    assert result["configuration"]["allowed_endpoints"] == servers
    for name in ("ingest", "ask (documents)"):
        step = next(s for s in result["steps"] if s["name"] == name)
        # Each step reached the servers (the index is on them) and nothing else.
        assert step["status"] == "ran" and step["allowed_server_attempts"] >= 1, step
        assert step["non_loopback_attempts"] == []
        assert "to the practice's servers" in checks[f"no egress: {name}"]["detail"]
    assert f"allowed beyond loopback: {', '.join(servers)}" in command.report.summary_text(
        result)

    monkeypatch.setenv(command.PLANT_LEAK_ENV, "1")
    planted = dataclasses.replace(command.options_from(args, command_names()),
                                  steps=("ask (--no-rag)",))
    result = command.run_verification(load_settings(), planted)
    assert result["verdict"] == "FAIL"
    failed = {c["name"]: c["detail"] for c in result["checks"] if c["status"] == "fail"}
    assert set(failed) == {"no egress: planted leak (test seam)",
                           "no egress: planted leak to the server's host (test seam)"}
    assert "10.77.0.2:22" in failed["no egress: planted leak to the server's host (test seam)"]
