"""The ``enclave`` command. Nothing heavy is imported here: each command imports what it needs."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence

from desktop.offline import force_offline_environment

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2


def build_parser() -> argparse.ArgumentParser:
    from desktop.cli import (
        ask,
        audit_cmd,
        bench_cmd,
        collections_cmd,
        doctor_cmd,
        eval_cmd,
        ingest,
        models_cmd,
        search,
        verify_egress_cmd,
    )

    parser = argparse.ArgumentParser(
        prog="enclave",
        description="Enclave: an offline assistant grounded in your own documents. "
                    "Run with no command to open the window.",
    )
    # Hidden: print the time from process start to the first paint of the window, then quit.
    parser.add_argument("--measure-startup", action="store_true", help=argparse.SUPPRESS)
    commands = parser.add_subparsers(title="commands", metavar="COMMAND")
    for module in (ask, ingest, search, collections_cmd, eval_cmd, models_cmd, doctor_cmd,
                   verify_egress_cmd, audit_cmd, bench_cmd):
        module.register(commands)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    # First thing, before any library that could read these variables is imported.
    force_offline_environment()
    from desktop import egress_guard

    egress_guard.install()
    args = build_parser().parse_args(argv)
    run = getattr(args, "run", None)
    if run is None:
        from desktop.cli.window_cmd import open_window

        return open_window(measure_startup=args.measure_startup)
    from desktop.settings import SettingsError, load_settings
    from desktop.wiring import arm_egress_guard
    from models.errors import ModelError

    try:
        settings = load_settings()
        arm_egress_guard(settings)  # on-prem hosts allowed; blocked attempts go to the audit log
        return int(run(args, settings))
    except (ModelError, SettingsError) as exc:
        print(f"enclave: {exc}", file=sys.stderr)
        return EXIT_FAILED
    except KeyboardInterrupt:
        print("\nenclave: stopped.", file=sys.stderr)
        return 130
    except BrokenPipeError:
        # The reader went away (`enclave ... | head`): stop quietly, as Unix tools do.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return EXIT_FAILED
    except OSError as exc:
        # Disk full, permission denied, ...: one line a person can act on, not a traceback.
        where = f" ({exc.filename})" if exc.filename else ""
        print(f"enclave: {exc.strerror or exc}{where}.", file=sys.stderr)
        return EXIT_FAILED


if __name__ == "__main__":
    sys.exit(main())
