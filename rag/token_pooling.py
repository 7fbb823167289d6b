"""Texts through the network as padded batches, and their tokens' states summed for pooling.

all-MiniLM-L6-v2's vector of a text is the mean of its tokens' last hidden states, normalised.
The sum and the count before that mean (``TokenSums``) let a caller pool several texts
together: rag/passage_embedding.py makes a passage's vector from its windows' tokens.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np


@dataclass(frozen=True)
class TokenSums:
    """A text's tokens' last hidden states, summed, and how many tokens that is."""

    total: np.ndarray
    tokens: int

    def vector(self) -> list[float]:
        return normalised(self.total / max(self.tokens, 1))


def pooled(parts: Sequence[TokenSums]) -> list[float]:
    """The normalised mean over every token of these texts together."""
    return normalised(sum((p.total for p in parts), np.zeros_like(parts[0].total))
                      / max(sum(p.tokens for p in parts), 1))


def normalised(vector: np.ndarray) -> list[float]:
    result: list[float] = (vector / max(float(np.linalg.norm(vector)), 1e-12)).tolist()
    return result


def tokenizer(model_dir: Path, truncation: int) -> Any:
    """The bundled tokenizer.json (the one sentence-transformers uses), cutting at
    ``truncation`` tokens, unpadded."""
    from tokenizers import Tokenizer

    loaded = Tokenizer.from_file(str(model_dir / "tokenizer.json"))
    loaded.no_padding()
    loaded.enable_truncation(truncation)
    return loaded


@dataclass(frozen=True)
class Batch:
    indices: list[int]  # which of the texts, in this batch's order
    ids: np.ndarray
    mask: np.ndarray
    types: np.ndarray

    def sums(self, hidden: np.ndarray) -> list[TokenSums]:
        """Each row's tokens' states summed (padding left out)."""
        weights = self.mask[..., None].astype(hidden.dtype)
        totals = (hidden * weights).sum(axis=1)
        return [TokenSums(totals[row], int(self.mask[row].sum()))
                for row in range(len(self.indices))]


def batches(texts: Sequence[str], tokenizer: Any, size: int) -> Iterator[Batch]:
    """The texts as padded batches of ``size``, shortest first, so a batch is of about one
    length and little of it is padding."""
    order = sorted(range(len(texts)), key=lambda n: len(texts[n]))
    for start in range(0, len(order), size):
        step = order[start:start + size]
        encoded = tokenizer.encode_batch([texts[n] for n in step])
        width = max(len(e.ids) for e in encoded)
        ids = np.zeros((len(step), width), dtype=np.int64)
        mask = np.zeros_like(ids)
        types = np.zeros_like(ids)
        for row, e in enumerate(encoded):
            ids[row, :len(e.ids)] = e.ids
            mask[row, :len(e.ids)] = e.attention_mask
            types[row, :len(e.ids)] = e.type_ids
        yield Batch(step, ids, mask, types)


def in_order(count: int, results: Iterator[tuple[Batch, list[TokenSums]]]) -> list[TokenSums]:
    """The batches' sums back in the texts' order."""
    out: list[TokenSums | None] = [None] * count
    for batch, sums in results:
        for n, item in zip(batch.indices, sums, strict=True):
            out[n] = item
    missing = [n for n, item in enumerate(out) if item is None]
    if missing:
        raise RuntimeError(f"no vector came back for {len(missing)} of {count} texts")
    return [item for item in out if item is not None]
