"""``enclave verify-egress``: prove zero egress under OS-level isolation and tracing."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from desktop.settings import Settings


def register(commands: Any) -> None:
    p = commands.add_parser(
        "verify-egress",
        help="prove that a full workflow makes no network connection (exit 0 PASS, 1 FAIL)")
    p.add_argument("--report", type=Path, default=None, metavar="FILE",
                   help="write the JSON report to FILE and a readable page next to it (.md)")
    p.set_defaults(run=run)


def run(args: argparse.Namespace, settings: Settings) -> int:
    from desktop.egress_check.command import verify_egress

    return verify_egress(settings, args)
