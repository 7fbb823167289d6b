"""The chat-model seam: what the rest of Enclave needs from any language model."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import asdict, dataclass
from typing import Generic, Literal, Protocol, TypeVar

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

    @classmethod
    def of_stream(cls, *, started: float, first_at: float | None, ended: float,
                  prompt_tokens: int, completion_tokens: int, finish_reason: str,
                  trimmed_messages: int) -> GenerationStats:
        """The figures of one streamed answer from its clock readings (perf_counter): the
        call, the first piece of text (None: there was none) and the last."""
        ttft = (first_at or ended) - started
        decode_time = ended - (first_at or ended)
        produced = completion_tokens
        return cls(
            prompt_tokens=prompt_tokens,
            completion_tokens=produced,
            seconds=round(ended - started, 4),
            time_to_first_token=round(ttft, 4),
            tokens_per_second=round((produced - 1) / decode_time, 2)
            if produced > 1 and decode_time > 0 else 0.0,
            prompt_tokens_per_second=round(prompt_tokens / ttft, 2) if ttft > 0 else 0.0,
            cancelled=finish_reason == "cancelled",
            trimmed_messages=trimmed_messages,
            finish_reason=finish_reason,  # type: ignore[arg-type]
        )


class Cancel(Protocol):
    def is_set(self) -> bool: ...


ModelT = TypeVar("ModelT")


class StreamedAnswer(Generic[ModelT]):
    """What every engine's answer holds: the request, and ``stats`` once the stream ended.
    Engines subclass it with their own ``__iter__``."""

    def __init__(self, model: ModelT, messages: Sequence[ChatMessage], max_tokens: int,
                 temperature: float, cancel: Cancel | None) -> None:
        self._model = model
        self._messages = list(messages)
        self._max_tokens = max_tokens
        self._temperature = temperature
        self._cancel = cancel
        self.stats: GenerationStats | None = None


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
