"""``enclave serve``: the local OpenAI-compatible API (desktop/api/), until Ctrl+C."""

from __future__ import annotations

import argparse
import json
from typing import Any

from desktop.app.application import Application
from desktop.cli.library_cli import EXIT_FAILED, EXIT_OK, EXIT_USAGE, fail, library_command


def register(commands: Any) -> None:
    p = commands.add_parser(
        "serve", help="serve the local model to other programs on this computer "
                      "(OpenAI-compatible API on 127.0.0.1, with a token)")
    p.add_argument("--port", type=int, default=None, metavar="P",
                   help="the port (default: api_port from settings, 4747)")
    p.add_argument("--host", default="127.0.0.1", metavar="H",
                   help="the address to listen on: 127.0.0.1 (the default) or an on-prem "
                        "address listed in allowed_hosts")
    p.add_argument("--queue", type=int, default=None, metavar="N",
                   help="questions running or waiting before more are turned away with 429 "
                        "(default 32)")
    # Hidden (verify-egress's step): serve on a free port, ask QUESTION once through the API
    # over loopback, print the reply as JSON and stop.
    p.add_argument("--answer-once", metavar="QUESTION", default=None, help=argparse.SUPPRESS)
    p.add_argument("--max-tokens", type=int, default=32, help=argparse.SUPPRESS)
    p.set_defaults(run=run)


@library_command
def run(args: argparse.Namespace, app: Application) -> int:
    from desktop.api.server import QUEUE_LIMIT, ApiServer, ApiService, bind_refusal
    from desktop.api.token import load_or_create_token, token_path
    from models.model_thread import ThreadChatModel

    port = args.port if args.port is not None else app.settings.api_port
    if not 0 <= port <= 65535:
        return fail("--port must be between 1 and 65535 (0: any free port).", EXIT_USAGE)
    if (refusal := bind_refusal(args.host, app.settings.allowed_hosts)) is not None:
        return fail(refusal, EXIT_USAGE)
    queue = args.queue if args.queue is not None else QUEUE_LIMIT
    if queue < 1:
        return fail("--queue must be at least 1.", EXIT_USAGE)
    token = load_or_create_token(app.settings.home)
    model = ThreadChatModel(app.start_model_thread)
    server = ApiServer(ApiService(app, model, token, queue), args.host, port)
    try:
        if args.answer_once is not None:
            result = _answer_once(server, token, args.answer_once, args.max_tokens)
            print(json.dumps(result, ensure_ascii=False))
            return EXIT_OK if result["status"] == 200 else EXIT_FAILED
        print(f"Enclave API on {server.address} (OpenAI-compatible; model "
              f"{server.service.model_id}).\nToken: in {token_path(app.settings.home)} "
              "(send it as 'Authorization: Bearer <token>'). Ctrl+C stops.", flush=True)
        server.serve_here()
    except OSError as exc:
        return fail(str(exc), EXIT_FAILED)
    finally:
        model.close()
    return EXIT_OK


def _answer_once(server: Any, token: str, question: str, max_tokens: int) -> dict[str, Any]:
    import http.client
    from urllib.parse import urlsplit

    address = urlsplit(server.start())
    try:
        connection = http.client.HTTPConnection(address.hostname or "127.0.0.1", address.port,
                                                timeout=300)
        body = json.dumps({"model": server.service.model_id, "max_tokens": max_tokens,
                           "messages": [{"role": "user", "content": question}]})
        connection.request("POST", "/v1/chat/completions", body, {
            "Authorization": f"Bearer {token}", "Content-Type": "application/json"})
        reply = connection.getresponse()
        data = json.loads(reply.read())
        connection.close()
        return {"status": reply.status, "address": server.address,
                "answer": data.get("choices", [{}])[0].get("message", {}).get("content"),
                "usage": data.get("usage")}
    finally:
        server.stop()
