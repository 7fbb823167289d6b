"""The chat model backed by llama.cpp (llama-cpp-python), in-process.

Loads a GGUF from an absolute local path, offloads every layer to the GPU when the build can
(CUDA or Metal) and falls back to the CPU when that fails, formats prompts with the chat template
stored in the GGUF, trims history to fit the context, and streams tokens with a cancel check
between them. One instance belongs to one thread (llama.cpp contexts are not thread-safe).
"""

from __future__ import annotations

import codecs
import contextlib
import logging
import os
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from models.chat_model import Cancel, ChatMessage, GenerationStats, StreamedAnswer
from models.context_fit import fit_messages
from models.errors import ModelError
from models.gguf_metadata import GGUFFormatError, read_metadata
from models.gpu_fit import FreeMemoryProbe, plan_for_model

log = logging.getLogger(__name__)

# Room kept for the answer when trimming history, at the least.
MIN_ANSWER_TOKENS = 64


@dataclass(frozen=True)
class LoadOptions:
    context_size: int = 4096
    gpu_layers: int = -1
    threads: int | None = None
    seed: int = 0
    # Where free GPU memory is read when gpu_layers is -1 (None: ask the driver; see gpu_fit).
    free_gpu_memory: FreeMemoryProbe | None = None
    # The CPU variant of a portable build, as the self-test chose it (models/engine_selftest);
    # None: the best-scoring one. Ignored by builds without variants.
    cpu_variant: str | None = None


def compiled_backend() -> str:
    """Which accelerator this llama.cpp build can offload to: "CUDA", "Metal", ... or "CPU"."""
    import llama_cpp

    from models.llama_backends import cpu_variants, load_gpu_modules, registered_backends

    if cpu_variants():
        # A portable build: its GPU modules are registered by name, and llama.cpp is never
        # asked (llama_supports_gpu_offload would scan for and load a CPU variant itself).
        load_gpu_modules()
        gpus = [name for name in registered_backends() if name and name != "CPU"]
        return _backend_label(" ".join(gpus)) if gpus else "CPU"
    if not llama_cpp.llama_supports_gpu_offload():
        return "CPU"
    return _backend_label(llama_cpp.llama_print_system_info().decode("utf-8", "replace"))


def _backend_label(info: str) -> str:
    for name, label in (("CUDA", "CUDA"), ("METAL", "Metal"), ("VULKAN", "Vulkan"),
                        ("HIP", "ROCm"), ("SYCL", "SYCL")):
        if name in info.upper():
            return label
    return "GPU"


def check_model_file(path: Path) -> None:
    """Raise a one-line ModelError when ``path`` is not a usable GGUF file."""
    if not path.is_absolute():
        raise ModelError(f"The model path must be absolute: {path}")
    if not path.exists():
        raise ModelError(
            f"No model file at {path}. Run 'make setup' (or 'enclave models install-default') "
            "to install the default model, or set ENCLAVE_MODEL to a .gguf file."
        )
    if not path.is_file():
        raise ModelError(f"The model path {path} is not a file. Point it at a .gguf file.")
    try:
        read_metadata(path)
    except GGUFFormatError as exc:
        raise ModelError(f"The model file {path} is not usable: {exc}. "
                         "Replace it with a valid .gguf file.") from exc
    except OSError as exc:
        raise ModelError(f"The model file {path} cannot be read ({exc.strerror}).") from exc


class LlamaChatModel:
    """A GGUF model loaded through llama.cpp. Create, use and close it on one thread."""

    def __init__(self, path: Path, options: LoadOptions = LoadOptions()) -> None:
        check_model_file(path)
        self.path = path
        self._llama, self.backend, self.fallback_reason = _load(path, options)
        self._formatter = self._chat_formatter()

    # -- properties ----------------------------------------------------------------------------
    @property
    def context_size(self) -> int:
        return int(self._llama.n_ctx())

    @property
    def metadata(self) -> dict[str, str]:
        return dict(self._llama.metadata)

    # -- tokens --------------------------------------------------------------------------------
    def count_tokens(self, text: str) -> int:
        return len(self._llama.tokenize(text.encode("utf-8"), add_bos=False, special=False))

    def _prompt(self, messages: Sequence[ChatMessage]) -> tuple[list[int], list[str]]:
        response = self._formatter(messages=[{"role": m.role, "content": m.content}
                                             for m in messages])
        add_bos = not getattr(response, "added_special", False)
        tokens = self._llama.tokenize(response.prompt.encode("utf-8"), add_bos=add_bos,
                                      special=True)
        stop = response.stop
        stops = [stop] if isinstance(stop, str) else list(stop or [])
        return tokens, stops

    def prompt_tokens(self, messages: Sequence[ChatMessage]) -> int:
        return len(self._prompt(messages)[0])

    # -- generation ----------------------------------------------------------------------------
    def chat(
        self,
        messages: Sequence[ChatMessage],
        *,
        max_tokens: int,
        temperature: float,
        cancel: Cancel | None = None,
    ) -> LlamaCompletion:
        return LlamaCompletion(self, messages, max_tokens, temperature, cancel)

    def close(self) -> None:
        llama, self._llama = self._llama, None
        if llama is not None:
            llama.close()

    def _chat_formatter(self) -> Any:
        from llama_cpp import llama_chat_format

        template = self._llama.metadata.get("tokenizer.chat_template")
        if not template:
            raise ModelError(
                f"The model {self.path.name} has no chat template in its GGUF metadata; "
                "use an instruction-tuned (chat) GGUF."
            )
        model = self._llama._model
        eos_id, bos_id = self._llama.token_eos(), self._llama.token_bos()
        eos = model.token_get_text(eos_id) if eos_id != -1 else ""
        bos = model.token_get_text(bos_id) if bos_id != -1 else ""
        return llama_chat_format.Jinja2ChatFormatter(
            template=template, eos_token=eos, bos_token=bos, stop_token_ids=[eos_id]
        )

    def _is_end_of_generation(self, token: int) -> bool:
        import llama_cpp

        vocab = getattr(self._llama._model, "vocab", None)
        if vocab is not None:
            return bool(llama_cpp.llama_vocab_is_eog(vocab, token))
        return token == self._llama.token_eos()


class LlamaCompletion(StreamedAnswer["LlamaChatModel"]):
    """One streamed answer. Iterate it once; ``stats`` is filled when the stream ends."""

    def __iter__(self) -> Iterator[str]:
        model, llama = self._model, self._model._llama
        if llama is None:
            raise ModelError("The model has been closed.")
        started = time.perf_counter()
        n_ctx = model.context_size
        reserve = min(self._max_tokens, max(MIN_ANSWER_TOKENS, n_ctx // 4))
        fitted = fit_messages(self._messages, model.prompt_tokens, n_ctx - reserve)
        tokens, stops = model._prompt(fitted.messages)
        max_new = max(1, min(self._max_tokens, n_ctx - len(tokens)))
        decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
        produced = 0
        first_at: float | None = None
        finish: str = "length"
        pending = ""  # text held back while it could be the start of a stop string
        for token in llama.generate(tokens, temp=self._temperature, top_k=40, top_p=0.95,
                                    min_p=0.05, repeat_penalty=1.1, reset=True):
            if first_at is None:
                first_at = time.perf_counter()
            if model._is_end_of_generation(token):
                finish = "stop"
                break
            produced += 1
            pending += decoder.decode(llama.detokenize([token]))
            text, hit = _split_at_stop(pending, stops)
            if hit:
                if text:
                    yield text
                finish = "stop"
                break
            safe = _safe_prefix(pending, stops)
            if safe:
                yield safe
                pending = pending[len(safe):]
            if produced >= max_new:
                break
            if self._cancel is not None and self._cancel.is_set():
                finish = "cancelled"
                break
        else:
            finish = "stop"
        tail = pending + decoder.decode(b"", final=True)
        if tail and finish != "stop":
            yield tail
        elif tail and finish == "stop":
            text, _ = _split_at_stop(tail, stops)
            if text:
                yield text
        self.stats = GenerationStats.of_stream(
            started=started, first_at=first_at, ended=time.perf_counter(),
            prompt_tokens=len(tokens), completion_tokens=produced, finish_reason=finish,
            trimmed_messages=fitted.dropped)


def _split_at_stop(text: str, stops: Sequence[str]) -> tuple[str, bool]:
    cut = min((i for i in (text.find(s) for s in stops if s) if i >= 0), default=-1)
    return (text[:cut], True) if cut >= 0 else (text, False)


def _safe_prefix(text: str, stops: Sequence[str]) -> str:
    """The part of ``text`` that cannot be the beginning of a stop string."""
    hold = 0
    for stop in stops:
        for n in range(min(len(stop) - 1, len(text)), 0, -1):
            if text.endswith(stop[:n]):
                hold = max(hold, n)
                break
    return text[: len(text) - hold]


def default_threads() -> int:
    """Decode threads when the settings name none.

    llama-cpp-python's own default is half the logical CPUs, which assumes hyperthreading; on a
    small machine (a 2-vCPU VM, a laptop) that leaves a core idle: measured here on 2 cores,
    2 threads decode the default model at ~95 tok/s against ~70 with 1. On larger machines half
    the logical CPUs is close to the physical cores, which is what llama.cpp wants.
    """
    available = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else None
    cpus = available or os.cpu_count() or 1
    return cpus if cpus <= 4 else cpus // 2


def _load(path: Path, options: LoadOptions) -> tuple[Any, str, str | None]:
    """Load with GPU offload when possible, else on the CPU. Returns (llama, backend, reason)."""
    import llama_cpp

    from models.llama_backends import load_backends

    with _quiet_native_logs():
        load_backends(options.cpu_variant)
    backend = compiled_backend()
    gpu_layers, fit_note = options.gpu_layers, None
    if gpu_layers == -1 and backend != "CPU":
        plan = plan_for_model(path, options.context_size, backend, options.free_gpu_memory)
        if plan is not None:  # None: memory unknown, offload all and rely on the fallback
            gpu_layers, fit_note = plan.n_gpu_layers, plan.reason
            log.info("GPU layers for %s: %s", path.name, plan.reason)
    wanted_gpu = gpu_layers != 0 and backend != "CPU"
    attempts = [gpu_layers, 0] if wanted_gpu else [0]
    last_error: Exception | None = None
    for layers in attempts:
        try:
            with _quiet_native_logs():
                llama = llama_cpp.Llama(
                    model_path=str(path),
                    n_ctx=options.context_size,
                    n_gpu_layers=layers,
                    n_threads=options.threads or default_threads(),
                    seed=options.seed,
                    verbose=False,
                )
        except (ValueError, RuntimeError, OSError) as exc:
            last_error = exc
            log.warning("loading %s with %s GPU layers failed: %s", path.name, layers, exc)
            continue
        reason = fit_note if gpu_layers == 0 else None
        if wanted_gpu and layers == 0:
            reason = f"GPU offload failed ({last_error}); running on the CPU"
        return llama, (backend if layers != 0 else "CPU"), reason
    raise ModelError(f"llama.cpp could not load {path.name} ({last_error}). The file may be "
                     "corrupt or made for a newer llama.cpp; try another GGUF.")


@contextlib.contextmanager
def _quiet_native_logs() -> Iterator[None]:
    """llama.cpp prints its load log on fd 2 even with verbose=False on some builds."""
    if os.environ.get("ENCLAVE_DEBUG"):
        yield
        return
    try:
        saved = os.dup(2)
    except OSError:
        yield
        return
    try:
        with open(os.devnull, "wb") as devnull:
            os.dup2(devnull.fileno(), 2)
            yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)
