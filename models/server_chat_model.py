"""The chat model on an on-prem server that speaks the OpenAI chat API (llama.cpp's server,
vLLM, Ollama), behind the same seam as the local llama.cpp model.

Streaming comes as server-sent events; stopping closes the stream, which is how these servers
learn to stop generating. History is fitted to the server's context size (asked of the server
where it says, else the configured one). The token is sent as a bearer header and kept out of
every message, log line and ``repr``. Nothing here picks an address: the URL is the one IT
configured, and the egress guard allows exactly its host and port.
"""

from __future__ import annotations

import functools
import json
import logging
import ssl
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from models.chat_model import Cancel, ChatMessage, GenerationStats, StreamedAnswer
from models.context_fit import fit_messages
from models.errors import ModelError

log = logging.getLogger(__name__)

MIN_ANSWER_TOKENS = 64
# Tokens a chat template adds around each message and before the answer, where the server
# cannot count a whole prompt: generous, so a fitted prompt is never too long.
PER_MESSAGE_TOKENS = 8
PROMPT_TOKENS = 16


@dataclass(frozen=True)
class ServerOptions:
    url: str  # the server's address: http(s)://host:port, with or without /v1
    model: str = ""  # the served model's name; empty: the only one the server serves
    token: str = field(default="", repr=False)  # bearer token; never shown
    ca_file: Path | None = None  # the practice's CA, for a server with its own certificate
    timeout_s: float = 60.0  # the longest wait for the server's next word
    context_size: int = 4096  # used when the server does not say its own


def endpoint(url: str) -> tuple[str, int]:
    """The host and port a server URL connects to (the port from the scheme when unsaid)."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ModelError(f"The model server address '{url}' is not an http:// or https:// URL "
                         "with a host name. Correct it in Settings (chat_server_url).")
    try:
        port = parts.port
    except ValueError as exc:
        raise ModelError(f"The model server address '{url}' has an invalid port.") from exc
    return parts.hostname, port or (443 if parts.scheme == "https" else 80)


def api_base(url: str) -> str:
    base = url.rstrip("/")
    return base if base.endswith("/v1") else f"{base}/v1"


class ServerChatModel:
    """A model served by an on-prem server. Create, use and close it on one thread."""

    def __init__(self, options: ServerOptions) -> None:
        import httpx

        self.options = options
        host, port = endpoint(options.url)
        self.host, self.port = host, port
        self.base = api_base(options.url)
        self._root = self.base[: -len("/v1")]
        self._tokenize_route: str | None = None  # None: not tried yet; "": the server has none
        headers = {"Authorization": f"Bearer {options.token}"} if options.token else {}
        self._client = httpx.Client(
            headers=headers, verify=_tls_context(options.ca_file),
            timeout=httpx.Timeout(options.timeout_s, connect=min(10.0, options.timeout_s)),
            trust_env=False,  # never a proxy from the environment: only the configured server
        )
        try:
            self.name, self._context_size = self._probe()
        except BaseException:
            self._client.close()
            raise
        self.backend = f"server {host}:{port}"
        self.path = Path(self.name)

    # -- what the server says about itself -----------------------------------------------------
    def _probe(self) -> tuple[str, int]:
        served = self._request("GET", f"{self.base}/models").get("data") or []
        names = [str(m.get("id")) for m in served if isinstance(m, dict)]
        name = self.options.model or (names[0] if len(names) == 1 else "")
        if not name:
            raise ModelError(f"The model server at {self.where} serves {len(names)} models "
                             f"({', '.join(names) or 'none'}); name one in Settings "
                             "(chat_server_model).")
        if names and name not in names:
            raise ModelError(f"The model server at {self.where} does not serve '{name}'; it "
                             f"serves {', '.join(names)}. Correct chat_server_model in Settings.")
        entry = next((m for m in served if isinstance(m, dict) and m.get("id") == name), {})
        return name, self._server_context(entry) or self.options.context_size

    def _server_context(self, entry: dict[str, Any]) -> int | None:
        """The context size as the server reports it: vLLM in the model list, llama.cpp's
        server in /props. None when it does not say (llama-cpp-python, Ollama)."""
        for key in ("max_model_len", "context_length"):
            if isinstance(entry.get(key), int):
                return int(entry[key])
        try:
            props = self._request("GET", f"{self._root}/props", quiet=True)
        except ModelError:
            return None
        settings = props.get("default_generation_settings") or {}
        n_ctx = settings.get("n_ctx") if isinstance(settings, dict) else None
        return int(n_ctx) if isinstance(n_ctx, int) and n_ctx > 0 else None

    def version(self) -> str:
        """What the server says it is: vLLM's and Ollama's version routes, llama.cpp's build."""
        for route, key in (("/version", "version"), ("/api/version", "version"),
                           ("/props", "build_info")):
            try:
                value = self._request("GET", f"{self._root}{route}", quiet=True).get(key)
            except ModelError:
                continue
            if value:
                return f"version {value}"
        return "version not reported"

    @property
    def where(self) -> str:
        return f"{self.host}:{self.port}"

    @property
    def context_size(self) -> int:
        return self._context_size

    # -- tokens --------------------------------------------------------------------------------
    @functools.lru_cache(maxsize=4096)  # noqa: B019 - one model per thread, freed on close
    def count_tokens(self, text: str) -> int:
        """The server's own count where it has a tokenize route; else a generous estimate."""
        if self._tokenize_route is None:
            routes = ["/tokenize", "/extras/tokenize"]  # llama.cpp's, llama-cpp-python's
        else:
            routes = [self._tokenize_route] if self._tokenize_route else []
        for route in routes:
            body = {"content": text} if route == "/tokenize" else {"input": text}
            try:
                answer = self._request("POST", f"{self._root}{route}", json_body=body,
                                       quiet=True)
            except ModelError:
                continue
            tokens = answer.get("tokens")
            if isinstance(tokens, list):
                self._tokenize_route = route
                return len(tokens)
        if self._tokenize_route is None:
            self._tokenize_route = ""  # the server cannot count: estimate from then on
        return len(text.encode("utf-8")) // 3 + 1

    def prompt_tokens(self, messages: Sequence[ChatMessage]) -> int:
        return PROMPT_TOKENS + sum(self.count_tokens(m.content) + PER_MESSAGE_TOKENS
                                   for m in messages)

    # -- generation ----------------------------------------------------------------------------
    def chat(self, messages: Sequence[ChatMessage], *, max_tokens: int, temperature: float,
             cancel: Cancel | None = None) -> ServerCompletion:
        return ServerCompletion(self, messages, max_tokens, temperature, cancel)

    def close(self) -> None:
        self._client.close()

    # -- HTTP ----------------------------------------------------------------------------------
    def _request(self, method: str, url: str, json_body: Any = None,
                 quiet: bool = False) -> dict[str, Any]:
        import httpx

        try:
            response = self._client.request(method, url, json=json_body)
        except httpx.HTTPError as exc:
            raise self.transport_error(exc) from None
        if response.status_code >= 400:
            if quiet:
                raise ModelError(f"{response.status_code}")
            raise self.status_error(response.status_code, response.text)
        try:
            data = response.json()
        except ValueError as exc:
            raise ModelError(f"The model server at {self.where} did not answer in the OpenAI "
                             "API's format. Check chat_server_url in Settings.") from exc
        return data if isinstance(data, dict) else {"data": data}

    def transport_error(self, exc: Exception) -> ModelError:
        import httpx

        if isinstance(exc, httpx.TimeoutException):
            return ModelError(f"The model server at {self.where} did not answer within "
                              f"{self.options.timeout_s:g} seconds. It may be busy or stopped; "
                              "try again, or ask IT to check it.")
        if isinstance(exc, httpx.ConnectError) and "CERTIFICATE" in str(exc).upper():
            return ModelError(f"The model server at {self.where} presented a certificate this "
                              "computer does not trust. Set chat_server_ca_file in Settings to "
                              "the practice's CA certificate.")
        if isinstance(exc, httpx.ConnectError):
            return ModelError(f"The model server at {self.where} cannot be reached "
                              f"({_reason(exc)}). Check that it is running, or choose the local "
                              "model in Settings.")
        if isinstance(exc, httpx.RemoteProtocolError | httpx.ReadError):
            return ModelError(f"The model server at {self.where} closed the connection in the "
                              "middle of the answer (it may have stopped or restarted). Ask "
                              "again in a moment.")
        return ModelError(f"The model server at {self.where} failed: {_reason(exc)}.")

    def status_error(self, status: int, body: str) -> ModelError:
        if status in (401, 403):
            return ModelError(f"The model server at {self.where} refused Enclave's token "
                              f"(HTTP {status}). Check chat_server_token_file in Settings.")
        if status == 404:
            return ModelError(f"The model server at {self.where} has no OpenAI chat API at "
                              f"{self.base} (HTTP 404). Check chat_server_url in Settings.")
        detail = _error_detail(body)
        return ModelError(f"The model server at {self.where} answered HTTP {status}"
                          f"{': ' + detail if detail else ''}.")


class ServerCompletion(StreamedAnswer["ServerChatModel"]):
    """One streamed answer. Iterate it once; ``stats`` is filled when the stream ends."""

    def __iter__(self) -> Iterator[str]:
        import httpx

        model = self._model
        started = time.perf_counter()
        n_ctx = model.context_size
        reserve = min(self._max_tokens, max(MIN_ANSWER_TOKENS, n_ctx // 4))
        fitted = fit_messages(self._messages, model.prompt_tokens, n_ctx - reserve)
        body = {
            "model": model.name,
            "messages": [{"role": m.role, "content": m.content} for m in fitted.messages],
            "max_tokens": max(1, min(self._max_tokens, n_ctx - fitted.prompt_tokens)),
            "temperature": self._temperature,
            "stream": True,
            "stream_options": {"include_usage": True},
        }
        first_at: float | None = None
        pieces = 0
        finish = ""
        usage: dict[str, Any] = {}
        try:
            with model._client.stream("POST", f"{model.base}/chat/completions",
                                      json=body) as response:
                if response.status_code >= 400:
                    raise model.status_error(response.status_code, response.read().decode(
                        "utf-8", "replace"))
                for event in _events(response.iter_lines()):
                    usage = event.get("usage") or usage
                    for choice in event.get("choices") or []:
                        text = (choice.get("delta") or {}).get("content") or ""
                        if text:
                            if first_at is None:
                                first_at = time.perf_counter()
                            pieces += 1
                            yield text
                        if choice.get("finish_reason"):
                            finish = "stop" if choice["finish_reason"] == "stop" else "length"
                    if self._cancel is not None and self._cancel.is_set():
                        finish = "cancelled"
                        break  # leaving the block closes the stream: the server stops
        except httpx.HTTPError as exc:
            raise model.transport_error(exc) from None
        if not finish:
            # The stream ended without saying why: the server stopped or cut this answer short
            # (some servers do for another client's question). Never a silent half answer.
            raise ModelError(f"The model server at {model.where} ended the answer without "
                             "finishing it (it may have stopped, or been given another "
                             "question). Ask again in a moment.")
        self.stats = GenerationStats.of_stream(
            started=started, first_at=first_at, ended=time.perf_counter(),
            prompt_tokens=int(usage.get("prompt_tokens") or fitted.prompt_tokens),
            completion_tokens=int(usage.get("completion_tokens") or pieces),
            finish_reason=finish, trimmed_messages=fitted.dropped)


def _events(lines: Iterator[str]) -> Iterator[dict[str, Any]]:
    """The JSON objects of a server-sent event stream, up to ``[DONE]``."""
    for line in lines:
        if not line.startswith("data:"):
            continue  # comments (": ping"), event names, blank separators
        data = line[len("data:"):].strip()
        if data == "[DONE]":
            return
        try:
            event = json.loads(data)
        except ValueError:
            continue
        if isinstance(event, dict):
            if event.get("error"):
                raise ModelError(f"The model server stopped with an error: "
                                 f"{_error_detail(json.dumps(event))}.")
            yield event


def _tls_context(ca_file: Path | None) -> ssl.SSLContext:
    """The system's trusted CAs, or exactly the practice's CA file."""
    if ca_file is None:
        return ssl.create_default_context()
    try:
        return ssl.create_default_context(cafile=str(ca_file))
    except (OSError, ssl.SSLError) as exc:
        raise ModelError(f"The CA file {ca_file} cannot be used ({exc}). Set "
                         "chat_server_ca_file in Settings to a PEM certificate.") from exc


def _reason(exc: Exception) -> str:
    text = str(exc) or type(exc).__name__
    return text.split("] ", 1)[-1][:160]


def _error_detail(body: str) -> str:
    try:
        data = json.loads(body)
    except ValueError:
        return body.strip()[:200]
    error = data.get("error") if isinstance(data, dict) else None
    if isinstance(error, dict):
        return str(error.get("message", ""))[:200]
    if isinstance(data, dict) and "detail" in data:
        return str(data["detail"])[:200]
    return str(error or "")[:200]
