"""A practice's real index servers on 127.0.0.1, for the tests and the scale benchmark:
PostgreSQL (Debian's, a fresh cluster with password authentication) and Chroma's server with
token auth (rag/vector_server.py)."""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from bench.server_chat import free_port
from desktop.egress.check.servers import postgres_bin
from rag.index_servers import IndexServers, VectorServer
from rag.postgres import DatabaseOptions

ROOT = Path(__file__).resolve().parents[1]
INDEX_TOKEN = "s3cret-index-token"
DB_USER = "enclave"
DB_PASSWORD = "s3cret-db-password"


@dataclass
class Postgres:
    port: int
    data: Path
    passfile: Path
    bin: Path
    as_user: list[str] = field(default_factory=list)  # runuser prefix when we are root
    tls: str = ""  # the server's TLS options, when it has a certificate

    def options(self, database: str, ca_file: Path | None = None) -> DatabaseOptions:
        return DatabaseOptions(f"postgresql://{DB_USER}@127.0.0.1:{self.port}/{database}",
                               password_file=self.passfile, ca_file=ca_file)

    def create_database(self, name: str) -> None:
        subprocess.run([str(self.bin / "createdb"), "-h", "127.0.0.1", "-p", str(self.port),
                        "-U", DB_USER, name], check=True, capture_output=True,
                       env=dict(os.environ, PGPASSFILE=str(self.passfile)))

    def kill(self) -> None:
        """Stop it at once, as a crash or a pulled cable would (immediate shutdown)."""
        subprocess.run([*self.as_user, str(self.bin / "pg_ctl"), "-D", str(self.data), "-m",
                        "immediate", "stop"], check=False, capture_output=True)

    def start(self) -> None:
        started = subprocess.run(
            [*self.as_user, str(self.bin / "pg_ctl"), "-D", str(self.data), "-w", "-l",
             str(self.data / "server.log"), "-o", f"-c listen_addresses=127.0.0.1 -p "
             f"{self.port} -c unix_socket_directories={self.data}{self.tls}", "start"],
            capture_output=True, text=True)
        if started.returncode != 0:
            log = self.data / "server.log"
            raise RuntimeError(f"PostgreSQL did not start: {started.stderr or started.stdout}"
                               f"{log.read_text('utf-8') if log.exists() else ''}")


@contextlib.contextmanager
def postgres_server(work: Path, cert: tuple[Path, Path] | None = None) -> Iterator[Postgres]:
    """A fresh cluster on 127.0.0.1; with ``cert`` (certificate, key), it speaks TLS too."""
    work.mkdir(parents=True, exist_ok=True)
    bin_dir = postgres_bin()
    as_user: list[str] = []
    # The cluster's own folder, outside pytest's (which only we may enter).
    cluster = Path(tempfile.mkdtemp(prefix="enclave-test-postgres-"))
    data = cluster / "data"
    pwfile = cluster / "pw"
    pwfile.write_text(DB_PASSWORD + "\n", encoding="utf-8")
    if os.geteuid() == 0:  # PostgreSQL refuses to run as root: as its own user
        as_user = ["runuser", "-u", "postgres", "--"]
        for path in (cluster, pwfile):
            shutil.chown(path, "postgres", "postgres")
    made = subprocess.run([*as_user, str(bin_dir / "initdb"), "-D", str(data), "-U", DB_USER,
                           "--auth=scram-sha-256", f"--pwfile={pwfile}", "--locale=C.UTF-8",
                           "--encoding=UTF8"], capture_output=True, text=True)
    if made.returncode != 0:
        raise RuntimeError(f"initdb failed: {made.stderr or made.stdout}")
    port = free_port()
    passfile = work / "passfile"
    passfile.write_text(f"127.0.0.1:{port}:*:{DB_USER}:{DB_PASSWORD}\n", encoding="utf-8")
    passfile.chmod(0o600)
    tls = ""
    if cert is not None:
        for source, name in zip(cert, ("server.crt", "server.key"), strict=True):
            shutil.copyfile(source, cluster / name)
            (cluster / name).chmod(0o600)
            if os.geteuid() == 0:
                shutil.chown(cluster / name, "postgres", "postgres")
        tls = (f" -c ssl=on -c ssl_cert_file={cluster / 'server.crt'} "
               f"-c ssl_key_file={cluster / 'server.key'}")
    server = Postgres(port, data, passfile, bin_dir, as_user, tls)
    server.start()
    try:
        yield server
    finally:
        subprocess.run([*as_user, str(bin_dir / "pg_ctl"), "-D", str(data), "-m", "fast",
                        "stop"], check=False, capture_output=True)
        shutil.rmtree(cluster, ignore_errors=True)


@dataclass
class Chroma:
    url: str
    process: subprocess.Popen[bytes]
    log: Path
    ca_file: Path | None = None

    def server(self, token: str = INDEX_TOKEN) -> VectorServer:
        return VectorServer(self.url, token=token, ca_file=self.ca_file)

    def wipe(self) -> None:
        """Every collection removed (one server serves the session's tests)."""
        client = self.server().connect()
        for collection in client.list_collections():
            client.delete_collection(collection.name)

    def kill(self) -> None:
        with contextlib.suppress(ProcessLookupError):
            self.process.send_signal(signal.SIGKILL)
        self.process.wait(10)


@contextlib.contextmanager
def chroma_server(work: Path, token: str = INDEX_TOKEN, port: int | None = None,
                  cert: tuple[Path, Path, Path] | None = None) -> Iterator[Chroma]:
    """Chroma's server on 127.0.0.1 with its token; with ``cert`` (CA, certificate, key), over
    TLS."""
    work.mkdir(parents=True, exist_ok=True)
    port = port or free_port()
    token_file = work / "token"
    token_file.write_text(token + "\n", encoding="utf-8")
    log = work / f"chroma-{port}.log"
    with open(log, "wb") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "rag.vector_server", "--path", str(work / "data"),
             "--port", str(port), "--token-file", str(token_file),
             *(["--ssl-certfile", str(cert[1]), "--ssl-keyfile", str(cert[2])] if cert else [])],
            cwd=ROOT, stdout=out, stderr=subprocess.STDOUT,
            env=dict(os.environ, PYTHONPATH=str(ROOT)))
    scheme = "https" if cert else "http"
    running = Chroma(f"{scheme}://127.0.0.1:{port}", process, log, cert[0] if cert else None)
    try:
        _wait_answering(running)
        yield running
    finally:
        if process.poll() is None:
            process.terminate()
            try:
                process.wait(15)
            except subprocess.TimeoutExpired:
                running.kill()


def _wait_answering(chroma: Chroma, timeout_s: float = 90.0) -> None:
    import httpx

    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if chroma.process.poll() is not None:
            raise RuntimeError(f"the Chroma server exited: {chroma.log.read_text('utf-8')}")
        with contextlib.suppress(httpx.HTTPError):
            if httpx.get(f"{chroma.url}/api/v2/heartbeat", timeout=2, trust_env=False,
                         verify=str(chroma.ca_file) if chroma.ca_file else True
                         ).status_code == 200:
                return
        time.sleep(0.25)
    raise RuntimeError(f"the Chroma server did not answer within {timeout_s:g} s")


@dataclass
class PracticeIndex:
    """Both servers, and a fresh database on them per test (``fresh``)."""

    postgres: Postgres
    chroma: Chroma
    _made: int = 0

    def fresh(self) -> IndexServers:
        """Servers as a new practice's: an empty database and no collections."""
        self._made += 1
        name = f"practice{self._made}"
        self.postgres.create_database(name)
        self.chroma.wipe()
        return IndexServers(self.chroma.server(), self.postgres.options(name))
