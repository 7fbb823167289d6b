"""The scripted workflow that ``verify-egress`` runs, and the hostile environment it runs in.

Each step is one child process, traced on its own, so a finding names the step that made it.
Steps use the ``enclave`` commands that exist in this build: a command that is missing is reported
as "not available in this build", never passed over in silence.
"""

from __future__ import annotations

import sys
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

SAMPLE_QUERY = "hand hygiene before patient contact"
SAMPLE_QUESTION = "What does the ward protocol say about hand hygiene?"

# The environment every step starts with: it asks for the hub, telemetry, an exporter and a
# proxy, the way a careless shell profile or a hostile admin might. Enclave's entry point must
# override all of it; the trace proves whether it did.
HOSTILE_ENVIRONMENT: Mapping[str, str] = {
    "HF_HUB_OFFLINE": "0",
    "TRANSFORMERS_OFFLINE": "0",
    "HF_DATASETS_OFFLINE": "0",
    "HF_HUB_DISABLE_TELEMETRY": "0",
    "HF_HUB_DISABLE_UPDATE_CHECK": "0",
    "HF_ENDPOINT": "https://huggingface.co",
    "USE_HUB_KERNELS": "YES",
    "ANONYMIZED_TELEMETRY": "True",
    "CHROMA_OTEL_GRANULARITY": "all",
    "CHROMA_OTEL_COLLECTION_ENDPOINT": "http://otel-collector.invalid:4317",
    "OTEL_SDK_DISABLED": "false",
    "OTEL_TRACES_EXPORTER": "otlp",
    "DO_NOT_TRACK": "0",
    "HTTPS_PROXY": "http://proxy.invalid:3128",
    "HTTP_PROXY": "http://proxy.invalid:3128",
}
# Variables the hostile environment removes (they would switch egress off on their own).
HOSTILE_REMOVED = ("NO_PROXY", "no_proxy", "DISABLE_TELEMETRY")


@dataclass
class Step:
    name: str
    purpose: str
    argv: list[str]  # the full command line; empty when not available
    kind: str = "workflow"  # workflow | canary | guard-canary
    available: bool = True
    unavailable_reason: str = ""
    timeout_s: float = 300.0
    # A window has no natural end: it is closed after this many seconds if it is still open.
    close_after_s: float | None = None
    env: dict[str, str] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data.pop("env")
        return data


def enclave_argv(*args: str) -> list[str]:
    """The ``enclave`` command, through the same interpreter (a console script may be absent)."""
    return [sys.executable, "-m", "desktop", *args]


def hostile_environment(base: Mapping[str, str], home: Path, model: Path | None) -> dict[str, str]:
    env = {k: v for k, v in base.items() if k not in HOSTILE_REMOVED}
    env.update(HOSTILE_ENVIRONMENT)
    env["ENCLAVE_HOME"] = str(home)
    if model is not None:
        env["ENCLAVE_MODEL"] = str(model)
    env["QT_QPA_PLATFORM"] = "offscreen"
    env["PYTHONUNBUFFERED"] = "1"
    return env


def build_workflow(commands: Sequence[str], sample: Path, model: Path | None, max_tokens: int,
                   window_seconds: float, plant_leak: bool, scan: Path | None = None,
                   server_endpoint: str | None = None) -> list[Step]:
    """The steps, in order: canaries first (the detector must work before its silence means
    anything), then ingest, search, ask with documents, ask without, and the window."""
    tokens = str(max_tokens)
    steps = [
        Step("canary", "a deliberate connect to 192.0.2.1:443 and a lookup of example.com, from "
             "a raw child without Enclave's guard: the trace MUST show them and they MUST fail",
             [sys.executable, "-m", "desktop.egress.check.canary", "probe"], kind="canary",
             timeout_s=60),
        Step("guard canary", "the same attempts with Enclave's in-process guard installed: the "
             "guard MUST refuse them before the kernel sees anything",
             [sys.executable, "-m", "desktop.egress.check.canary", "guarded"],
             kind="guard-canary", timeout_s=60),
        _command_step(commands, "ingest", "index the sample PDF",
                      ["ingest", str(sample), "--json"]),
        _ocr_step(commands, scan),
        _command_step(commands, "search", "retrieval only, no model",
                      ["search", SAMPLE_QUERY, "--json"]),
        _command_step(commands, "ask", "ask the default model, grounded in the documents",
                      ["ask", SAMPLE_QUESTION, "--max-tokens", tokens, "--json"],
                      name="ask (documents)", needs_model=model),
        _command_step(commands, "ask", "ask the default model alone",
                      ["ask", SAMPLE_QUESTION, "--no-rag", "--max-tokens", tokens, "--json"],
                      name="ask (--no-rag)", needs_model=model),
        _command_step(commands, "serve", "serve the API on loopback and answer one request "
                      "through it",
                      ["serve", "--port", "0", "--answer-once", SAMPLE_QUESTION,
                       "--max-tokens", tokens], name="serve (one API request)",
                      needs_model=model),
        _window_paint_step(commands),
        Step("window", "open the desktop window offscreen and leave it open (its background "
             "loading runs), then close it", enclave_argv(),
             close_after_s=window_seconds, timeout_s=window_seconds + 30),
    ]
    if plant_leak:
        steps.append(Step(
            "planted leak (test seam)", "a raw non-loopback connect that bypasses the guard, "
            "planted on purpose: this run MUST FAIL",
            [sys.executable, "-m", "desktop.egress.check.canary", "leak"], timeout_s=60))
        if server_endpoint is not None:
            host = server_endpoint.rsplit(":", 1)[0]
            steps.append(Step(
                "planted leak to the server's host (test seam)", "a raw connect to the model "
                "server's host on another port (22): only the configured port is allowed, so "
                "this run MUST FAIL",
                [sys.executable, "-m", "desktop.egress.check.canary", "leak", f"{host}:22"],
                timeout_s=60))
    return steps


def _ocr_step(commands: Sequence[str], scan: Path | None) -> Step:
    step = _command_step(commands, "ingest", "index a scanned page, read by the OCR engine",
                         ["ingest", str(scan), "--collection", "scans", "--json"]
                         if scan is not None else [], name="ingest (OCR)")
    if scan is None and step.available:
        step.available = False
        step.unavailable_reason = "no OCR engine on this machine (apt install tesseract-ocr)"
        step.argv = []
    return step


def _window_paint_step(commands: Sequence[str]) -> Step:
    # The window's hidden --measure-startup paints the window once and quits: proof that it
    # really opened, with a natural end.
    step = Step("window (first paint)", "open the window offscreen until its first paint",
                enclave_argv("--measure-startup"), timeout_s=120)
    if "--measure-startup" not in commands:
        step.available = False
        step.unavailable_reason = "this build's window has no --measure-startup"
        step.argv = []
    return step


def _command_step(commands: Sequence[str], command: str, purpose: str, args: list[str],
                  name: str | None = None, needs_model: Path | bool | None = True) -> Step:
    step = Step(name or command, purpose, enclave_argv(*args))
    if command not in commands:
        step.available = False
        step.unavailable_reason = f"'enclave {command}' is not available in this build"
        step.argv = []
    elif needs_model is None:
        step.available = False
        step.unavailable_reason = "no chat model is installed (run: enclave models install-default)"
        step.argv = []
    return step
