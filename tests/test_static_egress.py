"""Static zero-egress guarantees, read from the source itself (AST, not grep): no network library
in product code, no hub downloads, no posthog, and Chroma always handed explicit embeddings."""

from __future__ import annotations

import ast
import importlib.metadata
import importlib.util
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PRODUCT_PACKAGES = ("desktop", "models", "rag", "installer")

NETWORK_MODULES = (
    "socket", "ssl", "requests", "httpx", "aiohttp", "urllib3", "urllib.request", "http.client",
    "ftplib", "smtplib", "xmlrpc.client", "websocket", "websockets", "grpc", "webbrowser",
    "huggingface_hub", "psycopg", "PySide6.QtNetwork", "PySide6.QtWebEngineCore",
    "PySide6.QtWebEngineWidgets", "PySide6.QtWebEngineQuick", "PySide6.QtWebSockets",
)
# The only files allowed one network module each, and why.
ALLOWED = {
    ("desktop/egress/guard.py", "socket"): "the guard inspects socket objects to refuse them",
    ("desktop/egress/check/canary.py", "socket"): "the verify-egress canary, run as a raw "
                                                  "child, never imported by the application",
    ("models/server_chat_model.py", "httpx"): "the client of the on-prem model server IT "
                                              "configured; the guard allows exactly its host "
                                              "and port",
    ("models/server_chat_model.py", "ssl"): "TLS to that server, with the practice's CA file",
    ("rag/postgres.py", "psycopg"): "the client of the practice's PostgreSQL (the shared "
                                    "index's catalogue and keywords) IT configured; the guard "
                                    "allows exactly its host and port",
    ("rag/server_locks.py", "psycopg"): "advisory locks on that same PostgreSQL",
    ("rag/index_servers.py", "httpx"): "the errors and time limit of chromadb's HTTP client "
                                       "to the practice's Chroma server IT configured",
    ("desktop/cli/serve_cmd.py", "http.client"): "verify-egress's serve step asks the API it "
                                                 "has just started on 127.0.0.1, under the "
                                                 "guard",
}
HUB_DOWNLOADS = ("from_pretrained", "hf_hub_download", "snapshot_download")
CHROMA_COLLECTION_CALLS = ("get_or_create_collection", "create_collection", "get_collection")


def product_files() -> Iterator[Path]:
    for package in PRODUCT_PACKAGES:
        yield from sorted((ROOT / package).rglob("*.py"))


def _imported_modules(tree: ast.AST) -> Iterator[tuple[str, int]]:
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield alias.name, node.lineno
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            yield node.module, node.lineno
            for alias in node.names:  # from urllib import request; from PySide6 import QtNetwork
                yield f"{node.module}.{alias.name}", node.lineno
        elif isinstance(node, ast.Call) and _call_name(node) in ("import_module", "__import__") \
                and node.args and isinstance(node.args[0], ast.Constant) \
                and isinstance(node.args[0].value, str):
            yield node.args[0].value, node.lineno


def _is_network(module: str) -> str | None:
    for banned in NETWORK_MODULES:
        if module == banned or module.startswith(banned + "."):
            return banned
    return None


def _call_name(node: ast.Call) -> str:
    func = node.func
    if isinstance(func, ast.Attribute):
        return func.attr
    return func.id if isinstance(func, ast.Name) else ""


def network_imports(source: str, relative: str) -> list[str]:
    found: dict[tuple[int, str], str] = {}  # one finding per statement and library
    for module, line in _imported_modules(ast.parse(source)):
        banned = _is_network(module)
        if banned and (relative, banned) not in ALLOWED:
            found.setdefault((line, banned), f"{relative}:{line} imports {module}")
    return list(found.values())


def hub_downloads(source: str, relative: str) -> list[str]:
    return [f"{relative}:{node.lineno} calls {_call_name(node)}"
            for node in ast.walk(ast.parse(source))
            if isinstance(node, ast.Call) and _call_name(node) in HUB_DOWNLOADS]


def _keywords(node: ast.Call) -> dict[str, ast.expr]:
    return {k.arg: k.value for k in node.keywords if k.arg is not None}


def _receiver(node: ast.Call) -> str:
    return ast.unparse(node.func.value).lower() if isinstance(node.func, ast.Attribute) else ""


def chroma_without_embeddings(source: str, relative: str) -> list[str]:
    """Chroma calls that would let Chroma embed by itself (its default function downloads a
    model): a collection opened without ``embedding_function=None``, an add/upsert without
    ``embeddings=``, a query without ``query_embeddings=`` or with texts, images or URIs."""
    problems = []
    for node in ast.walk(ast.parse(source)):
        if not isinstance(node, ast.Call):
            continue
        name, kw, receiver = _call_name(node), _keywords(node), _receiver(node)
        where = f"{relative}:{node.lineno}"
        if name in CHROMA_COLLECTION_CALLS and (
                name == "get_or_create_collection" or "client" in receiver
                or {"embedding_function", "metadata", "configuration"} & set(kw)):
            ef = kw.get("embedding_function")
            if not (isinstance(ef, ast.Constant) and ef.value is None):
                problems.append(f"{where} {name} without embedding_function=None")
        elif name in ("add", "upsert") and ("ids" in kw or "collection" in receiver):
            if "embeddings" not in kw:
                problems.append(f"{where} {name} without embeddings=")
        elif name == "query" and ({"query_texts", "query_embeddings", "n_results"} & set(kw)
                                  or "collection" in receiver) and (
                "query_embeddings" not in kw
                or {"query_texts", "query_images", "query_uris"} & set(kw)):
            problems.append(f"{where} query without explicit query_embeddings=")
    return problems


def _each_product_file() -> Iterator[tuple[str, str]]:
    for path in product_files():
        yield path.read_text(encoding="utf-8"), path.relative_to(ROOT).as_posix()


def test_product_code_imports_no_network_library() -> None:
    found = [p for source, rel in _each_product_file() for p in network_imports(source, rel)]
    assert found == []


def test_the_allowed_exceptions_are_still_where_they_say() -> None:
    for relative, module in ALLOWED:
        source = (ROOT / relative).read_text(encoding="utf-8")
        assert any(m == module for m, _ in _imported_modules(ast.parse(source))), relative


def test_product_code_never_downloads_from_the_hub() -> None:
    found = [p for source, rel in _each_product_file() for p in hub_downloads(source, rel)]
    assert found == []


def test_chroma_is_always_given_explicit_embeddings() -> None:
    found = [p for source, rel in _each_product_file()
             for p in chroma_without_embeddings(source, rel)]
    assert found == []
    # ...and the check has something to bite on: the real store is among what it read.
    store = (ROOT / "rag" / "vector_store.py").read_text(encoding="utf-8")
    assert "get_or_create_collection" in store and "upsert" in store


def test_only_the_index_servers_module_makes_a_chroma_http_client() -> None:
    """chromadb.HttpClient reaches a server: only to the one IT configured, from one place."""
    found = [f"{rel}:{node.lineno}" for source, rel in _each_product_file()
             for node in ast.walk(ast.parse(source))
             if isinstance(node, ast.Call) and _call_name(node) in ("HttpClient", "AsyncHttpClient",
                                                                     "CloudClient")]
    assert [f.split(":")[0] for f in found] == ["rag/index_servers.py"]


def test_posthog_is_not_installed() -> None:
    assert importlib.util.find_spec("posthog") is None
    with pytest.raises(importlib.metadata.PackageNotFoundError):
        importlib.metadata.distribution("posthog")


@pytest.mark.parametrize(("snippet", "expected"), [
    ("import socket", "imports socket"),
    ("from urllib import request", "imports urllib.request"),
    ("import http.client as h", "imports http.client"),
    ("from PySide6 import QtNetwork", "imports PySide6.QtNetwork"),
    ("from PySide6.QtWebEngineWidgets import QWebEngineView",
     "imports PySide6.QtWebEngineWidgets"),
    ("import importlib\nimportlib.import_module('requests')", "imports requests"),
])
def test_the_import_check_catches_each_spelling(snippet: str, expected: str) -> None:
    assert [p.split(" ", 1)[1] for p in network_imports(snippet, "x.py")] == [expected]


def test_the_hub_and_chroma_checks_catch_what_they_should() -> None:
    assert hub_downloads("SentenceTransformer.from_pretrained('x')\nhf_hub_download('a', 'b')",
                         "x.py") == ["x.py:1 calls from_pretrained", "x.py:2 calls hf_hub_download"]
    bad = ("c = client.get_or_create_collection('a')\n"
           "client.create_collection('b', embedding_function=ef)\n"
           "c.add(ids=['1'], documents=['t'])\n"
           "c.query(query_texts=['q'], n_results=3)\n")
    assert len(chroma_without_embeddings(bad, "x.py")) == 4
    good = ("c = client.get_or_create_collection('a', embedding_function=None)\n"
            "c.upsert(ids=['1'], embeddings=[[0.1]], documents=['t'])\n"
            "c.query(query_embeddings=[[0.1]], n_results=3)\n"
            "library.create_collection('matter-12')\nseen.add(3)\n")
    assert chroma_without_embeddings(good, "x.py") == []
