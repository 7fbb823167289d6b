"""Conversations and their messages, kept in SQLite under the data directory (Qt-free).

WAL journal with ``synchronous=FULL``: every committed message survives a crash or a power cut,
and a reader (another window, a backup) never blocks the writer. Each change is one transaction.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from models.chat_model import ChatMessage

DATABASE_FILE = "conversations.sqlite3"
UNTITLED = "New conversation"

_SCHEMA = """
CREATE TABLE IF NOT EXISTS conversations (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    title TEXT NOT NULL,
    system_prompt TEXT NOT NULL DEFAULT '',
    collection TEXT,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS messages (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    conversation_id INTEGER NOT NULL REFERENCES conversations(id) ON DELETE CASCADE,
    role TEXT NOT NULL,
    content TEXT NOT NULL,
    citations TEXT NOT NULL DEFAULT '[]',
    stats TEXT NOT NULL DEFAULT '{}',
    refused INTEGER NOT NULL DEFAULT 0,
    created_at TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS messages_by_conversation ON messages(conversation_id, id);
"""


class ConversationStoreError(RuntimeError):
    """The conversation file cannot be used; the message says what to do."""


@dataclass(frozen=True)
class Message:
    id: int
    role: str  # "user" | "assistant"
    content: str
    citations: list[dict[str, Any]] = field(default_factory=list)  # Hit.to_json() shapes
    stats: dict[str, Any] = field(default_factory=dict)
    refused: bool = False  # grounded mode found nothing: ``content`` is the refusal notice
    created_at: str = ""


@dataclass(frozen=True)
class Conversation:
    id: int
    title: str
    system_prompt: str
    collection: str | None
    created_at: str
    updated_at: str
    # When it was last used: its newest message, or its creation while it has none. The list
    # is in this order, so renaming or re-instructing a conversation does not move it.
    last_active: str = ""


_COLUMNS = ("c.id, c.title, c.system_prompt, c.collection, c.created_at, c.updated_at, "
            "COALESCE((SELECT MAX(m.created_at) FROM messages m WHERE m.conversation_id = c.id),"
            " c.created_at) AS last_active")


def _contains(text: str | None, wanted: str) -> bool:
    """Case-insensitive, beyond ASCII too (SQLite's LIKE folds only A-Z)."""
    return text is not None and wanted in text.casefold()


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="microseconds")


class ConversationStore:
    """One SQLite file of conversations. Use from one thread (the GUI thread in the window)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            self._db = sqlite3.connect(str(path), isolation_level=None)
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=FULL")
            self._db.execute("PRAGMA foreign_keys=ON")
            self._db.create_function("enclave_contains", 2, _contains, deterministic=True)
            self._db.executescript(_SCHEMA)
        except (OSError, sqlite3.Error) as exc:
            raise ConversationStoreError(
                f"The conversation file {path} cannot be opened ({exc}). Check that the disk "
                "is not full and that you may write to that folder.") from exc

    @classmethod
    def open(cls, home: Path) -> ConversationStore:
        return cls(home / DATABASE_FILE)

    def close(self) -> None:
        self._db.close()

    @contextmanager
    def _transaction(self) -> Iterator[sqlite3.Connection]:
        try:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                yield self._db
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            self._db.execute("COMMIT")
        except sqlite3.OperationalError as exc:
            raise ConversationStoreError(
                f"Enclave could not save the conversation ({exc}). If the disk is full, free "
                "some space and try again.") from exc

    # -- conversations -------------------------------------------------------------------------
    def create(self, title: str = UNTITLED, system_prompt: str = "",
               collection: str | None = None) -> Conversation:
        now = _now()
        with self._transaction() as db:
            cur = db.execute(
                "INSERT INTO conversations (title, system_prompt, collection, created_at, "
                "updated_at) VALUES (?, ?, ?, ?, ?)",
                (title, system_prompt, collection, now, now))
            new_id = int(cur.lastrowid or 0)
        return self.get(new_id)

    def get(self, conversation_id: int) -> Conversation:
        row = self._db.execute(f"SELECT {_COLUMNS} FROM conversations c WHERE c.id = ?",
                               (conversation_id,)).fetchone()
        if row is None:
            raise KeyError(conversation_id)
        return Conversation(*row)

    def conversations(self, matching: str = "") -> list[Conversation]:
        """Most recently used first (by their last message, not by their last rename); with
        ``matching``, only those whose title or a message contains it, in any case."""
        wanted = " ".join(matching.split()).casefold()
        where = ""
        args: tuple[str, ...] = ()
        if wanted:
            where = ("WHERE enclave_contains(c.title, ?) OR EXISTS (SELECT 1 FROM messages m "
                     "WHERE m.conversation_id = c.id AND enclave_contains(m.content, ?))")
            args = (wanted, wanted)
        rows = self._db.execute(
            f"SELECT {_COLUMNS} FROM conversations c {where} "
            "ORDER BY last_active DESC, c.id DESC", args).fetchall()
        return [Conversation(*row) for row in rows]

    def rename(self, conversation_id: int, title: str) -> Conversation:
        title = " ".join(title.split()) or UNTITLED
        return self._update(conversation_id, title=title)

    def set_system_prompt(self, conversation_id: int, prompt: str) -> Conversation:
        return self._update(conversation_id, system_prompt=prompt.strip())

    def set_collection(self, conversation_id: int, collection: str | None) -> Conversation:
        return self._update(conversation_id, collection=collection)

    def _update(self, conversation_id: int, **columns: Any) -> Conversation:
        assignments = ", ".join(f"{name} = ?" for name in columns)
        with self._transaction() as db:
            db.execute(f"UPDATE conversations SET {assignments}, updated_at = ? WHERE id = ?",
                       (*columns.values(), _now(), conversation_id))
        return self.get(conversation_id)

    def delete(self, conversation_id: int) -> None:
        with self._transaction() as db:
            db.execute("DELETE FROM messages WHERE conversation_id = ?", (conversation_id,))
            db.execute("DELETE FROM conversations WHERE id = ?", (conversation_id,))

    # -- messages ------------------------------------------------------------------------------
    def add_message(self, conversation_id: int, role: str, content: str, *,
                    citations: Sequence[dict[str, Any]] = (), stats: dict[str, Any] | None = None,
                    refused: bool = False) -> Message:
        now = _now()
        with self._transaction() as db:
            cur = db.execute(
                "INSERT INTO messages (conversation_id, role, content, citations, stats, "
                "refused, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
                (conversation_id, role, content, json.dumps(list(citations), ensure_ascii=False),
                 json.dumps(stats or {}), int(refused), now))
            db.execute("UPDATE conversations SET updated_at = ? WHERE id = ?",
                       (now, conversation_id))
            new_id = int(cur.lastrowid or 0)
        return Message(new_id, role, content, list(citations), dict(stats or {}), refused, now)

    def history(self, conversation_id: int) -> list[ChatMessage]:
        """The turns to give the model with the next question: each question with its answer,
        except those whose answer was a refusal, was stopped, or is empty (a garbled,
        half-finished answer fed back in comes out again in the next one)."""
        turns: list[ChatMessage] = []
        pending: Message | None = None
        for message in self.messages(conversation_id):
            if message.role == "user":
                pending = message
                continue
            usable = (pending is not None and not message.refused and message.content.strip()
                      and not message.stats.get("cancelled"))
            if usable:
                assert pending is not None
                turns += [ChatMessage("user", pending.content),
                          ChatMessage("assistant", message.content)]
            pending = None
        return turns

    def messages(self, conversation_id: int) -> list[Message]:
        rows = self._db.execute(
            "SELECT id, role, content, citations, stats, refused, created_at FROM messages "
            "WHERE conversation_id = ? ORDER BY id", (conversation_id,)).fetchall()
        return [Message(r[0], r[1], r[2], json.loads(r[3]), json.loads(r[4]), bool(r[5]), r[6])
                for r in rows]
