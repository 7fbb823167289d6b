"""Opening a PDF at the cited page, when this computer's own PDF viewer can be told a page.

The system's "open this file" (xdg-open, the desktop's file association) takes no page. On Linux
the desktop says which program opens PDFs (``xdg-mime query default application/pdf``); when it
is one of the viewers below, that same program is started with the page. Anything else: the
caller opens the file the ordinary way and names the page in words. Qt-free.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

# The desktop's name for a PDF viewer -> the program, and its arguments for "this page".
_VIEWERS: dict[str, tuple[str, Callable[[Path, int], list[str]]]] = {
    "org.gnome.evince": ("evince", lambda p, n: ["--page-index", str(n), str(p)]),
    "evince": ("evince", lambda p, n: ["--page-index", str(n), str(p)]),
    "xreader": ("xreader", lambda p, n: ["--page-label", str(n), str(p)]),
    "atril": ("atril", lambda p, n: ["--page-label", str(n), str(p)]),
    "org.kde.okular": ("okular", lambda p, n: ["--page", str(n), str(p)]),
    "okularapplication_pdf": ("okular", lambda p, n: ["--page", str(n), str(p)]),
    "org.pwmt.zathura": ("zathura", lambda p, n: ["--page", str(n), str(p)]),
    "org.pwmt.zathura-pdf-mupdf": ("zathura", lambda p, n: ["--page", str(n), str(p)]),
    "org.pwmt.zathura-pdf-poppler": ("zathura", lambda p, n: ["--page", str(n), str(p)]),
    "qpdfview": ("qpdfview", lambda p, n: ["--unique", f"{p}#{n}"]),
    "mupdf": ("mupdf", lambda p, n: [str(p), str(n)]),
}


def page_command(path: Path, page: int, default_viewer: str,
                 which: Callable[[str], str | None] = shutil.which) -> list[str] | None:
    """The command that opens ``path`` at ``page`` in ``default_viewer`` (a desktop file name
    such as "org.gnome.Evince.desktop"), or None when that viewer takes no page or is absent."""
    name = default_viewer.strip().removesuffix(".desktop").lower()
    known = _VIEWERS.get(name)
    if known is None:
        return None
    program = which(known[0])
    return [program, *known[1](path, page)] if program else None


def default_pdf_viewer() -> str:
    """The desktop file of the program this desktop opens PDFs with ("" when unknown)."""
    if not sys.platform.startswith("linux") or shutil.which("xdg-mime") is None:
        return ""
    try:
        done = subprocess.run(["xdg-mime", "query", "default", "application/pdf"],
                              capture_output=True, text=True, timeout=3, check=False)
    except (OSError, subprocess.SubprocessError):
        return ""
    return done.stdout.strip()


def open_at_page(path: Path, page: int | None) -> bool:
    """Open the PDF at ``page`` in this desktop's own PDF viewer, if it can take a page; False
    (nothing started) otherwise."""
    if page is None or path.suffix.lower() != ".pdf":
        return False
    command = page_command(path, page, default_pdf_viewer())
    if command is None:
        return False
    try:
        subprocess.Popen(command, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                         stderr=subprocess.DEVNULL, start_new_session=True)
    except OSError:
        return False
    return True
