"""Hybrid retrieval: vector and keyword evidence combined into one score per passage.

Embeddings find passages that mean the same thing in other words; BM25 finds the exact terms,
section numbers and doses that embeddings blur. Each passage found by either side gets

    score = 0.7 * cosine similarity + 0.3 * bm25 / (bm25 + 30) + bonuses

so a weak keyword match (one common word) barely moves the ranking while a strong one (a
section number, a dose, a rare term) does. Measured with ``enclave eval`` on the question sets of
tests/rag/corpus.py (69 questions in the documents' terms / 32 in other words; hit@1, hit@5):
vector alone 78%/91% and 69%/97%; BM25 alone 88%/99% and 41%/66%; reciprocal rank fusion
(K=60) 84%/99% and 50%/88%; this 90%/100% and 59%/97%. RRF gave a weak keyword ranking as much
say as a strong one. On 16 questions over real licence texts (GPL-2/3, LGPL-2.1/3, Apache-2.0,
MPL-2.0) a vector weight of 0.6 did best (75%/100%), on the paraphrased set 0.85 (72%/97%);
0.6 to 0.75 tie over all three sets, and 0.7 sits between.

A passage that a clause or section number in the question points at ("clause 4.3") gets a
bonus: BM25 finds it, but a bare reference has too few words to outweigh the embeddings. Scores
lie in [0, 1]; higher is better and they compare across queries.

A question that names a document ("under GPLv2", "the Mozilla licence 2.0", "in the MSA";
rag/document_names.py) gets that document's own best passages added to the candidates, from
both sides, and NAME_BONUS on each of its passages; the keyword side then searches without the
naming words, which every passage of that document shares in its title. The vector side scores a
passage by its whole text and its best window of a few sentences (rag/passage_vectors.py). A
passage that holds the kind of answer asked for (a duration, a date, an amount, a dose, a rate;
rag/answer_types.py) gets ANSWER_BONUS. Measured with ``enclave eval`` (tests/rag/data/README.md),
hit@1 / hit@5 before and after these three:

    60 questions over 13 real licence texts (near-duplicate versions)  66.7/93.3 -> 83.3/98.3
    60 questions over four technical documents (PDF, HTML)              81.7/96.7 -> 83.3/96.7
    16 questions over six licence texts                                 75.0/100  -> 81.2/100
    10 more over the same, written after the earlier tuning             60.0/90.0 -> 60.0/100
    69 questions on the generated corpus, in the documents' words       89.9/100  -> 91.3/100
    32 on the same corpus, in other words                               68.8/96.9 -> 71.9/96.9

(The technical documents also gained from HTML loading fixes.) Measured and not kept: the
question without its naming words on the vector side too (worse on five sets), a window-level
BM25 (licences +5 points, paraphrased questions -16), a penalty for passages close to their
document's centroid (preambles; no gain), weights learned by logistic regression over these
features (worse when tested on a set it was not trained on).

A passage shorter than ``SHORT_PASSAGE`` characters (a title page, a letterhead, a heading with
one line under it) loses up to ``SHORT_PENALTY``: it shares the document's name and topic words
with every question about that document, so both sides rank it high without it answering
anything. Tuned on the paraphrased set (hit@1 59% -> 66%; any length from 150 to 300 and
penalty from 0.05 to 0.2 gives the same), confirmed on the real licence texts (69% -> 75%) and
unchanged on the set in the documents' words (90%). Also measured and not kept: min-max or
z-score normalisation of both sides per query (worse everywhere), weighted RRF (better on the
licences, 47% on the paraphrased set), a neighbour bonus (no gain), embedding long passages as
overlapping windows (only 3 of 222 passages exceed the model's 256 word pieces; no change), and
embedding the text without its "title > section" line (+3 questions paraphrased, -2 in the
documents' words).

The keyword side does not see the words that ask rather than name ("what happens", "how long",
"does it say", "according to"): BM25 would reward a passage for "long" or "happens" in passing.
Paraphrased set 66% -> 69%, the other sets unchanged.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence, Set
from dataclasses import dataclass, replace
from typing import Literal, TypeVar

from rag.answer_types import holds_answer, wanted_answers
from rag.document_names import DocumentNames
from rag.keyword_index import KeywordIndex, is_stopword, query_terms
from rag.passage_vectors import blended_similarity
from rag.retrieval_types import Hit, VectorHit, VectorStore

Mode = Literal["hybrid", "vector", "keyword"]
MODES: tuple[Mode, ...] = ("hybrid", "vector", "keyword")

VECTOR_WEIGHT = 0.7
BM25_HALF = 30.0  # the BM25 score that counts as half of a perfect keyword match
NAME_BONUS = 0.2
REFERENCE_BONUS = 0.15
ANSWER_BONUS = 0.04  # a passage holding the kind of answer asked for (rag/answer_types.py)
SHORT_PASSAGE = 200  # characters
SHORT_PENALTY = 0.1
# How many candidates each side contributes before they are combined.
CANDIDATES = 50

_WORD = re.compile(r"[^\W_]+")
# Words of a question's framing, not of its subject (the keyword index drops the usual stopwords).
_ASKING_WORDS = ("happens|happen|tell|say|says|said|mean|means|meaning|much|many|long|get|gets"
                 "|give|need|needs|allowed|allow|allows|according|document|documents|state"
                 "|states|stated|explain|describe")
# Standalone only: "long-term" and "Allow-list" keep their words.
_ASKING = re.compile(rf"(?<![\w-])(?:{_ASKING_WORDS})(?![\w-])", re.IGNORECASE)
# Clause and section numbers a question points at: "clause 4.3", "section 7", "§ 3", "4.2".
_REFERENCE_WORDS = "clause|section|article|paragraph|schedule|annex|part|§"
_REFERENCE = re.compile(rf"(?:{_REFERENCE_WORDS})\.?\s*(\d{{1,3}}(?:\.\d{{1,3}})*[a-z]?)\b"
                        rf"|\b(\d{{1,3}}(?:\.\d{{1,3}})+)\b(?!\s*(?:mg|g|ml|mcg|kg|%))",
                        re.IGNORECASE)
_REFERENCE_WORD_SET = frozenset(_REFERENCE_WORDS.split("|"))
_AFTER_VERSION_WORD = re.compile(r"(?:version|ver|v|revision|rev|release)\.?\s*$", re.IGNORECASE)


@dataclass(frozen=True)
class Retrieval:
    hits: list[Hit]
    # The best cosine similarity between the question and any passage: how relevant the
    # collection is to the question at all (grounded mode refuses below a threshold).
    best_similarity: float


def combine(by_vector: Sequence[Hit], by_keyword: Sequence[Hit], query: str, top_k: int,
            named: Set[str] = frozenset()) -> list[Hit]:
    """One score per candidate passage from its vector similarity and its BM25 score; passages
    of the documents the question names (``named``, content hashes) get NAME_BONUS."""
    cosine = {h.passage.passage_id: h.score for h in by_vector}
    bm25 = {h.passage.passage_id: h.score for h in by_keyword}
    passages = {h.passage.passage_id: h for h in [*by_keyword, *by_vector]}
    references = section_references(query)
    answers = wanted_answers(query)
    scored = []
    for pid, hit in passages.items():
        keyword = bm25.get(pid, 0.0)
        score = (VECTOR_WEIGHT * max(cosine.get(pid, 0.0), 0.0)
                 + (1 - VECTOR_WEIGHT) * keyword / (keyword + BM25_HALF))
        if hit.passage.doc_sha256 in named:
            score += NAME_BONUS
        if references and _cites_reference(hit, references):
            score += REFERENCE_BONUS
        if answers and holds_answer(hit.passage.text, answers):
            score += ANSWER_BONUS
        score -= short_passage_penalty(hit.passage.text)
        scored.append(replace(hit, score=min(max(score, 0.0), 1.0)))
    scored.sort(key=lambda h: h.score, reverse=True)
    return scored[:top_k]


def keyword_query(query: str) -> str:
    """The question without its asking words, for BM25; an all-asking question stays whole."""
    stripped = _ASKING.sub(" ", query)
    return stripped if query_terms(stripped) else query


def short_passage_penalty(text: str) -> float:
    """Up to SHORT_PENALTY for a passage too short to answer much: 0 at SHORT_PASSAGE
    characters and longer, growing linearly as the passage gets shorter."""
    return SHORT_PENALTY * max(0.0, 1.0 - len(text) / SHORT_PASSAGE)


def section_references(query: str) -> set[str]:
    """Clause or section numbers a question names: "4.2", "clause 7", "section 11", "§ 3"."""
    found = set()
    for match in _REFERENCE.finditer(query):
        if match.group(2) and _names_a_version(query[:match.start()]):
            continue  # "version 2.0", "LGPL 2.1" name versions, not sections
        found.add(match.group(1) or match.group(2))
    return found


def _names_a_version(before: str) -> bool:
    """Whether the word before a bare dotted number makes it a version: "version 2.0", "LGPL
    2.1", "Python 3.11"; but "under 4.2", "does 4.2 say", "4.2" alone stay references."""
    words = _WORD.findall(before[-40:])
    if not words:
        return False
    last = words[-1]
    return bool(_AFTER_VERSION_WORD.search(before)) or (
        last.isalpha() and not is_stopword(last) and last.lower() not in _REFERENCE_WORD_SET)


def _cites_reference(hit: Hit, references: set[str]) -> bool:
    p = hit.passage
    for ref in references:
        # A heading, a line or a sentence that starts with the number: "4.2 Notice",
        # "Clause 7 Fees"; not "4.2.1", and not a cross-reference inside a sentence.
        pattern = re.compile(rf"(?:^|\n|> |[.;:]\s+)\s*(?:(?:{_REFERENCE_WORDS})\.?\s*)?"
                             rf"{re.escape(ref)}(?![.\d]\d)\b", re.IGNORECASE)
        if pattern.search(p.section) or pattern.search(p.text):
            return True
    return False


@dataclass(frozen=True)
class QueryPlan:
    """What both sides of a search need to know about the question before either runs."""

    query: str
    top_k: int
    mode: Mode
    depth: int  # candidates each side contributes
    named: frozenset[str]  # content hashes of the documents the question names
    keyword_text: str  # what BM25 searches: without asking words or naming words


def plan_query(query: str, top_k: int, mode: Mode = "hybrid",
               names: DocumentNames | None = None) -> QueryPlan:
    named = frozenset(names.named_by(query)) if names is not None and mode != "vector" else (
        frozenset())
    keyword_text = keyword_query(names.without_names(query, named) if names is not None
                                 else query)
    return QueryPlan(query, top_k, mode, max(CANDIDATES, top_k), named, keyword_text)


def keyword_candidates(plan: QueryPlan, keywords: KeywordIndex, collection_id: str) -> list[Hit]:
    """The keyword side: BM25's best passages, and the named documents' own best ones."""
    if plan.mode == "vector":
        return []
    found = [Hit(h.passage, h.score)
             for h in keywords.search(collection_id, plan.keyword_text, plan.depth)]
    if plan.named:
        found = _unique([*found, *(Hit(h.passage, h.score) for h in keywords.search(
            collection_id, plan.keyword_text, plan.depth, plan.named))])
    return found


def vector_candidates(plan: QueryPlan, query_embedding: Sequence[float] | None,
                      vectors: VectorStore) -> tuple[list[Hit], float]:
    """The vector side, best first, and the best whole-passage cosine (grounded mode's
    threshold is on whole passages, as it was tuned)."""
    if plan.mode == "keyword" or query_embedding is None:
        return [], 0.0
    found = vectors.query(query_embedding, plan.depth)
    if plan.named:
        # The named document's best passages, even where other documents crowd it out of the
        # collection-wide candidates.
        found = _unique([*found, *vectors.query(query_embedding, plan.depth, plan.named)])
    best = max((h.similarity for h in found), default=0.0)
    hits = [Hit(h.passage, blended_similarity(h.similarity, h.best_window)) for h in found]
    hits.sort(key=lambda h: h.score, reverse=True)
    return hits, best


def fuse(plan: QueryPlan, by_vector: Sequence[Hit], best_similarity: float,
         by_keyword: Sequence[Hit]) -> Retrieval:
    """The passages that best answer the question, from both sides' candidates. The sides are
    independent of each other: rag.library runs the keyword side on its own thread."""
    if plan.mode == "vector":
        return Retrieval(list(by_vector[:plan.top_k]), best_similarity)
    if plan.mode == "keyword":
        ranked = sorted(by_keyword, key=lambda h: h.score, reverse=True)
        return Retrieval(ranked[:plan.top_k], best_similarity)
    return Retrieval(combine(by_vector, by_keyword, plan.query, plan.top_k, plan.named),
                     best_similarity)


_H = TypeVar("_H", Hit, VectorHit)


def _unique(hits: Iterable[_H]) -> list[_H]:
    """Each passage once, at its first place."""
    seen: dict[str, _H] = {}
    for hit in hits:
        seen.setdefault(hit.passage.passage_id, hit)
    return list(seen.values())
