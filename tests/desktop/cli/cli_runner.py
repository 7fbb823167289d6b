"""The real ``enclave`` entry point, run in this process: ``main(argv)`` with the arguments a
person types, the environment they set, and stdout, stderr and the exit status as a shell
would see them. Cheaper than a subprocess (no fresh interpreter importing torch each time);
the few end-to-end tests that need a real process are marked ``e2e``."""

from __future__ import annotations

import contextlib
import io
import os
import sys
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from desktop.cli.main import main

ENV_KEYS = ("ENCLAVE_HOME", "ENCLAVE_MODEL")


@dataclass(frozen=True)
class Ran:
    returncode: int
    stdout: str
    stderr: str


@contextlib.contextmanager
def _environment(env: Mapping[str, str]) -> Iterator[None]:
    saved = {k: os.environ.get(k) for k in ENV_KEYS}
    for key in ENV_KEYS:
        if key in env:
            os.environ[key] = env[key]
        else:
            os.environ.pop(key, None)
    try:
        yield
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


def run_enclave(args: tuple[str, ...], env: Mapping[str, str], stdin: str | None = None,
                build: Callable[[Any], Any] | None = None) -> Ran:
    out, err = io.StringIO(), io.StringIO()
    old_stdin = sys.stdin
    sys.stdin = io.StringIO(stdin or "")
    try:
        with _environment(env), contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            try:
                code = main(list(args), build=build)
            except SystemExit as exc:  # argparse's usage errors
                code = exc.code if isinstance(exc.code, int) else 2
    finally:
        sys.stdin = old_stdin
    return Ran(int(code), out.getvalue(), err.getvalue())
