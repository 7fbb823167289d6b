"""A question set read the way an office writes one: each line a question, and a line that is
not one named with what is wrong with it, in words."""

from __future__ import annotations

from pathlib import Path

import pytest

from rag.evaluation import Question, QuestionSetError, read_questions, unknown_sources


def test_a_good_question_set_is_read_with_its_pages(tmp_path: Path) -> None:
    qa = tmp_path / "qa.jsonl"
    qa.write_text('{"q": "Rent?", "source": "lease.pdf", "key": "GBP 2,400", "page": 2}\n\n'
                  '{"q": "Boiler?", "source": "letter.txt", "key": "in June"}\n')
    assert read_questions(qa) == [Question("Rent?", "lease.pdf", "GBP 2,400", 2),
                                  Question("Boiler?", "letter.txt", "in June")]


@pytest.mark.parametrize(("line", "said"), [
    ("not json", "line 2 is not a question"),
    ('["q", "source", "key"]', "line 2 is not a question"),
    ('{"q": "Rent?", "source": "lease.pdf"}', 'line 2 has no "key"'),
    ('{"q": "Rent?", "source": "lease.pdf", "key": ""}', '"key" must be text, and not empty'),
    ('{"q": "", "source": "lease.pdf", "key": "GBP"}', '"q" must be text, and not empty'),
    ('{"q": 5, "source": "lease.pdf", "key": "GBP"}', '"q" must be text, and not empty'),
    ('{"q": "Rent?", "source": "lease.pdf", "key": "GBP", "page": "two"}',
     '"page" must be a page number'),
    ('{"q": "Rent?", "source": "lease.pdf", "key": "GBP", "page": 0}',
     '"page" must be a page number'),
])
def test_a_line_that_is_not_a_question_is_named_with_what_is_wrong(
        tmp_path: Path, line: str, said: str) -> None:
    # An empty key matched every passage and scored 100%; a number as the question was asked.
    qa = tmp_path / "qa.jsonl"
    qa.write_text('{"q": "Boiler?", "source": "letter.txt", "key": "in June"}\n' + line + "\n")
    with pytest.raises(QuestionSetError, match="line 2") as raised:
        read_questions(qa)
    assert said in str(raised.value)
    assert "Error" not in str(raised.value), "no programming terms"


def test_files_the_collection_does_not_hold_are_named() -> None:
    questions = [Question("Rent?", "lease.pdf", "GBP"), Question("Boiler?", "nosuch.txt", "June"),
                 Question("Term?", "/matter/LEASE.pdf", "years")]
    assert unknown_sources(questions, [Path("/matter/lease.pdf")]) == ["/matter/LEASE.pdf",
                                                                       "nosuch.txt"]
