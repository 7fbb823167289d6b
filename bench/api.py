"""The local API against ``enclave ask`` (``python -m bench.api``, or a section of ``enclave
bench``): time to first token and decode speed of the same
question, model-only, on the same model thread, asked through the ask service directly (what
``enclave ask`` does) and through ``enclave serve`` with the official OpenAI client, streamed,
over loopback. Rounds alternate the two sides, so a slow moment of the machine falls on both.
"""

from __future__ import annotations

import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from bench.stats import median, rounded
from desktop.app.settings import Settings

QUESTION = ("Write a careful, detailed explanation of how a hospital pharmacy checks a "
            "prescription before it is dispensed, step by step.")


def _timed_direct(app: Any, model: Any, max_tokens: int) -> dict[str, float]:
    from desktop.app.ask_service import AskRequest, Finished, Token

    started = time.perf_counter()
    first = None
    answer = None
    for event in app.ask.ask(AskRequest(QUESTION, use_documents=False, max_tokens=max_tokens),
                             model):
        if isinstance(event, Token) and first is None:
            first = time.perf_counter()
        elif isinstance(event, Finished):
            answer = event.answer
    ended = time.perf_counter()
    if answer is None or first is None:
        raise RuntimeError("the ask service gave no answer")
    return _figures(started, first, ended, answer.stats.completion_tokens)


def _timed_api(client: Any, max_tokens: int) -> dict[str, float]:
    started = time.perf_counter()
    first = None
    tokens = 0
    for chunk in client.chat.completions.create(
            model="enclave", stream=True, max_tokens=max_tokens,
            messages=[{"role": "user", "content": QUESTION}]):
        if first is None and chunk.choices and chunk.choices[0].delta.content:
            first = time.perf_counter()
        if chunk.usage is not None:
            tokens = chunk.usage.completion_tokens
    ended = time.perf_counter()
    if first is None:
        raise RuntimeError("the API streamed no answer")
    return _figures(started, first, ended, tokens)


def _figures(started: float, first: float, ended: float, tokens: int) -> dict[str, float]:
    decode = (tokens - 1) / (ended - first) if tokens > 1 and ended > first else 0.0
    return {"ttft": first - started, "decode": decode, "tokens": tokens, "total": ended - started}


def benchmark_api(settings: Settings, *, rounds: int, max_tokens: int,
                  progress: Callable[[str], None] = lambda _m: None) -> dict[str, Any]:
    from openai import OpenAI

    from desktop.api.server import ApiServer, ApiService
    from desktop.api.token import load_or_create_token
    from desktop.app.wiring import build_application
    from models.model_thread import ThreadChatModel

    with tempfile.TemporaryDirectory(prefix="enclave-bench-api-") as home:
        app = build_application(settings.replace(home=Path(home)))
        model = ThreadChatModel(app.start_model_thread)
        server = ApiServer(ApiService(app, model, load_or_create_token(Path(home))),
                           "127.0.0.1", 0)
        try:
            server.start()
            client = OpenAI(base_url=server.address, api_key=load_or_create_token(Path(home)),
                            max_retries=0, timeout=600)
            _timed_direct(app, model, 4)  # the model loads, and both sides start warm
            _timed_api(client, 4)
            direct: list[dict[str, float]] = []
            api: list[dict[str, float]] = []
            for n in range(rounds):
                progress(f"api round {n + 1}/{rounds}")
                direct.append(_timed_direct(app, model, max_tokens))
                api.append(_timed_api(client, max_tokens))
        finally:
            server.stop()
            model.close()
            app.close()

    def side(runs: list[dict[str, float]]) -> dict[str, Any]:
        return {"time_to_first_token_s": rounded(median([r["ttft"] for r in runs]), 3),
                "decode_tokens_per_second": rounded(median([r["decode"] for r in runs]), 2),
                "completion_tokens": [int(r["tokens"]) for r in runs],
                "total_seconds": rounded(median([r["total"] for r in runs]), 3)}

    ask_side, api_side = side(direct), side(api)
    return {
        "enclave_ask": ask_side, "api": api_side, "rounds": rounds, "max_tokens": max_tokens,
        "ttft_overhead_ms": rounded((api_side["time_to_first_token_s"]
                                     - ask_side["time_to_first_token_s"]) * 1000, 1),
        "decode_ratio": rounded(api_side["decode_tokens_per_second"]
                                / ask_side["decode_tokens_per_second"], 3)
        if ask_side["decode_tokens_per_second"] else 0.0,
    }


def main() -> None:
    """``python -m bench.api [--rounds N] [--tokens N]``: this section alone, as JSON."""
    import argparse
    import json

    from desktop.egress import guard
    from desktop.egress.offline import force_offline_environment

    force_offline_environment()
    guard.install()
    from bench.runner import bench_settings
    from desktop.app.settings import load_settings

    parser = argparse.ArgumentParser(prog="python -m bench.api")
    parser.add_argument("--rounds", type=int, default=4)
    parser.add_argument("--tokens", type=int, default=128)
    args = parser.parse_args()
    print(json.dumps(benchmark_api(bench_settings(load_settings()), rounds=args.rounds,
                                   max_tokens=args.tokens), indent=2))


if __name__ == "__main__":
    main()
