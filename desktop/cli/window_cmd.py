"""``enclave`` with no command: the desktop window (arrives with the window issue)."""

from __future__ import annotations

import sys


def open_window() -> int:
    print("enclave: the desktop window is not available in this build yet; "
          "see 'enclave --help' for the commands that work.", file=sys.stderr)
    return 1
