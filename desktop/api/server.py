"""``enclave serve`` and the window's Local API: an OpenAI-compatible HTTP server on loopback.

Routes: ``GET /v1/models``, ``POST /v1/chat/completions`` (streamed as server-sent events or
whole), ``POST /v1/embeddings`` (the bundled embedder). Every request needs the token
(token.py) and is written to the audit log (``api_request``; questions and answers as
``question`` and ``answer``, interface "api"). Questions go through the one ask service
(desktop/app/ask_service.py) on a worker thread; the model stays on its own thread and answers
them in turn; past the admission limit a request gets 429; a client that goes away stops its
answer between two tokens. Built on Starlette, served by uvicorn.
"""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import json
import threading
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass
from typing import Any

from desktop.api import openai_shapes as shapes
from desktop.api.admission import Admission
from desktop.api.token import token_matches
from desktop.app.application import Application
from desktop.app.ask_service import Answer, AskEvent, Finished, Refused, Token
from desktop.app.audit_events import ApiRequest
from models.chat_model import ChatModel

QUEUE_LIMIT = 32  # questions running or waiting before a new one gets 429
LOOPBACK_NAMES = ("127.0.0.1", "localhost", "::1")


def bind_refusal(host: str, allowed_hosts: tuple[str, ...]) -> str | None:
    """Why the API may not listen on ``host``; None when it may (loopback, or an on-prem host
    the settings allow)."""
    if host in LOOPBACK_NAMES or host in allowed_hosts:
        return None
    with contextlib.suppress(ValueError):
        if ipaddress.ip_address(host).is_loopback:
            return None
    return (f"Enclave's API listens on this computer only (127.0.0.1); {host} is not "
            "allowed. An on-prem address must first be added to allowed_hosts in the settings.")


@dataclass
class _Failed:
    error: BaseException


_DONE = object()


class ApiService:
    """The routes, over one application and one model (seen from other threads)."""

    def __init__(self, app: Application, model: ChatModel, token: str,
                 queue_limit: int = QUEUE_LIMIT) -> None:
        self.app = app
        self.model = model
        self.token = token
        self.admission = Admission(queue_limit)
        self.model_id = app.settings.model_path.stem
        self._workers: set[threading.Thread] = set()
        self._workers_lock = threading.Lock()

    def close(self, timeout: float = 30.0) -> None:
        """Wait for the answers still being produced (a stopped server's are cancelled by
        their clients going away, so this is short)."""
        with self._workers_lock:
            workers = list(self._workers)
        for worker in workers:
            worker.join(timeout)

    def _on_a_thread(self, iterate: Callable[[], Iterator[AskEvent]]
                     ) -> AsyncIterator[AskEvent]:
        events, worker = _events_on_a_thread(iterate)
        with self._workers_lock:
            self._workers = {w for w in self._workers if w.is_alive()} | {worker}
        worker.start()
        return events

    def asgi(self) -> Any:
        from starlette.applications import Starlette
        from starlette.routing import Route

        return Starlette(routes=[
            Route("/v1/models", self.models, methods=["GET"]),
            Route("/v1/chat/completions", self.chat, methods=["POST"]),
            Route("/v1/embeddings", self.embeddings, methods=["POST"]),
        ])

    # -- the routes ------------------------------------------------------------------------

    async def models(self, request: Any) -> Any:
        if (refused := self._refuse(request)) is not None:
            return refused
        from starlette.responses import JSONResponse

        self._log(request, 200)
        owned = {"object": "model", "created": 0, "owned_by": "enclave"}
        return JSONResponse({"object": "list", "data": [
            dict(owned, id=self.model_id), dict(owned, id=self.embedding_model_id)]})

    @property
    def embedding_model_id(self) -> str:
        return "all-MiniLM-L6-v2"

    async def embeddings(self, request: Any) -> Any:
        from starlette.concurrency import run_in_threadpool
        from starlette.responses import JSONResponse

        if (refused := self._refuse(request)) is not None:
            return refused
        try:
            texts = shapes.embedding_inputs(await self._json(request))
        except shapes.BadRequest as exc:
            return self._error(request, 400, str(exc), "invalid_request_error")
        library = await run_in_threadpool(self.app.library)
        vectors = await run_in_threadpool(library.embedder.embed, texts)
        self._log(request, 200)
        words = sum(len(t.split()) for t in texts)
        return JSONResponse({
            "object": "list", "model": self.embedding_model_id,
            "data": [{"object": "embedding", "index": n, "embedding": v}
                     for n, v in enumerate(vectors)],
            "usage": {"prompt_tokens": words, "total_tokens": words}})

    def _collection_names(self) -> set[str]:
        return {c.name for c in self.app.library().collections()}

    async def chat(self, request: Any) -> Any:
        from starlette.concurrency import run_in_threadpool
        from starlette.responses import JSONResponse

        if (refused := self._refuse(request)) is not None:
            return refused
        try:
            asked = shapes.chat_request(await self._json(request), self.model_id)
        except shapes.BadRequest as exc:
            return self._error(request, 400, str(exc), "invalid_request_error")
        if asked.ask.use_documents and asked.ask.collection not in \
                await run_in_threadpool(self._collection_names):
            return self._error(request, 404, f"There is no collection named "
                               f"“{asked.ask.collection}”.", "invalid_request_error",
                               "collection_not_found")
        if not self.admission.try_enter():
            return self._error(request, 429, "Enclave is answering other questions; ask "
                               "again in a moment.", "rate_limit_error", "queue_full",
                               headers={"Retry-After": "5"})
        cancel = threading.Event()
        events = self._on_a_thread(lambda: self.app.ask.ask(asked.ask, self.model, cancel))
        try:
            # Until the first piece of the answer (or its end), so that a model that cannot be
            # loaded is a clear 503, not a broken stream.
            first = await _watching_disconnect(request, cancel, events.__anext__())
        except StopAsyncIteration:
            self.admission.leave()
            return self._error(request, 500, "The answer ended before it began.", "api_error")
        except Exception as exc:  # the model could not be loaded or failed
            self.admission.leave()
            return self._error(request, 503, f"The model cannot answer: {exc}", "api_error",
                               "model_unavailable")
        ident = shapes.new_id()
        self._log(request, 200)
        if asked.stream:
            return _EventStream(self._sse(asked, ident, first, events), cancel,
                                self.admission.leave)
        try:
            answer = await _watching_disconnect(request, cancel, _answer_of(first, events))
        finally:
            self.admission.leave()
        return JSONResponse(shapes.completion(asked, answer, ident))

    async def _sse(self, asked: shapes.ChatRequest, ident: str, first: AskEvent,
                   events: AsyncIterator[AskEvent]) -> AsyncIterator[bytes]:
        def data(body: dict[str, Any]) -> bytes:
            return f"data: {json.dumps(body, ensure_ascii=False)}\n\n".encode()

        yield data(shapes.chunk(asked, ident, first=True))
        event: AskEvent | None = first
        while event is not None:
            if isinstance(event, Token):
                yield data(shapes.chunk(asked, ident, event.text))
            elif isinstance(event, Refused):
                yield data(shapes.chunk(asked, ident, event.answer.text))
                yield data(shapes.chunk(asked, ident, answer=event.answer))
            elif isinstance(event, Finished):
                yield data(shapes.chunk(asked, ident, answer=event.answer))
            try:
                event = await events.__anext__()
            except StopAsyncIteration:
                event = None
            except Exception as exc:
                yield data(shapes.error(f"The answer stopped: {exc}", "api_error"))
                event = None
        yield b"data: [DONE]\n\n"

    # -- helpers ---------------------------------------------------------------------------

    async def _json(self, request: Any) -> Any:
        try:
            return await request.json()
        except ValueError as exc:
            raise shapes.BadRequest("the request body is not JSON") from exc

    def _refuse(self, request: Any) -> Any:
        if token_matches(self.token, request.headers.get("authorization")):
            return None
        return self._error(request, 401, "A valid API token is needed (Authorization: Bearer "
                           "<token>); Enclave shows it under Local API.",
                           "invalid_request_error", "invalid_api_key",
                           reason="wrong or missing token")

    def _error(self, request: Any, status: int, message: str, kind: str,
               code: str | None = None, headers: dict[str, str] | None = None,
               reason: str = "") -> Any:
        from starlette.responses import JSONResponse

        self._log(request, status, reason or message)
        return JSONResponse(shapes.error(message, kind, code), status_code=status,
                            headers=headers)

    def _log(self, request: Any, status: int, reason: str = "") -> None:
        client = request.client
        where = f"{client.host}:{client.port}" if client else ""
        self.app.audit.record_event(ApiRequest(
            endpoint=f"{request.method} {request.url.path}", status=status, client=where,
            reason=reason))


async def _answer_of(first: AskEvent, events: AsyncIterator[AskEvent]) -> Answer:
    event: AskEvent = first
    while True:
        if isinstance(event, Finished | Refused):
            return event.answer
        event = await events.__anext__()


async def _watching_disconnect(request: Any, cancel: threading.Event, work: Any) -> Any:
    """``await work``, stopping the answer (``cancel``) if the client goes away meanwhile."""
    async def watch() -> None:
        while True:
            message = await request.receive()
            if message["type"] == "http.disconnect":
                cancel.set()
                return

    watcher = asyncio.ensure_future(watch())
    try:
        return await work
    finally:
        watcher.cancel()


def _events_on_a_thread(iterate: Callable[[], Iterator[AskEvent]]
                        ) -> tuple[AsyncIterator[AskEvent], threading.Thread]:
    """The ask service's events, produced on a worker thread (it blocks on the model; the
    caller starts it) and handed to the event loop; only tokens and the end are passed on."""
    loop = asyncio.get_running_loop()
    queue: asyncio.Queue[Any] = asyncio.Queue()

    def produce() -> None:
        try:
            for event in iterate():
                if isinstance(event, Token | Finished | Refused):
                    loop.call_soon_threadsafe(queue.put_nowait, event)
        except BaseException as exc:
            loop.call_soon_threadsafe(queue.put_nowait, _Failed(exc))
        finally:
            loop.call_soon_threadsafe(queue.put_nowait, _DONE)

    worker = threading.Thread(target=produce, name="enclave-api-ask", daemon=True)

    async def consume() -> AsyncIterator[AskEvent]:
        while (item := await queue.get()) is not _DONE:
            if isinstance(item, _Failed):
                raise item.error
            yield item

    return consume(), worker


class _EventStream:
    """A server-sent-event response that stops the answer when the client goes away: it
    watches for the disconnect while it sends, and a failed send counts as one."""

    def __init__(self, body: AsyncIterator[bytes], cancel: threading.Event,
                 done: Callable[[], None]) -> None:
        self._body = body
        self._cancel = cancel
        self._done = done

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        async def watch() -> None:
            while True:
                if (await receive())["type"] == "http.disconnect":
                    self._cancel.set()
                    return

        watcher = asyncio.ensure_future(watch())
        try:
            await send({"type": "http.response.start", "status": 200, "headers": [
                (b"content-type", b"text/event-stream; charset=utf-8"),
                (b"cache-control", b"no-cache")]})
            async for piece in self._body:
                if self._cancel.is_set():
                    break
                await send({"type": "http.response.body", "body": piece, "more_body": True})
            await send({"type": "http.response.body", "body": b"", "more_body": False})
        except OSError:
            self._cancel.set()  # the client went away mid-send
        finally:
            watcher.cancel()
            # Drain the rest of the answer (it ends within a token once cancelled), so the
            # model's next question is never queued behind an abandoned one.
            with contextlib.suppress(Exception):
                async for _ in self._body:
                    pass
            self._done()


class ApiServer:
    """uvicorn serving an ApiService on a background thread (the window's Local API, and
    ``enclave serve``'s, which waits on it)."""

    def __init__(self, service: ApiService, host: str = "127.0.0.1", port: int = 4747) -> None:
        import uvicorn

        config = uvicorn.Config(service.asgi(), host=host, port=port, log_level="warning",
                                access_log=False, lifespan="off", timeout_graceful_shutdown=5)
        self.service = service
        self._server = uvicorn.Server(config)
        self._thread: threading.Thread | None = None
        self._host = host

    def start(self, timeout: float = 15.0) -> str:
        """Start listening; the address, e.g. ``http://127.0.0.1:4747/v1``."""
        self._thread = threading.Thread(target=self._server.run, name="enclave-api",
                                        daemon=True)
        self._thread.start()
        waited = 0.0
        while not self._server.started:
            if not self._thread.is_alive():
                raise OSError(f"The local API could not listen on {self._host}:"
                              f"{self._server.config.port} (is the port in use?).")
            if waited > timeout:
                raise OSError("The local API did not start in time.")
            threading.Event().wait(0.05)
            waited += 0.05
        return self.address

    @property
    def port(self) -> int:
        servers = getattr(self._server, "servers", [])
        for server in servers:
            for sock in server.sockets:
                return int(sock.getsockname()[1])
        return int(self._server.config.port)

    @property
    def address(self) -> str:
        host = f"[{self._host}]" if ":" in self._host else self._host
        return f"http://{host}:{self.port}/v1"

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def serve_here(self) -> None:
        """Serve on this thread until Ctrl+C (uvicorn's own signal handling, on the main
        thread): what ``enclave serve`` does."""
        try:
            self._server.run()
        except SystemExit as exc:  # uvicorn's way of saying it could not bind
            raise OSError(f"The local API could not listen on {self._host}:"
                          f"{self._server.config.port} (is the port in use?).") from exc

    def stop(self) -> None:
        self._server.should_exit = True
        if self._thread is not None:
            self._thread.join(10)
        self.service.close()
