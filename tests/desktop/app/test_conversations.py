"""Conversations persist in SQLite under ENCLAVE_HOME, through a crash and a restart."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from desktop.app.conversations import DATABASE_FILE, UNTITLED, ConversationStore

CITATION = {"source": "/docs/contract.pdf", "page": 4, "text": "Either party may terminate.",
            "score": 0.81}


def test_a_conversation_and_its_messages_come_back_after_reopening(enclave_home: Path) -> None:
    store = ConversationStore.open(enclave_home)
    conversation = store.create(system_prompt="Answer as for a discharge summary.",
                                collection="patient-17")
    store.add_message(conversation.id, "user", "What was the dose?")
    store.add_message(conversation.id, "assistant", "**5 mg** daily.", citations=[CITATION],
                      stats={"completion_tokens": 4, "cancelled": False})
    store.close()

    again = ConversationStore.open(enclave_home)
    [found] = again.conversations()
    assert found.title == UNTITLED
    assert found.system_prompt == "Answer as for a discharge summary."
    assert found.collection == "patient-17"
    question, answer = again.messages(found.id)
    assert (question.role, question.content) == ("user", "What was the dose?")
    assert answer.citations == [CITATION]
    assert answer.stats["completion_tokens"] == 4
    assert (enclave_home / DATABASE_FILE).is_file()
    again.close()


def test_rename_delete_and_most_recent_first(enclave_home: Path) -> None:
    store = ConversationStore.open(enclave_home)
    first = store.create(title="Lease review")
    second = store.create(title="Discharge notes")
    store.add_message(first.id, "user", "bump")  # the most recently used comes first
    assert [c.title for c in store.conversations()] == ["Lease review", "Discharge notes"]
    assert store.rename(second.id, "  Ward   protocol ").title == "Ward protocol"
    assert store.rename(second.id, "   ").title == UNTITLED
    store.delete(first.id)
    assert [c.id for c in store.conversations()] == [second.id]
    assert store.messages(first.id) == []
    store.close()


def test_renaming_or_instructing_a_conversation_does_not_move_it(enclave_home: Path) -> None:
    store = ConversationStore.open(enclave_home)
    older = store.create(title="Lease review")
    store.add_message(older.id, "user", "Who repairs the roof?")
    newer = store.create(title="Discharge notes")
    store.add_message(newer.id, "user", "What was the dose?")
    assert [c.title for c in store.conversations()] == ["Discharge notes", "Lease review"]
    store.rename(older.id, "Lease review, clause 4")
    store.set_system_prompt(older.id, "Quote the clause.")
    assert [c.title for c in store.conversations()] == ["Discharge notes",
                                                        "Lease review, clause 4"]
    [message] = store.messages(newer.id)
    assert store.get(newer.id).last_active == message.created_at  # the date the list shows
    store.add_message(older.id, "user", "And the gutters?")  # using it does move it
    assert [c.id for c in store.conversations()] == [older.id, newer.id]
    store.close()


def test_searching_finds_conversations_by_title_or_by_what_was_said(enclave_home: Path) -> None:
    store = ConversationStore.open(enclave_home)
    lease = store.create(title="Lease review")
    store.add_message(lease.id, "assistant", "The tenant repairs the ROOF and the gutters.")
    müller = store.create(title="Müller discharge")
    store.add_message(müller.id, "user", "What was the dose?")
    store.create(title="Empty one")
    assert [c.id for c in store.conversations("roof")] == [lease.id]  # in a message, any case
    assert [c.id for c in store.conversations("  LEASE ")] == [lease.id]  # in the title
    assert [c.id for c in store.conversations("müller")] == [müller.id]  # beyond A-Z
    assert [c.id for c in store.conversations("MÜLLER")] == [müller.id]
    assert store.conversations("100%_") == []  # LIKE's wildcards are plain characters here
    assert len(store.conversations("")) == 3
    store.close()


def test_a_refusal_is_stored_as_a_refusal(enclave_home: Path) -> None:
    store = ConversationStore.open(enclave_home)
    conversation = store.create()
    store.add_message(conversation.id, "assistant", "Not in your documents.", refused=True)
    [message] = store.messages(conversation.id)
    assert message.refused
    store.close()


def test_a_committed_message_survives_the_process_being_killed(enclave_home: Path) -> None:
    # The writer dies without closing anything (os._exit skips every cleanup).
    code = (
        "import os, sys\n"
        "from pathlib import Path\n"
        "from desktop.app.conversations import ConversationStore\n"
        "store = ConversationStore.open(Path(sys.argv[1]))\n"
        "c = store.create(title='Crash test')\n"
        "store.add_message(c.id, 'user', 'kept?')\n"
        "os._exit(9)\n"
    )
    root = Path(__file__).resolve().parents[3]
    done = subprocess.run([sys.executable, "-c", code, str(enclave_home)], cwd=root,
                          env=dict(os.environ), capture_output=True, text=True)
    assert done.returncode == 9, done.stderr
    store = ConversationStore.open(enclave_home)
    [conversation] = store.conversations()
    assert conversation.title == "Crash test"
    assert [m.content for m in store.messages(conversation.id)] == ["kept?"]
    store.close()


def test_an_unwritable_place_is_a_sentence_not_a_traceback(tmp_path: Path) -> None:
    blocker = tmp_path / "file-not-folder"
    blocker.write_text("x")
    try:
        ConversationStore.open(blocker)
    except Exception as exc:
        assert "cannot be opened" in str(exc)
        assert type(exc).__name__ == "ConversationStoreError"
    else:
        raise AssertionError("opening a store under a file should fail")
