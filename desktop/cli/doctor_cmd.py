"""``enclave doctor [--json] [--repair]``: check this installation and the document index; exit 1
when anything fails. ``--repair`` embeds again the passages whose vectors the index lost."""

from __future__ import annotations

import argparse
import json
import os
import sys
from typing import Any

from desktop.app.application import Application

MARKS = {"ok": "[ ok ]", "warn": "[warn]", "fail": "[FAIL]"}


def register(commands: Any) -> None:
    p = commands.add_parser("doctor", help="check the installation and say how to fix problems")
    p.add_argument("--json", action="store_true", help="print one JSON object, for scripts")
    p.add_argument("--repair", action="store_true",
                   help="repair the document index: embed again passages that lost their "
                        "vectors (from the stored text)")
    p.set_defaults(run=run)


def run(args: argparse.Namespace, app: Application) -> int:
    settings = app.settings
    from desktop.app.wiring import engine_for, index_servers, server_options
    from desktop.egress import guard as egress_guard
    from desktop.egress.offline import FORCED
    from installer.doctor import DoctorInputs, run_checks, worst
    from models.server_chat_model import ServerChatModel

    results = run_checks(DoctorInputs(
        home=settings.home,
        model_path=settings.model_path,
        context_size=settings.context_size,
        egress_guard_active=egress_guard.current() is not None,
        forced_environment={name: value for name, (value, _why) in FORCED.items()},
        environ=dict(os.environ),
        gpu_layers=settings.gpu_layers,
        threads=settings.threads,
        ocr_languages=settings.ocr_languages,
        verify_index=(lambda: app.library().verify_index(repair=args.repair))
        if settings.index_dir.exists() or settings.index_backend == "server" else None,
        repair=args.repair,
        chat_server=(lambda: ServerChatModel(server_options(settings)))
        if settings.chat_backend == "server" else None,
        index_servers=(lambda: index_servers(settings))
        if settings.index_backend == "server" else None,
        embedding_engine=lambda: engine_for(settings),
        embedding_backend=settings.embedding_backend,
    ))
    overall = worst(results)
    if args.json:
        print(json.dumps({"status": overall, "ok": overall != "fail",
                          "checks": [r.to_json() for r in results]}, indent=2))
    else:
        for r in results:
            print(f"{MARKS[r.status]} {r.name}: {r.message}")
            if r.fix and r.status != "ok":
                print(f"       fix: {r.fix}")
        summary = {"ok": "All checks passed.",
                   "warn": "Enclave works; the warnings above are worth a look.",
                   "fail": "Enclave is not healthy: fix the failed checks above."}[overall]
        print(summary, file=sys.stdout if overall != "fail" else sys.stderr)
    return 1 if overall == "fail" else 0
