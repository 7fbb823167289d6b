"""The local API on the real default model and the bundled embedder: a streamed answer through
the official OpenAI client, a client that goes away stops the answer, embeddings that mean
something."""

from __future__ import annotations

import math
import time
from pathlib import Path

from desktop.app.application import Application
from desktop.app.audit_log import read_entries
from desktop.app.settings import load_settings
from desktop.app.wiring import load_chat_model, open_assistant, open_library
from tests.desktop.api.serving import serving


def _real_app(model: Path, embedder: object) -> Application:
    settings = load_settings().replace(model_path=model, context_size=2048, gpu_layers=0)
    return Application(settings, open_library=lambda s: open_library(s, embedder),  # type: ignore[arg-type]
                       open_assistant=open_assistant, load_model=load_chat_model)


def test_the_real_model_streams_and_stops_when_the_client_goes_away(
        default_model_path: Path, embedder: object) -> None:
    app = _real_app(default_model_path, embedder)
    with serving(app) as served:
        client = served.client()
        stream = client.chat.completions.create(
            model="enclave", stream=True, max_tokens=16,
            messages=[{"role": "user", "content": "Name a colour."}])
        text = "".join(c.choices[0].delta.content or "" for c in stream)
        assert text.strip(), "the real model said something"
        long = client.chat.completions.create(
            model="enclave", stream=True, max_tokens=400,
            messages=[{"role": "user", "content": "Write a long story about a lighthouse."}])
        got = 0
        for chunk in long:
            got += bool(chunk.choices[0].delta.content)
            if got >= 3:
                break
        long.close()  # the program goes away mid-answer
        deadline = time.monotonic() + 30
        answers: list[dict[str, object]] = []
        while time.monotonic() < deadline and len(answers) < 2:
            answers = [e["data"] for e in read_entries(app.audit.path) if e["kind"] == "answer"]
            time.sleep(0.2)
        assert len(answers) == 2
        assert answers[1]["cancelled"] is True
        assert 3 <= int(answers[1]["completion_tokens"]) < 100  # type: ignore[call-overload]
        # The model is free again at once for the next program.
        after = client.chat.completions.create(
            model="enclave", max_tokens=8, messages=[{"role": "user", "content": "Hello."}])
        assert after.choices[0].message.content
    app.close()


def test_embeddings_from_the_bundled_model_put_like_texts_together(
        default_model_path: Path, embedder: object) -> None:
    app = _real_app(default_model_path, embedder)
    with serving(app) as served:
        made = served.client().embeddings.create(
            model="all-MiniLM-L6-v2",
            input=["The tenant must give three months' notice.",
                   "How much notice does the tenant have to give?",
                   "The patient was discharged with antibiotics."])
    a, b, c = (d.embedding for d in made.data)
    assert all(math.isclose(sum(x * x for x in v), 1.0, rel_tol=1e-3) for v in (a, b, c))

    def cosine(x: list[float], y: list[float]) -> float:
        return sum(p * q for p, q in zip(x, y, strict=True))

    assert cosine(a, b) > cosine(a, c) + 0.2
    app.close()
