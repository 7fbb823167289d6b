"""The one ask service: what it decides (documents or not, refuse or not), the prompt it gives
the model, the events it yields and what it writes to the audit log. The model is scripted and
the embedder hashes words (the seams are the subject); Chroma, SQLite and the audit log are real.
"""

from __future__ import annotations

import threading
from pathlib import Path

from desktop.app.ask_service import (
    AskRequest,
    Finished,
    Generating,
    Quoted,
    Refused,
    Searching,
    Token,
)
from desktop.app.audit_log import read_entries
from desktop.app.settings import load_settings, save_settings
from models.chat_model import ChatMessage
from rag.prompting import GROUNDING_RULES, IDENTITY
from tests.doubles import ScriptedChatModel, application
from tests.factories import make_text

LEASE = ("4.2 Notice. The tenant may end this lease by giving three months' notice in "
         "writing to the landlord.")


def _app_with_lease(tmp_path: Path, **settings: object):  # type: ignore[no-untyped-def]
    current = save_settings(load_settings(), **settings) if settings else load_settings()
    model = ScriptedChatModel()
    app = application(current, model)
    make_text(tmp_path / "lease.txt", LEASE)
    list(app.ingest.ingest([tmp_path / "lease.txt"], "Lease"))
    return app, model


def test_a_grounded_answer_streams_then_cites_and_is_audited(tmp_path: Path) -> None:
    app, model = _app_with_lease(tmp_path)
    model.enqueue("Three months' notice in writing [1].")
    events = list(app.ask.ask(AskRequest("How much notice must the tenant give?",
                                         collection="Lease"), model))
    kinds = [type(e) for e in events]
    assert kinds[:3] == [Searching, Quoted, Generating] and kinds[-1] is Finished
    quote = events[1].quote  # type: ignore[union-attr]
    assert "three months' notice in writing" in quote.text, "the documents' words, first"
    assert "".join(e.text for e in events if isinstance(e, Token)) == \
        "Three months' notice in writing [1]."
    answer = events[-1].answer  # type: ignore[union-attr]
    assert not answer.refused and not answer.model_only
    assert [Path(h.passage.source).name for h in answer.citations] == ["lease.txt"]
    system, user = model.prompts[0][0], model.prompts[0][-1]
    assert system.content.startswith(IDENTITY) and GROUNDING_RULES in system.content
    assert "[1] lease" in user.content and "three months' notice" in user.content
    assert [c.supported for c in answer.sentences] == [True]
    assert answer.to_json()["quote"]["source"].endswith("lease.txt")
    entries = read_entries(app.audit.path)
    assert [e["kind"] for e in entries] == ["ingest", "question", "answer"]
    assert entries[2]["data"]["unsupported_sentences"] == 0
    assert entries[2]["data"]["sources"][0]["source"].endswith("lease.txt")
    assert entries[2]["data"]["passages_given"] == 1
    app.close()


def test_nothing_relevant_is_refused_without_calling_the_model(tmp_path: Path) -> None:
    app, model = _app_with_lease(tmp_path)
    events = list(app.ask.ask(AskRequest("banana bread recipe", collection="Lease"), model))
    assert [type(e) for e in events] == [Searching, Refused]
    assert events[-1].answer.text == \
        "I could not find this in your documents (collection Lease)."  # type: ignore[union-attr]
    assert model.prompts == [], "the model was never asked"
    answer = read_entries(app.audit.path)[-1]
    assert answer["kind"] == "answer" and answer["data"]["refused"] is True
    app.close()


def test_an_empty_collection_says_so(tmp_path: Path) -> None:
    app = application(load_settings())
    events = list(app.ask.ask(AskRequest("What is the notice period?"), ScriptedChatModel()))
    refusal = events[-1]
    assert isinstance(refusal, Refused)
    assert "There are no documents in the collection “default” yet" in refusal.answer.text
    app.close()


def test_grounded_mode_off_answers_from_the_model_alone_and_says_so(tmp_path: Path) -> None:
    app, model = _app_with_lease(tmp_path, grounded=False)
    model.enqueue("Flour, bananas, butter.")
    events = list(app.ask.ask(AskRequest("banana bread recipe", collection="Lease"), model))
    answer = events[-1].answer  # type: ignore[union-attr]
    assert isinstance(events[-1], Finished) and answer.model_only and answer.note
    assert answer.citations == []
    assert GROUNDING_RULES not in model.prompts[0][0].content
    app.close()


def test_without_documents_the_library_is_never_opened(tmp_path: Path) -> None:
    app = application(load_settings())
    model = ScriptedChatModel(["Hello."])
    history = [ChatMessage("user", "Earlier?"), ChatMessage("assistant", "Yes.")]
    events = list(app.ask.ask(AskRequest("hello", use_documents=False, history=history,
                                         instructions="Answer in French."), model))
    assert isinstance(events[-1], Finished) and events[-1].answer.model_only
    assert not app.library_open, "a model-only question does not load the embedder"
    prompt = model.prompts[0]
    assert prompt[0].content == f"{IDENTITY}\n\nAnswer in French."
    assert prompt[1:3] == history and prompt[-1] == ChatMessage("user", "hello")
    question = read_entries(app.audit.path)[0]
    assert question["data"]["collection"] is None and question["data"]["documents"] is False
    app.close()


def test_cancel_stops_between_tokens_and_keeps_the_answer_so_far(tmp_path: Path) -> None:
    app = application(load_settings())
    model = ScriptedChatModel(["one two three four five six seven eight"])
    cancel = threading.Event()
    received = []
    for event in app.ask.ask(AskRequest("count", use_documents=False), model, cancel):
        if isinstance(event, Token):
            received.append(event.text)
            if len(received) == 3:
                cancel.set()
        last = event
    assert isinstance(last, Finished)
    assert last.answer.text == "one two three " and last.answer.stats.cancelled
    assert read_entries(app.audit.path)[-1]["data"]["cancelled"] is True
    app.close()


def test_an_invented_sentence_is_marked_and_counted_in_the_audit_log(tmp_path: Path) -> None:
    app, model = _app_with_lease(tmp_path)
    model.enqueue("The tenant may end this lease by giving three months' notice [1]. "
                  "The landlord may also charge a fee of GBP 500.")
    events = list(app.ask.ask(AskRequest("How much notice must the tenant give?",
                                         collection="Lease"), model))
    answer = events[-1].answer  # type: ignore[union-attr]
    assert [c.supported for c in answer.sentences] == [True, False]
    assert "500" in answer.unsupported[0].reason
    assert read_entries(app.audit.path)[-1]["data"]["unsupported_sentences"] == 1
    app.close()


def test_a_follow_up_is_searched_with_the_question_before_it(tmp_path: Path) -> None:
    app, model = _app_with_lease(tmp_path)
    make_text(tmp_path / "boiler.txt", "The boiler in Unit 4 is serviced every twelve months.")
    list(app.ingest.ingest([tmp_path / "boiler.txt"], "Lease"))
    history = [ChatMessage("user", "How much notice must the tenant give to end the lease?"),
               ChatMessage("assistant", "Three months.")]
    model.enqueue("In writing, to the landlord [1].")
    events = list(app.ask.ask(AskRequest("And to whom?", collection="Lease",
                                         history=history), model))
    answer = events[-1].answer  # type: ignore[union-attr]
    assert isinstance(events[-1], Finished)
    assert Path(answer.given[0].passage.source).name == "lease.txt"
    assert model.prompts[0][1:3] == history
    assert model.prompts[0][-1].content.rstrip().endswith("And to whom?"), \
        "the model is given the person's own question"
    app.close()
