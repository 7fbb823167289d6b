"""The Qt-free services the window and the CLI both use (the contract between them and the core).

``Library`` (rag/library.py) owns ingestion, collections and search; ``Assistant``
(rag/assistant.py) turns a question into a grounded prompt and, after the model has answered,
into citations. The model itself runs on the model thread (models/model_thread.py); the caller
streams its tokens. The window never holds a Llama, a Chroma client or a pypdf reader.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Literal, Protocol

from models.chat_model import Cancel, ChatMessage
from rag.retrieval_types import Embedder, Hit

if TYPE_CHECKING:
    from rag.quote import Quote
    from rag.retrieve import Mode, Retrieval
    from rag.support import SentenceCheck

# "opening": a file is being read. "reading": one of its scanned pages is read by OCR (detail
# says which; pages: how many in all). "indexing": files read are being embedded (texts,
# texts_done).
IngestEventKind = Literal["started", "opening", "reading", "indexing", "indexed", "unchanged",
                          "skipped", "failed", "finished"]


@dataclass(frozen=True)
class IngestEvent:
    kind: IngestEventKind
    done: int  # files handled so far
    total: int  # files found under the given paths
    path: Path | None = None
    detail: str = ""  # the reason (skipped), the error (failed), what OCR did (indexed)
    passages: int = 0  # passages written for this file (indexed)
    pages: int = 0  # the file's pages (indexed); its scanned pages (reading)
    pages_read: int = 0  # scanned pages read so far (reading)
    # Files being embedded (indexing): their texts to embed, how many are done, and how many
    # files are embedded together (path: the file, when it is one).
    texts: int = 0
    texts_done: int = 0
    files: int = 0


@dataclass(frozen=True)
class IngestReport:
    indexed: list[dict[str, object]] = field(default_factory=list)
    skipped: list[dict[str, str]] = field(default_factory=list)
    failed: list[dict[str, str]] = field(default_factory=list)
    cancelled: bool = False


@dataclass(frozen=True)
class CollectionInfo:
    name: str
    documents: int
    passages: int


@dataclass(frozen=True)
class DocumentInfo:
    path: Path
    title: str
    sha256: str
    pages: int
    passages: int
    ingested_at: str  # ISO 8601
    size: int = 0  # bytes of the file as indexed


@dataclass(frozen=True)
class FailedFile:
    """A file an ingest could not index, kept until it is indexed or dismissed."""

    path: Path
    reason: str  # in words, for the person
    failed_at: str  # ISO 8601


@dataclass(frozen=True)
class IndexCheck:
    """One collection's index, checked: does every catalogued passage have its vectors?"""

    collection: str
    passages: int  # catalogued passages
    lost: int  # passages (or their windows) Chroma holds no vector for
    documents: tuple[str, ...] = ()  # the files those belong to
    extra: int = 0  # vectors of passages the catalogue no longer lists
    repaired: bool = False  # the lost vectors were embedded again and the extra ones removed

    @property
    def healthy(self) -> bool:
        return self.repaired or (self.lost == 0 and self.extra == 0)


@dataclass(frozen=True)
class PreparedQuestion:
    """What the model should be given, or why it should not be asked at all."""

    messages: list[ChatMessage]
    hits: list[Hit]  # numbered [1], [2], ... in the prompt, in this order
    refused: bool  # grounded mode found nothing relevant: do not call the model
    refusal: str = ""  # the sentence to show instead of an answer
    quote: Quote | None = None  # the passages' own words that best answer, shown first
    search_query: str = ""  # what was searched: the question, expanded when it follows up


class LibraryService(Protocol):
    def collections(self) -> list[CollectionInfo]: ...

    def create_collection(self, name: str) -> None: ...

    def rename_collection(self, old: str, new: str) -> None: ...

    def delete_collection(self, name: str) -> None: ...

    def documents(self, collection: str) -> list[DocumentInfo]: ...

    def ingest(self, paths: Sequence[Path], collection: str,
               cancel: Cancel | None = None) -> Iterator[IngestEvent]: ...

    def verify_index(self, repair: bool = False) -> list[IndexCheck]:
        """Every collection's catalogued passages against their vectors; ``repair`` embeds the
        lost ones again from the stored texts."""
        ...

    def forget(self, path: Path, collection: str) -> bool: ...

    def unreported(self) -> dict[str, list[Path]]:
        """Documents indexed by runs that ended before reporting them, by collection."""
        ...

    def mark_reported(self, collection: str, paths: Sequence[Path]) -> None: ...

    def failed_files(self, collection: str) -> list[FailedFile]:
        """The collection's files that could not be indexed, until indexed or dismissed."""
        ...

    def dismiss_failed(self, collection: str, paths: Sequence[Path]) -> None: ...

    def search(self, query: str, collection: str, top_k: int) -> list[Hit]: ...

    @property
    def embedder(self) -> Embedder: ...

    def neighbour_version(self, collection: str, text: str, step: int) -> str | None:
        """The version before (-1) or after (+1) the one ``text`` names, among the
        collection's documents of that name."""
        ...

    def retrieve(self, query: str, collection: str, top_k: int,
                 mode: Mode = "hybrid") -> Retrieval:
        """The ``top_k`` best passages and how close the best came (what grounding needs)."""
        ...


class AssistantService(Protocol):
    def prepare(self, question: str, collection: str | None,
                history: Sequence[ChatMessage] = (), instructions: str | None = None,
                ) -> PreparedQuestion: ...

    def citations(self, prepared: PreparedQuestion, answer: str) -> list[Hit]: ...

    def check(self, prepared: PreparedQuestion, answer: str,
              cited: Sequence[Hit]) -> list[SentenceCheck]: ...
