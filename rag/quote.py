"""Quote first: the sentence or two of the retrieved passages that best answer the question,
verbatim, with their file and page, chosen before the model runs and without it.

Candidates are one sentence, or two that follow each other (up to ``LONG_QUOTE`` characters),
from each retrieved passage: the sentence that shares the question's words is often followed by
the one that answers it. Each is scored on the question from four kinds of evidence: how close
its embedding is to the question's, how many of the question's rarer words it holds (words every
candidate holds count for little), how well its passage ranked (retrieval's own score, which
knows about named documents, clause numbers and answer kinds), and whether it holds the kind of
answer asked for (a duration, a date, a dose; rag/answer_types). The weights are data
(``QuoteWeights``), chosen on the question sets by ``python -m bench.retrieval_quality``, which
reports how often the quote holds each question's key phrase.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from rag.answer_types import holds_answer, wanted_answers
from rag.retrieval_types import Embedder, Hit
from rag.sentences import content_words, split_sentences

LONG_QUOTE = 500  # characters: two sentences are one candidate only within this
# A table of contents' or an index's dot leaders ("threads . . . . . . 12"): such a line names
# where the answer is, never what it says, so it is never the quote.
_LEADERS = re.compile(r"(?:\.\s?){5,}")


@dataclass(frozen=True)
class QuoteWeights:
    cosine: float = 0.3
    words: float = 0.5
    rank: float = 0.5
    first_passage: float = 0.05  # the best-ranked passage's own sentences
    answer: float = 0.05
    two_sentences: float = 0.1  # a pair reads better than a line cut from its context


DEFAULT_WEIGHTS = QuoteWeights()


@dataclass(frozen=True)
class Quote:
    text: str  # verbatim from the passage (whitespace tidied)
    hit: Hit  # the passage it comes from

    def to_json(self) -> dict[str, Any]:
        return {"text": self.text, "source": self.hit.passage.source,
                "page": self.hit.passage.page}


def _sentences(hit: Hit) -> list[str]:
    """The passage's sentences; its section's heading, where the passage starts with it as a
    sentence of its own ("2. Grant of Copyright License. Subject to ..."), goes with the
    sentence after it: a heading alone names the answer's clause but says nothing of it."""
    texts = [span.text for span in split_sentences(hit.passage.text)]
    heading = " ".join(hit.passage.section.rsplit(" > ", 1)[-1].split())
    joined, taken = "", 0  # "2." and "Grant of Copyright License." are split apart
    while heading and taken < len(texts) and len(joined) < len(heading):
        joined = " ".join(f"{joined} {texts[taken]}".split())
        taken += 1
    if heading and joined == heading and taken < len(texts):
        texts = [f"{joined} {texts[taken]}", *texts[taken + 1:]]
    return texts


def candidates(hits: Sequence[Hit]) -> list[tuple[int, str, int]]:
    """(passage index, text, sentences) of every one- and two-sentence window, lines of dot
    leaders left out."""
    found = []
    for i, hit in enumerate(hits):
        texts = _sentences(hit)
        leaders = [bool(_LEADERS.search(text)) for text in texts]
        for j, text in enumerate(texts):
            if leaders[j]:
                continue
            found.append((i, text, 1))
            if j + 1 < len(texts) and not leaders[j + 1]:
                pair = f"{text} {texts[j + 1]}"
                if len(pair) <= LONG_QUOTE:
                    found.append((i, pair, 2))
    return found


def pick_quote(question: str, hits: Sequence[Hit], embedder: Embedder,
               weights: QuoteWeights = DEFAULT_WEIGHTS) -> Quote | None:
    if not hits:
        return None
    found = candidates(hits)
    if not found:
        return None
    vectors = embedder.embed([question, *(text for _, text, _ in found)])
    question_vector = vectors[0]
    asked = set(content_words(question))
    words_of = [set(content_words(text)) for _, text, _ in found]
    df: Counter[str] = Counter()
    for words in words_of:
        df.update(words & asked)
    idf = {w: math.log((1 + len(found)) / (1 + df[w])) + 1.0 for w in asked}
    total = sum(idf.values()) or 1.0
    best_score = max(h.score for h in hits) or 1.0
    wanted = wanted_answers(question)
    best: tuple[float, int, str] | None = None
    for (i, text, size), vector, words in zip(found, vectors[1:], words_of, strict=True):
        cosine = sum(a * b for a, b in zip(question_vector, vector, strict=True))
        coverage = sum(idf[w] for w in words & asked) / total
        value = (weights.cosine * cosine + weights.words * coverage
                 + weights.rank * hits[i].score / best_score)
        if i == 0:
            value += weights.first_passage
        if size == 2:
            value += weights.two_sentences
        if wanted and holds_answer(text, wanted):
            value += weights.answer
        if best is None or value > best[0]:
            best = (value, i, text)
    assert best is not None
    return Quote(best[2], hits[best[1]])
