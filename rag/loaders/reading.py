"""Reading one file's bytes, safely: only the path given, only a regular file, bounded size."""

from __future__ import annotations

import hashlib
import os
import stat
from pathlib import Path

from rag.documents import UnreadableDocument

# Bigger than any real contract or report; protects memory from a mistaken disk image.
MAX_FILE_BYTES = 200 * 1024 * 1024
# Plain text, Markdown and HTML are nearly all text: 50 MB is some 25,000 pages, more than any
# document a person reads, and a file that size is a log or a data dump. Refusing it before
# reading keeps memory bounded whatever the file's size.
MAX_TEXT_FILE_BYTES = 50 * 1024 * 1024


def read_file_bytes(path: Path, max_bytes: int = MAX_FILE_BYTES) -> bytes:
    """The bytes of the regular file at ``path``; UnreadableDocument for anything else.

    The file is opened once and checked through its descriptor, so a FIFO or device
    (which could block forever) is refused rather than read.
    """
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0)
    try:
        fd = os.open(path, flags)
    except FileNotFoundError:
        raise UnreadableDocument(path, "file not found") from None
    except PermissionError:
        raise UnreadableDocument(path, "permission denied") from None
    except IsADirectoryError:
        raise UnreadableDocument(path, "is a folder, not a file") from None
    except OSError as exc:
        raise UnreadableDocument(path, f"could not be opened ({exc.strerror or exc})") from None
    try:
        info = os.fstat(fd)
        if stat.S_ISDIR(info.st_mode):
            raise UnreadableDocument(path, "is a folder, not a file")
        if not stat.S_ISREG(info.st_mode):
            raise UnreadableDocument(path, "is not a regular file (a device, pipe or socket)")
        if info.st_size == 0:
            raise UnreadableDocument(path, "empty file")
        if info.st_size > max_bytes:
            size_mb, limit_mb = info.st_size // 2**20, max_bytes // 2**20
            raise UnreadableDocument(path, f"too large ({size_mb} MB; Enclave reads files of "
                                           f"this kind up to {limit_mb} MB): split it into "
                                           "smaller files")
        with os.fdopen(fd, "rb", closefd=False) as handle:
            data = handle.read(max_bytes + 1)
    except OSError as exc:
        raise UnreadableDocument(path, f"could not be read ({exc.strerror or exc})") from None
    finally:
        os.close(fd)
    if not data:
        raise UnreadableDocument(path, "empty file")
    return data


def sha256_of(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def sha256_of_file(path: Path) -> str:
    """The SHA-256 of a file, read a megabyte at a time (model weights, documents)."""
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()
