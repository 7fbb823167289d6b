"""The verify-egress report: a JSON file for machines and a Markdown page for people, with the
commands that repeat the check by hand."""

from __future__ import annotations

import hashlib
import json
import os
import shlex
from pathlib import Path
from typing import Any

from desktop.egress.check.plan import SAMPLE_QUESTION
from desktop.egress.check.sandbox import DAEMON_DIRS, TRACE_CALLS


def traces_dir(report_path: Path) -> Path:
    return report_path.with_name(report_path.stem + ".traces")


def page_path(report_path: Path) -> Path:
    return report_path.with_suffix(".md")


# What the method can and cannot show, stated in every report so it is filed with its limits.
LIMITS = (
    "It traces the Enclave processes it starts (strace, every thread and child) while they run "
    "the listed steps; code paths those steps do not reach (other commands, other files, other "
    "settings) are not exercised.",
    "It runs with a throwaway data folder: the default settings or, with --with-my-settings, "
    "this installation's config.toml (see 'Settings in effect'); the user's documents and "
    "index are not used. No step contacts an on-prem server, so an attempt to reach one, even "
    "an allowed host, fails the run like any other.",
    "It shows what Enclave itself attempted; it does not watch the rest of the computer (other "
    "programs, the operating system's own updates or telemetry).",
    "The network namespace has only a loopback, so an attempt fails instead of leaving; the "
    "trace still records it, which is what fails the check (the canary step proves this).",
    "The digest below lets anyone confirm that this report and its traces are the ones filed; "
    "it does not prove who ran it (sign the digest, or file it at once, for that).",
)


def filing() -> dict[str, Any]:
    """Who ran the check where, on which build of Enclave."""
    import getpass
    import platform

    try:
        user = getpass.getuser()
    except (KeyError, OSError):
        user = f"uid {os.getuid()}" if hasattr(os, "getuid") else "unknown"
    return {"host": platform.node(), "user": user, "enclave_build": build_identifier()}


def build_identifier() -> str:
    """Enclave's version and a SHA-256 over its own source files, as installed: two reports
    with the same identifier were made by the same code."""
    import importlib.metadata

    try:
        version = importlib.metadata.version("enclave")
    except importlib.metadata.PackageNotFoundError:
        version = "unknown"
    root = Path(__file__).resolve().parents[3]
    digest = hashlib.sha256()
    for package in ("desktop", "rag", "models", "installer"):
        for source in sorted((root / package).rglob("*.py")):
            digest.update(source.relative_to(root).as_posix().encode() + b"\0")
            digest.update(source.read_bytes())
    return f"{version}+src.{digest.hexdigest()[:16]}"


def digest(result: dict[str, Any], traces: Path) -> str:
    """SHA-256 over the report (without its digest) and every trace file, by name."""
    h = hashlib.sha256()
    body = {k: v for k, v in result.items() if k != "digest"}
    h.update(json.dumps(body, sort_keys=True, ensure_ascii=False).encode())
    if traces.is_dir():
        for trace in sorted(traces.rglob("*")):
            if trace.is_file():
                h.update(trace.relative_to(traces).as_posix().encode() + b"\0")
                h.update(trace.read_bytes())
    return h.hexdigest()


def write(result: dict[str, Any], report_path: Path) -> tuple[Path, Path]:
    report_path.parent.mkdir(parents=True, exist_ok=True)
    result = dict(result, filed_by=filing(), limits=list(LIMITS))
    result["digest"] = {"sha256": digest(result, traces_dir(report_path)),
                        "over": "this report without 'digest' (JSON, keys sorted) and each "
                                f"file under {traces_dir(report_path).name}/, by name"}
    report_path.write_text(json.dumps(result, indent=1, ensure_ascii=False) + "\n")
    page = page_path(report_path)
    page.write_text(markdown(result), encoding="utf-8")
    return report_path, page


def summary_text(result: dict[str, Any]) -> str:
    steps = [s for s in result.get("steps", []) if s.get("kind") == "workflow"]
    ran = [s["name"] for s in steps if str(s.get("status", "")).startswith("ran")]
    unavailable = [s["name"] for s in steps if s.get("status") == "not available"]
    lines = [f"verify-egress: {result['verdict']}"]
    for check in result["checks"]:
        lines.append(f"  [{check['status'].upper():^13}] {check['name']}: {check['detail']}")
    if steps:
        lines.append(f"  workflow steps traced: {len(ran)} of {len(steps)}"
                     + (f"; not available in this build: {', '.join(unavailable)}"
                        if unavailable else ""))
    if result.get("configuration"):
        lines.append(f"  settings: {result['configuration']['source']}")
        allowed = result["configuration"].get("allowed_endpoints") or []
        lines.append("  allowed beyond loopback: " + (", ".join(allowed) or "nothing"))
    if result["verdict"] == "INCONCLUSIVE":
        lines.append("  INCONCLUSIVE is not a pass: see 'what to run instead' in the report.")
    return "\n".join(lines)


def manual_alternatives() -> list[str]:
    return [
        "Linux without strace: install it (apt-get install strace / dnf install strace) and "
        "run again as root, or enable unprivileged user namespaces.",
        "Any system: run Enclave on a machine with its network cable unplugged and its firewall "
        "logging denied outbound packets (Linux: nftables log rule; Windows: Windows Defender "
        "Firewall logging; macOS: pf with 'block out log'), then read the firewall log.",
        "macOS: 'sudo fs_usage -w -f network' or 'sudo dtruss -f -t connect' on the enclave "
        "process while it ingests, searches and answers.",
        "Windows: Sysinternals Process Monitor filtered on the Python process and 'TCP' or "
        "'UDP' operations, while it ingests, searches and answers.",
    ]


def hand_commands(isolation: list[str] | None, strace: str | None) -> list[str]:
    prefix = " ".join(isolation) if isolation else "unshare --net --mount --propagation private"
    tracer = strace or "strace"
    hide = "; ".join(f"[ -d {d} ] && mount -t tmpfs tmpfs {d}" for d in DAEMON_DIRS[:4])
    trace = (f"{tracer} -f -qq -e signal=none -e trace={TRACE_CALLS} -o /tmp/enclave.trace --")
    asks = shlex.quote(SAMPLE_QUESTION)
    return [
        "# 1. a shell in a fresh network and mount namespace (only a loopback, daemons hidden):",
        f"{prefix} -- sh -c 'ip link set lo up; {hide}; exec sh'",
        "# 2. inside it, with an environment that asks for the hub and telemetry:",
        "export HF_HUB_OFFLINE=0 TRANSFORMERS_OFFLINE=0 ANONYMIZED_TELEMETRY=True "
        "HTTPS_PROXY=http://proxy.invalid:3128",
        f"{trace} enclave ingest some.pdf --json",
        f"{trace.replace('/tmp/enclave.trace', '/tmp/enclave-ask.trace')} enclave ask {asks} "
        "--max-tokens 16 --json",
        "# 3. any address that is not 127.x, ::1, a Unix socket or netlink is a leak:",
        "grep -hE 'inet_addr|inet_pton' /tmp/enclave*.trace | grep -vE '\"127\\.|\"::1\"'",
        "# 4. the detector works: this must appear in its trace and fail with ENETUNREACH:",
        f"{trace.replace('/tmp/enclave.trace', '/tmp/canary.trace')} python3 -c "
        "\"import socket; socket.create_connection(('192.0.2.1', 443), timeout=5)\"",
    ]


def markdown(result: dict[str, Any]) -> str:
    out = [f"# Enclave zero-egress verification: **{result['verdict']}**", ""]
    out.append(f"Run at {result['started_at']} on {result['runtime']['platform']} "
               f"(Python {result['runtime']['python']}), {result.get('seconds', '?')} s.")
    if result.get("filed_by"):
        f = result["filed_by"]
        out += ["", f"Host `{f['host']}`, run by `{f['user']}`, Enclave build "
                    f"`{f['enclave_build']}`."]
    if result.get("digest"):
        out += ["", f"Digest (SHA-256 {result['digest']['over']}): "
                    f"`{result['digest']['sha256']}`"]
    out += ["", "## Checks", "", "| check | result | detail |", "|---|---|---|"]
    for c in result["checks"]:
        out.append(f"| {c['name']} | **{c['status']}** | {_cell(c['detail'])} |")
    if result.get("steps"):
        out += ["", "## Workflow steps (each traced on its own)", "",
                "| step | status | socket calls | to allowed servers | beyond loopback (leaks) "
                "| command |", "|---|---|---|---|---|---|"]
        for s in result["steps"]:
            command = shlex.join(s.get("argv") or []) or s.get("unavailable_reason", "")
            out.append(f"| {s['name']} | {s['status']} | {s.get('socket_attempts', '-')} | "
                       f"{s.get('allowed_server_attempts', 0)} | "
                       f"{len(s.get('non_loopback_attempts') or [])} | `{_cell(command)}` |")
    if result.get("configuration"):
        config = result["configuration"]
        allowed = config.get("allowed_endpoints") or []
        out += ["", "## Settings in effect", "", f"From {config['source']}.", "",
                "Allowed beyond loopback: " + (", ".join(f"`{a}`" for a in allowed)
                                               or "nothing") + ".", "",
                "| setting | value |", "|---|---|"]
        out += [f"| `{k}` | `{_cell(v)}` |" for k, v in config["settings"].items()]
    if result.get("namespace"):
        ns = result["namespace"]
        out += ["", "## Isolation", "",
                f"- interfaces inside the namespace: {', '.join(ns.get('interfaces', []))}",
                f"- loopback: {ns.get('loopback', {}).get('detail')}"]
        for h in ns.get("hidden_daemon_sockets", []):
            out.append(f"- `{h['path']}`: {'hidden' if h['hidden'] else 'NOT hidden'}")
        out.append(f"- command: `{shlex.join(result.get('sandbox_command', []))}`")
    out += ["", "## Offline environment", "",
            "Every step was started with an environment that asks for the hub, telemetry and a "
            "proxy (below); Enclave's entry point overrides it.", "",
            "| variable | forced by Enclave | inherited by this run | why |", "|---|---|---|---|"]
    for row in result["offline_environment"]:
        out.append(f"| `{row['variable']}` | `{row['forced']}` | "
                   f"{'`' + str(row['inherited']) + '`' if row['inherited'] is not None else '-'}"
                   f" | {_cell(row['why'])} |")
    out += ["", "Hostile environment given to every step: " + ", ".join(
        f"`{k}={v}`" for k, v in result["hostile_environment"].items()) + "; removed: "
        + ", ".join(f"`{k}`" for k in result["hostile_environment_removed"]) + "."]
    out += ["", "## Model files", "", "| kind | file | bytes | SHA-256 |", "|---|---|---|---|"]
    for m in result.get("model_files", []):
        out.append(f"| {m['kind']} | `{m['path']}` | {m['bytes']} | `{m['sha256']}` |")
    if result.get("limits"):
        out += ["", "## What this check cannot show", ""]
        out += [f"- {line}" for line in result["limits"]]
    if result.get("what_to_run_instead"):
        out += ["", "## What to run instead", ""]
        out += [f"- {line}" for line in result["what_to_run_instead"]]
    out += ["", "## Repeat it by hand", "", "```sh", *result.get("repeat_by_hand", []), "```"]
    out += ["", f"## Installed packages ({len(result.get('packages', []))})", "",
            ", ".join(f"{p['name']} {p['version']}" for p in result.get("packages", [])), ""]
    return "\n".join(out)


def _cell(text: Any) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")
