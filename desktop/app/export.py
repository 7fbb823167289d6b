"""A conversation as a Markdown document, with its citations (Qt-free; the PDF is made from it)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

from desktop.app.conversations import Conversation, Message

MACHINE_NOTE = "machine-generated: verify it against the sources"


def citation_label(citation: dict[str, Any]) -> str:
    """'contract.pdf, page 4' — how a citation names its source for a person."""
    name = Path(str(citation.get("source", ""))).name or str(citation.get("title", "document"))
    page = citation.get("page")
    return f"{name}, page {page}" if page else name


def model_line(stats: dict[str, Any]) -> str:
    """Which model wrote an answer (its file name), as the export and the window say it."""
    model = str(stats.get("model") or "")
    if model:
        return f"Written by the model {model}."
    return "Written by a model whose name was not recorded (answered by an older Enclave)."


def passage_text(citation: dict[str, Any]) -> str:
    return " ".join(str(citation.get("text", "")).split())


def sources_lines(citations: Sequence[dict[str, Any]]) -> list[str]:
    """'1. lease.pdf, page 3 — “the passage”', one a source."""
    return [f"{number}. {citation_label(citation)} — “{passage_text(citation)}”"
            for number, citation in enumerate(citations, start=1)]


def answer_with_sources(text: str, citations: Sequence[dict[str, Any]],
                        quote: dict[str, Any] | None = None) -> str:
    """An answer as it is copied out of the window: the answer, the documents' own words it
    quoted, and its sources with their passages, so it can be checked wherever it is pasted."""
    if not quote and not citations:
        return text
    parts = [text.strip()]
    if quote:
        parts.append(f"From {citation_label(quote)}: “{passage_text(quote)}”")
    if citations:
        parts.append("\n".join(["Sources:", *sources_lines(citations)]))
    return "\n\n".join(parts)


def conversation_markdown(conversation: Conversation, messages: Sequence[Message],
                          exported_at: datetime | None = None) -> str:
    when = (exported_at or datetime.now()).strftime("%Y-%m-%d %H:%M")
    lines = [f"# {conversation.title}", ""]
    details = [f"Exported from Enclave on {when}"]
    if conversation.collection:
        details.append(f"documents: {conversation.collection}")
    lines += ["*" + " · ".join(details) + "*", ""]
    if conversation.system_prompt:
        lines += [f"**Instructions:** {conversation.system_prompt}", ""]
    for message in messages:
        if message.role == "user":
            lines += ["## Question", "", message.content.strip(), ""]
            continue
        if message.refused:
            lines += ["## Not in your documents", "", f"> {message.content.strip()}", ""]
            continue
        quote = message.stats.get("quote")
        if quote:
            lines += [f"**From {citation_label(quote)}:**", "",
                      f"> “{' '.join(str(quote.get('text', '')).split())}”", ""]
        lines += [f"## Answer ({MACHINE_NOTE})", "", f"*{model_line(message.stats)}*", "",
                  message.content.strip() or "*(no answer)*", ""]
        unsupported = [c for c in message.stats.get("sentences", []) if not c.get("supported")]
        if unsupported:
            lines += [f"**Not backed by the sources ({len(unsupported)} of "
                      f"{len(message.stats['sentences'])} sentences):**", ""]
            lines += [f"- ⚠ {c.get('text', '')} *({c.get('reason', '')})*" for c in unsupported]
            lines.append("")
        if message.stats.get("cancelled"):
            lines += ["*(stopped before the end)*", ""]
        if message.citations:
            lines += ["**Sources**", "", *sources_lines(message.citations), ""]
    return "\n".join(lines).rstrip() + "\n"


def write_markdown(path: Path, conversation: Conversation, messages: Sequence[Message]) -> Path:
    path.write_text(conversation_markdown(conversation, messages), encoding="utf-8")
    return path
