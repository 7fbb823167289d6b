"""Reading documents in a child process, each file held to a time and a memory limit.

A small crafted file can make a parser work for hours or take gigabytes: a PDF whose 300 pages
share one 70 MB content stream, a Word document that unpacks to 450 MB of XML. Read in the
ingesting process, one such file holds every file after it hostage. :class:`IsolatedReader`
reads each file in a child Python (``python -m rag.loaders.isolated``) that has nothing but the
loaders: the child's address space is capped (``RLIMIT_AS``) and the parent stops waiting after
``seconds``; a child that runs over, runs out of memory or crashes is ended and the next file is
read by a fresh one. The file is then reported with the reason, in words.

The child answers in JSON over its standard output (never pickle: what a parser of hostile
input returns must not be able to run code in the parent). It forces the same offline
environment as the parent (it inherits it) and imports nothing that talks to a network.
"""

from __future__ import annotations

import base64
import json
import logging
import os
import struct
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any, Protocol

from models.chat_model import Cancel
from rag.documents import LoadedDocument, Page, UnreadableDocument

log = logging.getLogger(__name__)

_HEADER = struct.Struct(">Q")  # each message: its length, then that many bytes of JSON
_POLL_SECONDS = 0.1


class DocumentReader(Protocol):
    """Turns a path into a loaded document, and a scanned page of it into an image for OCR;
    UnreadableDocument with a reason a person understands when it cannot (ReadingStopped when
    the file ran out of time or memory: nothing more of it is read). ``close`` frees whatever
    the reader holds between ingests."""

    def read(self, path: Path, cancel: Cancel | None = None) -> LoadedDocument: ...

    def page_image(self, path: Path, fmt: str, number: int, cancel: Cancel | None = None
                   ) -> bytes: ...

    def close(self) -> None: ...


class ReadingStopped(UnreadableDocument):
    """The file ran over its time or memory limit, broke the reader, or the ingest was
    stopped: none of the rest of it is read. ``why`` is the short form, for a note on the
    pages left unread: "reading it took longer than 3 minutes"."""

    def __init__(self, path: Path, reason: str, why: str) -> None:
        super().__init__(path, reason)
        self.why = why


class InProcessReader:
    """Reads in the calling process: no limits, no child. For tools and tests that read files
    they made themselves."""

    def read(self, path: Path, cancel: Cancel | None = None) -> LoadedDocument:
        from rag.loaders import load_document

        return load_document(path)

    def __init__(self) -> None:
        self._pages = _PageSource()

    def page_image(self, path: Path, fmt: str, number: int, cancel: Cancel | None = None
                   ) -> bytes:
        return self._pages.image(path, fmt, number)

    def close(self) -> None:
        self._pages = _PageSource()


class _PageSource:
    """Pages of one file at a time, drawn grey as PNG for OCR; the file's bytes are read once
    for all its pages."""

    def __init__(self) -> None:
        self._path: Path | None = None
        self._data = b""

    def image(self, path: Path, fmt: str, number: int) -> bytes:
        """Page ``number`` (from 1) of a PDF, or frame ``number`` of an image file;
        UnreadableDocument when it cannot be drawn."""
        import itertools

        from rag.loaders.reading import read_file_bytes
        from rag.ocr import image_frames, pdf_page_image

        if path != self._path:
            self._data, self._path = read_file_bytes(path), path
        try:
            if fmt == "image":
                frame = next(itertools.islice(image_frames(self._data), number - 1, None), None)
                if frame is None:
                    raise UnreadableDocument(path, f"page {number} is missing")
                return frame
            return pdf_page_image(self._data, number)
        except (UnreadableDocument, MemoryError):
            raise
        except Exception as exc:  # a page the renderer cannot draw costs that page
            raise UnreadableDocument(path, f"page {number} could not be drawn "
                                           f"({type(exc).__name__})") from None


@dataclass(frozen=True)
class ReadingLimits:
    # A 2,000-page PDF of text read in 31 s on two busy cores; a file that takes several times
    # that is damaged or crafted (or several documents in one, better split).
    seconds: float = 180.0
    # The child's whole address space, the interpreter and the loaders included.
    memory_mb: int = 2048
    # A scanned page draws in about 0.3 s here (200 dpi); one that takes longer than this is
    # skipped, and after SLOW_PAGES such pages in a row the file's other pages are not drawn.
    page_seconds: float = 5.0


class _TimedOut(Exception):
    """The child did not answer in time (and has been ended)."""


SLOW_PAGES = 3
# The scanned pages of one file may take this long each on average (and the time limit at
# least) to draw: a 1,000-page scan has 1,000 seconds, a crafted file no more.
DRAWING_SECONDS_PER_PAGE = 1.0


def _stopped(path: Path, cause: str, limits: ReadingLimits) -> ReadingStopped:
    if cause == "drawing":
        return ReadingStopped(path, "its scanned pages took too long to draw, so it was "
                                    "skipped: the file is damaged or made to be slow to read",
                              "its pages took too long to draw")
    if cause == "time":
        return ReadingStopped(path, too_slow(limits.seconds),
                              f"reading it took longer than {_duration(limits.seconds)}")
    if cause == "memory":
        return ReadingStopped(path, too_big(limits.memory_mb), "reading it needed more than "
                              f"{limits.memory_mb / 1024:.1f} GB of memory")
    if cause == "crash":
        return ReadingStopped(path, CRASHED, "it stopped Enclave's document reader")
    return ReadingStopped(path, STOPPED, "the ingest was stopped")


def _duration(seconds: float) -> str:
    if seconds >= 120:
        return f"{seconds / 60:g} minutes"
    return "1 second" if seconds == 1 else f"{seconds:g} seconds"


def too_slow(seconds: float) -> str:
    return (f"took longer than {_duration(seconds)} to read, so it was skipped: the file is "
            "damaged or made to be slow to read (a genuine, very long document can be split, "
            "or the limit raised under Settings)")


def too_big(memory_mb: int) -> str:
    return (f"needed more than {memory_mb / 1024:.1f} GB of memory to read, so it was skipped: "
            "the file is damaged or made to swell when opened")


CRASHED = ("stopped Enclave's document reader (the file is damaged or made to break readers), "
           "so it was skipped")
STOPPED = "stopped while it was being read"


class IsolatedReader:
    """Implements DocumentReader: one child at a time, started on the first file and kept
    for the files after it until ``close`` (or until a file ends it)."""

    def __init__(self, limits: ReadingLimits = ReadingLimits()) -> None:
        self._limits = limits
        self._child: subprocess.Popen[bytes] | None = None
        # The file whose scanned pages are being drawn: the seconds left for drawing them,
        # and how many pages in a row ran over the limit a page.
        self._file: Path | None = None
        self._drawing_left = 0.0
        self._slow_pages = 0

    def read(self, path: Path, cancel: Cancel | None = None) -> LoadedDocument:
        path = Path(os.path.abspath(path))
        try:
            reply = self._ask(path, {"op": "read"}, cancel, self._limits.seconds)
        except _TimedOut:
            raise _stopped(path, "time", self._limits) from None
        document = _document_from(path, reply["document"])
        self._file, self._slow_pages = path, 0
        self._drawing_left = max(self._limits.seconds, DRAWING_SECONDS_PER_PAGE
                                 * len(document.scanned))
        return document

    def page_image(self, path: Path, fmt: str, number: int, cancel: Cancel | None = None
                   ) -> bytes:
        """One scanned page drawn in the child, for OCR. A page gets ``page_seconds`` and the
        file's pages together the larger of the time limit and DRAWING_SECONDS_PER_PAGE a
        page; past that, or after SLOW_PAGES slow pages in a row, the rest is not drawn."""
        path = Path(os.path.abspath(path))
        if path != self._file:
            self._file, self._slow_pages, self._drawing_left = path, 0, self._limits.seconds
        if self._drawing_left <= 0:
            raise _stopped(path, "drawing", self._limits)
        start = time.monotonic()
        try:
            reply = self._ask(path, {"op": "image", "format": fmt, "page": number}, cancel,
                              min(self._limits.page_seconds, self._drawing_left))
        except _TimedOut:
            self._slow_pages += 1
            if (self._slow_pages >= SLOW_PAGES
                    or self._drawing_left <= self._limits.page_seconds):
                raise _stopped(path, "drawing", self._limits) from None
            raise UnreadableDocument(path, f"page {number} took longer than "
                                           f"{_duration(self._limits.page_seconds)} to draw"
                                     ) from None
        finally:
            self._drawing_left -= time.monotonic() - start
        self._slow_pages = 0
        return base64.b64decode(reply["image"])

    def _ask(self, path: Path, request: dict[str, Any], cancel: Cancel | None,
             seconds: float) -> dict[str, Any]:
        """Send ``request`` about ``path`` and wait up to ``seconds`` for the answer: the
        answer, UnreadableDocument, ReadingStopped (memory, a crash, a cancel) or _TimedOut."""
        child = self._started()
        assert child.stdin is not None and child.stdout is not None
        start = time.monotonic()
        try:
            _send(child.stdin, dict(request, path=os.fsencode(path).hex()))
            while not _readable(child.stdout, _POLL_SECONDS):
                if cancel is not None and cancel.is_set():
                    self._end()
                    raise _stopped(path, "cancel", self._limits)
                if child.poll() is not None:
                    break  # it ended: what it wrote (or nothing) is read below
                if time.monotonic() - start > seconds:
                    self._end()
                    raise _TimedOut
            reply = _receive(child.stdout)
        except (OSError, ValueError, EOFError):
            code = self._end()
            log.warning("the document reader ended (exit %s) on %s", code, path)
            raise _stopped(path, "crash", self._limits) from None
        if reply.get("memory"):
            self._end()  # a child that ran out of memory is not trusted with the next file
            raise _stopped(path, "memory", self._limits)
        if "reason" in reply:
            raise UnreadableDocument(path, str(reply["reason"]))
        return reply

    def close(self) -> None:
        self._end()

    def _started(self) -> subprocess.Popen[bytes]:
        if self._child is not None and self._child.poll() is None:
            return self._child
        env = dict(os.environ, PYTHONPATH=os.pathsep.join(p for p in sys.path if p))
        self._child = subprocess.Popen(
            [sys.executable, "-m", "rag.loaders.isolated", str(self._limits.memory_mb)],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, env=env,
            close_fds=True, bufsize=0)  # unbuffered: select() sees every byte not yet read
        return self._child

    def _end(self) -> int | None:
        child, self._child = self._child, None
        if child is None:
            return None
        for stream in (child.stdin, child.stdout):
            try:
                if stream is not None:
                    stream.close()
            except OSError:
                pass
        if child.poll() is None:
            child.kill()
        return child.wait()


def _readable(stream: IO[bytes], timeout: float) -> bool:
    """Whether the child has written (or closed its end) within ``timeout`` seconds."""
    import select  # POSIX pipes (Linux, macOS); rag.loaders.reader_for picks this reader there

    ready, _, _ = select.select([stream], [], [], timeout)
    return bool(ready)


def _send(stream: IO[bytes], message: dict[str, Any]) -> None:
    data = json.dumps(message, ensure_ascii=False).encode("utf-8", "surrogatepass")
    view = memoryview(_HEADER.pack(len(data)) + data)
    while view:
        view = view[stream.write(view) or 0:]
    stream.flush()


def _receive(stream: IO[bytes]) -> dict[str, Any]:
    header = _exactly(stream, _HEADER.size)
    (length,) = _HEADER.unpack(header)
    message = json.loads(_exactly(stream, length).decode("utf-8", "surrogatepass"))
    if not isinstance(message, dict):
        raise ValueError("not a reply")
    return message


def _exactly(stream: IO[bytes], size: int) -> bytes:
    data = bytearray()
    while len(data) < size:
        piece = stream.read(size - len(data))
        if not piece:
            raise EOFError("the reader ended")
        data += piece
    return bytes(data)


def _document_json(document: LoadedDocument) -> dict[str, Any]:
    return {"title": document.title, "format": document.format, "sha256": document.sha256,
            "pages": [[page.number, page.text] for page in document.pages],
            "scanned": list(document.scanned)}


def _document_from(path: Path, data: dict[str, Any]) -> LoadedDocument:
    return LoadedDocument(
        path=path, title=str(data["title"]), format=str(data["format"]),
        sha256=str(data["sha256"]),
        pages=[Page(None if number is None else int(number), str(text))
               for number, text in data["pages"]],
        scanned=tuple(int(n) for n in data["scanned"]))


# -- the child ---------------------------------------------------------------------------------

def _limit_memory(memory_mb: int) -> None:
    try:
        import resource
    except ImportError:  # Windows: the time limit alone holds there
        return
    limit = memory_mb * 1024 * 1024
    try:
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    except (ValueError, OSError):  # macOS does not enforce RLIMIT_AS: the time limit holds
        log.info("the reader's memory limit cannot be set here")


def _peak_mb() -> float:
    """The largest this process's address space has been (what RLIMIT_AS caps), in MB; where
    the system does not say, the largest its resident memory has been."""
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("VmPeak:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    import resource

    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / 2**20 if sys.platform == "darwin" else peak / 1024  # bytes there, KB here


def _serve(memory_mb: int) -> None:
    requests, replies = sys.stdin.buffer, os.fdopen(os.dup(1), "wb")
    os.dup2(2, 1)  # whatever a library prints goes to stderr, not into the replies
    sys.stdout = sys.stderr
    logging.disable(logging.WARNING)
    _limit_memory(memory_mb)
    from rag.loaders import load_document

    pages = _PageSource()
    while True:
        try:
            request = _receive(requests)
        except (EOFError, OSError, ValueError):
            return
        path = Path(os.fsdecode(bytes.fromhex(request["path"])))
        peak = _peak_mb()
        try:
            if request.get("op") == "image":
                image = pages.image(path, str(request["format"]), int(request["page"]))
                reply: dict[str, Any] = {"image": base64.b64encode(image).decode("ascii")}
            else:
                reply = {"document": _document_json(load_document(path))}
        except MemoryError:
            reply = {"memory": True}
        except UnreadableDocument as exc:
            # A parser that ran out of memory often reports it as a damaged file (lxml's
            # "unknown error"): a failure that came with most of the memory used is that.
            swelled = _peak_mb() > max(peak, 0.75 * memory_mb)
            reply = {"memory": True} if swelled else {"reason": exc.reason}
        try:
            _send(replies, reply)
        except MemoryError:
            _send(replies, {"memory": True})


if __name__ == "__main__":
    _serve(int(sys.argv[1]))
