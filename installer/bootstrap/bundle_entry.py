#!/usr/bin/env python3
"""Enclave offline installer. Run: python3 install.py --help

Copied into the bundle as install.py, next to the standard-library-only installer modules.
"""

import sys

# The bundle must stay exactly as its manifest says: no __pycache__ beside the installer.
sys.dont_write_bytecode = True

from pathlib import Path  # noqa: E402

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from installer.bootstrap.install_main import main  # noqa: E402

if __name__ == "__main__":
    sys.exit(main(bundle_dir=HERE))
