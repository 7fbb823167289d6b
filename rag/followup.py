"""Follow-up questions searched with their conversation: "and what about version 2?" alone names
nothing; after "How long is the written offer valid under the GPL version 3?" it means the GPL
version 2's written offer.

The rewrite is deterministic (a 135M model cannot be trusted to rewrite a question): a question
that leans on the previous turn (it opens like a follow-up, "and", "what about", "also", points
back with "it", "that", "the same", "the other one", or is too short to stand alone) is searched
together with the previous question. Words of the previous question that named a document or
a version give way when the follow-up names its own ("version 2", "the Lesser one", "MPL"), so
"GPL version 3" plus "and in version 2?" searches the GPL version 2. The question shown to the
model is the person's own; only retrieval sees the expanded text.

The expanded text alone would let the previous question outweigh the new one ("And what is the
rent?" after a question about notice finds the notice clause first), so a follow-up is searched
twice, expanded and as asked: what it finds as asked comes first where it scores above the best
of the expanded search (``search_follow_up``). Measured on tests/rag/data/followups-qa.jsonl:
hit@5 alone 72.5%, expanded 97.5%, asked in full 100%; the lease follow-up is
tests/desktop/cli/test_cli_rag.py.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence

from models.chat_model import ChatMessage
from rag.keyword_index import query_terms
from rag.retrieve import Retrieval

_OPENS_LIKE_FOLLOW_UP = re.compile(
    r"^\s*(?:and|but|also|so|or|then|what about|how about|and what|what if|same|instead"
    r"|does (?:it|that|this)|is (?:it|that|this)|can (?:it|i)|do (?:they|i)|why|which one)\b",
    re.IGNORECASE)
_POINTS_BACK = re.compile(
    r"\b(?:it|its|that|this|they|them|their|those|these|there|the same|the other|the former"
    r"|the latter|the older|the newer|the earlier|the later|one|such|above|previous)\b",
    re.IGNORECASE)
# Words that name a document or its version: the follow-up's own replace the previous turn's.
_VERSION = re.compile(r"\b(?:version|v|ver|rev|release)\.?\s*\d+(?:\.\d+)*\b|\b\d+(?:\.\d+)+\b",
                      re.IGNORECASE)
# "the newer version", "the one before it", "the previous licence": the previous turn's version
# no longer holds; the collection says which version comes before or after it.
_OLDER = re.compile(r"\b(?:older|previous|earlier|prior|former|before)\b", re.IGNORECASE)
_NEWER = re.compile(r"\b(?:newer|later|next|latest|after|subsequent)\b", re.IGNORECASE)
STANDALONE_TERMS = 5  # a question with at least this many content words may stand alone


def previous_question(history: Sequence[ChatMessage]) -> str | None:
    for message in reversed(history):
        if message.role == "user" and message.content.strip():
            return message.content.strip()
    return None


def is_follow_up(question: str) -> bool:
    terms = query_terms(question)
    return (bool(_OPENS_LIKE_FOLLOW_UP.search(question)) or len(terms) < STANDALONE_TERMS
            or (bool(_POINTS_BACK.search(question)) and len(terms) < STANDALONE_TERMS + 3))


def retrieval_query(question: str, history: Sequence[ChatMessage],
                    neighbour: Callable[[str, int], str | None] | None = None) -> str:
    """What to search for ``question`` asked after ``history``. ``neighbour(text, step)``
    gives the version before (-1) or after (+1) the one ``text`` names, in the collection."""
    previous = previous_question(history)
    if previous is None or not is_follow_up(question):
        return question
    context = previous
    step = -1 if _OLDER.search(question) else 1 if _NEWER.search(question) else 0
    if _VERSION.search(question):
        context = _VERSION.sub(" ", context)  # the follow-up's own version wins
    elif step:
        other = neighbour(previous, step) if neighbour is not None else None
        context = _VERSION.sub(" ", context)
        if other is not None:
            context += f" version {other}"
    return f"{question} {' '.join(context.split())}"


def search_follow_up(retrieve: Callable[[str, int], Retrieval], question: str, query: str,
                     top_k: int) -> Retrieval:
    """``retrieve(text, k)`` for ``query``, the text ``retrieval_query`` made of ``question``;
    when that is a follow-up's expanded text, the passages that the follow-up as asked finds
    with a higher score than the expanded text's best come first."""
    if query == question:
        return retrieve(query, top_k)
    expanded = retrieve(query, top_k)
    asked = retrieve(question, top_k)
    bar = expanded.hits[0].score if expanded.hits else 0.0
    first = [h for h in asked.hits if h.score > bar]
    seen = {h.passage.passage_id for h in first}
    hits = first + [h for h in expanded.hits if h.passage.passage_id not in seen]
    return Retrieval(hits[:top_k], max(expanded.best_similarity, asked.best_similarity))
