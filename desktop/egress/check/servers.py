"""``verify-egress --server-mode``: the practice's model server, run by the verifier itself in a
network namespace of its own, joined to the workflow's namespace by one virtual cable.

Inside the sandbox (the workflow's namespace, which has only its loopback), ``start`` creates a
second network namespace for the server (``unshare --net``), a veth pair between the two
(10.77.0.1 on the workflow's side, 10.77.0.2 on the server's, a /30 with no gateway, so that
address is the only one reachable), and starts the real llama.cpp OpenAI-compatible server there
on the default GGUF (models/llama_server.py). The workflow is then configured for server mode at
10.77.0.2, and the parent judges every traced connection: to that address and port is allowed,
anything else beyond loopback is a leak.

Run as ``python -m desktop.egress.check.servers ADDRESS -- SERVER ARGS`` it is the server's
side: it waits until its end of the cable has the address, then becomes the model server.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

CLIENT_ADDRESS = "10.77.0.1"
SERVER_ADDRESS = "10.77.0.2"
SERVER_PORT = 8080
CLIENT_LINK, SERVER_LINK = "enclave-c", "enclave-s"
SERVER_MODEL_NAME = "default-model"
LISTEN = "0A"  # the TCP state LISTEN in /proc/net/tcp


@dataclass(frozen=True)
class ServerSpec:
    model: Path
    work: Path  # the server's log and its engine self-test cache
    address: str = SERVER_ADDRESS
    port: int = SERVER_PORT

    @property
    def url(self) -> str:
        return f"http://{self.address}:{self.port}"

    @property
    def endpoint(self) -> str:
        return f"{self.address}:{self.port}"

    def to_json(self) -> dict[str, Any]:
        return {"model": str(self.model), "work": str(self.work), "address": self.address,
                "port": self.port}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> ServerSpec:
        return cls(Path(data["model"]), Path(data["work"]), data["address"], int(data["port"]))


def start(spec: ServerSpec, timeout_s: float = 240.0) -> tuple[subprocess.Popen[bytes] | None,
                                                               dict[str, Any]]:
    """Start the server in its own namespace, cable it to this one, and wait until it listens.
    Returns the process (None when it could not be started) and what happened, for the report."""
    spec.work.mkdir(parents=True, exist_ok=True)
    log = spec.work / "model-server.log"
    server_argv = [sys.executable, "-m", "models.llama_server", "--model", str(spec.model),
                   "--alias", SERVER_MODEL_NAME, "--host", spec.address, "--port",
                   str(spec.port), "--n-ctx", "2048", "--gpu-layers", "0",
                   "--engine-cache", str(spec.work / "engine-check.json")]
    argv = ["unshare", "--net", "--", sys.executable, "-m", "desktop.egress.check.servers",
            spec.address, "--", *server_argv]
    info: dict[str, Any] = {"endpoint": spec.endpoint, "command": argv, "log": str(log),
                            "ok": False}
    with open(log, "wb") as out:
        process = subprocess.Popen(argv, stdout=out, stderr=subprocess.STDOUT,
                                   stdin=subprocess.DEVNULL, start_new_session=True)
    info["pid"] = process.pid
    steps = [
        ["ip", "link", "add", CLIENT_LINK, "type", "veth", "peer", "name", SERVER_LINK,
         "netns", str(process.pid)],
        ["ip", "addr", "add", f"{CLIENT_ADDRESS}/30", "dev", CLIENT_LINK],
        ["ip", "link", "set", CLIENT_LINK, "up"],
        ["nsenter", "-t", str(process.pid), "-n", "ip", "link", "set", "lo", "up"],
        ["nsenter", "-t", str(process.pid), "-n", "ip", "addr", "add", f"{spec.address}/30",
         "dev", SERVER_LINK],
        ["nsenter", "-t", str(process.pid), "-n", "ip", "link", "set", SERVER_LINK, "up"],
    ]
    time.sleep(0.2)  # unshare has made the namespace before it runs anything
    for cmd in steps:
        done = subprocess.run(cmd, capture_output=True, text=True, timeout=30)
        if done.returncode != 0:
            info["detail"] = f"{' '.join(cmd)}: {done.stderr.strip() or done.returncode}"
            stop(process)
            return None, info
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if process.poll() is not None:
            info["detail"] = f"the model server exited ({process.returncode}): " + \
                log.read_text(errors="replace")[-600:]
            return None, info
        if listening(process.pid, spec.address, spec.port):
            info.update(ok=True, detail=f"listening on {spec.endpoint} in its own network "
                                        "namespace")
            return process, info
        time.sleep(0.25)
    info["detail"] = f"the model server did not listen within {timeout_s:g} s"
    stop(process)
    return None, info


def listening(pid: int, address: str, port: int) -> bool:
    """Whether a socket in ``pid``'s network namespace listens on address:port (read from
    /proc, which shows that process's namespace; no connection is made)."""
    wanted = f"{_hex_address(address)}:{port:04X}"
    try:
        lines = Path(f"/proc/{pid}/net/tcp").read_text().splitlines()[1:]
    except OSError:
        return False
    return any(f[1] == wanted and f[3] == LISTEN for f in (line.split() for line in lines)
               if len(f) > 3)


def _hex_address(address: str) -> str:
    return "".join(f"{int(part):02X}" for part in reversed(address.split(".")))


def stop(process: subprocess.Popen[bytes] | None) -> None:
    if process is None or process.poll() is not None:
        return
    try:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(15)
    except (ProcessLookupError, subprocess.TimeoutExpired):
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait()


def interfaces_of(ran: dict[str, Any]) -> set[str]:
    """The workflow namespace's expected interfaces: its loopback, and the cable when the
    server runs."""
    return {"lo", CLIENT_LINK} if ran.get("server", {}).get("ok") else {"lo"}


def _server_side(argv: list[str]) -> int:
    """In the server's namespace: wait for the cable's address, then become the server."""
    address, rest = argv[0], argv[2:] if len(argv) > 1 and argv[1] == "--" else argv[1:]
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        shown = subprocess.run(["ip", "-o", "addr", "show"], capture_output=True, text=True)
        if f" {address}/" in shown.stdout:
            break
        time.sleep(0.1)
    else:
        print(f"servers: {address} never appeared in this namespace", file=sys.stderr)
        return 2
    os.execv(rest[0], rest)
    return 0  # not reached


if __name__ == "__main__":
    sys.exit(_server_side(sys.argv[1:]))
