"""The keys Enclave's config.toml accepts and their types, for the installer.

Generated from desktop/app/settings_table.py by ``python -m desktop.app.settings_table``
(the installer runs before Enclave exists, so it cannot import it); a test fails
when this copy is stale. Do not edit by hand."""

from __future__ import annotations

from collections.abc import Mapping

SETTINGS_KEYS: Mapping[str, type] = {
    "model_path": str,
    "context_size": int,
    "gpu_layers": int,
    "threads": int,
    "temperature": float,
    "max_tokens": int,
    "grounded": bool,
    "relevance_threshold": float,
    "top_k": int,
    "collection": str,
    "question_logging": str,
    "embedding_backend": str,
    "api_port": int,
    "ocr_languages": list,
    "allowed_hosts": list,
    "chat_backend": str,
    "chat_server_url": str,
    "chat_server_model": str,
    "chat_server_token_file": str,
    "chat_server_ca_file": str,
    "chat_server_timeout": int,
    "index_backend": str,
    "index_vector_server_url": str,
    "index_vector_token_file": str,
    "index_database_url": str,
    "index_database_password_file": str,
    "index_server_ca_file": str,
    "reading_time_limit": int,
    "reading_memory_limit": int,
}
