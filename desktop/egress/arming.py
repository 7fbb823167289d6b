"""Arm the egress guard for this run's settings: the configured on-prem hosts allowed, and
every blocked attempt recorded, with its stack, in the audit log."""

from __future__ import annotations

from desktop.app.audit_log import AuditLog
from desktop.app.settings import Settings
from desktop.egress import guard as egress_guard
from models.server_chat_model import endpoint
from rag.index_servers import VectorServer
from rag.postgres import DatabaseOptions


def allowed_endpoints(settings: Settings) -> tuple[str, ...]:
    """What this run may connect to beyond loopback: the hosts IT listed, the model server's
    host and port when the model runs on one, and the index servers' when the index is
    shared."""
    allowed = list(settings.allowed_hosts)
    servers: list[tuple[str, int]] = []
    if settings.chat_backend == "server" and settings.chat_server_url:
        servers.append(endpoint(settings.chat_server_url))
    if settings.index_backend == "server":
        if settings.index_vector_server_url:
            servers.append(VectorServer(settings.index_vector_server_url).endpoint())
        if settings.index_database_url:
            servers.append(DatabaseOptions(settings.index_database_url).endpoint())
    for host, port in servers:
        allowed.append(f"[{host}]:{port}" if ":" in host else f"{host}:{port}")
    return tuple(dict.fromkeys(allowed))


def arm_egress_guard(settings: Settings,
                     audit: AuditLog | None = None) -> egress_guard.EgressGuard:
    log = audit or AuditLog(settings.home / "audit" / "audit.jsonl",
                            question_logging=settings.question_logging)
    return egress_guard.install(
        allowed_endpoints(settings),
        on_blocked=[lambda attempt: log.record("egress_blocked", **attempt.to_json())],
    )
