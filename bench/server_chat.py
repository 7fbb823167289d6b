"""The model on a practice's server, measured beside the model in this process.

``python -m bench.server_chat`` (and the ``model_server`` section of ``enclave bench``) starts
the real llama.cpp OpenAI-compatible server (models/llama_server.py) on 127.0.0.1 with the
configured GGUF, and asks the same questions:

- in this process (``LlamaChatModel``, what a workstation runs on its own), then through the
  server (``ServerChatModel``, what a workstation in server mode runs), one at a time, alternating;
- through the server from several clients at once (threads, each its own connection), as desks
  sharing one server would: each answer's wait (from the question to the last word) and the
  server's total throughput.

Greedy sampling, a story asked for (so both sides write to the token limit), a differently
tagged question each round (no prompt-cache help). On one
machine the server and this process share the cores, so the figures say what the HTTP path costs
and how a server shares itself between desks; a GPU server's speed is measured on that server.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from bench.stats import median, rounded
from models.chat_model import ChatMessage, ChatModel

QUESTION = "Write a long, detailed story about a nurse on a night shift. ({tag})"
ALIAS = "bench-model"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextlib.contextmanager
def local_server(model: Path, threads: int | None, n_ctx: int = 2048) -> Iterator[str]:
    """The real server on 127.0.0.1, for the length of the block; yields its URL."""
    work = Path(tempfile.mkdtemp(prefix="enclave-bench-server-"))
    port = free_port()
    cmd = [sys.executable, "-m", "models.llama_server", "--model", str(model), "--alias", ALIAS,
           "--port", str(port), "--n-ctx", str(n_ctx), "--gpu-layers", "0",
           "--engine-cache", str(work / "engine-check.json")]
    if threads:
        cmd += ["--threads", str(threads)]
    log = work / "server.log"
    with open(log, "wb") as out:
        process = subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT,
                                   start_new_session=True)
    try:
        deadline = time.monotonic() + 180
        while True:
            if process.poll() is not None:
                raise RuntimeError(f"the model server exited: {log.read_text()[-500:]}")
            with socket.socket() as s:
                if s.connect_ex(("127.0.0.1", port)) == 0:
                    break
            if time.monotonic() > deadline:
                raise RuntimeError("the model server did not listen within 180 s")
            time.sleep(0.25)
        yield f"http://127.0.0.1:{port}"
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGTERM)
        process.wait(30)


def _answer(model: ChatModel, tag: str, max_tokens: int) -> dict[str, float]:
    started = time.perf_counter()
    completion = model.chat([ChatMessage("user", QUESTION.format(tag=tag))],
                            max_tokens=max_tokens, temperature=0.0)
    first: float | None = None
    for _piece in completion:
        if first is None:
            first = time.perf_counter()
    ended = time.perf_counter()
    stats = completion.stats
    tokens = stats.completion_tokens if stats else 0
    decode = ended - (first or ended)
    return {"seconds": ended - started, "time_to_first_token": (first or ended) - started,
            "completion_tokens": tokens,
            "tokens_per_second": (tokens - 1) / decode if tokens > 1 and decode > 0 else 0.0}


def benchmark_model_server(model_path: Path, *, rounds: int = 3, max_tokens: int = 48,
                           clients: int = 4, threads: int | None = None,
                           progress: Callable[[str], None] = lambda _m: None) -> dict[str, Any]:
    from models.engine_selftest import SelfTestOptions, check_engine
    from models.llama_backends import load_backends
    from models.llama_runtime import LlamaChatModel, LoadOptions
    from models.server_chat_model import ServerChatModel, ServerOptions

    engine = check_engine(model_path, SelfTestOptions(gpu_layers=0, threads=threads))
    if not engine.ok:
        raise RuntimeError(engine.message)
    load_backends(engine.cpu_variant)  # the variant the application would load
    with local_server(model_path, threads) as url:
        server = ServerChatModel(ServerOptions(url=url, context_size=2048, timeout_s=300))
        local = LlamaChatModel(model_path, LoadOptions(context_size=2048, gpu_layers=0,
                                                       threads=threads))
        runs: dict[str, list[dict[str, float]]] = {"in_process": [], "server": []}
        try:
            _answer(local, "warm-up", 8)
            _answer(server, "warm-up", 8)
            for n in range(rounds):
                progress(f"model server: round {n + 1}/{rounds}")
                order: list[tuple[str, ChatModel]] = [("in_process", local), ("server", server)]
                for side, model in order if n % 2 == 0 else order[::-1]:
                    runs[side].append(_answer(model, f"{side}-{n}", max_tokens))
        finally:
            local.close()  # the cores go to the server for the concurrent part
        progress(f"model server: {clients} clients at once")
        concurrent = _concurrently(url, clients, max_tokens)
        server.close()

    def summary(side: list[dict[str, float]]) -> dict[str, Any]:
        return {key: rounded(median([r[key] for r in side]))
                for key in ("seconds", "time_to_first_token", "tokens_per_second",
                            "completion_tokens")}

    alone, served = summary(runs["in_process"]), summary(runs["server"])
    return {
        "rounds": rounds, "max_tokens": max_tokens, "model": model_path.name,
        "in_process": alone, "server": served,
        "server_to_in_process_decode": rounded(served["tokens_per_second"]
                                               / alone["tokens_per_second"])
        if alone["tokens_per_second"] else None,
        "concurrent": concurrent,
    }


def _concurrently(url: str, clients: int, max_tokens: int) -> dict[str, Any]:
    from models.server_chat_model import ServerChatModel, ServerOptions

    waits: list[float] = []
    tokens: list[int] = []
    errors: list[str] = []
    lock = threading.Lock()
    start = threading.Barrier(clients)

    def desk(n: int) -> None:
        model = ServerChatModel(ServerOptions(url=url, context_size=2048, timeout_s=300))
        try:
            start.wait()
            result = _answer(model, f"desk-{n}", max_tokens)
            with lock:
                waits.append(result["seconds"])
                tokens.append(int(result["completion_tokens"]))
        except Exception as exc:
            with lock:
                errors.append(f"{type(exc).__name__}: {exc}")
        finally:
            model.close()

    began = time.perf_counter()
    desks = [threading.Thread(target=desk, args=(n,)) for n in range(clients)]
    for d in desks:
        d.start()
    for d in desks:
        d.join(600)
    elapsed = time.perf_counter() - began
    waits.sort()
    return {
        "clients": clients, "answers": len(waits), "errors": errors,
        "wait_p50_seconds": rounded(median(waits)) if waits else None,
        "wait_max_seconds": rounded(waits[-1]) if waits else None,
        "total_tokens_per_second": rounded(sum(tokens) / elapsed) if elapsed else None,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.server_chat")
    parser.add_argument("--model", type=Path, default=None,
                        help="the GGUF (default: the configured model)")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--max-tokens", type=int, default=48)
    parser.add_argument("--clients", type=int, default=4)
    args = parser.parse_args(argv)
    from desktop.egress.offline import force_offline_environment

    force_offline_environment()
    from desktop.app.settings import load_settings

    settings = load_settings()
    model = (args.model or settings.model_path).resolve()
    result = benchmark_model_server(model, rounds=args.rounds, max_tokens=args.max_tokens,
                                    clients=args.clients, threads=settings.threads,
                                    progress=lambda m: print(m, file=sys.stderr))
    print(json.dumps(result, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
