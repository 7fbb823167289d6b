"""A batch of passages embedded on a thread of its own while the ingest goes on.

Ingestion reads files (in a child process), embeds their passages and writes them (Chroma,
the keyword index, the catalogue). Done one after the other, reading and writing left the
embedder idle for about a fifth of an ingest. Here the library starts embedding a batch, then
writes the batch before it and reads the next files while the embedder works (ONNX Runtime and
torch let go of Python's lock while they compute). Every write still happens on the ingest's
own thread, in the order the batches were read, so what a crash leaves is as before.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

from models.chat_model import Cancel
from rag.passage_embedding import PassageEmbedding


class EmbeddingAhead:
    """``embedding`` run on ``pool``; ``progress()`` follows its steps, ``finished()`` says
    whether it ran to the end (False when stopped) and raises the embedder's error if any."""

    def __init__(self, embedding: PassageEmbedding, pool: ThreadPoolExecutor,
                 cancel: Cancel | None, abandon: threading.Event) -> None:
        self.embedding = embedding
        self._cancel = cancel
        self._abandon = abandon
        self._steps: queue.SimpleQueue[int | None] = queue.SimpleQueue()
        self._future = pool.submit(self._run)

    def _stopped(self) -> bool:
        return self._abandon.is_set() or (self._cancel is not None and self._cancel.is_set())

    def _run(self) -> bool:
        try:
            for done in self.embedding.steps():
                if self._stopped():
                    return False
                self._steps.put(done)
            return True
        finally:
            self._steps.put(None)

    def progress(self) -> Iterator[int]:
        """How many texts were done as each step began, until the embedding ends (steps that
        went by while the ingest was writing come at once)."""
        while (done := self._steps.get()) is not None:
            yield done

    def finished(self) -> bool:
        return self._future.result()
