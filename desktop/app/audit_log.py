"""A tamper-evident audit log: append-only JSON lines, each chained to the previous by SHA-256.

Each line is one entry ``{"seq", "time", "kind", "data", "prev", "hash"}``; ``hash`` is the
SHA-256 of the entry's canonical JSON without ``hash`` (so it covers ``prev``), and ``prev`` is the
previous entry's ``hash``. Editing or deleting a line breaks the chain at that line. Deleting the
*last* lines leaves a shorter but valid chain, so a small head file next to the log remembers the
last sequence number and hash written: a log that ends before it is reported as cut short.
Someone with write access to both files can still rewrite history wholesale; the log makes quiet
edits evident, it is not a signature. Qt-free; the CLI and the window both use it.

Appends hold an exclusive ``flock`` on the log (two Enclave processes can append safely) and are
``fsync``'d. A crash in the middle of a write leaves a torn last line: it is never silently
accepted. The next append seals it with a newline and goes on; ``verify`` reports it as broken.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, BinaryIO

if TYPE_CHECKING:
    from desktop.app.audit_events import AuditEvent

KINDS = ("ingest", "question", "answer", "export", "egress_blocked", "settings_change",
         "api_request", "search", "forget")
QUESTION_LOGGING = ("full", "hashed", "off")
GENESIS = "0" * 64  # the "previous hash" of the first entry
# Data keys that carry what a person typed; logged per ``question_logging``.
_PERSONAL_KEYS = ("question", "query")


class AuditLogError(RuntimeError):
    """The audit log cannot be written or read; the message says what to do."""


@dataclass(frozen=True)
class VerifyResult:
    ok: bool
    entries: int  # entries read that form an intact chain
    first_broken: int | None  # the 1-based line number (== seq) of the first bad entry
    reason: str

    def to_json(self) -> dict[str, Any]:
        return {"ok": self.ok, "entries": self.entries, "first_broken": self.first_broken,
                "reason": self.reason}


def entry_hash(entry: dict[str, Any]) -> str:
    body = {k: v for k, v in entry.items() if k != "hash"}
    return hashlib.sha256(_canonical(body)).hexdigest()


def _canonical(obj: Any) -> bytes:
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def head_path(path: Path) -> Path:
    return path.with_name(path.name + ".head")


class AuditLog:
    """Appends entries to one log file. Thread-safe; several processes may share the file."""

    def __init__(self, path: Path, question_logging: str = "full") -> None:
        if question_logging not in QUESTION_LOGGING:
            raise ValueError(f"question_logging must be one of {', '.join(QUESTION_LOGGING)}")
        self.path = Path(path)
        self.question_logging = question_logging
        self._lock = threading.Lock()

    def record(self, kind: str, **data: Any) -> dict[str, Any]:
        """Append one event and return the entry as written."""
        if kind not in KINDS:
            raise ValueError(f"unknown audit event kind {kind!r}; one of {', '.join(KINDS)}")
        # Plain JSON from here on (paths, dates... become strings), so the hash is computed over
        # exactly what is written.
        data = json.loads(json.dumps(self._apply_question_policy(data), default=str))
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self._lock, _locked(self.path) as f:
            last = _last_entry_and_seal(f)
            entry: dict[str, Any] = {
                "seq": (last["seq"] + 1) if last else 1,
                "time": datetime.now(UTC).isoformat(timespec="milliseconds"),
                "kind": kind,
                "data": data,
                "prev": last["hash"] if last else GENESIS,
            }
            entry["hash"] = entry_hash(entry)
            line = json.dumps(entry, ensure_ascii=False) + "\n"
            f.seek(0, os.SEEK_END)
            f.write(line.encode())
            f.flush()
            os.fsync(f.fileno())
            _write_head(self.path, entry)
        return entry

    def record_event(self, event: AuditEvent) -> dict[str, Any]:
        """Append one typed event (desktop/app/audit_events.py)."""
        return self.record(event.kind, **event.data())

    def _apply_question_policy(self, data: dict[str, Any]) -> dict[str, Any]:
        if self.question_logging == "full":
            return data
        out = dict(data)
        for key in _PERSONAL_KEYS:
            if key in out and out[key] is not None:
                text = str(out.pop(key))
                if self.question_logging == "hashed":
                    out[f"{key}_sha256"] = hashlib.sha256(text.encode()).hexdigest()
                else:
                    out[f"{key}_logged"] = False
        return out


@contextlib.contextmanager
def _locked(path: Path) -> Iterator[BinaryIO]:
    # An exclusive lock for the whole read-last-then-append, so two processes never chain two
    # entries to the same predecessor. fcntl exists on Linux and macOS; elsewhere the in-process
    # lock is all there is (one Enclave process at a time).
    with open(path, "a+b") as f:
        try:
            import fcntl
        except ImportError:  # pragma: no cover - Windows
            yield f
            return
        fcntl.flock(f.fileno(), fcntl.LOCK_EX)
        try:
            yield f
        finally:
            fcntl.flock(f.fileno(), fcntl.LOCK_UN)


def _last_entry_and_seal(f: BinaryIO) -> dict[str, Any] | None:
    """The last intact entry. A torn last line (a crash mid-write) is sealed with a newline so
    the next entry starts on a line of its own; ``verify`` will still report it."""
    f.seek(0, os.SEEK_END)
    size = f.tell()
    if size == 0:
        return None
    f.seek(max(0, size - 1))
    if f.read(1) != b"\n":
        f.write(b"\n")
        f.flush()
    # Walk back from the end over the lines until one parses as an entry; read the tail first
    # (logs grow long) and the whole file only if the tail holds no whole entry.
    for chunk in (1 << 16, None):
        for line in reversed(_tail_lines(f, chunk)):
            entry = _parse(line)
            if entry is not None:
                return entry
    return None


def _tail_lines(f: BinaryIO, chunk: int | None) -> list[bytes]:
    f.seek(0, os.SEEK_END)
    end = f.tell()
    start = 0 if chunk is None else max(0, end - chunk)
    f.seek(start)
    lines = f.read(end - start).split(b"\n")
    if start > 0:
        lines = lines[1:]  # the first piece may be the middle of a line
    return [line for line in lines if line.strip()]


def _parse(line: bytes) -> dict[str, Any] | None:
    try:
        entry = json.loads(line)
    except (UnicodeDecodeError, json.JSONDecodeError):
        return None
    keys = {"seq", "time", "kind", "data", "prev", "hash"}
    return entry if isinstance(entry, dict) and set(entry) == keys else None


def _write_head(path: Path, entry: dict[str, Any]) -> None:
    head = head_path(path)
    tmp = head.with_name(head.name + ".tmp")
    tmp.write_text(json.dumps({"seq": entry["seq"], "hash": entry["hash"]}) + "\n")
    os.replace(tmp, head)  # atomic: the head is always one whole record


def read_entries(path: Path) -> list[dict[str, Any]]:
    """All intact entries, in order (for display and export; use ``verify`` to trust them)."""
    if not path.is_file():
        return []
    return [e for line in path.read_bytes().split(b"\n") if line.strip()
            if (e := _parse(line)) is not None]


def verify(path: Path, used: bool = False, anchor: str | None = None) -> VerifyResult:
    """Check the whole chain; name the first broken entry (its 1-based line number) and why.
    ``used``: this data folder holds a library or conversations, so a log that is missing
    altogether was deleted. ``anchor``: a code from ``anchor_code`` recorded elsewhere earlier;
    the log must still hold that entry unchanged."""
    path = Path(path)
    head = _read_head(path)
    if not path.is_file():
        if head is not None:
            return VerifyResult(False, 0, 1, f"the log file is missing, but {head['seq']} "
                                             "entries were written")
        if used or anchor:
            return VerifyResult(False, 0, 1, "the audit log and its record (audit.jsonl.head) "
                                             "are both missing, but this data folder has been "
                                             "used: they were deleted")
        return VerifyResult(True, 0, None, "no audit log yet (nothing recorded)")
    raw = path.read_bytes()
    lines = raw.split(b"\n")
    torn_tail = not raw.endswith(b"\n") and raw != b""
    if lines and lines[-1] == b"":
        lines.pop()
    prev = GENESIS
    previous_time = ""
    for number, line in enumerate(lines, start=1):
        if torn_tail and number == len(lines):
            return VerifyResult(False, number - 1, number,
                                f"line {number} is incomplete (a write was cut off, e.g. by a "
                                "crash or a full disk)")
        broken = _check_line(line, number, prev)
        if broken:
            return VerifyResult(False, number - 1, number, broken)
        entry = json.loads(line)
        if str(entry["time"]) < previous_time:
            return VerifyResult(False, number - 1, number,
                                f"entry {number} is dated {entry['time']}, before the entry "
                                f"ahead of it ({previous_time}): its time was changed, or the "
                                "computer's clock was set back")
        prev, previous_time = entry["hash"], str(entry["time"])
    count = len(lines)
    if head is None and count:
        return VerifyResult(False, count, count, "the record of the last entry written "
                                                 "(audit.jsonl.head) is missing or damaged")
    if head is not None and head["seq"] > count:
        return VerifyResult(False, count, count + 1,
                            f"the log ends at entry {count}, but {head['seq']} entries were "
                            "written: the last ones were removed")
    if head is not None and head["seq"] >= 1 and \
            json.loads(lines[head["seq"] - 1])["hash"] != head["hash"]:
        return VerifyResult(False, head["seq"] - 1, head["seq"],
                            f"entry {head['seq']} is not the one that was last written")
    if head is not None and head["seq"] < count:
        return VerifyResult(False, head["seq"], head["seq"] + 1,
                            f"entries {head['seq'] + 1} to {count} come after the last one "
                            f"Enclave recorded writing (entry {head['seq']}): they were added "
                            "by something else, or Enclave stopped while writing")
    if anchor is not None:
        broken = _check_anchor(anchor, lines)
        if broken:
            return VerifyResult(False, count, None, broken)
    return VerifyResult(True, count, None, f"{count} entries, chain intact"
                        + (", anchor matches" if anchor else ""))


ANCHOR_PREFIX = "ENCLAVE-AUDIT"


def anchor_code(path: Path) -> str | None:
    """A short code naming the last entry (its number and hash), to be written down or filed
    outside this computer; ``verify(anchor=code)`` later proves the log up to that entry was
    not rewritten since, even by someone who recomputed every hash."""
    entries = read_entries(path)
    if not entries:
        return None
    last = entries[-1]
    return f"{ANCHOR_PREFIX}-{last['seq']}-{last['hash'][:32]}"


def _check_anchor(anchor: str, lines: list[bytes]) -> str:
    parts = anchor.strip().rsplit("-", 2)
    if len(parts) != 3 or parts[0] != ANCHOR_PREFIX or not parts[1].isdigit() \
            or len(parts[2]) < 16:
        return f"'{anchor}' is not an audit anchor (they look like {ANCHOR_PREFIX}-12-3fa9...)"
    seq, digest = int(parts[1]), parts[2].lower()
    if seq > len(lines) or seq < 1:
        return (f"the anchor names entry {seq}, but the log holds {len(lines)}: entries were "
                "removed and the chain rebuilt")
    if not json.loads(lines[seq - 1])["hash"].startswith(digest):
        return (f"entry {seq} is not the one anchored: the log was rewritten up to there since "
                "the anchor was taken (every hash recomputed)")
    return ""


def _check_line(line: bytes, number: int, prev: str) -> str:
    """Why the line breaks the chain, or '' when it does not."""
    if not line.strip():
        return f"line {number} is empty (a line was removed or the file was edited)"
    entry = _parse(line)
    if entry is None:
        return (f"line {number} is not a whole audit entry (a write was cut off, or the line "
                "was edited)")
    if entry["seq"] != number:
        return (f"entry {number} carries sequence number {entry['seq']} "
                "(an entry before it was removed or inserted)")
    if entry["prev"] != prev:
        return (f"entry {number} does not follow the entry before it "
                "(that one was changed or removed)")
    if entry_hash(entry) != entry["hash"]:
        return f"entry {number} was changed after it was written (its hash does not match)"
    return ""


def _read_head(path: Path) -> dict[str, Any] | None:
    head = head_path(path)
    try:
        value = json.loads(head.read_text())
    except (OSError, ValueError):
        return None
    ok = isinstance(value, dict) and isinstance(value.get("seq"), int) and "hash" in value
    return value if ok else None


def export(path: Path, since: date, dest: Path) -> int:
    """Write the entries from ``since`` (UTC date) on to ``dest`` as one JSON document a
    compliance officer can keep, with the verification of the whole log at export time.
    Returns the number of entries written."""
    result = verify(path)
    chosen = [e for e in read_entries(path) if e["time"][:10] >= since.isoformat()]
    document = {
        "enclave_audit_export": 1,
        "source": str(path),
        "since": since.isoformat(),
        "exported_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "verification": result.to_json(),
        "how_to_check": ("Each entry's hash is SHA-256 over its canonical JSON (keys sorted, no "
                         "spaces, UTF-8) without 'hash'; each 'prev' is the hash of the entry "
                         "before it."),
        "entries": chosen,
    }
    dest = Path(dest)
    dest.parent.mkdir(parents=True, exist_ok=True)
    tmp = dest.with_name(dest.name + ".tmp")
    tmp.write_text(json.dumps(document, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    os.replace(tmp, dest)
    return len(chosen)
