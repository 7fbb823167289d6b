"""Hybrid retrieval: vector and keyword evidence combined into one score per passage.

Embeddings find passages that mean the same thing in other words; BM25 finds the exact terms,
section numbers and doses that embeddings blur. Each side proposes candidates; every candidate
is described by named features and scored by one configuration of weights (rag/scoring.py).
A question that names a document ("under GPLv2", "in the MSA"; rag/document_names.py) adds that
document's own best passages to the candidates from both sides, and the keyword side searches
without the naming words and without the words that ask ("what happens", "how long").

How each weight and feature was chosen, with the figures of the day: docs/RETRIEVAL.md. Today's
figures on every question set: docs/retrieval-results.json (``python -m bench.retrieval_quality``).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence, Set
from dataclasses import dataclass, replace
from typing import Literal, TypeVar

from rag.answer_types import holds_answer, wanted_answers
from rag.document_names import DocumentNames
from rag.keyword_index import is_stopword, query_terms
from rag.passage_vectors import blended_similarity
from rag.retrieval_types import Hit, KeywordStore, VectorHit, VectorStore
from rag.scoring import DEFAULT_SCORING, Features, Scoring, score, shortness

Mode = Literal["hybrid", "vector", "keyword"]
MODES: tuple[Mode, ...] = ("hybrid", "vector", "keyword")

# How many candidates each side contributes before they are combined.
CANDIDATES = DEFAULT_SCORING.candidates

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
            named: Set[str] = frozenset(), scoring: Scoring = DEFAULT_SCORING,
            rare_terms: Sequence[str] = (), query_words: int = 0) -> list[Hit]:
    """One score per candidate passage from its features (rag/scoring.py); passages of the
    documents the question names (``named``, content hashes) have ``names_document``. Each hit
    carries its features, for ``enclave search --explain``."""
    cosine = {h.passage.passage_id: h.score for h in by_vector}
    bm25 = {h.passage.passage_id: h.score for h in by_keyword}
    passages = {h.passage.passage_id: h for h in [*by_keyword, *by_vector]}
    references = section_references(query)
    answers = wanted_answers(query)
    scored = []
    for pid, hit in passages.items():
        features = Features(
            cosine=cosine.get(pid), bm25=bm25.get(pid),
            names_document=hit.passage.doc_sha256 in named,
            cites_reference=bool(references) and _cites_reference(hit, references),
            holds_answer=bool(answers) and holds_answer(hit.passage.text, answers),
            short=shortness(hit.passage.text, scoring),
            rare=_rare_share(hit, rare_terms, query_words, scoring))
        scored.append(replace(hit, score=score(features, scoring), features=features))
    scored.sort(key=lambda h: h.score, reverse=True)
    return scored[:top_k]


def _rare_share(hit: Hit, rare_terms: Sequence[str], query_words: int,
                scoring: Scoring = DEFAULT_SCORING) -> float:
    """The share of the question's words that are rare and in this passage; 0 unless the rare
    words are the question's main part (a name or a number looked up, not one unusual word in
    a long question, which BM25 already weighs)."""
    if not rare_terms or not query_words or len(rare_terms) / query_words < scoring.rare_main:
        return 0.0
    words = set(_WORD.findall(f"{hit.passage.title} {hit.passage.text}".lower()))
    return min(1.0, sum(1 for t in rare_terms if t in words) / query_words)


def keyword_query(query: str) -> str:
    """The question without its asking words, for BM25; an all-asking question stays whole."""
    stripped = _ASKING.sub(" ", query)
    return stripped if query_terms(stripped) else query


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


def keyword_candidates(plan: QueryPlan, keywords: KeywordStore, collection_id: str) -> list[Hit]:
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
         by_keyword: Sequence[Hit], rare_terms: Sequence[str] = ()) -> Retrieval:
    """The passages that best answer the question, from both sides' candidates. The sides are
    independent of each other: rag.library runs the keyword side on its own thread."""
    if plan.mode == "vector":
        return Retrieval(list(by_vector[:plan.top_k]), best_similarity)
    if plan.mode == "keyword":
        ranked = sorted(by_keyword, key=lambda h: h.score, reverse=True)
        return Retrieval(ranked[:plan.top_k], best_similarity)
    return Retrieval(combine(by_vector, by_keyword, plan.query, plan.top_k, plan.named,
                             rare_terms=rare_terms,
                             query_words=len(query_terms(plan.keyword_text))),
                     best_similarity)


_H = TypeVar("_H", Hit, VectorHit)


def _unique(hits: Iterable[_H]) -> list[_H]:
    """Each passage once, at its first place."""
    seen: dict[str, _H] = {}
    for hit in hits:
        seen.setdefault(hit.passage.passage_id, hit)
    return list(seen.values())
