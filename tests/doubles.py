"""Honest stand-ins at Enclave's seams, for the tests whose subject is the seam, not the engine.

Each is a real implementation of its Protocol, with no knowledge of the test that uses it:

- ``ScriptedChatModel`` (models.chat_model.ChatModel): answers from a queue of scripted
  replies, streamed a word at a time, honouring ``max_tokens`` and ``cancel`` between pieces,
  and records every prompt it was given;
- ``HashEmbedder`` (rag.retrieval_types.Embedder): a deterministic bag of hashed words, so
  texts that share words are close and a query finds the passages that hold its words;
- ``application``: the real Application with these plugged in (the real Chroma and SQLite
  under the test's own ENCLAVE_HOME, the real audit log).
"""

from __future__ import annotations

import hashlib
import math
import re
import time
from collections import deque
from collections.abc import Iterable, Iterator, Sequence
from typing import Any

from desktop.app.application import Application
from desktop.app.settings import Settings
from desktop.app.wiring import open_assistant, open_library
from models.chat_model import Cancel, ChatMessage, GenerationStats


class ScriptedChatModel:
    backend = "scripted"

    def __init__(self, replies: Iterable[str] = (), context_size: int = 4096) -> None:
        self._replies: deque[str] = deque(replies)
        self._context_size = context_size
        self.prompts: list[list[ChatMessage]] = []
        self.closed = False

    def enqueue(self, *replies: str) -> ScriptedChatModel:
        self._replies.extend(replies)
        return self

    @property
    def context_size(self) -> int:
        return self._context_size

    def count_tokens(self, text: str) -> int:
        return len(text.split())

    def chat(self, messages: Sequence[ChatMessage], *, max_tokens: int, temperature: float,
             cancel: Cancel | None = None) -> ScriptedCompletion:
        self.prompts.append(list(messages))
        reply = self._replies.popleft() if self._replies else "No scripted reply is left."
        prompt_tokens = sum(self.count_tokens(m.content) for m in messages)
        return ScriptedCompletion(reply, max_tokens, cancel, prompt_tokens)

    def close(self) -> None:
        self.closed = True


class ScriptedCompletion:
    def __init__(self, reply: str, max_tokens: int, cancel: Cancel | None,
                 prompt_tokens: int) -> None:
        self._pieces = re.findall(r"\S+\s*", reply)[:max_tokens]
        self._cancel = cancel
        self._prompt_tokens = prompt_tokens
        self.stats: GenerationStats | None = None

    def __iter__(self) -> Iterator[str]:
        started = time.perf_counter()
        produced, cancelled = 0, False
        for piece in self._pieces:
            if self._cancel is not None and self._cancel.is_set():
                cancelled = True
                break
            produced += 1
            yield piece
        seconds = time.perf_counter() - started
        self.stats = GenerationStats(
            prompt_tokens=self._prompt_tokens, completion_tokens=produced,
            seconds=round(seconds, 4), time_to_first_token=0.0,
            tokens_per_second=round(produced / seconds, 2) if seconds > 0 else 0.0,
            prompt_tokens_per_second=0.0, cancelled=cancelled,
            finish_reason="cancelled" if cancelled else "stop")


class HashEmbedder:
    """Each word hashed into one of ``dimension`` buckets, the counts normalised."""

    dimension = 384

    def embed(self, texts: Sequence[str]) -> list[list[float]]:
        return [self._vector(text) for text in texts]

    def _vector(self, text: str) -> list[float]:
        vector = [0.0] * self.dimension
        for word in re.findall(r"\w+", text.lower()):
            bucket = int.from_bytes(hashlib.sha256(word.encode()).digest()[:4], "big")
            vector[bucket % self.dimension] += 1.0
        norm = math.sqrt(sum(v * v for v in vector)) or 1.0
        return [v / norm for v in vector]


def application(settings: Settings, model: ScriptedChatModel | None = None,
                embedder: Any = None) -> Application:
    """The real application with a scripted model and, by default, the hashing embedder."""
    chosen = model or ScriptedChatModel()
    return Application(settings,
                       open_library=lambda s: open_library(s, embedder or HashEmbedder()),
                       open_assistant=open_assistant,
                       load_model=lambda s: chosen)
