"""The chat-model seam: what the rest of Enclave needs from any language model."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import asdict, dataclass
from typing import Literal, Protocol

Role = Literal["system", "user", "assistant"]


@dataclass(frozen=True)
class ChatMessage:
    role: Role
    content: str


@dataclass(frozen=True)
class GenerationStats:
    prompt_tokens: int
    completion_tokens: int
    seconds: float  # wall time from the call to the last token
    time_to_first_token: float  # prompt processing plus the first sampled token
    tokens_per_second: float  # decode rate: tokens after the first, over the time after the first
    prompt_tokens_per_second: float
    cancelled: bool = False
    trimmed_messages: int = 0  # older turns dropped to fit the context window
    finish_reason: Literal["stop", "length", "cancelled"] = "stop"

    def to_json(self) -> dict[str, object]:
        return asdict(self)


class Cancel(Protocol):
    def is_set(self) -> bool: ...


class Completion(Protocol):
    """An answer being streamed: iterate for text pieces; ``stats`` is set once it has ended."""

    stats: GenerationStats | None

    def __iter__(self) -> Iterator[str]: ...


class ChatModel(Protocol):
    """A loaded chat model. Not thread-safe: create, use and close it on one thread."""

    @property
    def context_size(self) -> int: ...

    @property
    def backend(self) -> str: ...  # "CPU", "CUDA", "Metal", ...

    def count_tokens(self, text: str) -> int: ...

    def chat(
        self,
        messages: Sequence[ChatMessage],
        *,
        max_tokens: int,
        temperature: float,
        cancel: Cancel | None = None,
    ) -> Completion: ...

    def close(self) -> None: ...
