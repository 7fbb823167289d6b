"""Asking, once: the one use case the window and the CLI share, from a question to an answer.

``AskService.ask`` owns every step and every decision, so the two cannot drift apart:

1. the question goes to the audit log (``question``);
2. whether documents are used: a request that asks for them searches its collection; an empty
   or missing collection and a search that finds nothing relevant enough are refusals in
   grounded mode (the model is never called), and model-only answers, said so, when grounded
   mode is off; a request without documents (``--no-rag``, a conversation with none) asks the
   model alone;
3. the system prompt (rag/prompting.py) with the conversation's instructions, the history
   fitted beside the passages (rag/assistant.py);
4. the answer streamed on the model, with a cancel checked between tokens;
5. its citations, and the audit log's ``answer`` entry: what was cited, or why nothing was.

It yields events (``Searching``, ``Generating``, ``Token``, then ``Finished`` or ``Refused``);
the CLI prints them, the window's worker re-emits them as queued signals. The caller runs the
iteration on the thread that owns the model (models/model_thread.py). Qt-free.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from desktop.app.audit_events import AnswerGiven, AuditSink, QuestionAsked
from models.chat_model import Cancel, ChatMessage, ChatModel, GenerationStats
from rag.prompting import model_only_messages
from rag.quote import Quote
from rag.retrieval_types import Hit
from rag.services import AssistantService, PreparedQuestion
from rag.support import SentenceCheck

# A refusal never reaches the model: its stats are all zero.
NO_GENERATION = GenerationStats(prompt_tokens=0, completion_tokens=0, seconds=0.0,
                                time_to_first_token=0.0, tokens_per_second=0.0,
                                prompt_tokens_per_second=0.0)
MODEL_ONLY_NOTE = "Answered from the model alone, not from your documents."


@dataclass(frozen=True)
class AskRequest:
    question: str
    # Answer from a collection's documents (the default), or from the model alone.
    use_documents: bool = True
    collection: str | None = None  # None: the configured collection
    history: Sequence[ChatMessage] = ()  # earlier turns, oldest first
    instructions: str = ""  # the conversation's own instructions ("answer as for ...")
    max_tokens: int | None = None  # None: the configured longest answer
    conversation: int | None = None  # for the audit log
    interface: str = "cli"  # "cli" or "window", for the audit log


@dataclass(frozen=True)
class Answer:
    question: str
    text: str
    collection: str | None  # None: no collection was asked
    refused: bool
    model_only: bool  # the model answered without passages
    citations: list[Hit] = field(default_factory=list)
    given: list[Hit] = field(default_factory=list)  # the passages the model was given, [1]...
    stats: GenerationStats = NO_GENERATION
    note: str = ""  # a sentence for the person: why the model alone answered, ...
    quote: Quote | None = None  # the documents' own words, shown before the answer
    sentences: list[SentenceCheck] = field(default_factory=list)  # each checked

    @property
    def unsupported(self) -> list[SentenceCheck]:
        return [s for s in self.sentences if not s.supported]

    def citation_number(self, hit: Hit) -> int | None:
        """The [n] the prompt gave this passage."""
        return self.given.index(hit) + 1 if hit in self.given else None

    def to_json(self) -> dict[str, Any]:
        """The ``ask --json`` contract (PRODUCT.md)."""
        return {
            "answer": self.text,
            "citations": [dict(h.to_json(), n=self.citation_number(h)) for h in self.citations],
            "refused": self.refused,
            "model_only": self.model_only,
            "collection": self.collection,
            "note": self.note,
            "stats": self.stats.to_json(),
            "quote": self.quote.to_json() if self.quote is not None else None,
            "sentences": [{"text": c.text, "supported": c.supported,
                           "evidence": c.evidence.to_json() if c.evidence else None,
                           "reason": c.reason} for c in self.sentences],
        }


@dataclass(frozen=True)
class Searching:
    collection: str


@dataclass(frozen=True)
class Quoted:
    quote: Quote  # found before the model runs: shown at once


@dataclass(frozen=True)
class Generating:
    passages: list[Hit]  # what the model was given (empty for a model-only answer)


@dataclass(frozen=True)
class Token:
    text: str


@dataclass(frozen=True)
class Refused:
    answer: Answer


@dataclass(frozen=True)
class Finished:
    answer: Answer


AskEvent = Searching | Quoted | Generating | Token | Refused | Finished


class CollectionNames(Protocol):
    def collection_names(self) -> set[str]: ...


@dataclass(frozen=True)
class AskOptions:
    collection: str = "default"
    grounded: bool = True
    max_tokens: int = 512
    temperature: float = 0.2


class AskService:
    """One question at a time per caller; the assistant (retrieval and prompts) comes from
    ``assistant``, called only when documents are used (opening it loads the embedder)."""

    def __init__(self, assistant: Callable[[], AssistantService], audit: AuditSink,
                 options: AskOptions) -> None:
        self._assistant = assistant
        self._audit = audit
        self._options = options

    @property
    def options(self) -> AskOptions:
        return self._options

    def ask(self, request: AskRequest, model: ChatModel,
            cancel: Cancel | None = None) -> Iterator[AskEvent]:
        collection = (request.collection or self._options.collection) \
            if request.use_documents else None
        self._audit.record_event(QuestionAsked(
            question=request.question, collection=collection, documents=request.use_documents,
            conversation=request.conversation, interface=request.interface))
        if collection is None:
            yield from self._generate(request, model, cancel, None, None, note="")
            return
        yield Searching(collection)
        assistant = self._assistant()
        prepared = assistant.prepare(request.question, collection, request.history,
                                     request.instructions or None)
        if prepared.refused:
            if self._options.grounded:
                answer = Answer(request.question, prepared.refusal, collection, refused=True,
                                model_only=False)
                self._record_answer(request, answer)
                yield Refused(answer)
                return
            # Grounded mode off: nothing relevant, so the model answers alone, and says so.
            yield from self._generate(request, model, cancel, collection, None,
                                      note=MODEL_ONLY_NOTE)
            return
        if prepared.quote is not None:
            yield Quoted(prepared.quote)
        yield from self._generate(request, model, cancel, collection, (assistant, prepared),
                                  note="")

    def _generate(self, request: AskRequest, model: ChatModel, cancel: Cancel | None,
                  collection: str | None,
                  grounded: tuple[AssistantService, PreparedQuestion] | None,
                  note: str) -> Iterator[AskEvent]:
        if grounded is None:
            messages = model_only_messages(request.question, request.history,
                                           request.instructions)
            given: list[Hit] = []
        else:
            messages, given = grounded[1].messages, grounded[1].hits
        yield Generating(given)
        completion = model.chat(messages, max_tokens=request.max_tokens
                                or self._options.max_tokens,
                                temperature=self._options.temperature, cancel=cancel)
        pieces = []
        for piece in completion:
            pieces.append(piece)
            yield Token(piece)
        text = "".join(pieces)
        citations, quote, checks = [], None, []
        if grounded is not None:
            assistant, prepared = grounded
            citations = assistant.citations(prepared, text)
            quote = prepared.quote
            checks = assistant.check(prepared, text, citations)
        answer = Answer(request.question, text, collection, refused=False,
                        model_only=grounded is None, citations=citations, given=given,
                        stats=completion.stats or NO_GENERATION, note=note, quote=quote,
                        sentences=checks)
        self._record_answer(request, answer)
        yield Finished(answer)

    def _record_answer(self, request: AskRequest, answer: Answer) -> None:
        self._audit.record_event(AnswerGiven(
            collection=answer.collection, conversation=request.conversation,
            interface=request.interface, refused=answer.refused, model_only=answer.model_only,
            sources=[{"source": h.passage.source, "page": h.passage.page,
                      "score": round(float(h.score), 4)} for h in answer.citations],
            passages_given=len(answer.given),
            completion_tokens=answer.stats.completion_tokens,
            cancelled=answer.stats.cancelled,
            sentences=len(answer.sentences), unsupported_sentences=len(answer.unsupported)))
