"""The one place that chooses Enclave's real parts and builds the application from the settings.

The CLI and the window both receive the ``Application`` built here, so they cannot drift apart.
Heavy libraries (llama_cpp, chromadb, torch) are imported inside the functions, never at module
import, so the window can appear before any of them loads.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import TYPE_CHECKING, Any

from desktop.app.settings import Settings
from models.chat_model import ChatModel
from models.engine_selftest import EngineCheck, SelfTestOptions, checked_engine
from models.errors import ModelError
from models.llama_runtime import LlamaChatModel, LoadOptions, check_model_file
from models.model_thread import ModelThread
from models.server_chat_model import ServerChatModel, ServerOptions

log = logging.getLogger(__name__)

if TYPE_CHECKING:
    from desktop.app.application import Application
    from desktop.app.audit_log import AuditLog
    from rag.assistant import Assistant
    from rag.index_servers import IndexServers
    from rag.library import Library
    from rag.loaders.isolated import DocumentReader
    from rag.retrieval_types import Embedder


def build_application(settings: Settings) -> Application:
    """The application with its real parts: llama.cpp, Chroma and the bundled embedder."""
    from desktop.app.application import Application

    return Application(settings, open_library=open_library, open_assistant=open_assistant,
                       load_model=load_chat_model)


def engine_test_options(settings: Settings) -> SelfTestOptions:
    return SelfTestOptions(gpu_layers=settings.gpu_layers, threads=settings.threads)


def engine_check_cache(settings: Settings) -> Path:
    return settings.home / "cache" / "engine-check.json"


def check_engine_once(settings: Settings) -> EngineCheck:
    """The self-test before the first load (a tiny generation in a child process), remembered
    for this exact build, processor and model once it passes."""
    check_model_file(settings.model_path)
    return checked_engine(settings.model_path, engine_test_options(settings),
                          engine_check_cache(settings))


def load_chat_model(settings: Settings) -> ChatModel:
    """The configured model: on the practice's model server, or local. Locally, test the engine
    in a child process, then load the model with the CPU variant that passed. A crash in the
    test becomes a ModelError with the cause and the fix."""
    if settings.chat_backend == "server":
        return ServerChatModel(server_options(settings))
    engine = check_engine_once(settings)
    if not engine.ok:
        raise ModelError(engine.message)
    return LlamaChatModel(
        settings.model_path,
        LoadOptions(
            context_size=settings.context_size,
            gpu_layers=settings.gpu_layers,
            threads=settings.threads,
            cpu_variant=engine.cpu_variant,
        ),
    )


def server_options(settings: Settings) -> ServerOptions:
    """How to reach the model server; the token is read from its file here, never stored in
    the settings object (which is logged and reported)."""
    token = _secret(settings.chat_server_token_file, "the model server's token",
                    "chat_server_token_file")
    ca = _path(settings.chat_server_ca_file)
    return ServerOptions(url=settings.chat_server_url, model=settings.chat_server_model,
                         token=token, ca_file=ca, timeout_s=float(settings.chat_server_timeout),
                         context_size=settings.context_size)


def start_model_thread(settings: Settings) -> ModelThread[ChatModel]:
    return ModelThread(lambda: load_chat_model(settings)).start()


def open_audit_log(settings: Settings) -> AuditLog:
    """The audit log under the data directory (nothing is written until an event is recorded)."""
    from desktop.app.audit_log import AuditLog

    return AuditLog(settings.home / "audit" / "audit.jsonl",
                    question_logging=settings.question_logging)


def bundled_embedder(settings: Settings) -> Embedder:
    """The bundled all-MiniLM-L6-v2 on the configured engine (``engine_for``)."""
    return engine_for(settings)[0]


def engine_for(settings: Settings) -> tuple[Embedder, str]:
    """The bundled all-MiniLM-L6-v2 on the configured engine, and why it is not that engine
    ('' when it is): ONNX Runtime (the ONNX file made once from the bundled weights, under the
    data directory) or torch (bf16 where the processor computes it, unless torch-fp32). When
    ONNX cannot be used here, torch, with the reason in the log."""
    from rag.embedder import MiniLMEmbedder

    if settings.embedding_backend in ("torch", "torch-fp32"):
        return MiniLMEmbedder(precision="fp32" if settings.embedding_backend == "torch-fp32"
                              else "auto"), ""
    from rag.onnx_embedder import OnnxEmbedder, Precision, exported_model

    precision: Precision = "int8" if settings.embedding_backend == "onnx-int8" else "fp32"
    try:
        return OnnxEmbedder(exported_model(settings.home / "cache" / "embedder", precision),
                            threads=settings.threads), ""
    except Exception as exc:  # any failure here leaves the torch path, which always works
        log.warning("the ONNX embedder could not be used (%s); using torch", exc)
        return MiniLMEmbedder(), f"{type(exc).__name__}: {exc}"


def open_library(settings: Settings, embedder: Embedder | None = None) -> Library:
    """The document library under the index directory; the bundled embedder loads on first use
    and is kept for the library's life (one load per library)."""
    from rag.index_storage import ServerStorage
    from rag.library import Library

    ocr, reason = ocr_reader(settings)
    storage = ServerStorage(index_servers(settings)) if settings.index_backend == "server" else None
    return Library(settings.index_dir, embedder or bundled_embedder(settings), ocr=ocr,
                   no_ocr_reason=reason, reader=document_reader(settings), storage=storage)


def index_servers(settings: Settings) -> IndexServers:
    """Where the shared index lives; the vector server's token is read from its file here."""
    from rag.index_servers import IndexServers, VectorServer
    from rag.postgres import DatabaseOptions

    ca = _path(settings.index_server_ca_file)
    token = _secret(settings.index_vector_token_file, "the vector server's token",
                    "index_vector_token_file")
    return IndexServers(
        VectorServer(settings.index_vector_server_url, token=token, ca_file=ca),
        DatabaseOptions(settings.index_database_url,
                        password_file=_path(settings.index_database_password_file), ca_file=ca))


def _path(setting: str | None) -> Path | None:
    return Path(setting).expanduser() if setting else None


def _secret(setting: str | None, what: str, key: str) -> str:
    """The token in the file a setting names ("" when unset)."""
    path = _path(setting)
    if path is None:
        return ""
    try:
        return path.read_text(encoding="utf-8").strip()
    except (OSError, UnicodeDecodeError) as exc:
        raise ModelError(f"The file of {what}, {path}, cannot be read "
                         f"({getattr(exc, 'strerror', None) or exc}). Check {key} in "
                         "Settings.") from exc


def document_reader(settings: Settings) -> DocumentReader:
    """Each file read in a child process held to the settings' time and memory limits
    (rag/loaders/isolated.py)."""
    from rag.loaders.isolated import IsolatedReader, ReadingLimits

    return IsolatedReader(ReadingLimits(seconds=settings.reading_time_limit,
                                        memory_mb=settings.reading_memory_limit))


def ocr_reader(settings: Settings) -> tuple[Any, str]:
    """The OCR engine for scans, in the configured languages (or the system's and English),
    or None and what to install."""
    from rag.ocr import INSTALL_HINT, OcrError, TesseractReader, default_languages, find_engine

    engine = find_engine()
    if engine is None:
        return None, INSTALL_HINT
    languages = settings.ocr_languages or default_languages(engine.languages)
    if not languages:
        return None, "install Tesseract's language data (e.g. tesseract-ocr-eng) to read scans"
    try:
        return TesseractReader(engine, languages), ""
    except OcrError as exc:
        return None, str(exc)


def open_assistant(settings: Settings, library: Any) -> Assistant:
    from rag.assistant import Assistant, AssistantOptions

    return Assistant(library, AssistantOptions(
        collection=settings.collection,
        top_k=settings.top_k,
        relevance_threshold=settings.relevance_threshold,
        context_size=settings.context_size,
        answer_tokens=settings.max_tokens,
    ))
