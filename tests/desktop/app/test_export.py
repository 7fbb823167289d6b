"""A conversation exports to Markdown with its citations (the PDF is tested with the window)."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from desktop.app.conversations import ConversationStore
from desktop.app.export import conversation_markdown, write_markdown


def test_markdown_has_questions_answers_and_numbered_sources(enclave_home: Path) -> None:
    store = ConversationStore.open(enclave_home)
    c = store.create(title="Lease review", system_prompt="Quote clauses exactly.",
                     collection="matter-42")
    store.add_message(c.id, "user", "What is the notice period?")
    store.add_message(c.id, "assistant", "Ninety days [1].", citations=[
        {"source": "/m/lease.pdf", "page": 7, "text": "The notice period is\n ninety days.",
         "score": 0.7}])
    store.add_message(c.id, "user", "Who pays for repairs?")
    store.add_message(c.id, "assistant", "Not in your documents.", refused=True)
    text = conversation_markdown(store.get(c.id), store.messages(c.id),
                                 exported_at=datetime(2026, 1, 2, 3, 4))
    assert text.startswith("# Lease review\n")
    assert "2026-01-02 03:04" in text and "documents: matter-42" in text
    assert "**Instructions:** Quote clauses exactly." in text
    assert "## Question\n\nWhat is the notice period?" in text
    assert "1. lease.pdf, page 7 — “The notice period is ninety days.”" in text
    assert "## Not in your documents\n\n> Not in your documents." in text
    out = write_markdown(enclave_home / "out.md", store.get(c.id), store.messages(c.id))
    assert "lease.pdf, page 7" in out.read_text(encoding="utf-8")
    store.close()
