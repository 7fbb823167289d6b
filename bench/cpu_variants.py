"""The portable build against the other builds that run here: decode speed per CPU variant.

Enclave's llama.cpp ships one CPU library per processor generation and loads the one its
self-test chose (models/engine_selftest.py). Each variant is the same llama.cpp compiled with
that generation's flags, so measuring every variant this processor runs is measuring the
builds that run here: ``x64`` (no SIMD), ``haswell`` (the fixed AVX2 baseline a portable build
without dispatch would ship), up to the AVX-512 ones. The figure that matters is the chosen
variant against the fastest one measured.

A process can hold one CPU variant, so each runs in its own child process
(``python -m bench.cpu_variants VARIANT MODEL``): the same GGUF, prompt, greedy sampling,
threads and token count, through ``LlamaChatModel.chat``. A variant that dies is reported as
such, not as slow.
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from bench.stats import median, rounded
from models.llama_runtime import default_threads

PROMPT = ("Write a careful, detailed explanation of how a hospital pharmacy checks a "
          "prescription before it is dispensed, step by step.")


def benchmark_cpu_variants(model: Path, chosen: str | None, *, tokens: int, repeats: int,
                           which: str = "all", threads: int | None = None,
                           progress: Callable[[str], None] = lambda _m: None) -> dict[str, Any]:
    from models.llama_backends import cpu_variants

    available = [v.name for v in cpu_variants()]
    if not available:
        return {"available": False, "note": "this llama.cpp build has no run-time CPU variants"}
    scores = _scores()
    runnable = sorted((n for n in available if scores.get(n, 0) > 0),
                      key=lambda n: scores[n], reverse=True)
    measured = runnable if which == "all" else \
        [n for n in dict.fromkeys([chosen or runnable[0], "haswell", "x64"]) if n in runnable]
    threads = threads or default_threads()
    results: dict[str, Any] = {}
    for name in measured:
        progress(f"cpu variant {name}")
        runs = [_child(name, model, tokens, threads) for _ in range(repeats)]
        ok = [r for r in runs if "error" not in r]
        if not ok:
            results[name] = {"error": runs[-1]["error"]}
            continue
        results[name] = {
            "decode_tokens_per_second": rounded(median([r["decode_tps"] for r in ok]), 2),
            "prompt_tokens_per_second": rounded(median([r["prompt_tps"] for r in ok]), 1),
            "runs_decode_tokens_per_second": [rounded(r["decode_tps"], 2) for r in ok],
            "completion_tokens": ok[0]["tokens"],
        }
    speeds = {n: r["decode_tokens_per_second"] for n, r in results.items() if "error" not in r}
    fastest = max(speeds, key=lambda n: speeds[n]) if speeds else None
    summary: dict[str, Any] = {
        "available": True,
        "method": "each variant in its own child process: LlamaChatModel.chat, same GGUF and "
                  f"prompt, greedy, {tokens} tokens, {threads} threads, median of {repeats}",
        "chosen": chosen,
        "fastest": fastest,
        "scores": {n: scores.get(n, 0) for n in available},
        "variants": results,
    }
    if chosen in speeds and fastest:
        summary["chosen_vs_fastest"] = rounded(speeds[chosen] / speeds[fastest])
    if chosen in speeds and "haswell" in speeds:
        summary["chosen_vs_avx2_baseline"] = rounded(speeds[chosen] / speeds["haswell"])
    return summary


def _scores() -> dict[str, int]:
    """Each variant's CPUID verdict, asked in a child (opening variants stays out of here)."""
    done = subprocess.run([sys.executable, "-c",
                           "import json; from models.llama_backends import cpu_variants, "
                           "variant_scores; print(json.dumps(variant_scores(cpu_variants())))"],
                          capture_output=True, text=True, timeout=120)
    try:
        scores = json.loads(done.stdout.strip().splitlines()[-1])
    except (ValueError, IndexError):
        return {}
    return {str(k): int(v) for k, v in scores.items()}


def _child(variant: str, model: Path, tokens: int, threads: int) -> dict[str, Any]:
    cmd = [sys.executable, "-m", "bench.cpu_variants", variant, str(model), str(tokens),
           str(threads)]
    try:
        done = subprocess.run(cmd, capture_output=True, text=True, timeout=600)
    except subprocess.TimeoutExpired:
        return {"error": "no result within 600 s"}
    if done.returncode < 0:
        return {"error": f"the child died of signal {-done.returncode}"}
    try:
        return dict(json.loads(done.stdout.strip().splitlines()[-1]))
    except (ValueError, IndexError):
        return {"error": (done.stderr.strip().splitlines() or ["no output"])[-1]}


def _measure(argv: Sequence[str]) -> int:
    from models.chat_model import ChatMessage
    from models.llama_runtime import LlamaChatModel, LoadOptions

    variant, model_path, tokens, threads = argv[0], Path(argv[1]), int(argv[2]), int(argv[3])
    model = LlamaChatModel(model_path, LoadOptions(context_size=2048, gpu_layers=0,
                                                   threads=threads, cpu_variant=variant))
    messages = [ChatMessage("user", PROMPT)]
    list(model.chat(messages, max_tokens=8, temperature=0.0))  # warm-up
    completion = model.chat(messages, max_tokens=tokens, temperature=0.0)
    list(completion)
    stats = completion.stats
    model.close()
    assert stats is not None
    print(json.dumps({"decode_tps": stats.tokens_per_second,
                      "prompt_tps": stats.prompt_tokens_per_second,
                      "tokens": stats.completion_tokens}))
    return 0


if __name__ == "__main__":
    sys.exit(_measure(sys.argv[1:]))
