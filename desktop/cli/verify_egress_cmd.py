"""``enclave verify-egress``: prove zero egress under OS-level isolation and tracing."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from desktop.app.application import Application


def register(commands: Any) -> None:
    p = commands.add_parser(
        "verify-egress",
        help="prove that a full workflow makes no network connection (exit 0 PASS, 1 FAIL)")
    p.add_argument("--report", type=Path, default=None, metavar="FILE",
                   help="write the JSON report to FILE, a readable page next to it (.md) and "
                        "the raw traces (FILE's name + .traces/)")
    p.add_argument("--max-tokens", type=int, default=16, metavar="N",
                   help="answer length for the ask steps (default: 16, enough to exercise it)")
    p.add_argument("--window-seconds", type=float, default=15.0, metavar="S",
                   help="how long the window stays open before it is closed (default: 15)")
    p.add_argument("--with-my-settings", action="store_true",
                   help="run the workflow with this installation's settings (its config.toml: "
                        "allowed hosts, model, embedding engine, OCR languages, limits) copied "
                        "into the throwaway data folder, instead of the defaults; your documents, "
                        "conversations and audit log are not touched")
    p.add_argument("--server-mode", action="store_true",
                   help="prove server mode: the model runs on a server that the check starts in "
                        "a network namespace of its own, and the workflow may connect to that "
                        "server's address and port and nowhere else")
    p.set_defaults(run=run)


def run(args: argparse.Namespace, app: Application) -> int:
    from desktop.cli.main import command_names
    from desktop.egress.check.command import verify_egress

    if args.max_tokens < 1 or args.window_seconds <= 0:
        print("enclave: --max-tokens and --window-seconds must be positive.", file=sys.stderr)
        return 2
    return verify_egress(app.settings, args, command_names())
