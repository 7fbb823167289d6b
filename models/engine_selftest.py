"""A tiny generation in a child process, before the application loads a model.

llama.cpp is native code: an instruction the processor refuses (SIGILL), a bad memory access
(SIGSEGV) or a hang takes the whole process with it, window included. So before the first load,
and in ``enclave doctor``, Enclave loads the model in a child process and generates a few
tokens through the same code path as a real answer (``LlamaChatModel.chat``). The child's fate
becomes a one-line message naming the cause and the fix; the application never sees the crash.

With a portable build (run-time CPU dispatch, models/llama_backends.py) the child also decides
which CPU variant is safe: it takes the best-scoring variant, and when that one dies of an
illegal instruction (AMX listed by CPUID but refused by a sandbox or hypervisor), the next child
excludes it, down to plain x86-64. The variant that passed is what the application loads.

A pass is remembered under the data directory, keyed by everything that could change the
outcome (the llama.cpp libraries, the processor, the model file, the options), so later starts
cost nothing. Failures are never remembered: the next start tests again.

Run as ``python -m models.engine_selftest --model PATH ...`` it is the child.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Literal

Outcome = Literal["passed", "illegal_instruction", "crashed", "hung", "failed"]

# Tokens the child generates: enough to run prompt processing and a few decode steps.
TEST_TOKENS = 4
TEST_CONTEXT = 512
DEFAULT_TIMEOUT_S = 180.0
# Bump when the child's test changes, so remembered passes are tested again.
PROTOCOL = 1
# A prompt long enough (about 100 tokens) to go through batched matrix products, the kernels
# where AMX and AVX-512 code lives, not just the one-token decode path.
TEST_PROMPT = ("Enclave checks that this computer can run the language model. "
               "Read this sentence, then answer with one word: ready. " * 4).strip()

_SIGNAL_NAMES: dict[int, str] = {signal.SIGSEGV: "segmentation fault", signal.SIGBUS: "bus error",
                 signal.SIGABRT: "abort", signal.SIGFPE: "arithmetic fault",
                 signal.SIGKILL: "killed (out of memory?)"}
REINSTALL = ("reinstall Enclave's portable build: 'make setup' in a fresh checkout, or "
             "install.py from a CPU offline bundle (docs/INSTALL.md)")


@dataclass(frozen=True)
class Attempt:
    variant: str | None  # the CPU variant the child used; None for a build without variants
    outcome: Outcome
    detail: str = ""  # the signal, the child's error, or what it generated
    seconds: float = 0.0

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class EngineCheck:
    ok: bool
    cpu_variant: str | None  # what the application should load (None: no variants, or failed)
    message: str  # one line: what passed, or the cause and the fix
    attempts: tuple[Attempt, ...] = field(default_factory=tuple)
    remembered: bool = False  # True when this pass came from the cache, not a new child

    def to_json(self) -> dict[str, Any]:
        return {"ok": self.ok, "cpu_variant": self.cpu_variant, "message": self.message,
                "attempts": [a.to_json() for a in self.attempts],
                "remembered": self.remembered}


@dataclass(frozen=True)
class SelfTestOptions:
    gpu_layers: int = 0
    threads: int | None = None
    timeout_s: float = DEFAULT_TIMEOUT_S


# A child runner: given the variants to exclude, run one child and say how it ended.
Runner = Callable[[Sequence[str]], Attempt]


def child_command(model: Path, options: SelfTestOptions, exclude: Sequence[str]) -> list[str]:
    cmd = [sys.executable, "-m", "models.engine_selftest", "--model", str(model),
           "--gpu-layers", str(options.gpu_layers)]
    if options.threads:
        cmd += ["--threads", str(options.threads)]
    if exclude:
        cmd += ["--exclude", ",".join(exclude)]
    return cmd


def run_child(cmd: Sequence[str], timeout_s: float, cwd: Path | None = None) -> Attempt:
    """Run one child and classify how it ended. The child prints JSON lines: first the variant
    it is about to use, then the result."""
    started = time.monotonic()
    try:
        proc = subprocess.run(list(cmd), capture_output=True, text=True, timeout=timeout_s,
                              cwd=cwd, errors="replace")
    except subprocess.TimeoutExpired as exc:
        out = exc.stdout.decode("utf-8", "replace") if isinstance(exc.stdout, bytes) else \
            (exc.stdout or "")
        return Attempt(_variant_of(out), "hung", f"no result within {timeout_s:.0f} s",
                       round(time.monotonic() - started, 3))
    seconds = round(time.monotonic() - started, 3)
    variant = _variant_of(proc.stdout)
    if proc.returncode < 0:
        sig = -proc.returncode
        if sig == signal.SIGILL:
            return Attempt(variant, "illegal_instruction", "SIGILL", seconds)
        return Attempt(variant, "crashed", _SIGNAL_NAMES.get(sig, f"signal {sig}"), seconds)
    result = _result_of(proc.stdout)
    if proc.returncode == 0 and result.get("ok"):
        return Attempt(variant, "passed", str(result.get("summary", "")), seconds)
    error = str(result.get("error") or _last_line(proc.stderr) or
                f"the test exited with status {proc.returncode}")
    return Attempt(variant, "failed", error, seconds)


def _json_lines(text: str) -> list[dict[str, Any]]:
    lines = []
    for line in text.splitlines():
        try:
            value = json.loads(line)
        except ValueError:
            continue
        if isinstance(value, dict):
            lines.append(value)
    return lines


def _variant_of(stdout: str) -> str | None:
    for line in _json_lines(stdout):
        if "variant" in line:
            return line["variant"] if isinstance(line["variant"], str) else None
    return None


def _result_of(stdout: str) -> dict[str, Any]:
    results = [line for line in _json_lines(stdout) if "ok" in line]
    return results[-1] if results else {}


def _last_line(text: str) -> str:
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    return lines[-1][:300] if lines else ""


def check_engine(model: Path, options: SelfTestOptions = SelfTestOptions(),
                 runner: Runner | None = None, has_variants: bool | None = None) -> EngineCheck:
    """Test the engine in child processes; with CPU variants, fall back past those that die of
    an illegal instruction, down to the baseline. Any other failure is the model's or the
    machine's, the same on every variant: it ends the test."""
    if runner is None:
        def runner(exclude: Sequence[str]) -> Attempt:
            return run_child(child_command(model, options, exclude), options.timeout_s)
    if has_variants is None:
        from models.llama_backends import cpu_variants

        has_variants = bool(cpu_variants())
    attempts: list[Attempt] = []
    excluded: list[str] = []
    while True:
        attempt = runner(tuple(excluded))
        attempts.append(attempt)
        if attempt.outcome == "passed":
            return EngineCheck(True, attempt.variant, _passed_message(model, attempts),
                               tuple(attempts))
        retry = (has_variants and attempt.variant is not None
                 and attempt.variant not in excluded
                 and attempt.outcome == "illegal_instruction")
        if not retry:
            return EngineCheck(False, None, _failed_message(model, attempt, attempts,
                                                            has_variants), tuple(attempts))
        excluded.append(attempt.variant)  # type: ignore[arg-type]


def _passed_message(model: Path, attempts: Sequence[Attempt]) -> str:
    last = attempts[-1]
    where = f"CPU variant {last.variant}" if last.variant else "this build"
    text = f"a {TEST_TOKENS}-token test with {model.name} passed on {where} in " \
           f"{last.seconds:.1f} s"
    refused = [a.variant for a in attempts[:-1] if a.variant]
    if refused:
        text += f" ({', '.join(refused)}: illegal instruction on this processor, not used)"
    return text


def _failed_message(model: Path, attempt: Attempt, attempts: Sequence[Attempt],
                    has_variants: bool) -> str:
    tried = ", ".join(a.variant for a in attempts if a.variant)
    if attempt.outcome == "illegal_instruction":
        if has_variants:
            return (f"llama.cpp stops with an illegal instruction on this processor with "
                    f"every CPU variant it has ({tried}). Fix: {REINSTALL}.")
        return ("llama.cpp stops with an illegal instruction on this processor: it was "
                "compiled for a different CPU (a native build). Fix: " + REINSTALL + ".")
    if attempt.outcome == "crashed":
        return (f"llama.cpp crashed ({attempt.detail}) during a {TEST_TOKENS}-token test with "
                f"{model.name}: the model file may be damaged or unsupported by this "
                "llama.cpp. Fix: choose another GGUF in Settings, or run 'enclave doctor'.")
    if attempt.outcome == "hung":
        return (f"llama.cpp did not finish a {TEST_TOKENS}-token test with {model.name} "
                f"({attempt.detail}): the model may be too large for this computer's memory. "
                "Fix: choose a smaller GGUF or a smaller context size in Settings.")
    return f"The language model could not be tested: {attempt.detail}"


# -- remembering passes --------------------------------------------------------------------------

def fingerprint(model: Path, options: SelfTestOptions) -> str:
    """Everything that could change the outcome: the llama.cpp libraries, this processor, the
    model file and the load options."""
    from models.llama_backends import library_dir

    parts: dict[str, Any] = {"protocol": PROTOCOL, "python": sys.executable,
                             "gpu_layers": options.gpu_layers, "threads": options.threads}
    try:
        lib = library_dir()
        parts["libraries"] = sorted((p.name, p.stat().st_size, p.stat().st_mtime_ns)
                                    for p in lib.iterdir() if p.is_file())
    except (OSError, RuntimeError) as exc:
        parts["libraries"] = str(exc)
    parts["cpu"] = _cpu_identity()
    try:
        st = model.stat()
        parts["model"] = [str(model), st.st_size, st.st_mtime_ns]
    except OSError:
        parts["model"] = str(model)
    return hashlib.sha256(json.dumps(parts, sort_keys=True).encode()).hexdigest()


def _cpu_identity() -> str:
    try:
        text = Path("/proc/cpuinfo").read_text(encoding="utf-8", errors="replace")
    except OSError:
        import platform

        return platform.processor() or platform.machine()
    keep = [line for line in text.splitlines()
            if line.startswith(("model name", "flags", "Features", "CPU part"))]
    return "\n".join(sorted(set(keep)))


def checked_engine(model: Path, options: SelfTestOptions, cache_file: Path,
                   runner: Runner | None = None) -> EngineCheck:
    """The remembered pass for exactly this setup, or a new test (remembered when it passes)."""
    key = fingerprint(model, options)
    remembered = _read_cache(cache_file).get(key)
    if isinstance(remembered, dict) and remembered.get("ok"):
        variant = remembered.get("cpu_variant")
        return EngineCheck(True, variant if isinstance(variant, str) else None,
                           str(remembered.get("message", "")), remembered=True)
    result = check_engine(model, options, runner)
    if result.ok:
        _write_cache(cache_file, key, result)
    return result


def _read_cache(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def _write_cache(path: Path, key: str, result: EngineCheck) -> None:
    try:
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        # One entry: the setup in use. An old pass for another model or build is useless.
        tmp = path.with_suffix(".tmp")
        tmp.write_text(json.dumps({key: result.to_json()}, indent=1), encoding="utf-8")
        os.replace(tmp, path)
    except OSError:
        pass  # not remembering only costs a test at the next start


# -- the child -----------------------------------------------------------------------------------

def _child(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m models.engine_selftest")
    parser.add_argument("--model", type=Path, required=True)
    parser.add_argument("--gpu-layers", type=int, default=0)
    parser.add_argument("--threads", type=int, default=None)
    parser.add_argument("--exclude", default="")
    args = parser.parse_args(argv)

    from models.chat_model import ChatMessage
    from models.errors import ModelError
    from models.llama_backends import best_variant, cpu_variants, variant_scores
    from models.llama_runtime import LlamaChatModel, LoadOptions

    def say(**fields: Any) -> None:
        print(json.dumps(fields), flush=True)

    variants = cpu_variants()
    variant = None
    if variants:
        scores = variant_scores(variants)
        exclude = frozenset(n for n in args.exclude.split(",") if n)
        variant = best_variant(scores, exclude)
        say(variant=variant, scores=scores)
        if variant is None:
            say(ok=False, error="no CPU variant of this llama.cpp build is left to try")
            return 1
    else:
        say(variant=None)
    started = time.perf_counter()
    try:
        model = LlamaChatModel(args.model.resolve(), LoadOptions(
            context_size=TEST_CONTEXT, gpu_layers=args.gpu_layers, threads=args.threads,
            cpu_variant=variant))
        completion = model.chat([ChatMessage("user", TEST_PROMPT)], max_tokens=TEST_TOKENS,
                                temperature=0.0)
        text = "".join(completion)
        stats = completion.stats
        model.close()
    except ModelError as exc:
        say(ok=False, error=str(exc))
        return 1
    produced = stats.completion_tokens if stats else 0
    say(ok=True, backend=model.backend, tokens=produced, text=text,
        seconds=round(time.perf_counter() - started, 3),
        summary=f"{produced} tokens on {model.backend}")
    return 0


if __name__ == "__main__":
    sys.exit(_child())
