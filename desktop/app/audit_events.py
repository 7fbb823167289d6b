"""The audit log's events as types: each kind has one meaning, wherever it is recorded from.

``question``: a question was asked (before any search), with the collection it was asked of
(None: the model alone) and where it came from. ``answer``: how that question ended: refused
(nothing relevant, so the model was not asked), answered by the model alone, or answered from
passages, with the passages the answer cites (``sources``) and how many it was given.
``search``: passages searched for without asking the model (``enclave search``, one entry per
query of a batch, and ``enclave eval``'s question sets as one entry), with the passages found.
``forget``: a document removed from a collection, by a person or because its file was gone.
``api_request``: a request to the local API (desktop/api/), answered or refused (a wrong or
missing token is 401), with the program's address; its questions are ``question`` and
``answer`` entries like the window's, with interface "api".
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, ClassVar, Protocol


class AuditEvent(Protocol):
    kind: ClassVar[str]

    def data(self) -> dict[str, Any]: ...


class AuditSink(Protocol):
    def record_event(self, event: AuditEvent) -> Any: ...


@dataclass(frozen=True)
class QuestionAsked:
    kind: ClassVar[str] = "question"
    question: str
    collection: str | None
    documents: bool
    conversation: int | None = None
    interface: str = "cli"

    def data(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class AnswerGiven:
    kind: ClassVar[str] = "answer"
    collection: str | None
    refused: bool
    model_only: bool
    sources: list[dict[str, Any]] = field(default_factory=list)  # the passages cited
    passages_given: int = 0
    completion_tokens: int = 0
    cancelled: bool = False
    conversation: int | None = None
    interface: str = "cli"
    sentences: int = 0  # sentences of the answer that were checked against its sources
    unsupported_sentences: int = 0  # of which the sources do not back

    def data(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class DocumentsIngested:
    kind: ClassVar[str] = "ingest"
    collection: str
    indexed: list[str] = field(default_factory=list)  # paths newly indexed
    unchanged: int = 0
    skipped: int = 0
    failed: list[str] = field(default_factory=list)  # paths that could not be read
    complete: bool = True  # False: cancelled or stopped before the last file
    interface: str = "cli"
    # Recorded by a later run: documents a run indexed but could not record itself (it was
    # killed, the machine lost power, or the disk filled up before its entry was written).
    recovered: bool = False

    def data(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class ApiRequest:
    kind: ClassVar[str] = "api_request"
    endpoint: str  # "POST /v1/chat/completions"
    status: int  # the HTTP status answered
    client: str  # the calling program's address, "127.0.0.1:51234"
    reason: str = ""  # why it was refused, in a sentence

    def data(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class PassagesSearched:
    kind: ClassVar[str] = "search"
    query: str  # logged per question_logging, like a question
    collection: str
    sources: list[dict[str, Any]] = field(default_factory=list)  # {"source", "page"} found
    interface: str = "cli"

    def data(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class QuestionSetScored:
    kind: ClassVar[str] = "search"
    query: str  # "question set <file>: N questions"
    collection: str
    questions: int
    interface: str = "eval"

    def data(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class DocumentForgotten:
    kind: ClassVar[str] = "forget"
    collection: str
    path: str
    removed: bool
    interface: str = "cli"

    def data(self) -> dict[str, Any]:
        return asdict(self)
