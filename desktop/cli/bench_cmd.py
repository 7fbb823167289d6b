"""``enclave bench``: Enclave measured against the raw engines it stands on, as ratios.

The benchmarks live in the top-level ``bench`` package (it drives the whole application, so it
sits above ``desktop``); this command only parses its options and hands over.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from bench.profiles import SECTIONS  # a small module: no benchmark is imported with it
from desktop.app.application import Application

DEFAULT_OUT = Path("bench-results")


def register(commands: Any) -> None:
    p = commands.add_parser(
        "bench", help="measure generation, ingestion, search, start-up and memory "
                      "against the raw engines (takes a while; --quick for a short run)")
    p.add_argument("--quick", action="store_true",
                   help="smaller sizes, a few minutes (what CI runs)")
    p.add_argument("--only", action="append", default=[], metavar="SECTION",
                   choices=SECTIONS,
                   help="run only this section (again for more): " + ", ".join(SECTIONS))
    p.add_argument("--json", action="store_true", help="print the result as one JSON object")
    p.add_argument("--out", type=Path, default=DEFAULT_OUT, metavar="DIR",
                   help=f"folder for bench.json and bench.png (default: {DEFAULT_OUT}/)")
    p.set_defaults(run=run)


def run(args: argparse.Namespace, app: Application) -> int:
    settings = app.settings
    from bench import runner

    def progress(message: str) -> None:
        print(f"enclave bench: {message}", file=sys.stderr, flush=True)

    result = runner.run_benchmarks(settings, runner.profile(args.quick), progress, args.only)
    try:
        json_path, chart_path = runner.write_results(result, args.out)
    except OSError as exc:
        print(f"enclave: the results could not be written to {args.out} ({exc}).",
              file=sys.stderr)
        return 1
    if args.json:
        print(json.dumps(result))
    else:
        print("\n".join(runner.summary_lines(result)))
        print(f"Written: {json_path} and {chart_path}")
    return 1 if runner.failed_sections(result) else 0
