"""Fit a conversation into the context window instead of failing when it grows too long."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from models.chat_model import ChatMessage

ELLIPSIS = "[…earlier text trimmed to fit the model's context…]\n"


@dataclass(frozen=True)
class Fitted:
    messages: list[ChatMessage]
    prompt_tokens: int
    dropped: int  # whole messages removed from the start of the history


def fit_messages(
    messages: Sequence[ChatMessage],
    prompt_tokens: Callable[[Sequence[ChatMessage]], int],
    budget: int,
) -> Fitted:
    """Drop the oldest turns (never the system prompt, never the last message) until the prompt
    fits ``budget`` tokens; if the last message alone is still too long, keep its end (where the
    question is) and cut its beginning."""
    if not messages:
        raise ValueError("a chat needs at least one message")
    system = [m for m in messages[:1] if m.role == "system"]
    history = list(messages[len(system):-1])
    last = messages[-1]
    dropped = 0
    while True:
        candidate = [*system, *history, last]
        used = prompt_tokens(candidate)
        if used <= budget or not history:
            break
        # Remove the oldest exchange; a lone leftover assistant turn goes with it.
        history.pop(0)
        dropped += 1
        if history and history[0].role == "assistant":
            history.pop(0)
            dropped += 1
    if used <= budget:
        return Fitted(candidate, used, dropped)
    # Shrink the last message by characters, proportionally, until it fits.
    content = last.content
    while used > budget and len(content) > 1:
        overshoot = used - budget
        keep = max(1, len(content) - max(16, int(len(content) * overshoot / max(used, 1)) + 16))
        content = content[-keep:]
        candidate = [*system, ChatMessage(last.role, ELLIPSIS + content)]
        used = prompt_tokens(candidate)
    if used > budget:
        raise ValueError("the system prompt alone does not fit in the context window")
    return Fitted(candidate, used, dropped + len(history))
