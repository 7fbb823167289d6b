"""The local API with the official OpenAI client, over loopback, against the real server and
the real application (Chroma, SQLite, the audit log), the chat model scripted: what a program
on the workstation sees, and what the compliance officer finds in the audit log."""

from __future__ import annotations

import stat
import threading
from pathlib import Path

import httpx
import pytest

from desktop.api.server import bind_refusal
from desktop.api.token import load_or_create_token, token_path
from desktop.app.audit_log import read_entries
from desktop.app.settings import load_settings
from tests.desktop.api.serving import serving
from tests.doubles import ScriptedChatModel, application
from tests.factories import make_text

LEASE = ("4.2 Notice. The tenant may end this lease by giving three months' notice in "
         "writing to the landlord.")


def _app(tmp_path: Path, *replies: str):  # type: ignore[no-untyped-def]
    model = ScriptedChatModel(replies)
    app = application(load_settings(), model)
    make_text(tmp_path / "lease.txt", LEASE)
    list(app.ingest.ingest([tmp_path / "lease.txt"], "Lease"))
    return app, model


def _kinds(app) -> list[str]:  # type: ignore[no-untyped-def]
    return [e["kind"] for e in read_entries(app.audit.path)]


def test_a_program_gets_a_whole_answer_and_a_streamed_one(tmp_path: Path) -> None:
    app, model = _app(tmp_path, "Paris is the capital of France.", "It is Paris.")
    with serving(app) as served:
        client = served.client()
        assert {m.id for m in client.models.list()} >= {served.server.service.model_id}
        whole = client.chat.completions.create(
            model="enclave", messages=[{"role": "system", "content": "Answer briefly."},
                                       {"role": "user", "content": "What is the capital?"}])
        assert whole.choices[0].message.content == "Paris is the capital of France."
        assert whole.choices[0].finish_reason == "stop"
        assert whole.usage is not None and whole.usage.completion_tokens == 6
        pieces = [c.choices[0].delta.content or "" for c in client.chat.completions.create(
            model="enclave", stream=True, messages=[
                {"role": "user", "content": "What is the capital?"},
                {"role": "assistant", "content": "Paris is the capital of France."},
                {"role": "user", "content": "Say it again."}])]
        assert "".join(pieces) == "It is Paris." and len([p for p in pieces if p]) == 3
    # The history and the instructions reached the model as the window would send them.
    first, second = model.prompts
    assert "Answer briefly." in first[0].content
    assert [m.role for m in second[1:]] == ["user", "assistant", "user"]
    questions = [e for e in read_entries(app.audit.path) if e["kind"] == "question"]
    assert [q["data"]["interface"] for q in questions] == ["api", "api"]
    assert [q["data"]["question"] for q in questions] == ["What is the capital?", "Say it again."]
    app.close()


def test_a_request_naming_a_collection_gets_the_quote_and_citations(tmp_path: Path) -> None:
    app, _ = _app(tmp_path, "Three months' notice in writing [1].",
                  "Three months' notice in writing [1].")
    with serving(app) as served:
        client = served.client()
        asked = {"model": "enclave", "extra_body": {"collection": "Lease"}, "messages": [
            {"role": "user", "content": "How much notice must the tenant give?"}]}
        whole = client.chat.completions.create(**asked)  # type: ignore[call-overload]
        grounded = whole.model_extra["enclave"]
        assert "three months' notice in writing" in grounded["quote"]["text"]
        assert [Path(c["source"]).name for c in grounded["citations"]] == ["lease.txt"]
        assert grounded["citations"][0]["n"] == 1 and grounded["refused"] is False
        assert [s["supported"] for s in grounded["sentences"]] == [True]
        last = list(client.chat.completions.create(stream=True, **asked))[-1]
        assert last.model_extra["enclave"]["citations"][0]["text"] == LEASE
        refused = client.chat.completions.create(  # type: ignore[call-overload]
            **dict(asked, messages=[{"role": "user", "content": "banana bread recipe"}]))
        assert refused.choices[0].message.content.startswith("I could not find this")
        assert refused.model_extra["enclave"]["refused"] is True
        with pytest.raises(Exception) as missing:
            client.chat.completions.create(  # type: ignore[call-overload]
                **dict(asked, extra_body={"collection": "Nobody"}))
        assert getattr(missing.value, "status_code", None) == 404
    answers = [e["data"] for e in read_entries(app.audit.path) if e["kind"] == "answer"]
    assert [a["refused"] for a in answers] == [False, False, True]
    assert answers[0]["sources"][0]["source"].endswith("lease.txt")
    app.close()


def test_a_wrong_or_missing_token_is_refused_and_logged(tmp_path: Path) -> None:
    from openai import AuthenticationError

    app, model = _app(tmp_path)
    with serving(app) as served:
        with pytest.raises(AuthenticationError):
            served.client("not-the-token").chat.completions.create(
                model="enclave", messages=[{"role": "user", "content": "hello"}])
        bare = httpx.get(f"{served.address}/models")
        assert bare.status_code == 401 and "token" in bare.json()["error"]["message"]
    refused = [e["data"] for e in read_entries(app.audit.path) if e["kind"] == "api_request"]
    assert [(r["endpoint"], r["status"]) for r in refused] == [
        ("POST /v1/chat/completions", 401), ("GET /v1/models", 401)]
    assert all(r["client"].startswith("127.0.0.1:") for r in refused)
    assert model.prompts == [] and "question" not in _kinds(app)
    app.close()


def test_the_token_is_made_once_and_readable_by_its_user_alone(enclave_home: Path) -> None:
    token = load_or_create_token(enclave_home)
    assert len(token) >= 40
    assert stat.S_IMODE(token_path(enclave_home).stat().st_mode) == 0o600
    assert load_or_create_token(enclave_home) == token


def test_twenty_programs_at_once_each_get_a_whole_answer(tmp_path: Path) -> None:
    replies = [f"Answer number {n} in five words." for n in range(20)]
    app, _ = _app(tmp_path, *replies)
    got: list[str] = []
    failures: list[BaseException] = []
    with serving(app) as served:
        def ask(n: int) -> None:
            try:
                stream = served.client().chat.completions.create(
                    model="enclave", stream=n % 2 == 0,
                    messages=[{"role": "user", "content": f"Question {n}?"}])
                got.append("".join(c.choices[0].delta.content or "" for c in stream)
                           if n % 2 == 0 else stream.choices[0].message.content)
            except BaseException as exc:
                failures.append(exc)

        threads = [threading.Thread(target=ask, args=(n,)) for n in range(20)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(60)
    assert failures == []
    assert sorted(got) == sorted(replies), "every answer arrived whole, none twice"
    assert _kinds(app).count("answer") == 20
    app.close()


def test_past_the_queue_limit_a_program_is_told_to_come_back(tmp_path: Path) -> None:
    from openai import RateLimitError

    app, _ = _app(tmp_path, "Fine.")
    with serving(app, queue_limit=1) as served:
        assert served.server.service.admission.try_enter()  # one question is being answered
        with pytest.raises(RateLimitError) as busy:
            served.client().chat.completions.create(
                model="enclave", messages=[{"role": "user", "content": "hello"}])
        assert busy.value.response.headers["retry-after"] == "5"
        served.server.service.admission.leave()
        done = served.client().chat.completions.create(
            model="enclave", messages=[{"role": "user", "content": "hello"}])
        assert done.choices[0].message.content == "Fine."
    app.close()


def test_bad_requests_get_a_clear_400(tmp_path: Path) -> None:
    app, _ = _app(tmp_path)
    with serving(app) as served:
        headers = {"Authorization": f"Bearer {served.token}"}
        for body, words in (({"messages": []}, "messages"),
                            ({"messages": [{"role": "assistant", "content": "hi"}]},
                             "last message"),
                            ({"messages": [{"role": "user", "content": "hi"}],
                              "max_tokens": 0}, "max_tokens")):
            reply = httpx.post(f"{served.address}/chat/completions", json=body,
                               headers=headers)
            assert reply.status_code == 400 and words in reply.json()["error"]["message"]
        broken = httpx.post(f"{served.address}/chat/completions", content=b"{",
                            headers=headers)
        assert broken.status_code == 400
    app.close()


def test_embeddings_come_in_openais_shape(tmp_path: Path) -> None:
    app, _ = _app(tmp_path)
    with serving(app) as served:
        made = served.client().embeddings.create(model="all-MiniLM-L6-v2",
                                                 input=["notice period", "rent"])
        assert [len(d.embedding) for d in made.data] == [384, 384]
        assert [d.index for d in made.data] == [0, 1]
    app.close()


def test_it_listens_on_loopback_only() -> None:
    assert bind_refusal("127.0.0.1", ()) is None and bind_refusal("::1", ()) is None
    assert "127.0.0.1" in (bind_refusal("0.0.0.0", ()) or "")
    assert bind_refusal("10.0.0.5", ()) is not None
    assert bind_refusal("10.0.0.5", ("10.0.0.5",)) is None


def test_serve_refuses_an_address_beyond_this_computer(
        capsys: pytest.CaptureFixture[str]) -> None:
    from desktop.cli.main import main

    assert main(["serve", "--host", "0.0.0.0"], build=lambda s: application(s)) == 2
    shown = capsys.readouterr()
    assert "this computer only" in shown.err and shown.out == ""
