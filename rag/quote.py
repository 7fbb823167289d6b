"""Quote first: the sentence or two of the retrieved passages that best answer the question,
verbatim, with their file and page, chosen before the model runs and without it.

Each sentence of the retrieved passages is scored on the question from three kinds of
evidence: how close its embedding is to the question's, how many of the question's rarer
words it holds (words every candidate holds count for little), and how well its passage ranked
(retrieval's own score, which knows about named documents, clause numbers and answer kinds);
a sentence that holds the kind of answer asked for (a duration, a date, a dose; rag/answer_types)
gets a little more. The best sentence is quoted with its neighbour when it is too short to stand
alone (a heading, "4.2 Notice."), or when the neighbour scores nearly as well. The weights are
data (``QuoteWeights``); ``python -m bench.retrieval_quality`` measures how often the quote holds
each question's key phrase.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from rag.answer_types import holds_answer, wanted_answers
from rag.retrieval_types import Embedder, Hit
from rag.sentences import Span, content_words, split_sentences

# A quote shorter than this is not worth reading alone: it takes its next sentence too.
SHORT_QUOTE = 60
LONG_QUOTE = 600  # characters: a second sentence is added only within this


@dataclass(frozen=True)
class QuoteWeights:
    cosine: float = 0.5
    words: float = 0.35
    rank: float = 0.25
    answer: float = 0.05
    neighbour: float = 0.9  # a neighbour within this share of the best score joins the quote


DEFAULT_WEIGHTS = QuoteWeights()


@dataclass(frozen=True)
class Quote:
    text: str  # verbatim from the passage (whitespace tidied)
    hit: Hit  # the passage it comes from

    def to_json(self) -> dict[str, Any]:
        return {"text": self.text, "source": self.hit.passage.source,
                "page": self.hit.passage.page}


@dataclass(frozen=True)
class _Candidate:
    hit_index: int
    sentence_index: int
    span: Span
    score: float


def pick_quote(question: str, hits: Sequence[Hit], embedder: Embedder,
               weights: QuoteWeights = DEFAULT_WEIGHTS) -> Quote | None:
    if not hits:
        return None
    sentences = [split_sentences(h.passage.text) for h in hits]
    flat = [(i, j, s) for i, spans in enumerate(sentences) for j, s in enumerate(spans)]
    if not flat:
        return None
    vectors = embedder.embed([question, *(s.text for _, _, s in flat)])
    question_vector, sentence_vectors = vectors[0], vectors[1:]
    asked = set(content_words(question))
    df: Counter[str] = Counter()
    words_of = [set(content_words(s.text)) for _, _, s in flat]
    for words in words_of:
        df.update(words & asked)
    idf = {w: math.log((1 + len(flat)) / (1 + df[w])) + 1.0 for w in asked}
    total = sum(idf.values()) or 1.0
    best_score = max(h.score for h in hits) or 1.0
    wanted = wanted_answers(question)
    candidates = []
    for (i, j, span), vector, words in zip(flat, sentence_vectors, words_of, strict=True):
        cosine = sum(a * b for a, b in zip(question_vector, vector, strict=True))
        coverage = sum(idf[w] for w in words & asked) / total
        value = (weights.cosine * cosine + weights.words * coverage
                 + weights.rank * hits[i].score / best_score)
        if wanted and holds_answer(span.text, wanted):
            value += weights.answer
        candidates.append(_Candidate(i, j, span, value))
    best = max(candidates, key=lambda c: c.score)
    return Quote(_quote_text(best, candidates, sentences, weights), hits[best.hit_index])


def _quote_text(best: _Candidate, candidates: list[_Candidate], sentences: list[list[Span]],
                weights: QuoteWeights) -> str:
    spans = sentences[best.hit_index]
    by_index = {c.sentence_index: c for c in candidates if c.hit_index == best.hit_index}
    chosen = [best.sentence_index]
    before, after = by_index.get(best.sentence_index - 1), by_index.get(best.sentence_index + 1)
    if len(best.span.text) < SHORT_QUOTE and after is not None:
        chosen.append(after.sentence_index)
    else:
        near = [c for c in (before, after)
                if c is not None and c.score >= weights.neighbour * best.score]
        if near:
            chosen.append(max(near, key=lambda c: c.score).sentence_index)
    chosen.sort()
    text = " ".join(spans[n].text for n in chosen)
    if len(text) > LONG_QUOTE and len(chosen) > 1:
        text = best.span.text
    return text
