"""The one place that builds Enclave's components from the settings.

The CLI and the window both call these functions, so they cannot drift apart. Heavy libraries
(llama_cpp, chromadb, torch) are imported inside the functions, never at module import, so the
window can appear before any of them loads.
"""

from __future__ import annotations

from desktop.settings import Settings
from models.llama_runtime import LlamaChatModel, LoadOptions
from models.model_thread import ModelThread


def load_chat_model(settings: Settings) -> LlamaChatModel:
    return LlamaChatModel(
        settings.model_path,
        LoadOptions(
            context_size=settings.context_size,
            gpu_layers=settings.gpu_layers,
            threads=settings.threads,
        ),
    )


def start_model_thread(settings: Settings) -> ModelThread[LlamaChatModel]:
    return ModelThread(lambda: load_chat_model(settings)).start()
