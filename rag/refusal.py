"""Whether the retrieved passages can answer a question at all, or grounded mode should refuse.

The first rule refused only when no passage's embedding came within ``relevance_threshold`` of
the question's. A question in the collection's own vocabulary clears that bar without its
answer being there: "What is the limitation period for a clinical negligence claim in England?"
against licence texts scores 0.41 (the licences say "limitation" and "negligence") and got
invented law with five unrelated sources.

So a second piece of evidence is asked for, the way a reader would check: what the question is
about must be in the passages. When the best passage's hybrid score (vector and keyword side
together, rag/scoring.py) is weak, under ``threshold + WEAK_MARGIN``, and fewer than
``MIN_WORDS_FOUND`` of the question's content words (stopwords, asking and framing words
dropped, crudely stemmed) are in the retrieved passages, or fewer than ``MIN_ONE_PASSAGE`` in
any one of them, the match is carried by a couple of shared words and the question is refused.
A strong match, or one that holds most of the question's words, is answered as before; and
below the threshold itself it refuses, as before, so the setting keeps its meaning (higher
refuses more often).

Measured on three real collections by ``python -m bench.refusal --sweep`` (refusal rate on
questions whose answer is not in the collection, and on answerable ones, before and after):
absent answers refused 6/32 before, 17/32 now; the 13 held out while the constants were chosen
5/13 before, 9/13 now; answerable questions refused 0/180 before and now. The constants are
the sweep's best on the questions not held out (most absent ones refused, no answerable one).
The limitation-period question above is refused (one passage holds 2 of its 6 words).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from rag.retrieval_types import Hit
from rag.retrieve import Retrieval, keyword_query
from rag.sentences import content_words, stem

WEAK_MARGIN = 0.15  # a best hybrid score under threshold + this is weak evidence
MIN_WORDS_FOUND = 0.45  # a weak match must hold at least this share of the question ...
MIN_ONE_PASSAGE = 0.4  # ... and one passage alone at least this share
# Words that frame a question rather than say what it is about ("how can I find out where ...
# actually came from"): they are in no passage of an answerable question either, so they are
# not counted.
_FRAMING = frozenset(stem(w) for w in """
find out actually instead came come comes just really also still want wants know able possible
ever else something anything someone us am got isn't hasn't anymore like some several once use
uses used using make put set turn write sure way ways thing things
""".split())  # noqa: SIM905 (a word list reads better as text)
_PART_OF = 5  # a question word this long also matches inside a longer one ("uninitialised")


@dataclass(frozen=True)
class RefusalEvidence:
    """What the decision is made from, for one question (``bench.refusal --show`` prints it)."""

    best_similarity: float  # the best whole-passage cosine (the first rule's only evidence)
    top_score: float  # the best-ranked passage's hybrid score
    words: tuple[str, ...]  # the question's content words, stemmed
    missing: tuple[str, ...]  # those in none of the retrieved passages
    best_passage: float = 1.0  # the largest share of those words that one passage holds alone

    @property
    def words_found(self) -> float:
        """The share of the question's words that some retrieved passage holds."""
        return 1.0 - len(self.missing) / len(self.words) if self.words else 1.0


def question_words(question: str) -> tuple[str, ...]:
    """The words of ``question`` that say what it is about, each once."""
    return tuple(dict.fromkeys(w for w in content_words(keyword_query(question))
                               if w not in _FRAMING))


def _held(word: str, vocabulary: set[str]) -> bool:
    return word in vocabulary or (len(word) >= _PART_OF and any(word in v for v in vocabulary))


def weigh(question: str, retrieval: Retrieval) -> RefusalEvidence:
    """The evidence on ``question`` in what was retrieved for it."""
    hits: Sequence[Hit] = retrieval.hits
    words = question_words(question)
    per_passage = [set(content_words(f"{h.passage.title} {h.passage.section} "
                                     f"{h.passage.text}")) for h in hits]
    vocabulary = set().union(*per_passage)
    best_passage = max((sum(_held(w, own) for w in words) / len(words)
                        for own in per_passage), default=0.0) if words else 1.0
    return RefusalEvidence(
        best_similarity=retrieval.best_similarity,
        top_score=hits[0].score if hits else 0.0,
        words=words,
        missing=tuple(w for w in words if not _held(w, vocabulary)),
        best_passage=best_passage,
    )


def refuses_before(evidence: RefusalEvidence, threshold: float) -> bool:
    """The first rule: no passage's embedding within ``threshold`` of the question's."""
    return evidence.best_similarity < threshold


def refuses(evidence: RefusalEvidence, threshold: float, margin: float = WEAK_MARGIN,
            words_found: float = MIN_WORDS_FOUND, one_passage: float = MIN_ONE_PASSAGE) -> bool:
    """Today's rule: the first one, or a weak match that misses much of the question (in all
    the passages together, or in each one alone)."""
    return refuses_before(evidence, threshold) or (
        evidence.top_score < threshold + margin
        and (evidence.words_found < words_found or evidence.best_passage < one_passage))
