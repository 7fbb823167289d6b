"""``enclave audit``: check the audit log's hash chain; export it for a compliance officer."""

from __future__ import annotations

import argparse
import sys
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from desktop.app import audit_log
from desktop.app.application import Application


def register(commands: Any) -> None:
    p = commands.add_parser("audit", help="check or export the tamper-evident audit log")
    sub = p.add_subparsers(metavar="ACTION")
    check = sub.add_parser("verify", help="check that no entry was edited or removed")
    check.add_argument("--anchor", metavar="CODE", default=None,
                       help="a code from 'enclave audit anchor' kept elsewhere: the log must "
                            "still hold that entry unchanged")
    check.set_defaults(run=run_verify)
    anchor = sub.add_parser("anchor", help="print a code for the log as it is now, to record "
                                           "outside this computer (checked by verify --anchor)")
    anchor.set_defaults(run=run_anchor)
    exp = sub.add_parser("export", help="write the entries since a date to a file to keep")
    exp.add_argument("--since", required=True, metavar="YYYY-MM-DD",
                     help="first day to include (UTC)")
    exp.add_argument("--out", type=Path, default=None, metavar="FILE",
                     help="where to write (default: enclave-audit-since-DATE.json here)")
    exp.set_defaults(run=run_export)
    p.set_defaults(run=run_verify, anchor=None)


def _used(app: Application) -> bool:
    """Whether this data folder holds a library or conversations (so a log is expected)."""
    from desktop.app.conversations import DATABASE_FILE

    return app.settings.index_dir.exists() or (app.settings.home / DATABASE_FILE).exists()


def run_verify(args: argparse.Namespace, app: Application) -> int:
    log = app.audit
    result = audit_log.verify(log.path, used=_used(app), anchor=args.anchor)
    if result.ok:
        print(f"Audit log OK: {result.reason} ({log.path}).")
        return 0
    print(f"Audit log BROKEN at entry {result.first_broken}: {result.reason}. "
          f"The {result.entries} entries before it are intact ({log.path}).", file=sys.stderr)
    return 1


def run_anchor(args: argparse.Namespace, app: Application) -> int:
    log = app.audit
    result = audit_log.verify(log.path, used=_used(app))
    if not result.ok:
        print(f"enclave: the audit log is broken at entry {result.first_broken} "
              f"({result.reason}); an anchor would vouch for it, so none is given.",
              file=sys.stderr)
        return 1
    code = audit_log.anchor_code(log.path)
    if code is None:
        print("enclave: the audit log is empty; there is nothing to anchor yet.",
              file=sys.stderr)
        return 1
    print(code)
    print(f"Record this code outside this computer (a register, an e-mail to yourself from "
          f"another machine). Later, 'enclave audit verify --anchor {code}' proves the "
          f"{result.entries} entries up to it were not rewritten.", file=sys.stderr)
    return 0


def run_export(args: argparse.Namespace, app: Application) -> int:
    try:
        since = date.fromisoformat(args.since)
    except ValueError:
        print(f"enclave: --since must be a date like 2026-01-31, not {args.since!r}.",
              file=sys.stderr)
        return 2
    log = app.audit
    dest = args.out or Path(f"enclave-audit-since-{since.isoformat()}.json")
    try:
        count = audit_log.export(log.path, since, dest)
    except OSError as exc:
        print(f"enclave: cannot write {dest}: {exc.strerror or exc}.", file=sys.stderr)
        return 1
    log.record("export", what="audit log", since=since.isoformat(), entries=count,
               path=str(dest.resolve()),
               at=datetime.now(UTC).isoformat(timespec="seconds"))
    result = audit_log.verify(log.path)
    state = "chain intact" if result.ok else f"chain BROKEN at entry {result.first_broken}"
    print(f"Wrote {count} audit entries since {since.isoformat()} to {dest} ({state}).")
    return 0
