"""``verify-egress --server-mode``: the practice's servers, run by the verifier itself in a
network namespace of their own, joined to the workflow's namespace by one virtual cable.

Inside the sandbox (the workflow's namespace, which has only its loopback), ``start`` creates a
second network namespace for the servers (``unshare --net``), a veth pair between the two
(10.77.0.1 on the workflow's side, 10.77.0.2 on the servers', a /30 with no gateway, so that
address is the only one reachable), and starts there the real servers a practice runs: the
llama.cpp OpenAI-compatible model server on the default GGUF (models/llama_server.py, port
8080), and the shared index, Chroma's server with a token (rag/vector_server.py, port 8000) and
PostgreSQL with a password (port 5432). The workflow is then configured for the model and the
index on 10.77.0.2, and the parent judges every traced connection: to those three ports is
allowed, anything else beyond loopback is a leak.

Run as ``python -m desktop.egress.check.servers ADDRESS [--index WORK] -- SERVER ARGS`` it is
the servers' side: it waits until its end of the cable has the address, starts the index
servers, then becomes the model server.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

CLIENT_ADDRESS = "10.77.0.1"
SERVER_ADDRESS = "10.77.0.2"
SERVER_PORT = 8080
VECTOR_PORT = 8000
DATABASE_PORT = 5432
DATABASE_USER = "enclave"
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

    @property
    def vector_url(self) -> str:
        return f"http://{self.address}:{VECTOR_PORT}"

    @property
    def database_url(self) -> str:
        return f"postgresql://{DATABASE_USER}@{self.address}:{DATABASE_PORT}/postgres"

    @property
    def index_token_file(self) -> Path:
        return self.work / "index-token"

    @property
    def passfile(self) -> Path:
        return self.work / "passfile"

    def endpoints(self) -> set[tuple[str, int]]:
        """Where the workflow may connect: the model server and the two index servers."""
        return {(self.address, p) for p in (self.port, VECTOR_PORT, DATABASE_PORT)}

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
    log = spec.work / "servers.log"
    server_argv = [sys.executable, "-m", "models.llama_server", "--model", str(spec.model),
                   "--alias", SERVER_MODEL_NAME, "--host", spec.address, "--port",
                   str(spec.port), "--n-ctx", "2048", "--gpu-layers", "0",
                   "--engine-cache", str(spec.work / "engine-check.json")]
    info: dict[str, Any] = {"endpoint": spec.endpoint, "log": str(log), "ok": False,
                            "endpoints": sorted(f"{a}:{p}" for a, p in spec.endpoints())}
    try:
        prepare_index(spec)
    except (OSError, subprocess.SubprocessError, RuntimeError) as exc:
        info["detail"] = f"the index servers could not be prepared: {exc}"
        return None, info
    argv = ["unshare", "--net", "--", sys.executable, "-m", "desktop.egress.check.servers",
            spec.address, "--index", str(spec.work), "--", *server_argv]
    info["command"] = argv
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
        if all(listening(process.pid, a, p) for a, p in spec.endpoints()):
            info.update(ok=True, detail="the model server, the vector server and PostgreSQL "
                                        f"listening on {spec.address} (ports {spec.port}, "
                                        f"{VECTOR_PORT}, {DATABASE_PORT}) in their own network "
                                        "namespace")
            return process, info
        time.sleep(0.25)
    waiting = [f"{a}:{p}" for a, p in sorted(spec.endpoints())
               if not listening(process.pid, a, p)]
    info["detail"] = (f"the servers did not all listen within {timeout_s:g} s "
                      f"({', '.join(waiting)} not listening)")
    stop(process)
    return None, info


def postgres_bin() -> Path:
    """Debian's PostgreSQL programs, the newest installed."""
    import glob

    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/postgres"),
                   key=lambda p: int(Path(p).parts[-3]))
    if not found:
        raise RuntimeError("PostgreSQL is not installed (apt-get install postgresql)")
    return Path(found[-1]).parent


def _as_postgres_user() -> list[str]:
    """PostgreSQL refuses to run as root: as its own user then."""
    return ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []


def _cluster(spec: ServerSpec) -> Path:
    """The throwaway PostgreSQL cluster's folder, outside the work folder (which only the
    verifier's user may enter)."""
    return Path(tempfile.gettempdir()) / f"enclave-verify-postgres-{spec.work.stat().st_ino}"


def prepare_index(spec: ServerSpec) -> None:
    """A throwaway PostgreSQL cluster with a random password, and a random token for the
    vector server; the files the workflow's settings name (token file, libpq password file)."""
    token, password = secrets.token_hex(16), secrets.token_hex(16)
    spec.index_token_file.write_text(token + "\n", encoding="utf-8")
    spec.passfile.write_text(f"{spec.address}:{DATABASE_PORT}:*:{DATABASE_USER}:{password}\n",
                             encoding="utf-8")
    spec.passfile.chmod(0o600)
    cluster = _cluster(spec)
    shutil.rmtree(cluster, ignore_errors=True)
    cluster.mkdir(mode=0o700)
    pwfile = cluster / "pw"
    pwfile.write_text(password + "\n", encoding="utf-8")
    if os.geteuid() == 0:
        for path in (cluster, pwfile):
            shutil.chown(path, "postgres", "postgres")
    made = subprocess.run([*_as_postgres_user(), str(postgres_bin() / "initdb"), "-D",
                           str(cluster / "data"), "-U", DATABASE_USER, "--auth=scram-sha-256",
                           f"--pwfile={pwfile}", "--locale=C.UTF-8", "--encoding=UTF8"],
                          capture_output=True, text=True, timeout=120)
    pwfile.unlink()
    if made.returncode != 0:
        raise RuntimeError(f"initdb: {(made.stderr or made.stdout).strip()[-300:]}")
    # The workflow's end of the cable may sign in, with the password (initdb allows loopback).
    with open(cluster / "data" / "pg_hba.conf", "a", encoding="utf-8") as rules:
        rules.write(f"host all {DATABASE_USER} {CLIENT_ADDRESS}/32 scram-sha-256\n")


def remove_index(spec: ServerSpec) -> None:
    shutil.rmtree(_cluster(spec), ignore_errors=True)


def _start_index(address: str, work: Path) -> None:
    """In the servers' namespace: PostgreSQL and the vector server, as children that the
    model server (exec'd next) keeps; all go with the process group."""
    spec = ServerSpec(Path(), work, address)
    data = _cluster(spec) / "data"
    with open(work / "postgres.log", "wb") as out:
        subprocess.Popen([*_as_postgres_user(), str(postgres_bin() / "postgres"), "-D",
                          str(data), "-c", f"listen_addresses={address}", "-p",
                          str(DATABASE_PORT), "-c", f"unix_socket_directories={data}"],
                         stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
    with open(work / "vector-server.log", "wb") as out:
        subprocess.Popen([sys.executable, "-m", "rag.vector_server", "--path",
                          str(work / "vectors"), "--host", address, "--port", str(VECTOR_PORT),
                          "--token-file", str(spec.index_token_file)],
                         stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)


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
    """In the servers' namespace: wait for the cable's address, start the index servers, then
    become the model server."""
    address, rest = argv[0], argv[1:]
    index: Path | None = None
    if rest[:1] == ["--index"]:
        index, rest = Path(rest[1]), rest[2:]
    if rest[:1] == ["--"]:
        rest = rest[1:]
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        shown = subprocess.run(["ip", "-o", "addr", "show"], capture_output=True, text=True)
        if f" {address}/" in shown.stdout:
            break
        time.sleep(0.1)
    else:
        print(f"servers: {address} never appeared in this namespace", file=sys.stderr)
        return 2
    if index is not None:
        _start_index(address, index)
    os.execv(rest[0], rest)
    return 0  # not reached


if __name__ == "__main__":
    sys.exit(_server_side(sys.argv[1:]))
