"""Ingestion: pages per second of ``Library.ingest`` against the raw embedder alone.

The folder is generated: multi-page PDFs with a real text layer (bench.pdfs), pages of about
2,500 characters of plausible clinical/legal prose. Enclave's side is the real library built the
way ``desktop.app.wiring.open_library`` builds it (``Library``, each file read in a child
process with the default limits, and the configured embedder, ``embedding_backend``: ONNX
Runtime int8 by default, or torch), with the embedder wrapped by
``RecordingEmbedder`` only to learn which texts it embedded. The raw side is a separately loaded
``SentenceTransformer`` (torch) from the same bundled folder encoding every passage and window
of the folder (what Enclave would embed without its ONNX engine and its once-per-text rule) with
the same batch size and normalisation.
Both models are loaded and warmed first (on a one-file folder); runs alternate (ingest, encode,
encode, ingest, ...), each ingest into a fresh collection. Then the unchanged folder is ingested
again into each collection, and that time is compared with the first ingest's.
"""

from __future__ import annotations

import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from bench import corpus
from bench.stats import median, rounded
from desktop.app.sample_pdf import write_pdf


class RecordingEmbedder:
    """The real embedder, remembering what it was asked to embed (an honest Embedder)."""

    def __init__(self, inner: Any) -> None:
        self._inner = inner
        self.dimension = inner.dimension
        self.vector_space = getattr(inner, "vector_space", "minilm")
        self.texts: list[str] = []

    def embed(self, texts: Sequence[str]) -> list[list[float]]:
        self.texts.extend(texts)
        result: list[list[float]] = self._inner.embed(texts)
        return result


class RecordingPoolingEmbedder(RecordingEmbedder):
    """The same, for an embedder that gives its tokens' sums (rag/passage_embedding.py)."""

    def token_sums(self, texts: Sequence[str]) -> list[Any]:
        self.texts.extend(texts)
        result: list[Any] = self._inner.token_sums(texts)
        return result


def recording(inner: Any) -> RecordingEmbedder:
    from rag.passage_embedding import pooling

    return RecordingPoolingEmbedder(inner) if pooling(inner) else RecordingEmbedder(inner)


def make_folder(folder: Path, files: int, pages_per_file: int, page_chars: int = 2500) -> int:
    text = corpus.Corpus(seed=3)
    for number in range(files):
        pages = [text.passage(page_chars) for _ in range(pages_per_file)]
        write_pdf(folder / f"report-{number:03d}.pdf", pages, f"Report {number}")
    return files * pages_per_file


def _ingest(library: Any, folder: Path, collection: str) -> tuple[float, int, int, int]:
    started = time.perf_counter()
    pages = passages = indexed = 0
    for event in library.ingest([folder], collection):
        if event.kind == "indexed":
            indexed += 1
            pages += event.pages
            passages += event.passages
        elif event.kind == "failed":
            raise RuntimeError(f"ingest failed on {event.path}: {event.detail}")
    return time.perf_counter() - started, pages, passages, indexed


def _all_texts(folder: Path) -> list[str]:
    """What is embedded for every passage of the folder, each passage and window."""
    from rag.chunking import chunk_document
    from rag.loaders import load_document
    from rag.passage_vectors import embedding_texts

    texts = []
    for path in sorted(folder.glob("*.pdf")):
        for passage in chunk_document(load_document(path)):
            texts += embedding_texts(passage)
    return texts


def benchmark_ingestion(*, files: int, pages_per_file: int, rounds: int,
                        progress: Callable[[str], None] = lambda _m: None,
                        embedder: Any = None) -> dict[str, Any]:
    from sentence_transformers import SentenceTransformer

    from rag.embedder import BATCH_SIZE, MiniLMEmbedder, bundled_model_dir
    from rag.library import Library
    from rag.loaders.isolated import IsolatedReader
    from rag.passage_embedding import pooling

    with tempfile.TemporaryDirectory(prefix="enclave-bench-") as tmp:
        folder = Path(tmp) / "documents"
        pages = make_folder(folder, files, pages_per_file)
        inner = embedder if embedder is not None else MiniLMEmbedder().load()
        recorder = recording(inner)
        # Each file read in a child process, as the application reads them.
        library = Library(Path(tmp) / "index", recorder, reader=IsolatedReader())
        raw = SentenceTransformer(str(bundled_model_dir()), device="cpu", local_files_only=True)

        def encode(texts: list[str]) -> float:
            started = time.perf_counter()
            raw.encode(texts, batch_size=BATCH_SIZE, normalize_embeddings=True,
                       convert_to_numpy=True, show_progress_bar=False)
            return time.perf_counter() - started

        # Warm-up: Chroma opened, loaders imported, both models run once.
        make_folder(Path(tmp) / "warm-up", 1, 2)
        _ingest(library, Path(tmp) / "warm-up", "warm-up")
        encode(recorder.texts)
        recorder.texts.clear()
        texts: list[str] = []
        enclave_s: list[float] = []
        raw_s: list[float] = []
        counted = (0, 0, 0)
        for round_no in range(1, rounds + 1):
            progress(f"ingestion round {round_no}/{rounds}")
            collection = f"round-{round_no}"
            if round_no % 2:
                seconds, *counted_now = _ingest(library, folder, collection)
                texts = texts or _all_texts(folder)  # every passage and window
                raw_s.append(encode(texts))
            else:
                raw_s.append(encode(texts))
                seconds, *counted_now = _ingest(library, folder, collection)
            enclave_s.append(seconds)
            counted = tuple(counted_now)  # type: ignore[assignment]
        progress("re-ingesting the unchanged folder")
        reingest_s = [_ingest(library, folder, f"round-{r}")[0] for r in range(1, rounds + 1)]
        library.close()
    got_pages, passages, documents = counted
    if got_pages != pages:
        raise RuntimeError(f"ingest reported {got_pages} pages, the folder has {pages}")
    enclave_time, raw_time = median(enclave_s), median(raw_s)
    ratios = [r / e for e, r in zip(enclave_s, raw_s, strict=True)]
    return {
        "method": "Library.ingest of a folder of generated PDFs vs SentenceTransformer.encode "
                  "(torch) of every passage and window (same batch size), alternating",
        "embedder": str(getattr(inner, "name", type(inner).__name__)),
        "passage_pooled_from_windows": pooling(inner),
        "texts_embedded_by_enclave": len(set(recorder.texts)),
        "texts_encoded_raw": len(texts),
        "documents": documents,
        "pages": pages,
        "passages": passages,
        "rounds": rounds,
        "batch_size": BATCH_SIZE,
        "enclave_seconds": rounded(enclave_time, 3),
        "raw_embed_seconds": rounded(raw_time, 3),
        "enclave_pages_per_second": rounded(pages / enclave_time, 2),
        "raw_pages_per_second": rounded(pages / raw_time, 2),
        "ratio": rounded(median(ratios)),
        "target_ratio": 3.0,
        "reingest_seconds": rounded(median(reingest_s), 4),
        "reingest_share": rounded(median(reingest_s) / enclave_time),
        "target_reingest_share": 0.05,
    }
