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


def test_each_answer_names_its_model_and_says_it_is_machine_generated(enclave_home: Path) -> None:
    store = ConversationStore.open(enclave_home)
    c = store.create(title="Discharge notes")
    store.add_message(c.id, "user", "When is the follow-up?")
    store.add_message(c.id, "assistant", "In two weeks [1].", stats={
        "model": "Qwen2.5-3B-Instruct-Q4_K_M.gguf", "completion_tokens": 5, "seconds": 2.0},
        citations=[{"source": "/w/discharge.pdf", "page": 1, "text": "Follow-up in 2 weeks."}])
    # Saved before Enclave kept the model's name: still exported, and says so.
    store.add_message(c.id, "user", "Which ward?")
    store.add_message(c.id, "assistant", "Ward 4 [1].", stats={"completion_tokens": 3})
    text = conversation_markdown(store.get(c.id), store.messages(c.id))
    first, second = text.split("## Answer")[1:]
    assert first.startswith(" (machine-generated: verify it against the sources)")
    assert "*Written by the model Qwen2.5-3B-Instruct-Q4_K_M.gguf.*" in first
    assert second.startswith(" (machine-generated: verify it against the sources)")
    assert "model whose name was not recorded" in second
    store.close()


def test_a_copied_answer_carries_its_quote_and_sources() -> None:
    from desktop.app.export import answer_with_sources

    citations = [{"source": "/m/lease.pdf", "page": 3, "text": "9. Termination. Either party\n"
                  "may end this lease on ninety days notice."}]
    copied = answer_with_sources("Ninety days [1].", citations,
                                 {"source": "/m/lease.pdf", "page": 3,
                                  "text": "Either party may end this lease on ninety days notice."})
    assert copied == ("Ninety days [1].\n\n"
                      "From lease.pdf, page 3: “Either party may end this lease on ninety days "
                      "notice.”\n\n"
                      "Sources:\n"
                      "1. lease.pdf, page 3 — “9. Termination. Either party may end this lease on "
                      "ninety days notice.”")
    assert answer_with_sources("Hello.", []) == "Hello."
