"""Generation: Enclave's streaming path against raw llama-cpp-python on the same GGUF.

Enclave side ("enclave"): exactly what ``enclave ask`` runs, ``LlamaChatModel.chat(...)``
iterated inside a job on the ``ModelThread`` (built by ``desktop.app.wiring``), timed from the
caller's thread: the clock starts before the job is submitted and the pieces are timestamped as
they are yielded, so chat-template formatting, context fitting, stop-string handling and the
thread hand-off all count against Enclave.

Raw side ("raw"): a second ``llama_cpp.Llama`` loaded with the same file, n_ctx, threads and
seed, fed the same prompt text (the GGUF's own chat template, rendered by llama-cpp-python's
``Jinja2ChatFormatter``), and driven by the tightest streaming loop the library offers:
``tokenize`` then ``Llama.generate`` with the same sampler settings Enclave uses, detokenizing
each token and stopping at end-of-generation. ``create_completion(stream=True)`` does more
Python work per token than that loop, so using ``generate`` makes the baseline the strictest one.

Both sides sample greedily (temperature 0) with the same penalties, so they produce the same
tokens; the result records both counts and says whether they matched. Runs alternate
A B, B A, ... after one warm-up each; every round uses a differently tagged system prompt so
neither side gets llama.cpp's prompt-prefix cache (prompt processing is measured cold). These
runs give time to first token, prompt processing and end-to-end time.

The decode ratio comes from token-interleaved runs: inside one ModelThread job, Enclave's
stream and the raw stream advance one token each in turn (A B, then B A), and each side's steps
are timed. On a shared two-core machine another process can slow a whole run by a third;
interleaving at token granularity gives both sides the same neighbours, so the ratio measures
Enclave's per-token work and not the weather.
"""

from __future__ import annotations

import codecs
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench import corpus
from bench.stats import median, rounded
from desktop.app.settings import Settings
from models.chat_model import ChatMessage
from models.llama_runtime import default_threads

SYSTEM_PROMPT = ("You are Enclave, a careful assistant running entirely on this computer. "
                 "Answer from the sources, thoroughly.")


@dataclass(frozen=True)
class Run:
    side: str  # "enclave" or "raw"
    prompt_tokens: int
    completion_tokens: int
    time_to_first_token: float
    decode_seconds: float  # from the first piece of text to the last
    total_seconds: float

    @property
    def decode_tokens_per_second(self) -> float:
        return (self.completion_tokens - 1) / self.decode_seconds if self.decode_seconds else 0.0

    @property
    def prompt_tokens_per_second(self) -> float:
        return self.prompt_tokens / self.time_to_first_token


def rag_messages(round_no: int, passage_chars: int) -> list[ChatMessage]:
    texts = corpus.passages(5, passage_chars, seed=11)
    # The tag differs per round, right at the start, so the prompt-prefix cache never hits.
    return [ChatMessage("system", f"Session {round_no}. {SYSTEM_PROMPT}"),
            ChatMessage("user", corpus.rag_user_message(texts, corpus.LONG_ANSWER_QUESTION))]


def run_enclave(model_thread: Any, messages: list[ChatMessage], max_tokens: int) -> Run:
    stamps: list[float] = []

    def job(model: Any) -> Any:
        completion = model.chat(messages, max_tokens=max_tokens, temperature=0.0)
        for _piece in completion:
            stamps.append(time.perf_counter())
        return completion.stats

    started = time.perf_counter()
    stats = model_thread.submit(job).result()
    ended = time.perf_counter()
    return _run("enclave", stats.prompt_tokens, stats.completion_tokens, started, stamps, ended)


class RawLlama:
    """llama-cpp-python used directly, the way its own documentation streams tokens."""

    def __init__(self, path: Path, n_ctx: int, threads: int | None, gpu_layers: int,
                 seed: int) -> None:
        import llama_cpp
        from llama_cpp import llama_chat_format

        self._llama_cpp = llama_cpp
        self.llm = llama_cpp.Llama(model_path=str(path), n_ctx=n_ctx, n_threads=threads,
                                   n_gpu_layers=gpu_layers, seed=seed, verbose=False)
        eos_id, bos_id = self.llm.token_eos(), self.llm.token_bos()
        self._formatter: Any = llama_chat_format.Jinja2ChatFormatter(
            template=self.llm.metadata["tokenizer.chat_template"],
            eos_token=self.llm._model.token_get_text(eos_id) if eos_id != -1 else "",
            bos_token=self.llm._model.token_get_text(bos_id) if bos_id != -1 else "",
        )

    def prompt_text(self, messages: list[ChatMessage]) -> tuple[str, bool]:
        response = self._formatter(messages=[{"role": m.role, "content": m.content}
                                             for m in messages])
        return response.prompt, not getattr(response, "added_special", False)

    def stream(self, prompt: str, add_bos: bool, max_tokens: int) -> Iterator[str]:
        """Text pieces, one a token; the prompt's token count is ``last_prompt_tokens``."""
        llm, vocab = self.llm, self.llm._model.vocab
        is_eog = self._llama_cpp.llama_vocab_is_eog
        decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
        tokens = llm.tokenize(prompt.encode("utf-8"), add_bos=add_bos, special=True)
        self.last_prompt_tokens = len(tokens)
        # Enclave's sampler settings (models/llama_runtime.py); with temperature 0 llama.cpp
        # samples greedily after the repeat penalty, on both sides.
        sampled = llm.generate(tokens, temp=0.0, top_k=40, top_p=0.95, min_p=0.05,
                               repeat_penalty=1.1, reset=True)
        for produced, token in enumerate(sampled, start=1):
            if is_eog(vocab, token):
                break
            yield decoder.decode(llm.detokenize([token]))
            if produced >= max_tokens:
                break

    def run(self, prompt: str, add_bos: bool, max_tokens: int) -> Run:
        stamps: list[float] = []
        started = time.perf_counter()
        for _piece in self.stream(prompt, add_bos, max_tokens):
            stamps.append(time.perf_counter())
        ended = time.perf_counter()
        return _run("raw", self.last_prompt_tokens, len(stamps), started, stamps, ended)

    def close(self) -> None:
        self.llm.close()


def _run(side: str, prompt_tokens: int, completion_tokens: int, started: float,
         stamps: list[float], ended: float) -> Run:
    first = stamps[0] if stamps else ended
    last = stamps[-1] if stamps else ended
    return Run(side, prompt_tokens, completion_tokens, first - started, last - first,
               ended - started)


@dataclass(frozen=True)
class Interleaved:
    enclave_tokens: int
    raw_tokens: int
    enclave_seconds: float  # summed over Enclave's steps after its first piece
    raw_seconds: float

    @property
    def ratio(self) -> float:
        enclave_rate = (self.enclave_tokens - 1) / self.enclave_seconds
        raw_rate = (self.raw_tokens - 1) / self.raw_seconds
        return enclave_rate / raw_rate


def run_interleaved(model_thread: Any, raw: RawLlama, messages: list[ChatMessage],
                    max_tokens: int) -> Interleaved:
    prompt, add_bos = raw.prompt_text(messages)

    def job(model: Any) -> Interleaved:
        completion = model.chat(messages, max_tokens=max_tokens, temperature=0.0)
        streams = {"enclave": iter(completion), "raw": raw.stream(prompt, add_bos, max_tokens)}
        seconds = {"enclave": 0.0, "raw": 0.0}
        pieces = {"enclave": 0, "raw": 0}
        for side in streams:  # prompt processing and the first token: not decode
            next(streams[side])
        order = ["enclave", "raw"]
        while streams:
            for side in [s for s in order if s in streams]:
                started = time.perf_counter()
                try:
                    next(streams[side])
                    pieces[side] += 1
                except StopIteration:
                    del streams[side]
                seconds[side] += time.perf_counter() - started
            order.reverse()  # A B, B A, ...: neither side always goes first
        return Interleaved(completion.stats.completion_tokens, pieces["raw"] + 1,
                           seconds["enclave"], seconds["raw"])

    result: Interleaved = model_thread.submit(job).result()
    return result


def benchmark_generation(settings: Settings, *, rounds: int, max_tokens: int,
                         interleaved_rounds: int = 2, passage_chars: int = 1000,
                         progress: Callable[[str], None] = lambda _m: None) -> dict[str, Any]:
    from desktop.app.wiring import start_model_thread

    model_thread = start_model_thread(settings)
    try:
        enclave_model = model_thread.loaded.result()
        # The same thread count Enclave resolved (its default differs from llama-cpp-python's).
        raw = RawLlama(settings.model_path, settings.context_size,
                       settings.threads or default_threads(),
                       0 if enclave_model.backend == "CPU" else settings.gpu_layers,
                       seed=0)
        try:
            runs = _alternate(model_thread, raw, rounds, max_tokens, passage_chars, progress)
            interleaved = []
            for n in range(1, interleaved_rounds + 1):
                progress(f"generation, token-interleaved {n}/{interleaved_rounds}")
                messages = rag_messages(rounds + n, passage_chars)
                interleaved.append(run_interleaved(model_thread, raw, messages, max_tokens))
            threads = raw.llm.n_threads
        finally:
            raw.close()
    finally:
        model_thread.close()
    return _summary(runs, interleaved, rounds, max_tokens, threads, settings)


def _alternate(model_thread: Any, raw: RawLlama, rounds: int, max_tokens: int,
               passage_chars: int, progress: Callable[[str], None]) -> list[tuple[Run, Run]]:
    def enclave(round_no: int, chars: int = passage_chars) -> Run:
        return run_enclave(model_thread, rag_messages(round_no, chars), max_tokens)

    def raw_side(round_no: int, chars: int = passage_chars) -> Run:
        prompt, add_bos = raw.prompt_text(rag_messages(round_no, chars))
        return raw.run(prompt, add_bos, max_tokens)

    # Warm-up on a short prompt: page the weights in and settle the allocators, on both sides.
    enclave(0, chars=100)
    raw_side(0, chars=100)
    pairs: list[tuple[Run, Run]] = []
    for round_no in range(1, rounds + 1):
        progress(f"generation round {round_no}/{rounds}")
        if round_no % 2:  # A B, then B A: drift over the run cancels out
            a = enclave(round_no)
            b = raw_side(round_no)
        else:
            b = raw_side(round_no)
            a = enclave(round_no)
        pairs.append((a, b))
    return pairs


def _side(runs: list[Run]) -> dict[str, Any]:
    return {
        "decode_tokens_per_second": rounded(median([r.decode_tokens_per_second for r in runs]), 2),
        "time_to_first_token_s": rounded(median([r.time_to_first_token for r in runs])),
        "prompt_tokens_per_second": rounded(median([r.prompt_tokens_per_second for r in runs]),
                                            1),
        "total_seconds": rounded(median([r.total_seconds for r in runs])),
        "prompt_tokens": runs[0].prompt_tokens,
        "completion_tokens": [r.completion_tokens for r in runs],
        "runs_decode_tokens_per_second": [rounded(r.decode_tokens_per_second, 2) for r in runs],
    }


def _summary(pairs: list[tuple[Run, Run]], interleaved: list[Interleaved], rounds: int,
             max_tokens: int, threads: int, settings: Settings) -> dict[str, Any]:
    enclave_runs = [a for a, _ in pairs]
    raw_runs = [b for _, b in pairs]
    decode_ratios = [a.decode_tokens_per_second / b.decode_tokens_per_second
                     for a, b in pairs if b.decode_tokens_per_second]
    end_to_end = [b.total_seconds / a.total_seconds for a, b in pairs if a.total_seconds]
    return {
        "model": settings.model_path.name,
        "method": "enclave: LlamaChatModel.chat iterated on the ModelThread; raw: "
                  "Llama.generate loop on the same chat-template prompt; greedy; whole runs "
                  "alternating (TTFT, prompt processing, end to end) and token-interleaved "
                  "runs (decode ratio)",
        "rounds": rounds,
        "max_tokens": max_tokens,
        "context_size": settings.context_size,
        "threads": threads,
        "same_tokens_both_sides": all(a.completion_tokens == b.completion_tokens
                                      and a.prompt_tokens == b.prompt_tokens for a, b in pairs)
        and all(i.enclave_tokens == i.raw_tokens for i in interleaved),
        "interleaved_rounds": len(interleaved),
        "enclave": _side(enclave_runs),
        "raw": _side(raw_runs),
        "decode_ratio": rounded(median([i.ratio for i in interleaved])),
        "runs_decode_ratio_interleaved": [rounded(i.ratio) for i in interleaved],
        # Whole runs paired per round, then the median: the noisier estimate of the same thing.
        "decode_ratio_alternating_runs": rounded(median(decode_ratios)) if decode_ratios else 0.0,
        "end_to_end_ratio": rounded(median(end_to_end)) if end_to_end else 0.0,
        "target_decode_ratio": 0.97,
    }
