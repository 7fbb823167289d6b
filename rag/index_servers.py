"""Where a shared index lives: a practice's Chroma server for the vectors and its PostgreSQL for
the catalogue and the keyword side (rag/index_storage.py ``ServerStorage`` uses them).

The vector server is Chroma's own server with Chroma's token authentication (docs/SERVERS.md
says how IT starts it); the token is read from a file and sent only to that server.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from rag.postgres import DatabaseOptions, IndexServerError

DEFAULT_VECTOR_PORT = 8000
# Chroma's client waits for ever by default; a search or write gives up after this.
VECTOR_TIMEOUT_S = 60.0
_TOKEN_AUTH = "chromadb.auth.token_authn.TokenAuthClientProvider"


@dataclass(frozen=True)
class VectorServer:
    url: str  # http(s)://host:port
    token: str = field(default="", repr=False)
    ca_file: Path | None = None
    timeout_s: float = VECTOR_TIMEOUT_S

    def endpoint(self) -> tuple[str, int]:
        parts = urlsplit(self.url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise IndexServerError(
                f"'{self.url}' is not a vector server's address: write it as "
                "http://host:8000 or https://host:8000 (index_vector_server_url in Settings).")
        return parts.hostname, parts.port or DEFAULT_VECTOR_PORT

    def connect(self) -> Any:
        """chromadb's HTTP client, its connection checked (heartbeat and token)."""
        import chromadb
        import chromadb.config
        import httpx
        from chromadb.errors import ChromaAuthError

        host, port = self.endpoint()
        where = f"the vector server at {host}:{port}"
        subject = where.capitalize()
        options: dict[str, Any] = {"anonymized_telemetry": False}
        if self.token:
            options |= {"chroma_client_auth_provider": _TOKEN_AUTH,
                        "chroma_client_auth_credentials": self.token}
        if self.ca_file is not None:
            options["chroma_server_ssl_verify"] = str(self.ca_file)
        try:
            client = chromadb.HttpClient(host=host, port=port,
                                         ssl=urlsplit(self.url).scheme == "https",
                                         settings=chromadb.config.Settings(**options))
            _limit_waits(client, self.timeout_s)
            client.list_collections(limit=1)  # the token is checked here
        except ChromaAuthError as exc:
            raise IndexServerError(f"{subject} refused Enclave's token. Check "
                                   "index_vector_token_file in Settings.") from exc
        except (httpx.HTTPError, ValueError, ConnectionError) as exc:
            if any("CERTIFICATE" in reason.upper() or "SSL" in reason.upper()
                   for reason in _reasons(exc)):
                raise IndexServerError(f"{subject} could not be verified over TLS. Set "
                                       "index_server_ca_file in Settings to the practice's CA "
                                       "certificate.") from exc
            raise IndexServerError(f"Enclave could not reach {where}. Start the server, or "
                                   "correct index_vector_server_url in Settings.") from exc
        return client


def _reasons(exc: BaseException) -> list[str]:
    """The messages of an error and of those it came from (chromadb words a refused
    certificate as "Could not connect to a Chroma server")."""
    found: list[str] = []
    seen: BaseException | None = exc
    while seen is not None and len(found) < 10:
        found.append(f"{type(seen).__name__}: {seen}")
        seen = seen.__cause__ or seen.__context__
    return found


def _limit_waits(client: Any, timeout_s: float) -> None:
    """Give chromadb's HTTP session a timeout (it has none, so a hung server would hang every
    search). The session is the client's own, not part of its public API: when a chromadb
    update renames it, nothing changes but the wait."""
    import httpx

    session = getattr(getattr(client, "_server", None), "_session", None)
    if isinstance(session, httpx.Client):
        session.timeout = httpx.Timeout(timeout_s)


@dataclass(frozen=True)
class IndexServers:
    vectors: VectorServer
    database: DatabaseOptions

    def endpoints(self) -> tuple[tuple[str, int], ...]:
        return (self.vectors.endpoint(), self.database.endpoint())
