"""The kind of answer a question asks for: a duration, a date, an amount, a dose, a rate."""

from __future__ import annotations

import pytest

from rag.answer_types import holds_answer, wanted_answers


@pytest.mark.parametrize(("question", "answer", "not_answer"), [
    ("How long must a written offer for source be valid?",
     "valid for at least three years", "a written offer to give any third party the source"),
    ("Until what date could a wiki relicense its content?",
     "at any time before August 1, 2009", "an eligible site may republish its content"),
    ("When was the interpreter to be removed?", "removed in 2021", "the interpreter is removed"),
    ("What is the maximum fee for the source?", "GBP 19,750 a month", "the source is free"),
    ("What dose of amoxicillin for a child?", "amoxicillin 125 mg three times a day",
     "amoxicillin for a child"),
    ("What rate of interest applies to late payment?", "interest at 4% a year",
     "interest applies to late payment"),
])
def test_a_passage_with_the_kind_of_answer_asked_for(question: str, answer: str,
                                                      not_answer: str) -> None:
    wanted = wanted_answers(question)
    assert wanted
    assert holds_answer(answer, wanted)
    assert not holds_answer(not_answer, wanted)


@pytest.mark.parametrize("question", [
    "What must the supplier do with our information when the contract ends?",
    "When writing a BIT STRING value, is the length in bytes or bits?",
    "Which courts handle disputes?",
])
def test_most_questions_ask_for_no_particular_kind(question: str) -> None:
    assert wanted_answers(question) == []


def test_may_the_verb_is_not_the_month() -> None:
    assert not holds_answer("you may copy it", wanted_answers("When was it published?"))
