"""Embedding a batch of passages: the vectors of each passage and of its windows, in steps.

A passage longer than one window is embedded as its windows only, and its own vector is the
mean over all its windows' tokens (rag/token_pooling.py), where it used to be embedded whole as
well. The windows are the same vectors as before; the passage's vector is close to the one of
all of it at once, and takes in every sentence where the whole text was cut at the network's
256 tokens. That halves the embedding work: the whole passages were about half of all the
tokens embedded (bench/ingestion.py). Measured with bench.retrieval_quality against embedding
each passage whole as well (same run, docs/RETRIEVAL.md): hit@5 within one question on every
set, hit@1 within one question except +2 on licences-13 and on technical-docs.

An embedder that cannot give its tokens' sums (a test double) embeds the passage and each
window as texts of their own. The same text (a clause two documents share) is embedded once,
and texts of about one length go together, shortest first: a step that mixes whole passages
with short windows pads every window to the passage's length.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from typing import Any, Generic, TypeVar

from rag.documents import Passage
from rag.passage_vectors import embedding_texts
from rag.retrieval_types import Embedder, PoolingEmbedder
from rag.token_pooling import TokenSums, pooled

Vector = list[float]
R = TypeVar("R")
# Texts per step: each step can report progress and be cancelled.
TEXT_STEP = 64


def pooling(embedder: Embedder) -> bool:
    """Whether a passage's vector is pooled from its windows' tokens with this embedder."""
    return isinstance(embedder, PoolingEmbedder)


class PassageEmbedding:
    """``steps()`` embeds, yielding how many of ``total`` texts are done before each step;
    ``vectors`` then holds, per passage, its own vector followed by its windows'."""

    step = TEXT_STEP

    def __init__(self, embedder: Embedder, passages: Sequence[Passage]) -> None:
        per = [embedding_texts(p) for p in passages]
        self.vectors: list[list[Vector]] = []
        self._work: _Stepped[Any]
        self._finish: Callable[[list[list[Any]]], list[list[Vector]]]
        if isinstance(embedder, PoolingEmbedder):
            # The windows, or the passage itself when it is one window.
            wanted = [texts[1:] or texts for texts in per]
            self._work = _Stepped([t for ts in wanted for t in ts], embedder.token_sums)
            self._finish = lambda rows: [_passage_and_windows(parts) for parts in rows]
        else:
            wanted = per
            self._work = _Stepped([t for ts in wanted for t in ts], embedder.embed)
            self._finish = lambda rows: rows
        self._counts = [len(ts) for ts in wanted]

    @property
    def total(self) -> int:
        return self._work.total

    def steps(self) -> Iterator[int]:
        yield from self._work.steps()
        self.vectors = self._finish(_split(self._work.results, self._counts))

    def run(self) -> list[list[Vector]]:
        for _ in self.steps():
            pass
        return self.vectors


def _passage_and_windows(parts: list[TokenSums]) -> list[Vector]:
    if len(parts) == 1:  # the passage itself
        return [parts[0].vector()]
    return [pooled(parts), *(part.vector() for part in parts)]


def _split(results: list[R], counts: list[int]) -> list[list[R]]:
    flat = iter(results)
    return [[next(flat) for _ in range(count)] for count in counts]


class _Stepped(Generic[R]):
    """``run`` over the distinct texts, shortest first, ``TEXT_STEP`` at a time."""

    def __init__(self, texts: list[str], run: Callable[[list[str]], Sequence[R]]) -> None:
        self._texts = texts
        self._run = run
        self._unique = sorted(dict.fromkeys(texts), key=len)
        self.results: list[R] = []

    @property
    def total(self) -> int:
        return len(self._unique)

    def steps(self) -> Iterator[int]:
        done: dict[str, R] = {}
        for start in range(0, len(self._unique), TEXT_STEP):
            yield start
            step = self._unique[start:start + TEXT_STEP]
            done.update(zip(step, self._run(step), strict=True))
        self.results = [done[text] for text in self._texts]
