"""The library: collections of documents, their ingestion, and search (``LibraryService``).

Storage, all under the index directory: ``library.sqlite3`` holds the catalogue and the keyword
index (FTS5), ``chroma/`` the vectors. Writing one document goes: catalogue row "pending", old
passages of that path removed, new passages written to Chroma and FTS (with deterministic ids),
row "complete". Opening the library removes whatever a crash left pending, so a later ingest
redoes that document cleanly and nothing is ever duplicated.

Several processes may use one library (the window and a CLI ingest): writes to the vectors take
turns under ``library.lock`` and a process reopens Chroma when another one wrote
(rag/library_lock.py). A document is pending only while its writer holds that lock, so whatever
is pending when a process takes it was left by a crash.
"""

from __future__ import annotations

import contextlib
import logging
import os
import sqlite3
import threading
from collections.abc import Generator, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from pathlib import Path

from models.chat_model import Cancel
from rag.catalog import Catalog, Collection, CollectionError, DocumentRow, now_iso
from rag.discovery import discover
from rag.document_names import DocumentName, DocumentNames
from rag.documents import LoadedDocument, Page, Passage, UnreadableDocument
from rag.duplicates import Copies, collapse, collapse_hits
from rag.embedding_ahead import EmbeddingAhead
from rag.index_storage import (
    CHROMA_FOLDER,
    DATABASE_FILE,
    Database,
    EmbeddedStorage,
    IndexStorage,
)
from rag.loaders.isolated import DocumentReader, InProcessReader, ReadingStopped
from rag.loaders.reading import sha256_of_file
from rag.ocr import INSTALL_HINT, OcrError, PageReader
from rag.passage_embedding import PassageEmbedding, pooling
from rag.retrieval_types import Embedder, Hit, KeywordStore, VectorStore
from rag.retrieve import (
    Mode,
    QueryPlan,
    Retrieval,
    fuse,
    keyword_candidates,
    plan_query,
    vector_candidates,
)
from rag.scoring import DEFAULT_SCORING
from rag.services import CollectionInfo, DocumentInfo, FailedFile, IndexCheck, IngestEvent
from rag.vector_store import ChromaVectorStores, PassageLookup, entry_ids

# Passages gathered across files before one embedding pass: keeps the embedder's batches full
# when a folder holds many small files.
FLUSH_PASSAGES = 128
# Passages embedded per call, so a cancel is noticed within one of them.
EMBED_STEP = 64
# A document of more passages than this (some 1 MB of text) is indexed after the other files
# of its ingest, alone, with its progress: a long one (5 MB of text took 855 s on a busy
# two-core machine) must not hold the short ones back.
LONG_DOCUMENT_PASSAGES = 1000
# Long documents wait, as read, up to this many passages in all (some 50 MB of text in memory);
# past that the next one is indexed at once.
MAX_WAITING_PASSAGES = 50_000
# The version of what builds a document's passages: the chunker (rag/chunking.py) and the text
# embedded for each passage (rag/passage_vectors.py, the model in rag/embedder.py) and the
# loaders' titles. Raise it with any change to those; documents indexed by another version are
# indexed again on the next ingest. (Scoring in rag/retrieve.py reads the index at query time and
# needs no bump.) 2: windows embedded beside each passage; titles keep their version line.
# 3: numbered lines that break the document's numbering (table rows) no longer open sections;
# terminal formatting (ANSI codes, overstriking) is stripped from text. 4: a passage repeated
# within its document is stored once, with its copies counted (rag/duplicates.py).
INDEX_VERSION = 4
# The vectors' part of a document's index version: a document indexed in another space is
# indexed again (torch and ONNX fp32 give the same vectors; int8 does not, nor does a passage
# vector pooled from its windows).
# int8pc: int8 with a scale per weight column (rag/onnx_embedder.py FORMAT 2).
VECTOR_SPACES = {"minilm": 0, "minilm-int8": 1, "minilm-pooled": 2, "minilm-int8-pooled": 3,
                 "minilm-int8pc": 4, "minilm-int8pc-pooled": 5}

__all__ = ["CHROMA_FOLDER", "DATABASE_FILE", "CollectionError", "Library"]


log = logging.getLogger(__name__)


@dataclass
class _Parsed:
    path: Path
    row: DocumentRow
    passages: list[Passage]
    embeddings: list[list[list[float]]] = field(default_factory=list)  # per passage
    copies: dict[int, Copies] = field(default_factory=dict)  # by ordinal: repeated text
    note: str = ""  # for the person: "12 pages read by OCR, 2 unreadable"


@dataclass(frozen=True)
class _Ahead:
    """A batch read and the embedding of its passages under way."""

    batch: list[_Parsed]
    running: EmbeddingAhead


@dataclass
class _Loaded:
    path: Path
    document: LoadedDocument
    size: int
    mtime_ns: int
    note: str = ""


class Library:
    """Implements rag.services.LibraryService. Safe to share between a worker and the UI thread:
    each storage operation runs under one lock; an ingest releases it between steps."""

    def __init__(self, index_dir: Path, embedder: Embedder, ocr: PageReader | None = None,
                 no_ocr_reason: str = INSTALL_HINT, reader: DocumentReader | None = None,
                 long_document_passages: int = LONG_DOCUMENT_PASSAGES,
                 storage: IndexStorage | None = None) -> None:
        """The index under ``index_dir`` (the default), or where ``storage`` keeps it: a
        practice's shared servers (rag/index_storage.py)."""
        self._storage: IndexStorage = storage if storage is not None else EmbeddedStorage(
            index_dir)
        self._embedder = embedder
        # Files are read by ``reader``: the application's reads each in a child process held to
        # a time and a memory limit (rag/loaders/isolated.py); by default, in this process.
        self._reader: DocumentReader = reader if reader is not None else InProcessReader()
        self._long = long_document_passages  # indexed after the other files, alone
        # Scanned pages and images are read by ``ocr`` (rag/ocr.py); without it they are
        # reported with ``no_ocr_reason`` (what to install).
        self._ocr = ocr
        self._no_ocr_reason = no_ocr_reason
        # Documents indexed in another vector space (rag/onnx_embedder.py) are indexed again.
        # A passage's vector pooled from its windows is another than of it embedded whole
        # (rag/passage_embedding.py).
        self._space = getattr(embedder, "vector_space", "minilm") + \
            ("-pooled" if pooling(embedder) else "")
        self._lock = threading.RLock()
        index_dir.mkdir(parents=True, exist_ok=True)
        # Between processes: writers take turns; the generation our Chroma was opened at.
        self._between = self._storage.turn_lock()
        # Another enclave process may be writing, or creating this very database (two started
        # at once on a fresh machine): the first open and its schema are made in turn.
        self._db = self._storage.connect()
        with self._between.exclusive():
            if isinstance(self._db, sqlite3.Connection):
                self._db.execute("PRAGMA journal_mode = WAL")
            self._catalog = Catalog(self._db)
            self._keywords: KeywordStore = self._storage.keyword_index(self._db)
        self._vectors_client: ChromaVectorStores | None = None
        # This run, as the documents it indexes are marked until they are reported.
        self._run = self._storage.runs()
        self._vectors_generation = -1
        # Per collection id: the catalogue stamp and the document names built from it.
        self._names: dict[str, tuple[tuple[object, ...], DocumentNames]] = {}
        # A search's keyword side runs here, on its own connection, while the question is
        # embedded and the vector side runs: the two take about as long as each other.
        self._keyword_thread: ThreadPoolExecutor | None = None
        self._keyword_reader: Database | None = None
        self._keyword_index: KeywordStore | None = None  # on that connection
        # An ingest's passages are embedded here while it reads and writes (_embed_ahead).
        self._embedding_thread: ThreadPoolExecutor | None = None

    @property
    def _version(self) -> int:
        """The version documents must have been indexed with: the code's and the vectors'."""
        return INDEX_VERSION * 100 + VECTOR_SPACES.get(self._space, 0)

    @property
    def embedder(self) -> Embedder:
        return self._embedder

    def close(self) -> None:
        self._reader.close()
        with self._lock:
            if self._keyword_thread is not None:
                self._keyword_thread.shutdown(wait=True)
                self._keyword_thread = None
            if self._embedding_thread is not None:
                self._embedding_thread.shutdown(wait=True)
                self._embedding_thread = None
            if self._keyword_reader is not None:
                self._keyword_reader.close()
                self._keyword_reader = self._keyword_index = None
            if self._vectors_client is not None:
                self._vectors_client.close()
                self._vectors_client = None
            self._between.close()
            self._run.close()
            self._db.close()

    # -- storage --------------------------------------------------------------------------------

    def _vectors(self) -> ChromaVectorStores:
        """Chroma, opened on first need (it is slow to import) and again whenever another
        process changed the vectors since; leftovers of a crash go then. Call it holding the
        library lock (shared or exclusive) for as long as the result is used."""
        with self._lock:
            if self._vectors_client is None or (
                    self._storage.reopen_vectors_after_writes
                    and self._catalog.generation() != self._vectors_generation):
                with self._between.exclusive():  # opening may write Chroma's files
                    if self._vectors_client is not None:
                        self._vectors_client.close()
                        self._vectors_client = None
                    generation = self._catalog.generation()
                    self._vectors_client = self._storage.open_vectors()
                    self._vectors_generation = generation
                    self._finish_interrupted()
            return self._vectors_client

    @contextlib.contextmanager
    def _writing(self) -> Iterator[None]:
        """Changing the vectors: this process alone, on a current Chroma; the others reopen
        theirs afterwards."""
        with self._lock, self._between.exclusive():
            self._vectors()
            try:
                with self._rolled_back_on_error():
                    yield
            finally:
                self._vectors_generation = self._catalog.bump_generation()

    @contextlib.contextmanager
    def _reading(self) -> Iterator[None]:
        with self._lock, self._between.shared():
            yield

    def _store(self, collection: Collection) -> VectorStore:
        return self._vectors().store(collection.id, self._passage_lookup(collection))

    def _passage_lookup(self, collection: Collection) -> PassageLookup:
        """The stored passages by id, from the keyword index's table (no Chroma read)."""
        return lambda ids: self._keywords.passages(collection.id, ids)

    def _finish_interrupted(self) -> None:
        """Under the exclusive lock: a pending row is then a crashed writer's, never a live
        one's (a writer holds the lock from pending to complete)."""
        assert self._vectors_client is not None
        pending = list(self._catalog.pending())
        if pending:
            self._vectors_generation = self._catalog.bump_generation()
        for row in pending:
            store = self._vectors_client.store(row.collection_id)
            self._remove_passages(store, row.collection_id, row.path, row.sha256)
            self._catalog.remove_document(row.collection_id, row.path)

    def _remove_passages(self, store: VectorStore, collection_id: str, path: str,
                         sha256: str) -> None:
        self._keywords.ensure(collection_id)
        store.delete_source(path)
        store.delete_document(sha256)
        self._keywords.delete_source(collection_id, path)
        self._keywords.delete_document(collection_id, sha256)

    def _collection(self, name: str, create: bool = False) -> Collection:
        with self._lock:
            found = self._catalog.find_collection(name)
            if found is None:
                if not create:
                    raise CollectionError(f"There is no collection named '{name}'. "
                                          f"{_known(self._catalog.collections())}")
                with self._between.exclusive(), self._rolled_back_on_error():
                    # Another process may have made it meanwhile: the catalogue returns it.
                    found = self._catalog.create_collection(name)
            self._keywords.ensure(found.id)
            return found

    @contextlib.contextmanager
    def _rolled_back_on_error(self) -> Iterator[None]:
        """A write that fails leaves no transaction open (it would hold SQLite's write lock and
        stop every other Enclave process writing)."""
        try:
            yield
        except BaseException:
            self._db.rollback()
            raise

    # -- collections ----------------------------------------------------------------------------

    def collections(self) -> list[CollectionInfo]:
        with self._lock:
            infos = []
            for c in self._catalog.collections():
                docs = self._catalog.documents(c)
                infos.append(CollectionInfo(c.name, len(docs), sum(d.passages for d in docs)))
            return infos

    def create_collection(self, name: str) -> None:
        self._collection(name, create=True)

    def rename_collection(self, old: str, new: str) -> None:
        with self._lock, self._between.exclusive(), self._rolled_back_on_error():
            self._catalog.rename_collection(old, new)

    def delete_collection(self, name: str) -> None:
        with self._writing():
            collection = self._collection(name)
            self._vectors().drop(collection.id)
            self._keywords.drop(collection.id)
            self._catalog.delete_collection(collection)

    def documents(self, collection: str) -> list[DocumentInfo]:
        with self._lock:
            rows = self._catalog.documents(self._collection(collection))
        return [DocumentInfo(Path(r.path), r.title, r.sha256, _shown_pages(r), r.passages,
                             r.ingested_at, r.size) for r in rows]

    def failed_files(self, collection: str) -> list[FailedFile]:
        """The collection's files an ingest could not index (recorded by ``ingest``), until a
        later ingest indexes them or ``dismiss_failed``."""
        with self._lock:
            found = self._catalog.find_collection(collection)
            rows = self._catalog.failed(found) if found is not None else []
        return [FailedFile(Path(r.path), r.reason, r.failed_at) for r in rows]

    def dismiss_failed(self, collection: str, paths: Sequence[Path]) -> None:
        with self._lock, self._rolled_back_on_error():
            found = self._catalog.find_collection(collection)
            if found is not None:
                self._catalog.clear_failed(found.id, [str(p) for p in paths])

    # -- search ---------------------------------------------------------------------------------

    def search(self, query: str, collection: str, top_k: int) -> list[Hit]:
        return self.retrieve(query, collection, top_k).hits

    def retrieve(self, query: str, collection: str, top_k: int,
                 mode: Mode = "hybrid") -> Retrieval:
        found = self._collection(collection)
        if not query.strip():
            return Retrieval([], 0.0)
        with self._lock:
            # Twice as many as asked for: identical texts are shown once (rag/duplicates.py).
            plan = plan_query(query, top_k * 2, mode, self._document_names(found))
        by_keyword = self._keyword_side(plan, found.id)
        embedding = self._embedder.embed([query])[0] if mode != "keyword" else None
        with self._reading():
            by_vector, best = vector_candidates(plan, embedding, self._store(found))
        keyword_hits = by_keyword.result()
        rare: list[str] = []
        if mode == "hybrid" and embedding is not None:
            with self._reading():
                by_vector, keyword_hits = self._both_sides(found, plan, embedding, by_vector,
                                                           keyword_hits)
                most = max(1, int(self._keywords.passage_count(found.id)
                                  * DEFAULT_SCORING.rare_share))
                rare = self._keywords.rare_terms(found.id, plan.keyword_text, most)
        fused = fuse(plan, by_vector, best, keyword_hits, rare)
        hits = collapse_hits(fused.hits, top_k)
        with self._lock:
            copies = self._catalog.copies(found.id, [h.passage.passage_id for h in hits])
        hits = [replace(h, copies=copies[h.passage.passage_id][0],
                        also=(*h.also, *({"source": h.passage.source, "page": page}
                                         for page in copies[h.passage.passage_id][1])))
                if h.passage.passage_id in copies else h for h in hits]
        return Retrieval(hits, fused.best_similarity)

    def _both_sides(self, found: Collection, plan: QueryPlan, embedding: Sequence[float],
                    by_vector: list[Hit], by_keyword: list[Hit]) -> tuple[list[Hit], list[Hit]]:
        """Every candidate scored on both sides: the cosine of those only BM25 found, from
        their stored vectors; the BM25 of those only the embeddings found."""
        on_vector = {h.passage.passage_id for h in by_vector}
        on_keyword = {h.passage.passage_id for h in by_keyword}
        keyword_only = [h.passage for h in by_keyword if h.passage.passage_id not in on_vector]
        cosines = self._store(found).similarities(embedding, keyword_only)
        vector_only = [h.passage for h in by_vector if h.passage.passage_id not in on_keyword]
        bm25 = self._keywords.scores(found.id, plan.keyword_text,
                                     [p.passage_id for p in vector_only])
        return ([*by_vector, *(Hit(p, cosines[p.passage_id]) for p in keyword_only
                               if p.passage_id in cosines)],
                [*by_keyword, *(Hit(p, bm25[p.passage_id]) for p in vector_only
                                if p.passage_id in bm25)])

    def _keyword_side(self, plan: QueryPlan, collection_id: str) -> Future[list[Hit]]:
        """The keyword candidates, searched on the keyword thread. Its connection only reads;
        the write-ahead log lets it read while this process or another writes."""
        with self._lock:
            if self._keyword_thread is None or self._keyword_index is None:
                self._keyword_reader = self._storage.connect()
                self._keyword_index = self._storage.keyword_index(self._keyword_reader,
                                                                  read_only=True)
                self._keyword_thread = ThreadPoolExecutor(
                    max_workers=1, thread_name_prefix="enclave-keyword-search")
            return self._keyword_thread.submit(keyword_candidates, plan, self._keyword_index,
                                               collection_id)

    def neighbour_version(self, collection: str, text: str, step: int) -> str | None:
        """The version before or after the one ``text`` names, among this collection's
        documents of the same name (rag/document_names.py); None when there is none."""
        with self._lock:
            found = self._catalog.find_collection(collection)
        if found is None:
            return None
        return self._document_names(found).neighbour_version(text, step)

    def _document_names(self, collection: Collection) -> DocumentNames:
        """The collection's document names, built again only when its documents changed (in
        this process or another)."""
        stamp = self._catalog.stamp(collection)
        cached = self._names.get(collection.id)
        if cached is None or cached[0] != stamp:
            rows = self._catalog.documents(collection)
            cached = (stamp, DocumentNames((r.sha256, DocumentName.of(r.title, r.path))
                                           for r in rows))
            self._names[collection.id] = cached
        return cached[1]

    # -- checking -------------------------------------------------------------------------------

    def verify_index(self, repair: bool = False) -> list[IndexCheck]:
        """Every collection's catalogued passages against Chroma's vectors; with ``repair``,
        lost vectors embedded again from the stored passage texts (no file needed) and vectors
        of passages no longer catalogued removed."""
        checks = []
        for collection in self._catalog.collections():
            with self._writing() if repair else self._reading():
                checks.append(self._verify_collection(collection, repair))
        return checks

    def _verify_collection(self, collection: Collection, repair: bool) -> IndexCheck:
        self._keywords.ensure(collection.id)
        ids = self._keywords.passage_ids(collection.id)
        passages = self._keywords.passages(collection.id, ids)
        store = self._store(collection)
        entries = {pid: entry_ids(p) for pid, p in passages.items()}
        lost_entries = store.missing([e for es in entries.values() for e in es])
        lost = [passages[pid] for pid, es in entries.items() if lost_entries.intersection(es)]
        known = {e for es in entries.values() for e in es}
        extra = sorted(store.entry_ids() - known)
        documents = tuple(sorted({p.source for p in lost}))
        if not repair or not (lost or extra):
            return IndexCheck(collection.name, len(ids), len(lost), documents, len(extra))
        keep = sorted(known - lost_entries)
        store = self._vectors().rebuild(collection.id, keep, self._passage_lookup(collection))
        for start in range(0, len(lost), EMBED_STEP):
            step = lost[start:start + EMBED_STEP]
            store.add(step, PassageEmbedding(self._embedder, step).run())
        still = store.missing([e for p in lost for e in entries[p.passage_id]])
        return IndexCheck(collection.name, len(ids), len(lost), documents, len(extra),
                          repaired=not still)

    # -- forgetting -----------------------------------------------------------------------------

    def forget(self, path: Path, collection: str) -> bool:
        with self._writing():
            found = self._collection(collection)
            for candidate in _spellings(path):
                row = self._catalog.document_at(found, candidate)
                if row is not None:
                    self._remove_passages(self._store(found), found.id, row.path, row.sha256)
                    self._catalog.remove_document(found.id, row.path)
                    return True
            return False

    # -- reporting ------------------------------------------------------------------------------

    def unreported(self) -> dict[str, list[Path]]:
        """Documents indexed by runs that ended before they were reported (a process killed,
        a disk that filled up), by collection name: the caller's to report, then
        ``mark_reported``. A run still going (this one, another process) keeps its own."""
        with self._lock:
            rows = self._catalog.unreported()
        found: dict[str, list[Path]] = {}
        over: set[str] = set()
        for collection, path, run in rows:
            if run in over or not self._run.is_going(run):
                over.add(run)
                found.setdefault(collection.name, []).append(Path(path))
        for run in over:
            self._run.forget(run)
        return found

    def mark_reported(self, collection: str, paths: Sequence[Path]) -> None:
        with self._lock:
            target = self._collection(collection)
            self._catalog.mark_reported(target.id, [str(p) for p in paths])

    # -- ingestion ------------------------------------------------------------------------------

    def ingest(self, paths: Sequence[Path], collection: str,
               cancel: Cancel | None = None) -> Iterator[IngestEvent]:
        try:
            for event in self._ingest(paths, collection, cancel):
                self._record_outcome(collection, event, cancel)
                yield event
        finally:
            self._reader.close()  # the reader's child, if any, is not kept between ingests

    def _record_outcome(self, collection: str, event: IngestEvent,
                        cancel: Cancel | None) -> None:
        """A file that failed is recorded as failed (with its reason), one indexed (or found
        unchanged) no longer is. A failure caused by cancelling is not the file's fault, and a
        name that is not valid text cannot be stored."""
        if event.path is None or event.kind not in ("failed", "indexed", "unchanged"):
            return
        if not _printable_name(event.path):
            return
        with self._lock, self._rolled_back_on_error():
            target = self._catalog.find_collection(collection)
            if target is None:
                return
            if event.kind != "failed":
                self._catalog.clear_failed(target.id, [str(event.path)])
            elif cancel is None or not cancel.is_set():
                self._catalog.record_failed(target.id, str(event.path), event.detail)

    def _ingest(self, paths: Sequence[Path], collection: str,
                cancel: Cancel | None) -> Iterator[IngestEvent]:
        from rag.loaders import is_supported

        target = self._collection(collection, create=True)
        with self._reading():
            self._vectors()  # open Chroma (and finish an interrupted ingest) before anything
        candidates = list(discover(paths, is_supported, _unsupported_reason))
        total = len(candidates)
        done = 0
        yield IngestEvent("started", 0, total)
        batch: list[_Parsed] = []
        long_ones: list[_Parsed] = []  # indexed after the others (LONG_DOCUMENT_PASSAGES)
        # The batch being embedded on the embedder's thread while the next files are read.
        ahead: _Ahead | None = None
        abandon = threading.Event()
        try:
            for position, candidate in enumerate(candidates):
                if cancel is not None and cancel.is_set():
                    break
                if candidate.skip_reason:
                    done += 1
                    yield IngestEvent("skipped", done, total, candidate.path,
                                      candidate.skip_reason)
                    continue
                if not _printable_name(candidate.path):
                    done += 1
                    yield IngestEvent("failed", done, total, candidate.path,
                                      "its name is not valid text (bytes from another character "
                                      "set, as in folders from old Windows shares or zip "
                                      "files): rename the file, then add it again")
                    continue
                # (done: the files before this one, some of them read but not yet indexed)
                yield IngestEvent("opening", position, total, candidate.path, "reading")
                outcome = yield from self._read(target, candidate.path, done, total, cancel)
                if isinstance(outcome, IngestEvent):
                    done += 1
                    yield IngestEvent(outcome.kind, done, total, outcome.path, outcome.detail)
                    continue
                if len(outcome.passages) > self._long:
                    waiting = sum(len(p.passages) for p in long_ones)
                    if waiting + len(outcome.passages) <= MAX_WAITING_PASSAGES:
                        long_ones.append(outcome)  # kept as read (its OCR is not done twice)
                        continue
                    if ahead is not None:
                        done = yield from _counted(self._write_embedded(target, ahead), done, total)
                        ahead = None
                    done = yield from _counted(self._write(target, [outcome], cancel, abandon),
                                               done, total)
                    continue
                batch.append(outcome)
                if sum(len(p.passages) for p in batch) >= FLUSH_PASSAGES:
                    # This batch embeds while the one before is written and more files read.
                    started = self._embed_ahead(batch, cancel, abandon)
                    if ahead is not None:
                        done = yield from _counted(self._write_embedded(target, ahead), done, total)
                    ahead, batch = started, []
            # The last batch starts before the one ahead of it is written.
            for last in (ahead, self._embed_ahead(batch, cancel, abandon) if batch else None):
                if last is not None:
                    done = yield from _counted(self._write_embedded(target, last), done, total)
            for long_one in long_ones:
                if cancel is not None and cancel.is_set():
                    break
                done = yield from _counted(self._write(target, [long_one], cancel, abandon),
                                           done, total)
        finally:
            # Stopped early (an error, or the caller stopped reading): the embedder's thread
            # lets go before the library can be closed.
            abandon.set()
            if self._embedding_thread is not None:
                # One thread, first come first served: a no-op queued now runs after them all.
                self._embedding_thread.submit(lambda: None).result()
        cancelled = cancel is not None and cancel.is_set()
        if not cancelled:
            for gone in self._forget_removed(target, paths):
                done += 1
                total += 1
                yield IngestEvent("skipped", done, total, gone,
                                  "no longer in the folder, so it was forgotten")
        yield IngestEvent("finished", done, total, detail="cancelled" if cancelled else "")

    def _read(self, target: Collection, path: Path, done: int, total: int,
              cancel: Cancel | None) -> Generator[IngestEvent, None, _Parsed | IngestEvent]:
        """A file read, its scans read by OCR (with their progress), and its passages made; or
        the event that says why not (unchanged, failed)."""
        examined = self._examine(target, path, cancel)
        if isinstance(examined, _Loaded) and examined.document.scanned:
            examined = yield from self._read_scans(examined, done, total, cancel)
        return self._prepare(target, examined) if isinstance(examined, _Loaded) else examined

    def _examine(self, target: Collection, path: Path, cancel: Cancel | None
                 ) -> _Loaded | IngestEvent:
        """Decide what a file needs: nothing (unchanged), or reading (the loaded document)."""
        key = str(path)
        try:
            info = path.stat()
        except OSError:
            info = None
        with self._lock:
            previous = self._catalog.document_at(target, key)
        current = previous is not None and previous.index_version == self._version
        if (info is not None and previous is not None and current
                and previous.state == "complete"
                and previous.size == info.st_size and previous.mtime_ns == info.st_mtime_ns):
            return IngestEvent("unchanged", 0, 0, path)
        try:
            if info is None:
                raise UnreadableDocument(path, "file not found")
            sha = sha256_of_file(path)
            with self._lock:
                if previous is not None and current and previous.sha256 == sha:
                    self._catalog.touch(target, key, info.st_size, info.st_mtime_ns)
                    return IngestEvent("unchanged", 0, 0, path)
                twin = self._catalog.document_with_sha(target, sha)
            if (twin is not None and twin.path != key and Path(twin.path).exists()
                    and twin.index_version == self._version):
                return IngestEvent("unchanged", 0, 0, path,
                                   f"same content as {twin.path}, already indexed")
            document = self._reader.read(path, cancel)
        except UnreadableDocument as exc:
            return IngestEvent("failed", 0, 0, path, exc.reason)
        except OSError as exc:
            return IngestEvent("failed", 0, 0, path, f"could not be read ({exc.strerror})")
        except Exception as exc:  # one bad file never stops the batch
            return IngestEvent("failed", 0, 0, path,
                               f"could not be read ({type(exc).__name__})")
        return _Loaded(path, document, info.st_size, info.st_mtime_ns)

    def _read_scans(self, loaded: _Loaded, done: int, total: int, cancel: Cancel | None
                    ) -> Generator[IngestEvent, None, _Loaded | IngestEvent]:
        """The scanned pages read by OCR, one at a time (a "reading" event before each, and
        a cancel checked between them); without an engine, what to install."""
        document = loaded.document
        scanned = document.scanned
        has_text = any(p.text.strip() for p in document.pages)
        if self._ocr is None:
            if not has_text:
                kind = "an image" if document.format == "image" else "no text layer (scanned?)"
                return IngestEvent("failed", 0, 0, loaded.path,
                                   f"{kind}: {self._no_ocr_reason}")
            return replace(loaded, document=replace(document, scanned=()),
                           note=f"{_pages(len(scanned))} scanned, not read: "
                                f"{self._no_ocr_reason}")
        texts: dict[int, str] = {}
        unreadable: list[int] = []
        stopped = ""  # why the rest of the pages were not read: the file's time ran out
        for count, number in enumerate(scanned, start=1):
            if cancel is not None and cancel.is_set():
                return IngestEvent("failed", 0, 0, loaded.path, "stopped while reading its "
                                   "scanned pages")
            yield IngestEvent("reading", done, total, loaded.path,
                              f"reading page {number} by OCR ({count} of {len(scanned)})",
                              pages=len(scanned), pages_read=count - 1)
            try:
                image = self._reader.page_image(loaded.path, document.format, number, cancel)
                texts[number] = self._ocr.read(image)
            except ReadingStopped as exc:
                if cancel is not None and cancel.is_set():
                    return IngestEvent("failed", 0, 0, loaded.path, "stopped while reading "
                                       "its scanned pages")
                stopped = exc.why
                unreadable += scanned[count - 1:]
                break
            except (OcrError, UnreadableDocument) as exc:
                log.warning("%s page %s: %s", loaded.path, number, exc)
                unreadable.append(number)
            except Exception as exc:  # a page the engine cannot read costs that page
                log.warning("%s page %s: %s", loaded.path, number, type(exc).__name__)
                unreadable.append(number)
        read = [n for n in scanned if texts.get(n, "").strip()]
        unreadable += [n for n in scanned if n in texts and not texts[n].strip()]
        if not read and not has_text:
            return IngestEvent("failed", 0, 0, loaded.path,
                               f"{stopped}, so it was skipped" if stopped else
                               f"its {_pages(len(scanned))} could not be read by OCR")
        pages = [Page(p.number, texts.get(p.number, p.text) if p.number is not None else p.text)
                 for p in document.pages]
        note = f"{_pages(len(read))} read by OCR"
        if stopped:
            note += f", {len(unreadable)} not read ({stopped})"
        elif unreadable:
            note += f", {len(unreadable)} unreadable (page {', '.join(map(str, unreadable))})"
        return replace(loaded, document=replace(document, pages=pages, scanned=()),
                       note=note)

    def _prepare(self, target: Collection, loaded: _Loaded) -> _Parsed | IngestEvent:
        """The loaded document's passages and its catalogue row."""
        from rag.chunking import chunk_document

        path, document = loaded.path, loaded.document
        try:
            passages, copies = collapse(chunk_document(document))
        except Exception as exc:  # one bad file never stops the batch
            return IngestEvent("failed", 0, 0, path,
                               f"could not be read ({type(exc).__name__})")
        if not passages:
            return IngestEvent("failed", 0, 0, path, "no text to index in this file")
        row = DocumentRow(target.id, str(path), document.sha256, loaded.size, loaded.mtime_ns,
                          document.title, len(document.pages), len(passages), "pending",
                          now_iso(), self._version)
        return _Parsed(path, row, passages, copies=copies, note=loaded.note)

    def _embed_ahead(self, batch: list[_Parsed], cancel: Cancel | None,
                     abandon: threading.Event) -> _Ahead:
        """The batch's passages embedded on the embedder's thread (rag/embedding_ahead.py)."""
        if self._embedding_thread is None:
            self._embedding_thread = ThreadPoolExecutor(1, thread_name_prefix="enclave-embed")
        embedding = PassageEmbedding(self._embedder, [p for item in batch for p in item.passages])
        return _Ahead(batch, EmbeddingAhead(embedding, self._embedding_thread, cancel, abandon))

    def _write(self, target: Collection, batch: list[_Parsed], cancel: Cancel | None,
               abandon: threading.Event) -> Iterator[IngestEvent]:
        """A batch embedded and written with nothing else under way (a long document alone)."""
        return self._write_embedded(target, self._embed_ahead(batch, cancel, abandon))

    def _write_embedded(self, target: Collection, ahead: _Ahead) -> Iterator[IngestEvent]:
        """The batch's embedding followed until it ends (with its progress), then the batch
        written; nothing when the ingest was stopped meanwhile."""
        batch, running = ahead.batch, ahead.running
        embedding = running.embedding
        # Embedding in more than one step: say how far it has got (the file, when it is one).
        alone = batch[0].path if len(batch) == 1 else None
        what = "indexing" if alone is not None else f"indexing {len(batch)} files"
        for done in running.progress():
            if embedding.total > embedding.step:
                yield IngestEvent("indexing", 0, 0, alone, f"{what}: {done:,} of "
                                  f"{embedding.total:,} pieces of text", texts=embedding.total,
                                  texts_done=done, files=len(batch))
        if not running.finished():
            return
        vectors = iter(embedding.vectors)
        for item in batch:
            item.embeddings = [next(vectors) for _ in item.passages]
        # The batch's documents are written in one turn of the library lock.
        events = []
        with self._writing():
            for item in batch:
                twin = self._write_document(target, item)
                if twin is not None:
                    events.append(IngestEvent("unchanged", 0, 0, item.path,
                                              f"same content as {twin}, already indexed"))
                else:
                    events.append(IngestEvent("indexed", 0, 0, item.path, item.note,
                                              passages=len(item.passages),
                                              pages=item.row.pages))
        yield from events

    def _write_document(self, target: Collection, item: _Parsed) -> str | None:
        """Write one document; or, when a file of the same content is indexed and still there
        (a copy in the same folder, or written by another process meanwhile), its path."""
        store = self._store(target)
        twin = self._catalog.document_with_sha(target, item.row.sha256)
        if (twin is not None and twin.path != item.row.path and Path(twin.path).exists()
                and twin.index_version == self._version):
            return twin.path
        # Read again under the lock: another process may have written this file meanwhile.
        previous = self._catalog.document_at(target, item.row.path)
        self._catalog.mark_pending(item.row)
        # A new path has nothing to clear: whatever a crash left is cleared on the next open,
        # since every write happens under a pending row.
        if previous is not None:
            self._remove_passages(store, target.id, previous.path, previous.sha256)
        if twin is not None and twin.path != item.row.path:
            # The same content under another path that no longer exists: the file moved.
            self._remove_passages(store, target.id, twin.path, twin.sha256)
            self._catalog.remove_document(target.id, twin.path)
        store.add(item.passages, item.embeddings)
        self._keywords.add(target.id, item.passages)
        self._catalog.set_copies(target.id, item.row.sha256, {
            item.passages[n].passage_id: (c.count, c.pages) for n, c in item.copies.items()})
        self._run.hold()
        self._catalog.mark_complete(target.id, item.row.path, self._run.id)
        return None

    def _forget_removed(self, target: Collection, paths: Sequence[Path]) -> Iterator[Path]:
        for given in paths:
            folder = Path(os.path.abspath(given))
            if not folder.is_dir():
                continue
            with self._lock:
                known = self._catalog.paths_under(target, folder)
            for path in known:
                if not os.path.lexists(path):
                    self.forget(Path(path), target.name)
                    yield Path(path)


def _counted(events: Iterator[IngestEvent], done: int, total: int
             ) -> Generator[IngestEvent, None, int]:
    """A write's events numbered as files of the ingest (a file's progress is not a file);
    the number of files done after them."""
    for event in events:
        if event.kind != "indexing":
            done += 1
        yield replace(event, done=done, total=total)
    return done


# Formats without pages: their one "page" is the whole file, so none is shown. (The catalogue
# keeps the loader's count, so rows written before need no change.) A text file split by form
# feeds into several pages keeps them.
_PAGELESS_SUFFIXES = frozenset({".txt", ".text", ".md", ".markdown", ".html", ".htm", ".docx"})


def _shown_pages(row: DocumentRow) -> int:
    """The document's pages as a person counts them: 0 for a format without pages."""
    if row.pages <= 1 and Path(row.path).suffix.lower() in _PAGELESS_SUFFIXES:
        return 0
    return row.pages


def _pages(count: int) -> str:
    return f"{count} page" + ("" if count == 1 else "s")


def _printable_name(path: Path) -> bool:
    """Whether the path is text (it can be stored, shown and searched for)."""
    try:
        str(path).encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _unsupported_reason(path: Path) -> str:
    kind = path.suffix or "without a suffix"
    return (f"not a supported kind of document ({kind}); Enclave reads PDF, Word (.docx), "
            "text, Markdown and HTML files")


def _spellings(path: Path) -> list[str]:
    """The ways a person may name an indexed file: as given, absolute, or with links resolved."""
    absolute = os.path.abspath(path)
    spellings = [str(path), absolute]
    with contextlib.suppress(OSError):
        spellings.append(str(Path(absolute).resolve()))
    return list(dict.fromkeys(spellings))


def _known(collections: Sequence[Collection]) -> str:
    if not collections:
        return "There are no collections yet: 'enclave ingest' creates one."
    return "Collections: " + ", ".join(c.name for c in collections) + "."
