"""The same all-MiniLM-L6-v2, run by ONNX Runtime instead of torch: faster ingestion.

The ONNX file is made here, once, from the bundled weights (torch's exporter; no hub, no
download), optionally quantised to int8 by ONNX Runtime's own dynamic quantisation, and kept
under the data directory with a record of the SHA-256 of the weights it came from and of
itself: a file that no longer matches is made again, never trusted. Tokenisation is the
bundled tokenizer.json (the same tokenizer sentence-transformers uses), pooling is the model's
mean pooling and the vectors are normalised, so the fp32 file gives the torch embedder's
vectors (cosine 1.0000 on real passages) and the int8 one vectors within a few hundredths.

ONNX Runtime ships with Chroma; the int8 quantiser needs the ``onnx`` package. When anything
here fails, the caller falls back to the torch embedder (rag/embedder.py) and says why.
"""

from __future__ import annotations

import json
import logging
import os
import warnings
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from rag.embedder import (
    DIMENSION,
    MAX_TOKENS,
    EmbedderUnavailable,
    MiniLMEmbedder,
    bundled_model_dir,
)
from rag.loaders.reading import sha256_of_file
from rag.token_pooling import Batch, TokenSums, batches, in_order, tokenizer

log = logging.getLogger(__name__)

Precision = Literal["fp32", "int8"]
RECORD = "export.json"
# Texts per run of the network, measured on the bench's 1,064 windows (sorted by length, int8,
# two cores; median of three): 8 texts 4.68 s, 16 4.79, 32 5.03, 64 5.53, 128 6.11. Smaller
# batches pad less and stay in the cache.
BATCH_SIZE = 8
FORMAT = 2  # 2: attention exported written out; int8 scales per column


def weights_file(model_dir: Path) -> Path:
    return model_dir / "model.safetensors"


@dataclass(frozen=True)
class Exported:
    path: Path
    precision: Precision
    sha256: str


def exported_model(cache: Path, precision: Precision,
                   model_dir: Path | None = None) -> Exported:
    """The ONNX file for ``precision`` under ``cache``, made now when it is missing or does not
    match the bundled weights or its own recorded SHA-256."""
    folder = model_dir or bundled_model_dir()
    source = weights_file(folder)
    if not source.is_file():
        raise EmbedderUnavailable(f"{source} is missing: the ONNX embedder cannot be made.")
    source_sha = sha256_of_file(source)
    target = cache / f"all-MiniLM-L6-v2.{precision}.onnx"
    record_path = cache / RECORD
    record = _read(record_path)
    entry = record.get(precision, {})
    if (target.is_file() and entry.get("source_sha256") == source_sha
            and entry.get("format") == FORMAT and entry.get("sha256") == sha256_of_file(target)):
        return Exported(target, precision, entry["sha256"])
    cache.mkdir(parents=True, exist_ok=True, mode=0o700)
    if precision == "fp32":
        _export_fp32(folder, target)
    else:
        # The fp32 file is only a step on the way (90 MB): it is not kept beside the int8 one.
        step = cache / f"all-MiniLM-L6-v2.fp32.onnx.{os.getpid()}.step"
        try:
            _export_fp32(folder, step)
            _quantise(step, target)
        finally:
            step.unlink(missing_ok=True)
        _remove_stale_fp32(cache, record)
    sha = sha256_of_file(target)
    record[precision] = {"source_sha256": source_sha, "sha256": sha, "format": FORMAT}
    partial = record_path.with_name(f"{RECORD}.{os.getpid()}.tmp")
    partial.write_text(json.dumps(record, indent=1), encoding="utf-8")
    os.replace(partial, record_path)
    return Exported(target, precision, sha)


def _remove_stale_fp32(cache: Path, record: dict[str, Any]) -> None:
    """Format 1 kept its 90 MB fp32 step beside the int8 file; an upgraded install would keep
    it for ever. It goes unless it is a current fp32 file of its own (embedding_backend onnx)."""
    if record.get("fp32", {}).get("format") != FORMAT:
        (cache / "all-MiniLM-L6-v2.fp32.onnx").unlink(missing_ok=True)
        record.pop("fp32", None)


def _read(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def _export_fp32(model_dir: Path, target: Path) -> None:
    import torch

    # The same local load as the torch embedder's: an absolute folder, never a hub ID.
    model, tokenizer = MiniLMEmbedder(model_dir, precision="fp32").transformer()
    model = model.eval()
    # Attention written out (matmul, mask, softmax) rather than torch's fused kernel: ONNX
    # Runtime recognises it and fuses it into its own attention; the fused kernel exported as
    # masking ops (Where and IsNaN: 14% of the int8 file's time in ONNX Runtime's profile, about
    # a third with the attention around them).
    model.set_attn_implementation("eager")

    class Encoder(torch.nn.Module):
        def __init__(self, inner: Any) -> None:
            super().__init__()
            self.inner = inner

        def forward(self, input_ids: Any, attention_mask: Any, token_type_ids: Any) -> Any:
            return self.inner(input_ids=input_ids, attention_mask=attention_mask,
                              token_type_ids=token_type_ids).last_hidden_state

    sample = tokenizer(["an example", "a longer example sentence"], padding=True,
                       return_tensors="pt")
    axes = {0: "batch", 1: "tokens"}
    partial = target.with_name(f"{target.name}.{os.getpid()}.partial")
    with _quietly(), _removed_unless_done(partial):
        torch.onnx.export(
            Encoder(model), (sample["input_ids"], sample["attention_mask"],
                             sample["token_type_ids"]), str(partial),
            input_names=["input_ids", "attention_mask", "token_type_ids"],
            output_names=["last_hidden_state"],
            dynamic_axes={"input_ids": axes, "attention_mask": axes, "token_type_ids": axes,
                          "last_hidden_state": axes},
            opset_version=17, dynamo=False)
        os.replace(partial, target)


def _quantise(source: Path, target: Path) -> None:
    from onnxruntime.quantization import QuantType, quantize_dynamic

    partial = target.with_name(f"{target.name}.{os.getpid()}.partial")
    # One scale per output column of each weight matrix: a single scale per matrix gave vectors
    # at a mean cosine of 0.911 to torch's (0.83 at worst) on the bench's windows, and lost
    # three questions of system-docs at hit@5; per column, 0.990 (0.977 at worst).
    with _quietly(), _removed_unless_done(partial):
        quantize_dynamic(str(source), str(partial), weight_type=QuantType.QInt8,
                         per_channel=True)
        os.replace(partial, target)


@contextmanager
def _quietly() -> Iterator[None]:
    """The exporter's and the quantiser's advice to developers (tracer warnings, "consider
    pre-processing") kept off a user's terminal. The quantiser logs through the root logger,
    which would otherwise set itself up to print everything after to stderr."""
    root = logging.getLogger()
    null = logging.NullHandler()
    root.addHandler(null)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            yield
    finally:
        root.removeHandler(null)


@contextmanager
def _removed_unless_done(partial: Path) -> Iterator[None]:
    """A half-written file (a full disk, an interrupted export) is not left behind."""
    try:
        yield
    finally:
        partial.unlink(missing_ok=True)


class OnnxEmbedder:
    """rag.retrieval_types.Embedder over an exported ONNX file."""

    dimension = DIMENSION

    def __init__(self, exported: Exported, model_dir: Path | None = None,
                 threads: int | None = None) -> None:
        import onnxruntime

        folder = model_dir or bundled_model_dir()
        self.exported = exported
        self._tokenizer = tokenizer(folder, MAX_TOKENS)
        options = onnxruntime.SessionOptions()
        options.intra_op_num_threads = threads or len(os.sched_getaffinity(0))
        options.inter_op_num_threads = 1
        options.log_severity_level = 3
        self._session = onnxruntime.InferenceSession(str(exported.path), options,
                                                     providers=["CPUExecutionProvider"])

    @property
    def vector_space(self) -> str:
        """Which vectors these are: fp32 gives torch's own; int8 a close but other set, so a
        collection indexed by one is indexed again for the other (rag/library.py)."""
        return "minilm-int8pc" if self.exported.precision == "int8" else "minilm"

    @property
    def name(self) -> str:
        return f"all-MiniLM-L6-v2 (ONNX Runtime, {self.exported.precision})"

    def embed(self, texts: Sequence[str]) -> list[list[float]]:
        return [sums.vector() for sums in self.token_sums(texts)]

    def token_sums(self, texts: Sequence[str]) -> list[TokenSums]:
        """Each text's tokens' last hidden states summed, and their count (rag/token_pooling.py)."""
        def run() -> Iterator[tuple[Batch, list[TokenSums]]]:
            for batch in batches(texts, self._tokenizer, BATCH_SIZE):
                hidden = self._session.run(None, {"input_ids": batch.ids,
                                                  "attention_mask": batch.mask,
                                                  "token_type_ids": batch.types})[0]
                yield batch, batch.sums(hidden)

        return in_order(len(texts), run())
