"""The grounded prompt: numbered passages, then the question, and the rule to cite them."""

from __future__ import annotations

import re
from collections.abc import Sequence
from pathlib import Path

from models.chat_model import ChatMessage
from rag.retrieval_types import Hit

# Who is answering: the first line of every system prompt, with documents or without.
IDENTITY = ("You are Enclave, a careful assistant running entirely on this computer. "
            "Answer clearly and concisely.")
GROUNDING_RULES = (
    "Answer using only the numbered passages from the user's documents given with the "
    "question. Cite the passages you use by their number in square brackets, like [1] or [2]. "
    "If the passages do not contain the answer, say that the documents do not say.")

# [1], [2, 3], [1][4] and [1-3] all cite passages.
_CITATION = re.compile(r"\[(\d+(?:\s*[-–,]\s*\d+)*)\]")


def system_message(instructions: str | None) -> ChatMessage:
    """The grounded system prompt: who answers, the conversation's own instructions, then the
    rule to answer from the numbered passages only."""
    parts = [IDENTITY, (instructions or "").strip(), GROUNDING_RULES]
    return ChatMessage("system", "\n\n".join(p for p in parts if p))


def model_only_messages(question: str, history: Sequence[ChatMessage] = (),
                        instructions: str | None = None) -> list[ChatMessage]:
    """The prompt for the model alone, without documents (the model fits the history)."""
    parts = [IDENTITY, (instructions or "").strip()]
    return [ChatMessage("system", "\n\n".join(p for p in parts if p)), *history,
            ChatMessage("user", question.strip())]


def passage_block(number: int, hit: Hit) -> str:
    p = hit.passage
    where = [p.title or Path(p.source).name]
    if p.section and p.section not in where[0]:
        where.append(p.section)
    if p.page is not None:
        where.append(f"page {p.page}")
    return f"[{number}] {' — '.join(where)}\n{p.text.strip()}"


def user_message(question: str, hits: Sequence[Hit]) -> ChatMessage:
    blocks = "\n\n".join(passage_block(n, hit) for n, hit in enumerate(hits, start=1))
    return ChatMessage("user", f"Passages from my documents:\n\n{blocks}\n\n"
                               f"Question: {question.strip()}")


def cited_numbers(answer: str, count: int) -> list[int]:
    """The passage numbers (1-based, in order of first mention) an answer cites."""
    cited: list[int] = []
    for group in _CITATION.findall(answer):
        for part in re.split(r"\s*,\s*", group):
            bounds = [int(x) for x in re.split(r"\s*[-–]\s*", part)]
            low, high = bounds[0], bounds[-1]
            if high - low > count:  # "[1-2000]" is not a citation
                continue
            for n in range(low, high + 1):
                if 1 <= n <= count and n not in cited:
                    cited.append(n)
    return cited
