"""A real llama.cpp OpenAI-compatible server (models/llama_server.py, llama-cpp-python's
server on the default GGUF), started by a test on 127.0.0.1 and stopped after it."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
ALIAS = "smollm2"
PRACTICE_TOKEN = "s3cret-practice-token"  # what the tests' practice server asks for


@dataclass
class RunningServer:
    url: str
    token: str
    process: subprocess.Popen[bytes]
    log: Path

    @property
    def port(self) -> int:
        return int(self.url.rsplit(":", 1)[1])

    def kill(self) -> None:
        with contextlib.suppress(ProcessLookupError):
            self.process.send_signal(signal.SIGKILL)
        self.process.wait(10)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextlib.contextmanager
def model_server(model: Path, work: Path, *, token: str = "", n_ctx: int = 2048,
                 cert: tuple[Path, Path] | None = None) -> Iterator[RunningServer]:
    work.mkdir(parents=True, exist_ok=True)
    port = free_port()
    cmd = [sys.executable, "-m", "models.llama_server", "--model", str(model), "--alias", ALIAS,
           "--port", str(port), "--n-ctx", str(n_ctx), "--gpu-layers", "0",
           "--engine-cache", str(work / "engine-check.json")]
    if token:
        (work / "token").write_text(token + "\n", encoding="utf-8")
        cmd += ["--api-key-file", str(work / "token")]
    if cert:
        cmd += ["--ssl-certfile", str(cert[0]), "--ssl-keyfile", str(cert[1])]
    log = work / f"server-{port}.log"
    with open(log, "wb") as out:
        process = subprocess.Popen(cmd, cwd=ROOT, stdout=out, stderr=subprocess.STDOUT,
                                   env=dict(os.environ, PYTHONPATH=str(ROOT)))
    scheme = "https" if cert else "http"
    server = RunningServer(f"{scheme}://127.0.0.1:{port}", token, process, log)
    try:
        _wait_listening(port, process, log)
        yield server
    finally:
        if process.poll() is None:
            process.terminate()
            try:
                process.wait(15)
            except subprocess.TimeoutExpired:
                server.kill()


def _wait_listening(port: int, process: subprocess.Popen[bytes], log: Path,
                    timeout_s: float = 120.0) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"the model server exited: {log.read_text(errors='replace')}")
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.25)
    raise RuntimeError(f"the model server did not listen within {timeout_s:g} s")


def self_signed(work: Path) -> tuple[Path, Path, Path]:
    """A CA and a server certificate for 127.0.0.1 signed by it (openssl): (ca, cert, key)."""
    work.mkdir(parents=True, exist_ok=True)
    ca_key, ca, key, csr, cert = (work / n for n in ("ca.key", "ca.pem", "server.key",
                                                     "server.csr", "server.pem"))
    ext = work / "san.cnf"
    ext.write_text("subjectAltName=IP:127.0.0.1,DNS:localhost\n", encoding="ascii")

    def run(*args: str) -> None:
        subprocess.run(["openssl", *args], check=True, capture_output=True)

    run("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", str(ca_key), "-out",
        str(ca), "-days", "2", "-subj", "/CN=Enclave test practice CA")
    run("req", "-newkey", "rsa:2048", "-nodes", "-keyout", str(key), "-out", str(csr),
        "-subj", "/CN=127.0.0.1")
    run("x509", "-req", "-in", str(csr), "-CA", str(ca), "-CAkey", str(ca_key),
        "-CAcreateserial", "-out", str(cert), "-days", "2", "-extfile", str(ext))
    return ca, cert, key
