from __future__ import annotations

from collections.abc import Sequence

from models.chat_model import ChatMessage
from models.context_fit import ELLIPSIS, fit_messages


def words(messages: Sequence[ChatMessage]) -> int:
    return sum(len(m.content.split()) + 4 for m in messages)


def test_short_history_is_untouched() -> None:
    msgs = [ChatMessage("system", "be kind"), ChatMessage("user", "hello there")]
    fitted = fit_messages(msgs, words, budget=100)
    assert fitted.messages == msgs and fitted.dropped == 0


def test_oldest_turns_go_first_and_system_and_question_stay() -> None:
    msgs = [ChatMessage("system", "rules")]
    for i in range(10):
        msgs += [ChatMessage("user", f"question {i} " * 5), ChatMessage("assistant", "answer " * 5)]
    msgs.append(ChatMessage("user", "the latest question"))
    fitted = fit_messages(msgs, words, budget=60)
    assert fitted.messages[0].content == "rules"
    assert fitted.messages[-1].content == "the latest question"
    assert fitted.prompt_tokens <= 60
    assert fitted.dropped > 0
    assert fitted.messages[1].role == "user"  # history still starts on a user turn


def test_a_single_oversized_message_keeps_its_end() -> None:
    msgs = [ChatMessage("user", "filler " * 500 + "what is the dose?")]
    fitted = fit_messages(msgs, words, budget=50)
    assert fitted.prompt_tokens <= 50
    assert fitted.messages[-1].content.startswith(ELLIPSIS)
    assert fitted.messages[-1].content.endswith("what is the dose?")
