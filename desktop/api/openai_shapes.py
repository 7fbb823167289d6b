"""OpenAI's chat and embeddings wire format, read and written: a request body becomes an
``AskRequest`` (desktop/app/ask_service.py), an ``Answer`` becomes a ``chat.completion`` or the
last of its ``chat.completion.chunk`` events.

Enclave's extension: a request that names a ``collection`` is answered from that collection's
documents by the same ask service as the window; the response then carries an ``enclave``
object, the ``enclave ask --json`` result (quote, citations, each sentence checked, refused).
A request without one is answered by the model alone.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from desktop.app.ask_service import Answer, AskRequest
from models.chat_model import ChatMessage

MAX_QUESTION_CHARS = 100_000


class BadRequest(ValueError):
    """A request body the API cannot answer; the message says what is wrong."""


@dataclass(frozen=True)
class ChatRequest:
    ask: AskRequest
    stream: bool
    model: str


def _text_of(content: Any) -> str:
    if isinstance(content, str):
        return content
    if isinstance(content, list):  # [{"type": "text", "text": ...}, ...]
        parts = [p.get("text", "") for p in content
                 if isinstance(p, Mapping) and p.get("type") == "text"]
        if len(parts) != len(content):
            raise BadRequest("only text message parts are supported")
        return "".join(str(p) for p in parts)
    if content is None:
        return ""
    raise BadRequest("a message's content must be text")


def chat_request(body: Any, default_model: str) -> ChatRequest:
    """The ask request for a ``/v1/chat/completions`` body: its last message is the question,
    earlier user and assistant turns the history, system messages the instructions."""
    if not isinstance(body, Mapping):
        raise BadRequest("the request body must be a JSON object")
    messages = body.get("messages")
    if not isinstance(messages, list) or not messages:
        raise BadRequest("'messages' must be a non-empty list")
    turns: list[ChatMessage] = []
    instructions: list[str] = []
    for message in messages:
        if not isinstance(message, Mapping) or message.get("role") not in (
                "system", "developer", "user", "assistant"):
            raise BadRequest("each message needs a role: system, user or assistant")
        text = _text_of(message.get("content"))
        if message["role"] in ("system", "developer"):
            instructions.append(text)
        else:
            turns.append(ChatMessage(message["role"], text))
    if not turns or turns[-1].role != "user" or not turns[-1].content.strip():
        raise BadRequest("the last message must be the user's question")
    question = turns[-1].content
    if len(question) > MAX_QUESTION_CHARS:
        raise BadRequest(f"the question is longer than {MAX_QUESTION_CHARS} characters")
    max_tokens = body.get("max_completion_tokens", body.get("max_tokens"))
    if max_tokens is not None and (not isinstance(max_tokens, int)
                                   or isinstance(max_tokens, bool) or max_tokens < 1):
        raise BadRequest("'max_tokens' must be a positive whole number")
    collection = body.get("collection")
    if collection is not None and (not isinstance(collection, str) or not collection.strip()):
        raise BadRequest("'collection' must be a collection's name")
    model = body.get("model") or default_model
    return ChatRequest(
        AskRequest(question=question, use_documents=collection is not None,
                   collection=collection, history=turns[:-1],
                   instructions="\n".join(i for i in instructions if i.strip()),
                   max_tokens=max_tokens, interface="api"),
        stream=bool(body.get("stream", False)), model=str(model))


def embedding_inputs(body: Any) -> list[str]:
    if not isinstance(body, Mapping):
        raise BadRequest("the request body must be a JSON object")
    given = body.get("input")
    texts = [given] if isinstance(given, str) else given
    if not isinstance(texts, list) or not texts or not all(isinstance(t, str) for t in texts):
        raise BadRequest("'input' must be a text or a list of texts (token arrays are not "
                         "supported)")
    return texts


def _finish_reason(answer: Answer) -> str:
    return "length" if answer.stats.finish_reason == "length" else "stop"


def _usage(answer: Answer) -> dict[str, int]:
    stats = answer.stats
    return {"prompt_tokens": stats.prompt_tokens, "completion_tokens": stats.completion_tokens,
            "total_tokens": stats.prompt_tokens + stats.completion_tokens}


def enclave_part(request: ChatRequest, answer: Answer) -> dict[str, Any] | None:
    return answer.to_json() if request.ask.use_documents else None


def new_id() -> str:
    return f"chatcmpl-{uuid.uuid4().hex}"


def completion(request: ChatRequest, answer: Answer, ident: str) -> dict[str, Any]:
    body: dict[str, Any] = {
        "id": ident, "object": "chat.completion", "created": int(time.time()),
        "model": request.model,
        "choices": [{"index": 0, "message": {"role": "assistant", "content": answer.text},
                     "finish_reason": _finish_reason(answer)}],
        "usage": _usage(answer),
    }
    extra = enclave_part(request, answer)
    if extra is not None:
        body["enclave"] = extra
    return body


def chunk(request: ChatRequest, ident: str, text: str | None = None, first: bool = False,
          answer: Answer | None = None) -> dict[str, Any]:
    delta: dict[str, Any] = {}
    if first:
        delta["role"] = "assistant"
    if text:
        delta["content"] = text
    body: dict[str, Any] = {
        "id": ident, "object": "chat.completion.chunk", "created": int(time.time()),
        "model": request.model,
        "choices": [{"index": 0, "delta": delta,
                     "finish_reason": _finish_reason(answer) if answer else None}],
    }
    if answer is not None:
        body["usage"] = _usage(answer)
        extra = enclave_part(request, answer)
        if extra is not None:
            body["enclave"] = extra
    return body


def error(message: str, kind: str, code: str | None = None) -> dict[str, Any]:
    return {"error": {"message": message, "type": kind, "param": None, "code": code}}
