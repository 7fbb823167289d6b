"""The torch embedder computes in bf16 where the processor has bfloat16 instructions: the same
weights, vectors within 1e-4 of full precision in cosine, so one vector space."""

from __future__ import annotations

import pytest

from rag.embedder import MiniLMEmbedder, native_bf16
from tests.rag.embedding_samples import TEXTS, cosines

pytestmark = pytest.mark.slow

def test_bf16_gives_full_precisions_vectors_and_is_chosen_only_where_the_processor_has_it(
) -> None:
    full = MiniLMEmbedder(precision="fp32")
    half = MiniLMEmbedder(precision="bf16")
    assert min(cosines(half.embed(TEXTS), full.embed(TEXTS))) > 0.9999
    pooled_full, pooled_half = full.token_sums(TEXTS * 3), half.token_sums(TEXTS * 3)
    assert min(cosines([s.vector() for s in pooled_half],
                       [s.vector() for s in pooled_full])) > 0.9999
    chosen = MiniLMEmbedder()
    assert chosen.precision == ("bf16" if native_bf16() else "fp32")
    assert chosen.name == f"all-MiniLM-L6-v2 (torch, {chosen.precision})"
