"""Arm the egress guard for this run's settings: the configured on-prem hosts allowed, and
every blocked attempt recorded, with its stack, in the audit log."""

from __future__ import annotations

from desktop.app.audit_log import AuditLog
from desktop.app.settings import Settings
from desktop.egress import guard as egress_guard


def arm_egress_guard(settings: Settings,
                     audit: AuditLog | None = None) -> egress_guard.EgressGuard:
    log = audit or AuditLog(settings.home / "audit" / "audit.jsonl",
                            question_logging=settings.question_logging)
    return egress_guard.install(
        settings.allowed_hosts,
        on_blocked=[lambda attempt: log.record("egress_blocked", **attempt.to_json())],
    )
