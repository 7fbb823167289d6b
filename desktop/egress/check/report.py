"""The verify-egress report: a JSON file for machines and a Markdown page for people, with the
commands that repeat the check by hand."""

from __future__ import annotations

import json
import shlex
from pathlib import Path
from typing import Any

from desktop.egress.check.plan import SAMPLE_QUESTION
from desktop.egress.check.sandbox import DAEMON_DIRS, TRACE_CALLS


def traces_dir(report_path: Path) -> Path:
    return report_path.with_name(report_path.stem + ".traces")


def page_path(report_path: Path) -> Path:
    return report_path.with_suffix(".md")


def write(result: dict[str, Any], report_path: Path) -> tuple[Path, Path]:
    report_path.parent.mkdir(parents=True, exist_ok=True)
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
    out += ["", "## Checks", "", "| check | result | detail |", "|---|---|---|"]
    for c in result["checks"]:
        out.append(f"| {c['name']} | **{c['status']}** | {_cell(c['detail'])} |")
    if result.get("steps"):
        out += ["", "## Workflow steps (each traced on its own)", "",
                "| step | status | socket calls | beyond loopback | command |",
                "|---|---|---|---|---|"]
        for s in result["steps"]:
            command = shlex.join(s.get("argv") or []) or s.get("unavailable_reason", "")
            out.append(f"| {s['name']} | {s['status']} | {s.get('socket_attempts', '-')} | "
                       f"{len(s.get('non_loopback_attempts') or [])} | `{_cell(command)}` |")
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
    if result.get("what_to_run_instead"):
        out += ["", "## What to run instead", ""]
        out += [f"- {line}" for line in result["what_to_run_instead"]]
    out += ["", "## Repeat it by hand", "", "```sh", *result.get("repeat_by_hand", []), "```"]
    out += ["", f"## Installed packages ({len(result.get('packages', []))})", "",
            ", ".join(f"{p['name']} {p['version']}" for p in result.get("packages", [])), ""]
    return "\n".join(out)


def _cell(text: Any) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")
