"""The ``enclave`` command. Nothing heavy is imported here: each command imports what it needs.

Every command is a module with ``register(commands)``, which adds its parser and sets ``run``:
a function of the parsed arguments and the ``Application`` (desktop/app/application.py) built
once for this run. ``COMMANDS`` is the table of them; nothing reads argparse's internals.
"""

from __future__ import annotations

import argparse
import os
import stat
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING

from desktop.egress.offline import force_offline_environment

if TYPE_CHECKING:
    from desktop.app.application import Application
    from desktop.app.settings import Settings

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2

# The commands, in the order ``enclave --help`` lists them: (name, module). The names are what
# a command registers; ``command_names`` gives them to whoever needs the list (verify-egress).
COMMAND_MODULES = ("ask", "ingest", "search", "collections_cmd", "eval_cmd", "models_cmd",
                   "doctor_cmd", "verify_egress_cmd", "audit_cmd", "bench_cmd", "serve_cmd")
COMMAND_NAMES = ("ask", "ingest", "search", "collections", "forget", "eval", "models", "doctor",
                 "verify-egress", "audit", "bench", "serve")
TOP_LEVEL_OPTIONS = ("--help",)


def command_names() -> list[str]:
    """What this ``enclave`` accepts: its commands and top-level options."""
    return sorted([*COMMAND_NAMES, *TOP_LEVEL_OPTIONS])


def _modules() -> list[ModuleType]:
    import importlib

    return [importlib.import_module(f"desktop.cli.{name}") for name in COMMAND_MODULES]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="enclave",
        description="Enclave: an offline assistant grounded in your own documents. "
                    "Run with no command to open the window.",
    )
    # Hidden: print the time from process start to the first paint of the window, then quit.
    parser.add_argument("--measure-startup", action="store_true", help=argparse.SUPPRESS)
    commands = parser.add_subparsers(title="commands", metavar="COMMAND")
    for module in _modules():
        module.register(commands)
    return parser


def main(argv: Sequence[str] | None = None,
         build: Callable[[Settings], Application] | None = None) -> int:
    """Run one command. ``build`` makes the application from the settings (the real parts by
    default; tests pass honest stand-ins)."""
    # First thing, before any library that could read these variables is imported.
    force_offline_environment()
    # Every file Enclave writes (indexes, conversations, the audit log) is its user's alone,
    # whatever umask the session inherited.
    os.umask(0o077)
    from desktop.egress import guard as egress_guard

    egress_guard.install()
    args = build_parser().parse_args(argv)
    run = getattr(args, "run", None)
    if run is None:
        from desktop.cli.window_cmd import open_window

        return open_window(measure_startup=args.measure_startup)
    from desktop.app.settings import SettingsError, load_settings
    from desktop.app.storage_errors import explain
    from desktop.egress.arming import arm_egress_guard
    from models.errors import ModelError
    from rag.library_lock import LibraryBusy
    from rag.postgres import IndexServerError

    app = None
    settings: Settings | None = None
    try:
        settings = load_settings()
        _warn_if_home_is_open(settings.home)
        if build is None:
            from desktop.app.wiring import build_application

            build = build_application
        app = build(settings)
        arm_egress_guard(settings, app.audit)  # on-prem hosts allowed; blocked ones audited
        return int(run(args, app))
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
    except LibraryBusy as exc:
        print(f"enclave: {exc}.", file=sys.stderr)
        return EXIT_FAILED
    except IndexServerError as exc:
        print(f"enclave: {exc}", file=sys.stderr)
        return EXIT_FAILED
    except Exception as exc:
        # A read-only or full data folder, permission denied, ...: one line a person can act
        # on, not a traceback (desktop/app/storage_errors.py); anything else is a bug.
        home = settings.home if settings is not None else None
        explained = explain(exc, home) if home is not None else None
        if explained is None and isinstance(exc, OSError):
            where = f" ({exc.filename})" if exc.filename else ""
            explained = f"{exc.strerror or exc}{where}."
        if explained is None:
            raise
        print(f"enclave: {explained}", file=sys.stderr)
        return EXIT_FAILED
    finally:
        if app is not None:
            app.close()


def _warn_if_home_is_open(home: Path) -> None:
    """Documents' text and people's questions live there: say so when others can read it."""
    try:
        mode = home.stat().st_mode
    except OSError:
        return
    if os.name == "posix" and mode & 0o077:
        print(f"enclave: warning: {home} can be opened by other users of this computer "
              f"({stat.filemode(mode)}); make it private with: chmod 700 '{home}'",
              file=sys.stderr)


if __name__ == "__main__":
    sys.exit(main())
