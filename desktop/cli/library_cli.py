"""What the document commands share: their errors, as one line a person can act on."""

from __future__ import annotations

import argparse
import functools
import sys
from collections.abc import Callable

from desktop.app.application import Application

EXIT_OK, EXIT_FAILED, EXIT_USAGE, EXIT_SOME_FAILED = 0, 1, 2, 3

Run = Callable[[argparse.Namespace, Application], int]


def fail(message: str, code: int) -> int:
    print(f"enclave: {message}", file=sys.stderr)
    return code


def library_command(run: Run) -> Run:
    """A missing or badly named collection is a usage error (2); a broken embedder or index a
    failure (1); neither is a traceback."""

    @functools.wraps(run)
    def guarded(args: argparse.Namespace, app: Application) -> int:
        from rag.catalog import CollectionError
        from rag.embedder import EmbedderUnavailable

        try:
            return run(args, app)
        except CollectionError as exc:
            return fail(str(exc), EXIT_USAGE)
        except EmbedderUnavailable as exc:
            return fail(str(exc), EXIT_FAILED)

    return guarded


def positive(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"'{text}' is not a whole number") from None
    if value < 1:
        raise argparse.ArgumentTypeError("must be 1 or more")
    return value
