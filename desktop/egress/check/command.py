"""Orchestration of ``enclave verify-egress``: preflight, the isolated traced run, the checks, the
verdict and the report.

Verdicts: PASS (exit 0): the canary was seen and refused, the guard refused its canary, and no
workflow step made a single non-loopback attempt. FAIL (exit 1): a leak, or a detector that did
not see the canary. INCONCLUSIVE (exit 3): the run could not prove anything (tools or namespaces
missing, a step that crashed); it is never a pass.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from desktop.app.settings import Settings
from desktop.egress.check import inventory, plan, report
from desktop.egress.check.sandbox import strace_argv
from desktop.egress.check.servers import ServerSpec
from desktop.egress.check.trace import SocketAttempt, read_trace

PASS, FAIL, INCONCLUSIVE = "PASS", "FAIL", "INCONCLUSIVE"
EXIT_CODES = {PASS: 0, FAIL: 1, INCONCLUSIVE: 3}
# The test seam: set to 1 to add a step that leaks on purpose (a raw connect bypassing the
# guard). It can only make a run FAIL, never PASS; tests use it to prove the detector bites.
PLANT_LEAK_ENV = "ENCLAVE_VERIFY_EGRESS_PLANT_LEAK"
_NOT_AVAILABLE_HINTS = ("not available", "arrives with")


@dataclass
class Options:
    report: Path | None = None
    max_tokens: int = 16
    window_seconds: float = 15.0
    plant_leak: bool = False
    # Only these workflow steps (by name); None: all. The canaries always run. A test seam too:
    # it keeps the planted-leak test short.
    steps: tuple[str, ...] | None = None
    base_env: dict[str, str] = field(default_factory=lambda: dict(os.environ))
    # What this build's ``enclave`` accepts (its commands and top-level options), from the CLI's
    # command table: a workflow step is only run when its command exists.
    commands: tuple[str, ...] = ()
    # Run with the installation's own config.toml (copied into the throwaway home).
    with_my_settings: bool = False
    # Server mode: the model on a server that the verifier runs in a namespace of its own; the
    # workflow's only allowed connections beyond loopback are to it (servers.py).
    server_mode: bool = False


@dataclass
class Check:
    name: str
    status: str  # pass | fail | not available | inconclusive
    detail: str

    def to_json(self) -> dict[str, str]:
        return {"name": self.name, "status": self.status, "detail": self.detail}


def options_from(args: argparse.Namespace, commands: Sequence[str]) -> Options:
    return Options(report=args.report, max_tokens=args.max_tokens,
                   window_seconds=args.window_seconds,
                   plant_leak=os.environ.get(PLANT_LEAK_ENV) == "1", commands=tuple(commands),
                   with_my_settings=bool(getattr(args, "with_my_settings", False)),
                   server_mode=bool(getattr(args, "server_mode", False)))


def verify_egress(settings: Settings, args: argparse.Namespace, commands: Sequence[str]) -> int:
    options = options_from(args, commands)
    result = run_verification(settings, options)
    print(report.summary_text(result))
    if options.report is not None:
        json_path, page = report.write(result, options.report)
        print(f"Report: {json_path} and {page}")
    else:
        print("(Run with --report FILE to keep the full report and the traces.)")
    return EXIT_CODES[result["verdict"]]


def run_verification(settings: Settings, options: Options) -> dict[str, Any]:
    started = time.monotonic()
    result: dict[str, Any] = {
        "enclave_verify_egress": 1,
        "started_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "runtime": inventory.runtime(),
        "offline_environment": inventory.offline_environment(),
        "hostile_environment": dict(plan.HOSTILE_ENVIRONMENT),
        "hostile_environment_removed": list(plan.HOSTILE_REMOVED),
    }
    model = _chat_model(settings)
    result["packages"] = inventory.installed_packages()
    result["model_files"] = inventory.model_files(
        settings.models_dir, [p for p in (settings.model_path, model) if p is not None])
    checks, isolation = preflight()
    result["checks"] = [c.to_json() for c in checks]
    if isolation is None:
        result["verdict"] = INCONCLUSIVE
        result["steps"] = []
        result["what_to_run_instead"] = report.manual_alternatives()
        result["repeat_by_hand"] = report.hand_commands(None, None)
        result["seconds"] = round(time.monotonic() - started, 1)
        return result

    keep = options.report is not None
    workdir = Path(tempfile.mkdtemp(prefix="enclave-verify-egress-"))
    try:
        traces_dir = (report.traces_dir(options.report) if options.report is not None
                      else workdir / "traces")
        _run_in_namespace(result, settings, options, isolation, workdir, traces_dir, model)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    if not keep:
        for step in result["steps"]:
            step.pop("trace", None)
    result["seconds"] = round(time.monotonic() - started, 1)
    return result


def _chat_model(settings: Settings) -> Path | None:
    if settings.model_path.is_file():
        return settings.model_path
    from models.errors import ModelError
    from models.provisioning import packaged_default_model

    try:
        return packaged_default_model()
    except ModelError:
        return None


@dataclass(frozen=True)
class Isolation:
    prefix: list[str]  # the unshare command line that opens the namespaces
    seccomp: bool  # strace supports --seccomp-bpf


def preflight() -> tuple[list[Check], Isolation | None]:
    """The checks on the tools; returns how to isolate, or None if it cannot run here."""
    checks: list[Check] = []
    if not sys.platform.startswith("linux"):
        checks.append(Check("platform", "inconclusive",
                            f"this check needs Linux network namespaces; this is {sys.platform}"))
        return checks, None
    checks.append(Check("platform", "pass", "Linux"))
    missing = [tool for tool in ("strace", "unshare") if shutil.which(tool) is None]
    if missing:
        checks.append(Check("tools", "inconclusive",
                            f"not installed: {', '.join(missing)} (Debian/Ubuntu: "
                            "apt-get install strace util-linux)"))
        return checks, None
    prefix = ["unshare", "--net", "--mount", "--propagation", "private"]
    if os.geteuid() != 0:
        prefix[1:1] = ["--user", "--map-root-user"]  # an unprivileged user namespace
    probe = subprocess.run([*prefix, "--", "true"], capture_output=True, text=True)
    if probe.returncode != 0:
        checks.append(Check("namespaces", "inconclusive",
                            "cannot create a network namespace here "
                            f"({probe.stderr.strip() or probe.returncode}); run as root, or "
                            "enable unprivileged user namespaces "
                            "(sysctl kernel.unprivileged_userns_clone=1)"))
        return checks, None
    traced = subprocess.run(strace_argv("strace", Path(os.devnull), ["true"]),
                            capture_output=True, text=True)
    seccomp = traced.returncode == 0
    if not seccomp:  # an older strace: trace the slow way
        traced = subprocess.run(strace_argv("strace", Path(os.devnull), ["true"], seccomp=False),
                                capture_output=True, text=True)
    if traced.returncode != 0:
        checks.append(Check("tools", "inconclusive",
                            f"strace cannot trace here ({traced.stderr.strip()}); ptrace may be "
                            "forbidden (kernel.yama.ptrace_scope, or a container's seccomp)"))
        return checks, None
    checks.append(Check("tools", "pass",
                        f"strace at {shutil.which('strace')}, unshare at {shutil.which('unshare')}"
                        f"{', as root' if os.geteuid() == 0 else ', in a user namespace'}"
                        f"{'' if seccomp else ' (strace without --seccomp-bpf: slower)'}"))
    return checks, Isolation(prefix, seccomp)


def _run_in_namespace(result: dict[str, Any], settings: Settings, options: Options,
                      isolation: Isolation, workdir: Path, traces_dir: Path,
                      model: Path | None) -> None:
    from desktop.egress.check.sample import write_sample_pdf, write_sample_scan

    home = workdir / "home"
    home.mkdir(mode=0o700)
    server = ServerSpec(model, workdir / "server") if options.server_mode and model else None
    result["configuration"] = _configuration(settings, options, home, server)
    result["mode"] = "server" if options.server_mode else "embedded"
    sample = write_sample_pdf(workdir / "ward-protocol.pdf")
    scan = write_sample_scan(workdir / "ward-protocol-scan.png", sample)
    steps = plan.build_workflow(list(options.commands), sample, model, options.max_tokens,
                                options.window_seconds, options.plant_leak, scan=scan,
                                server_endpoint=server.endpoint if server else None)
    if options.steps is not None:
        steps = [s for s in steps if s.kind != "workflow" or s.name in options.steps
                 or s.name.startswith("planted")]
    env = plan.hostile_environment(options.base_env, home, model)
    strace = shutil.which("strace") or "strace"
    runnable = [
        {"name": s.name, "argv": s.argv, "env": env, "cwd": str(workdir),
         "timeout_s": s.timeout_s, "close_after_s": s.close_after_s,
         "dir": str(traces_dir / f"{i:02d}-{_slug(s.name)}")}
        for i, s in enumerate(steps, start=1) if s.available
    ]
    results_file = workdir / "results.json"
    plan_file = workdir / "plan.json"
    plan_file.write_text(json.dumps({"steps": runnable, "strace": strace,
                                     "seccomp": isolation.seccomp,
                                     "results": str(results_file),
                                     "server": server.to_json() if server else None}))
    sandbox_argv = [*isolation.prefix, "--", sys.executable, "-m", "desktop.egress.check.sandbox",
                    str(plan_file)]
    result["sandbox_command"] = sandbox_argv
    total = sum(s.timeout_s for s in steps if s.available) + 120
    try:
        done = subprocess.run(sandbox_argv, capture_output=True, text=True, timeout=total,
                              cwd=str(workdir))
        sandbox_error = done.stderr.strip()[-2000:] if done.returncode != 0 else ""
    except subprocess.TimeoutExpired:
        sandbox_error = f"the sandbox did not finish within {total} s"
    ran = json.loads(results_file.read_text()) if results_file.is_file() else {"steps": []}
    result["namespace"] = {k: v for k, v in ran.items() if k != "steps"}
    by_name = {s["name"]: s for s in ran["steps"]}
    allowed = server.endpoints() if server else set()
    result["steps"] = [_judge_step(s, by_name.get(s.name), allowed) for s in steps]
    checks = [Check(**c) for c in result["checks"]]
    if options.server_mode:
        checks.append(_server_check(ran, server))
    checks.extend(_namespace_checks(ran, sandbox_error))
    checks.extend(_step_checks(result["steps"]))
    result["checks"] = [c.to_json() for c in checks]
    result["verdict"] = _verdict(checks)
    result["repeat_by_hand"] = report.hand_commands(isolation.prefix, strace)


def _configuration(settings: Settings, options: Options, home: Path,
                   server: ServerSpec | None = None) -> dict[str, Any]:
    """The settings the workflow runs with: the defaults, or (``with_my_settings``) the
    installation's config.toml copied into the throwaway home, and in server mode the model on
    the verifier's own server; what is in effect, for the report."""
    from desktop.app.settings import load_settings, save_settings
    from desktop.egress.arming import allowed_endpoints
    from desktop.egress.check.servers import SERVER_MODEL_NAME

    source = "defaults (a throwaway data folder, no config.toml)"
    if options.with_my_settings:
        if settings.config_path.is_file():
            shutil.copyfile(settings.config_path, home / "config.toml")
            (home / "config.toml").chmod(0o600)
            source = f"this installation's settings ({settings.config_path}), copied into a " \
                     "throwaway data folder"
        else:
            source = (f"this installation's settings: it has no config.toml "
                      f"({settings.config_path}), so the defaults")
    effective = load_settings({"ENCLAVE_HOME": str(home)})
    if server is not None:
        effective = save_settings(
            effective, chat_backend="server", chat_server_url=server.url,
            chat_server_model=SERVER_MODEL_NAME, index_backend="server",
            index_vector_server_url=server.vector_url,
            index_vector_token_file=str(server.index_token_file),
            index_database_url=server.database_url,
            index_database_password_file=str(server.passfile))
        source += ("; the model and the shared index on the verifier's own servers, in a "
                   "network namespace of their own")
    return {"source": source, "allowed_hosts": list(effective.allowed_hosts),
            "allowed_endpoints": list(allowed_endpoints(effective)),
            "settings": {key: str(getattr(effective, key)) for key in _REPORTED_SETTINGS}}


# The settings a reader of the report wants to see in effect.
_REPORTED_SETTINGS = ("allowed_hosts", "embedding_backend", "ocr_languages", "gpu_layers",
                      "question_logging", "api_port", "reading_time_limit",
                      "reading_memory_limit", "chat_backend", "chat_server_url",
                      "index_backend", "index_vector_server_url", "index_database_url")


def _slug(name: str) -> str:
    return "".join(ch if ch.isalnum() else "-" for ch in name.lower()).strip("-")


def _judge_step(step: plan.Step, ran: dict[str, Any] | None,
                allowed: set[tuple[str, int]] | None = None) -> dict[str, Any]:
    """What a step did; connections to an ``allowed`` endpoint (server mode: the model
    server) are counted apart, never as leaks."""
    allowed = allowed or set()
    out = step.to_json()
    if not step.available:
        out["status"] = "not available"
        return out
    if ran is None:
        out["status"] = "did not run"
        return out
    attempts = read_trace(Path(ran["trace"]))
    out.update(ran)
    out["stdout_tail"] = _tail(Path(ran["trace"]).with_name("stdout.txt"))
    out["stderr_tail"] = _tail(Path(ran["trace"]).with_name("stderr.txt"))
    out["socket_attempts"] = len(attempts)
    to_server = [a for a in attempts if a.leaves_machine and (a.address, a.port) in allowed]
    out["non_loopback_attempts"] = [a.to_json() for a in attempts if a.leaves_machine
                                    and (a.address, a.port) not in allowed]
    out["allowed_server_attempts"] = len(to_server)
    out["host_daemon_attempts"] = [a.to_json() for a in attempts if a.reaches_host_daemon]
    out["local_endpoints"] = sorted({f"{a.family} {a.address}".strip() for a in attempts
                                     if not a.leaves_machine})
    out["status"] = _step_status(step, ran, out["stderr_tail"])
    if step.kind != "workflow":
        out["canary_output"] = _canary_output(out["stdout_tail"])
        out["_attempts"] = attempts
    return out


def _step_status(step: plan.Step, ran: dict[str, Any], stderr: str) -> str:
    if ran.get("timed_out"):
        return "timed out"
    if ran.get("closed_by_verifier"):
        return "ran (closed by the verifier)"
    code = ran.get("returncode")
    if code == 0:
        return "ran"
    if any(hint in stderr.lower() for hint in _NOT_AVAILABLE_HINTS):
        return "not available"
    return f"error (exit {code})"


def _tail(path: Path, limit: int = 1500) -> str:
    try:
        return path.read_text(errors="replace")[-limit:]
    except OSError:
        return ""


def _canary_output(stdout: str) -> dict[str, Any] | None:
    for line in reversed(stdout.strip().splitlines()):
        try:
            value = json.loads(line)
        except ValueError:
            continue
        if isinstance(value, dict):
            return value
    return None


def _server_check(ran: dict[str, Any], server: ServerSpec | None) -> Check:
    name = "practice's servers"
    if server is None:
        return Check(name, "inconclusive", "server mode needs a chat model to serve (run: "
                                           "enclave models install-default)")
    info = ran.get("server") or {}
    if not info.get("ok"):
        return Check(name, "inconclusive",
                     f"the verifier's servers did not start: {info.get('detail')}")
    return Check(name, "pass", f"{info.get('detail')}; the workflow may connect to "
                               f"{', '.join(info.get('endpoints', []))} and nowhere else")


def _namespace_checks(ran: dict[str, Any], sandbox_error: str) -> list[Check]:
    from desktop.egress.check.servers import interfaces_of

    checks = []
    if sandbox_error:
        checks.append(Check("sandbox", "inconclusive", f"the isolated run failed: {sandbox_error}"))
    interfaces = ran.get("interfaces")
    if interfaces is not None:
        only_lo = set(interfaces) == interfaces_of(ran)
        loopback = ran.get("loopback") or {}
        state = "up" if loopback.get("ok") else f"left down: {loopback.get('detail')}"
        checks.append(Check("network namespace", "pass" if only_lo else "fail",
                            f"interfaces inside: {', '.join(interfaces) or 'none'} "
                            f"(loopback {state})"))
    hidden = ran.get("hidden_daemon_sockets") or []
    if hidden:
        bad = [h["path"] for h in hidden if not h["hidden"]]
        checks.append(Check("host daemon sockets hidden", "fail" if bad else "pass",
                            f"could not hide: {', '.join(bad)}" if bad else
                            "empty over: " + ", ".join(h["path"] for h in hidden)))
    return checks


def _step_checks(steps: list[dict[str, Any]]) -> list[Check]:
    checks: list[Check] = []
    for step in steps:
        if step["kind"] == "canary":
            checks.extend(_canary_checks(step))
        elif step["kind"] == "guard-canary":
            checks.append(_guard_canary_check(step))
        else:
            checks.append(_workflow_check(step))
    return checks


def _canary_checks(step: dict[str, Any]) -> list[Check]:
    if "_attempts" not in step:
        return [Check("canary seen", "fail", f"the canary {step['status']}: the detector is "
                                             "unproven")]
    attempts: list[SocketAttempt] = step.pop("_attempts")
    output = step.get("canary_output") or {}
    from desktop.egress.check.canary import CANARY_HOST, CANARY_PORT

    connect = [a for a in attempts if a.address == CANARY_HOST and a.port == CANARY_PORT]
    lookup = [a for a in attempts if a.is_dns or a.reaches_host_daemon]
    connect_refused = bool(connect) and all(a.result != "ok" for a in connect) and \
        output.get("connect", {}).get("refused") is True
    lookup_refused = output.get("lookup", {}).get("refused") is True and \
        all(a.result != "ok" for a in lookup if a.leaves_machine)
    return [
        Check("canary connect seen", "pass" if connect else "fail",
              f"strace saw {len(connect)} connect(s) to {CANARY_HOST}:{CANARY_PORT}" if connect
              else "strace did NOT see the canary's connect: the detector is broken"),
        Check("canary connect refused", "pass" if connect_refused else "fail",
              (connect[0].result if connect else "-") + "; " +
              str(output.get("connect", {}).get("error"))),
        Check("canary lookup seen", "pass" if lookup else "fail",
              "strace saw the lookup: " + ", ".join(sorted({f"{a.address}:{a.port}"
                                                            if a.port else a.address
                                                            for a in lookup}))
              if lookup else "strace did NOT see the canary's name lookup"),
        Check("canary lookup refused", "pass" if lookup_refused else "fail",
              str(output.get("lookup", {}).get("error"))),
    ]


def _guard_canary_check(step: dict[str, Any]) -> Check:
    attempts: list[SocketAttempt] = step.pop("_attempts", [])
    output = step.get("canary_output") or {}
    refused = [output.get(k, {}).get("error") or "" for k in ("connect", "lookup")]
    by_guard = all(e.startswith("EgressBlocked") for e in refused)
    leaked = [a for a in attempts if a.leaves_machine]
    ok = by_guard and not leaked and step["status"] == "ran"
    return Check("in-process guard", "pass" if ok else "fail",
                 "the guard refused the connect and the lookup; the kernel saw nothing" if ok
                 else f"guard results {refused}; {len(leaked)} attempt(s) reached the kernel")


def _workflow_check(step: dict[str, Any]) -> Check:
    name = f"no egress: {step['name']}"
    status = step["status"]
    if status == "not available":
        reason = step.get("unavailable_reason") or (step.get("stderr_tail") or "").strip()[-200:]
        return Check(name, "not available", f"not available in this build: {reason}")
    leaks = step.get("non_loopback_attempts") or []
    if leaks:
        shown = "; ".join(f"{a['call']} {a['family']} {a['address']}:{a['port']} "
                          f"({a['result']})" for a in leaks[:5])
        return Check(name, "fail", f"{len(leaks)} non-loopback attempt(s): {shown}")
    if status.startswith("ran"):
        daemons = sorted({a["address"] for a in step.get("host_daemon_attempts") or []})
        aside = (f"; asked host daemon socket(s), absent or hidden here: {', '.join(daemons)}"
                 if daemons else "")
        served = step.get("allowed_server_attempts") or 0
        beyond = (f"none beyond loopback but {served} to the practice's servers" if served
                  else "none beyond loopback")
        return Check(name, "pass", f"{step.get('socket_attempts', 0)} socket call(s) traced, "
                                   f"{beyond}{aside} ({step.get('seconds')} s)")
    return Check(name, "inconclusive", f"the step {status}, so it proves little: "
                 + (step.get("stderr_tail") or "").strip()[-300:])


def _verdict(checks: list[Check]) -> str:
    statuses = {c.status for c in checks}
    if "fail" in statuses:
        return FAIL
    if "inconclusive" in statuses:
        return INCONCLUSIVE
    return PASS
