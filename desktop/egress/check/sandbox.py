"""The part of ``verify-egress`` that runs *inside* the fresh network and mount namespaces.

Started by ``command`` as ``unshare --net --mount --propagation private -- python -m
desktop.egress.check.sandbox PLAN.json``. It brings the loopback up (a new namespace starts with
it down and nothing else), hides the host daemons' Unix sockets that could resolve a name or open
a connection on a process's behalf (an empty tmpfs mounted over their directories, visible only
in this mount namespace), records what the namespace looks like, then runs each step under
``strace -f`` into a trace file of its own. It judges nothing: the parent reads the traces.
In server mode it first starts the practice's servers in a namespace of their own (servers.py).
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

TRACE_CALLS = "connect,sendto,sendmsg,sendmmsg"
# Directories of host daemons that answer on Unix sockets: nscd and systemd-resolved resolve
# names, D-Bus can ask other services to connect, avahi does multicast DNS, sssd looks up users
# and hosts. /var/run is usually a link to /run; both are listed for systems where it is not.
DAEMON_DIRS = ("/run/nscd", "/var/run/nscd", "/run/systemd/resolve", "/run/dbus",
               "/var/run/dbus", "/run/avahi-daemon", "/var/run/avahi-daemon",
               "/var/lib/sss/pipes")


def strace_argv(strace: str, trace_file: Path, argv: list[str], seccomp: bool = True) -> list[str]:
    # --seccomp-bpf (strace >= 5.3) stops the tracee only on the traced calls: the same record,
    # several times faster on a workflow that imports torch.
    fast = ["--seccomp-bpf"] if seccomp else []
    return [strace, "-f", *fast, "-qq", "-s", "64", "-e", "signal=none",
            "-e", f"trace={TRACE_CALLS}", "-o", str(trace_file), "--", *argv]


def bring_loopback_up() -> dict[str, Any]:
    try:
        done = subprocess.run(["ip", "link", "set", "lo", "up"], capture_output=True, text=True,
                              timeout=30)
    except (OSError, subprocess.TimeoutExpired) as exc:
        return {"ok": False, "detail": f"could not run 'ip link set lo up': {exc}"}
    return {"ok": done.returncode == 0, "detail": done.stderr.strip() or "lo is up"}


def hide_daemon_sockets() -> list[dict[str, Any]]:
    hidden: list[dict[str, Any]] = []
    seen: set[str] = set()
    for directory in DAEMON_DIRS:
        real = os.path.realpath(directory)
        if real in seen or not os.path.isdir(real):
            continue
        seen.add(real)
        done = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=64k,mode=0755",
                               "enclave-hidden", real], capture_output=True, text=True)
        empty = done.returncode == 0 and not os.listdir(real)
        hidden.append({"path": real, "hidden": empty,
                       "detail": done.stderr.strip() or "an empty tmpfs now covers it"})
    return hidden


def network_interfaces() -> list[str]:
    # /proc/self/net follows the network namespace; /sys/class/net would still show the host's.
    lines = Path("/proc/self/net/dev").read_text().splitlines()[2:]
    return sorted(line.split(":", 1)[0].strip() for line in lines if ":" in line)


def run_step(step: dict[str, Any], strace: str, seccomp: bool) -> dict[str, Any]:
    out_dir = Path(step["dir"])
    out_dir.mkdir(parents=True, exist_ok=True)
    trace_file = out_dir / "strace.txt"
    argv = strace_argv(strace, trace_file, step["argv"], seccomp)
    started = time.monotonic()
    result: dict[str, Any] = {"name": step["name"], "command": argv, "trace": str(trace_file),
                              "timed_out": False, "closed_by_verifier": False}
    with open(out_dir / "stdout.txt", "wb") as out, open(out_dir / "stderr.txt", "wb") as err:
        proc = subprocess.Popen(argv, env=step["env"], cwd=step["cwd"], stdout=out, stderr=err,
                                stdin=subprocess.DEVNULL, start_new_session=True)
        close_after = step.get("close_after_s")
        wait_for = close_after if close_after is not None else step["timeout_s"]
        try:
            proc.wait(timeout=wait_for)
        except subprocess.TimeoutExpired:
            # A window stays open until closed: SIGTERM the whole group (strace and the app),
            # which strace records like anything else. A hung step is killed outright.
            sig = signal.SIGTERM if close_after is not None else signal.SIGKILL
            result["closed_by_verifier" if close_after is not None else "timed_out"] = True
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, sig)
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()
    result["returncode"] = proc.returncode
    result["seconds"] = round(time.monotonic() - started, 2)
    return result


def main(argv: list[str]) -> int:
    from desktop.egress.check import servers

    plan = json.loads(Path(argv[0]).read_text())
    report: dict[str, Any] = {
        "loopback": bring_loopback_up(),
        "hidden_daemon_sockets": hide_daemon_sockets(),
        "uid_in_namespace": os.getuid(),
        "steps": [],
    }
    server = None
    spec = servers.ServerSpec.from_json(plan["server"]) if plan.get("server") else None
    if spec is not None:  # server mode: the servers in a namespace of their own
        server, report["server"] = servers.start(spec)
    report["interfaces"] = network_interfaces()
    try:
        if plan.get("server") and server is None:
            return 0  # nothing to prove without the server; the parent says why
        for step in plan["steps"]:
            report["steps"].append(run_step(step, plan["strace"], plan["seccomp"]))
            Path(plan["results"]).write_text(json.dumps(report, indent=1))  # survive a hang
    finally:
        servers.stop(server)
        if spec is not None:
            servers.remove_index(spec)
        Path(plan["results"]).write_text(json.dumps(report, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
