"""How a candidate passage is scored: named features, and one configuration of their weights.

Every passage either side of a search found (rag/retrieve.py) is described by its features:

- ``cosine``: how close the question's embedding is to the passage (its whole text and its best
  window of a few sentences, rag/passage_vectors.py); None when the vector side did not find it;
- ``bm25``: the keyword side's BM25 score; None when the keyword side did not find it;
- ``names_document``: the question names the passage's document ("under GPLv2", "in the MSA");
- ``cites_reference``: the passage is the clause or section the question points at ("4.2");
- ``holds_answer``: it holds the kind of answer asked for (a duration, a date, a dose...);
- ``short``: how far it falls short of a passage long enough to answer (0 to 1);
- ``rare``: the share of the question's words that are rare in the collection (held by a few
  passages only: a name, a record or case number, a drug code) and that this passage holds.

A candidate either side found is scored on both: a passage only the keyword side found gets
its real cosine from its stored vectors, one only the vector side found its real BM25, so
neither side's silence counts as zero evidence.

and scored

    vector_weight * cosine + (1 - vector_weight) * bm25 / (bm25 + bm25_half)
    + name_bonus + reference_bonus + answer_bonus (each when its feature holds)
    + rare_term_bonus * rare
    - short_penalty * short

clipped to [0, 1]. The weights are data: ``DEFAULT_SCORING``, what every search uses, and what
``enclave search --explain`` and docs/retrieval-results.json report. The figures each weight was
chosen on are in docs/RETRIEVAL.md; ``python -m bench.retrieval_quality`` measures the current
ones on every question set.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any


@dataclass(frozen=True)
class Scoring:
    vector_weight: float = 0.7
    bm25_half: float = 30.0  # the BM25 score that counts as half of a perfect keyword match
    name_bonus: float = 0.2
    reference_bonus: float = 0.15
    answer_bonus: float = 0.04
    short_passage: int = 200  # characters: shorter passages lose up to short_penalty
    short_penalty: float = 0.1
    candidates: int = 50  # how many candidates each side contributes
    rare_term_bonus: float = 0.3
    # A word held by at most this share of the collection's passages (at least one) is rare.
    rare_share: float = 0.002
    rare_main: float = 0.5  # rare words must be at least this share of the question's words

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


DEFAULT_SCORING = Scoring()


@dataclass(frozen=True)
class Features:
    cosine: float | None
    bm25: float | None
    names_document: bool = False
    cites_reference: bool = False
    holds_answer: bool = False
    short: float = 0.0
    rare: float = 0.0

    def to_json(self) -> dict[str, Any]:
        return {k: (round(v, 6) if isinstance(v, float) else v) for k, v in asdict(self).items()}


def shortness(text: str, scoring: Scoring = DEFAULT_SCORING) -> float:
    """0 at ``short_passage`` characters and longer, growing to 1 as the passage gets shorter."""
    return max(0.0, 1.0 - len(text) / scoring.short_passage)


def score(features: Features, scoring: Scoring = DEFAULT_SCORING) -> float:
    cosine = max(features.cosine or 0.0, 0.0)
    bm25 = features.bm25 or 0.0
    value = (scoring.vector_weight * cosine
             + (1 - scoring.vector_weight) * bm25 / (bm25 + scoring.bm25_half))
    if features.names_document:
        value += scoring.name_bonus
    if features.cites_reference:
        value += scoring.reference_bonus
    if features.holds_answer:
        value += scoring.answer_bonus
    value += scoring.rare_term_bonus * features.rare
    value -= scoring.short_penalty * features.short
    return min(max(value, 0.0), 1.0)
