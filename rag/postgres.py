"""A practice's PostgreSQL, as the shared catalogue's and keyword index's database.

``PgConnection`` gives psycopg the few calls the catalogue makes of a ``sqlite3.Connection``
(``execute``, ``executemany``, ``executescript``, ``commit``, ``rollback``), so one catalogue
(rag/catalog.py) serves both: its SQL is written in the dialect both engines share, with ``?``
for parameters, which this adapter turns into psycopg's ``%s``. psycopg is imported when a
connection opens, never in embedded mode.

The server's address is a libpq URL without the password ("postgresql://enclave@db:5432/
enclave"); the password is read by libpq from a password file (``passfile``), and TLS verifies
the server against a CA file (``sslmode=verify-full``) when one is given, so no secret is ever
part of a setting, a message or a log.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

DEFAULT_PORT = 5432
_PLACEHOLDER = re.compile(r"\?")
_COMMENT = re.compile(r"--[^\n]*")
CONNECT_TIMEOUT_S = 10
# The oldest PostgreSQL the shared index runs on: its postings table's covering index needs 11,
# its all-words search's MATERIALIZED common table expression 12.
OLDEST_SERVER = 120000


class IndexServerError(RuntimeError):
    """A shared index server that cannot be used; the message says what to change."""


@dataclass(frozen=True)
class DatabaseOptions:
    url: str  # postgresql://user@host:port/database, never with a password
    password_file: Path | None = None
    ca_file: Path | None = None

    def endpoint(self) -> tuple[str, int]:
        parts = urlsplit(self.url)
        if parts.scheme not in ("postgresql", "postgres") or not parts.hostname:
            raise IndexServerError(
                f"'{self.url}' is not a PostgreSQL address: write it as "
                "postgresql://user@host:5432/database (index_database_url in Settings).")
        if parts.password:
            raise IndexServerError(
                "index_database_url holds a password: remove it and put the password in the "
                "file named by index_database_password_file, so it never shows in Settings.")
        return parts.hostname, parts.port or DEFAULT_PORT

    def connection_arguments(self) -> dict[str, Any]:
        self.endpoint()
        arguments: dict[str, Any] = {"connect_timeout": CONNECT_TIMEOUT_S,
                                     "application_name": "enclave"}
        if self.password_file is not None:
            arguments["passfile"] = str(self.password_file)
        if self.ca_file is not None:
            arguments |= {"sslmode": "verify-full", "sslrootcert": str(self.ca_file)}
        return arguments


def shown_version(number: int) -> str:
    """libpq's server version number as people write it: 150014 -> "15.14"."""
    return f"{number // 10000}.{number % 10000}"


class PgConnection:
    """A psycopg connection with the calls the catalogue uses of sqlite3's."""

    dialect = "postgres"

    def __init__(self, options: DatabaseOptions) -> None:
        import psycopg

        host, port = options.endpoint()
        try:
            self._db = psycopg.connect(options.url, **options.connection_arguments())
        except psycopg.OperationalError as exc:
            raise IndexServerError(describe_failure(host, port, exc)) from exc
        self.server_version = self._db.info.server_version  # e.g. 150014
        if self.server_version < OLDEST_SERVER:
            self._db.close()
            raise IndexServerError(
                f"The document database at {host}:{port} runs PostgreSQL "
                f"{shown_version(self.server_version)}; the shared index needs PostgreSQL "
                f"{OLDEST_SERVER // 10000} or later. Ask IT to upgrade it.")

    def execute(self, sql: str, parameters: Sequence[object] = ()) -> Any:
        return self._db.execute(_PLACEHOLDER.sub("%s", sql).encode(), tuple(parameters))

    def executemany(self, sql: str, rows: Iterable[Sequence[object]]) -> None:
        with self._db.cursor() as cursor:
            cursor.executemany(_PLACEHOLDER.sub("%s", sql).encode(), [tuple(r) for r in rows])

    def executescript(self, script: str) -> None:
        for statement in _COMMENT.sub("", script).split(";"):
            if statement.strip():
                self._db.execute(statement.encode())

    def commit(self) -> None:
        self._db.commit()

    def vacuum(self, *tables: str) -> None:
        """VACUUM ANALYZE these tables, as the server's autovacuum does soon after large writes
        (it marks pages all-visible, so a search reads the postings' index alone); benchmarks
        measure that settled state rather than the minute before it."""
        self._db.commit()
        self._db.autocommit = True
        try:
            self._db.execute(f"VACUUM ANALYZE {', '.join(tables)}".encode())
        finally:
            self._db.autocommit = False

    def rollback(self) -> None:
        self._db.rollback()

    def close(self) -> None:
        self._db.close()


def describe_failure(host: str, port: int, exc: BaseException) -> str:
    """What a person can act on, from libpq's message (which never holds the password)."""
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    where = f"the document database at {host}:{port}"
    subject = where.capitalize()
    if "password authentication failed" in text or "no password supplied" in text:
        return (f"{subject} refused Enclave's password. Check index_database_password_file in "
                "Settings (a libpq password file: host:port:database:user:password).")
    if "certificate" in text or "SSL" in text:
        return (f"{subject} could not be verified over TLS ({text}). Set index_server_ca_file in "
                "Settings to the practice's CA certificate.")
    if "no pg_hba.conf entry" in text:
        return (f"{subject} does not let this computer sign in (no pg_hba.conf entry for it). "
                "Ask IT to allow it (docs/SERVERS.md).")
    if "does not exist" in text:
        return f"{subject} answered, but {text}. Ask IT to create it (docs/SERVERS.md)."
    if "timeout" in text.lower():
        return f"{subject} did not answer within {CONNECT_TIMEOUT_S} s. Is the server running?"
    return (f"Enclave could not reach {where} ({text}). Start the server, or correct "
            "index_database_url in Settings.")
