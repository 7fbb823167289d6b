"""The assistant: from a question to a grounded prompt, and from an answer to its citations.

It never runs the model: the caller streams the prepared messages through the model thread,
so the GUI and the CLI share this logic and the model stays on its own thread.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from models.chat_model import ChatMessage
from rag.catalog import CollectionError
from rag.followup import retrieval_query, search_follow_up
from rag.library import Library
from rag.prompting import cited_numbers, system_message, user_message
from rag.quote import pick_quote
from rag.refusal import refuses, weigh
from rag.retrieval_types import Hit
from rag.services import PreparedQuestion
from rag.support import SentenceCheck, check_answer

# Tokens of the prompt template and the model's own framing, kept free when fitting.
TEMPLATE_MARGIN = 64
# An answer that cites no passage is credited to the passages scoring within this much of the
# best one. Hybrid scores compare across queries: on the evaluation corpus the passages that
# answer a question sit within 0.05 of each other, and the first unrelated passage 0.1 to 0.2
# below the best (a discharge summary under a contract question).
CITATION_MARGIN = 0.1


def estimate_tokens(text: str) -> int:
    """A cautious token count (about 3.5 characters a token for English with a BPE vocabulary);
    the model trims again with its real tokenizer if this falls short."""
    return len(text) * 2 // 7 + 4


@dataclass(frozen=True)
class AssistantOptions:
    collection: str = "default"
    top_k: int = 5
    relevance_threshold: float = 0.25
    context_size: int = 4096
    answer_tokens: int = 512


class Assistant:
    """Implements rag.services.AssistantService over a Library."""

    def __init__(self, library: Library, options: AssistantOptions = AssistantOptions(),
                 count_tokens: Callable[[str], int] = estimate_tokens) -> None:
        self._library = library
        self._options = options
        self._count = count_tokens

    def refusal_for(self, collection: str) -> str:
        return f"I could not find this in your documents (collection {collection})."

    def empty_collection(self, collection: str) -> str:
        return (f"There are no documents in the collection “{collection}” yet. Add documents "
                "first, or ask without documents.")

    def prepare(self, question: str, collection: str | None,
                history: Sequence[ChatMessage] = (), instructions: str | None = None,
                ) -> PreparedQuestion:
        """The grounded prompt for ``question``, or a refusal when nothing relevant enough was
        found (whether to refuse or to ask the model alone is the caller's policy)."""
        name = collection or self._options.collection
        query = retrieval_query(question, history, lambda text, step:
                                self._library.neighbour_version(name, text, step))
        try:
            found = search_follow_up(lambda text, k: self._library.retrieve(text, name, k),
                                     question, query, self._options.top_k)
        except CollectionError:  # a collection with nothing in it yet: nothing can be found
            return PreparedQuestion([], [], refused=True, refusal=self.empty_collection(name))
        hits = found.hits
        if not hits:
            return PreparedQuestion([], [], refused=True, refusal=self.empty_collection(name)
                                    if not self._library.documents(name) else
                                    self.refusal_for(name))
        if refuses(weigh(query, found), self._options.relevance_threshold):
            # No passage close enough, or a weak match carried by a couple of shared words
            # (rag/refusal.py): the answer is not in these documents, so none is made up.
            return PreparedQuestion([], [], refused=True, refusal=self.refusal_for(name))
        system = system_message(instructions)
        budget = self._options.context_size - self._options.answer_tokens - TEMPLATE_MARGIN
        kept_history = list(history)
        while True:
            messages = [system, *kept_history, user_message(question, hits)]
            used = sum(self._count(m.content) + 4 for m in messages)
            if used <= budget:
                break
            if kept_history:  # the oldest turns go first: the passages matter more
                kept_history.pop(0)
            elif len(hits) > 1:  # then the lowest-ranked passages, whole
                hits = hits[:-1]
            else:
                break  # one passage and the question: the model trims the rest
        quote = pick_quote(query, hits, self._library.embedder)
        return PreparedQuestion(messages, list(hits), refused=False, quote=quote,
                                search_query=query)

    def check(self, prepared: PreparedQuestion, answer: str,
              cited: Sequence[Hit]) -> list[SentenceCheck]:
        """Each sentence of ``answer`` against the passages it cites (all it was given when it
        cites none): rag/support.py."""
        return check_answer(answer, list(cited) or prepared.hits, self._library.embedder,
                            question=prepared.search_query)

    def citations(self, prepared: PreparedQuestion, answer: str) -> list[Hit]:
        numbers = cited_numbers(answer, len(prepared.hits))
        if numbers:
            return [prepared.hits[n - 1] for n in numbers]
        return relevant_hits(prepared.hits)


def relevant_hits(hits: Sequence[Hit], margin: float = CITATION_MARGIN) -> list[Hit]:
    """The best hit and those scoring within ``margin`` of it, in rank order: what an answer
    without citation markers most likely drew on."""
    if not hits:
        return []
    best = max(h.score for h in hits)
    return [h for h in hits if h.score >= best - margin]
