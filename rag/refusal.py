"""Whether the retrieved passages can answer a question at all, or grounded mode should refuse.

The first rule refused only when no passage's embedding came within ``relevance_threshold`` of
the question's. A question in the collection's own vocabulary clears that bar without its
answer being there: "What is the limitation period for a clinical negligence claim in England?"
against licence texts scores 0.41 (the licences say "limitation" and "negligence") and got
invented law with five unrelated sources.

So a second piece of evidence is asked for, the way a reader would check: what the question is
about must be in the passages. When the best passage's hybrid score (vector and keyword side
together, rag/scoring.py) is weak, under ``threshold + WEAK_MARGIN``, and fewer than
``MIN_WORDS_FOUND`` of the question's content words (stopwords and asking words dropped,
crudely stemmed) are in any retrieved passage, the match is carried by a couple of shared words
and the question is refused. A strong match, or one that holds most of the question's words,
is answered as before; and below the threshold itself it refuses, as before, so the setting
keeps its meaning (higher refuses more often).

Measured on three real collections by ``python -m bench.refusal`` (refusal rate on questions
whose answer is not in the collection, and on answerable ones, before and after). NOT YET USED
by rag/assistant.py: at these constants it refuses 24 of 45 absent-answer questions (6+5 before)
for one answerable one, but not the limitation-period question itself (3 of its 6 words are in
the licences); a share of 0.5 catches it but refuses 5 answerable system-docs questions.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from rag.retrieval_types import Hit
from rag.retrieve import Retrieval, keyword_query
from rag.sentences import content_words

WEAK_MARGIN = 0.2  # a best hybrid score under threshold + this is weak evidence
MIN_WORDS_FOUND = 0.4  # a weak match must hold at least this share of the question
_PART_OF = 5  # a question word this long also matches inside a longer one ("uninitialised")


@dataclass(frozen=True)
class RefusalEvidence:
    """What the decision is made from, for one question (``bench.refusal --show`` prints it)."""

    best_similarity: float  # the best whole-passage cosine (the first rule's only evidence)
    top_score: float  # the best-ranked passage's hybrid score
    words: tuple[str, ...]  # the question's content words, stemmed
    missing: tuple[str, ...]  # those in none of the retrieved passages

    @property
    def words_found(self) -> float:
        """The share of the question's words that some retrieved passage holds."""
        return 1.0 - len(self.missing) / len(self.words) if self.words else 1.0


def question_words(question: str) -> tuple[str, ...]:
    """The words of ``question`` that say what it is about, each once."""
    return tuple(dict.fromkeys(content_words(keyword_query(question))))


def _held(word: str, vocabulary: set[str]) -> bool:
    return word in vocabulary or (len(word) >= _PART_OF and any(word in v for v in vocabulary))


def weigh(question: str, retrieval: Retrieval) -> RefusalEvidence:
    """The evidence on ``question`` in what was retrieved for it."""
    hits: Sequence[Hit] = retrieval.hits
    words = question_words(question)
    vocabulary = {w for h in hits
                  for w in content_words(f"{h.passage.title} {h.passage.section} "
                                         f"{h.passage.text}")}
    return RefusalEvidence(
        best_similarity=retrieval.best_similarity,
        top_score=hits[0].score if hits else 0.0,
        words=words,
        missing=tuple(w for w in words if not _held(w, vocabulary)),
    )


def refuses_before(evidence: RefusalEvidence, threshold: float) -> bool:
    """The first rule: no passage's embedding within ``threshold`` of the question's."""
    return evidence.best_similarity < threshold


def refuses(evidence: RefusalEvidence, threshold: float, margin: float = WEAK_MARGIN,
            words_found: float = MIN_WORDS_FOUND) -> bool:
    """Today's rule: the first one, or a weak match that misses most of the question."""
    return refuses_before(evidence, threshold) or (
        evidence.top_score < threshold + margin and evidence.words_found < words_found)
