"""Scoring retrieval on a question set: hit@1 and hit@5, the way an office checks its own.

A question set is JSON lines: ``{"q": ..., "source": ..., "key": ..., "page": ...}``. A passage
answers a question when it comes from the named file (by file name or full path), contains the
key phrase (ignoring case and spacing), and, when a page is given, is on that page.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from rag.retrieval_types import Hit

DEPTH = 5


class QuestionSetError(ValueError):
    """A question set that cannot be used; the message names the file and line."""


@dataclass(frozen=True)
class Question:
    q: str
    source: str
    key: str
    page: int | None = None


@dataclass(frozen=True)
class Outcome:
    question: Question
    rank: int | None  # 1-based rank of the first right passage within the top DEPTH
    top: Hit | None


@dataclass(frozen=True)
class Score:
    outcomes: list[Outcome] = field(default_factory=list)

    @property
    def questions(self) -> int:
        return len(self.outcomes)

    def hit_at(self, k: int) -> float:
        if not self.outcomes:
            return 0.0
        return sum(1 for o in self.outcomes if o.rank is not None and o.rank <= k) / \
            len(self.outcomes)

    def mrr(self) -> float:
        if not self.outcomes:
            return 0.0
        return sum(1.0 / o.rank for o in self.outcomes if o.rank) / len(self.outcomes)

    def to_json(self, details: bool = True) -> dict[str, Any]:
        result: dict[str, Any] = {"questions": self.questions,
                                  "hit@1": round(self.hit_at(1), 4),
                                  "hit@5": round(self.hit_at(5), 4),
                                  "mrr": round(self.mrr(), 4)}
        if details:
            result["misses"] = [_miss(o) for o in self.outcomes if o.rank != 1]
        return result


def read_questions(path: Path) -> list[Question]:
    try:
        lines = path.read_text(encoding="utf-8-sig").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise QuestionSetError(f"cannot read the question set {path} ({exc}).") from exc
    questions = []
    for number, line in enumerate(lines, start=1):
        if line.strip():
            questions.append(_question(line, f"{path}, line {number}"))
    if not questions:
        raise QuestionSetError(f"{path} holds no questions.")
    return questions


SHAPE = '{"q": "the question", "source": "file name", "key": "words that answer"}'


def _question(line: str, where: str) -> Question:
    """One line of a question set, or an error that says what is wrong with it in words."""
    try:
        raw = json.loads(line)
    except ValueError:
        raise QuestionSetError(f"{where} is not a question: each line must read {SHAPE} "
                               "(\"page\": a number, may follow).") from None
    if not isinstance(raw, dict):
        raise QuestionSetError(f"{where} is not a question: each line must read {SHAPE}.")
    fields: dict[str, str] = {}
    for name in ("q", "source", "key"):
        value = raw.get(name)
        if name not in raw:
            raise QuestionSetError(f"{where} has no \"{name}\": each line must read {SHAPE}.")
        if not isinstance(value, str) or not value.strip():
            raise QuestionSetError(f"{where}: \"{name}\" must be text, and not empty.")
        fields[name] = value
    page = raw.get("page")
    if page is not None and (isinstance(page, bool) or not isinstance(page, int) or page < 1):
        raise QuestionSetError(f"{where}: \"page\" must be a page number, like 3.")
    return Question(fields["q"], fields["source"], fields["key"], page)


def unknown_sources(questions: Sequence[Question], documents: Sequence[Path]) -> list[str]:
    """The files questions name that are not among ``documents`` (a typing mistake, or a file
    never indexed): their questions can only be misses."""
    return sorted({q.source for q in questions
                   if not any(_same_source(str(d), q.source) for d in documents)})


def is_answer(hit: Hit, question: Question) -> bool:
    p = hit.passage
    if not _same_source(p.source, question.source):
        return False
    if question.page is not None and p.page != question.page:
        return False
    return _squash(question.key) in _squash(p.text)


def quote_answers(quote_text: str, source: str, question: Question) -> bool:
    """Whether a quote (from ``source``) holds the question's key phrase, from the right file
    (pages are not checked: a quote is one passage's sentences, cited with its page)."""
    return _same_source(source, question.source) and \
        _squash(question.key) in _squash(quote_text)


def states_key(text: str, question: Question) -> bool:
    """Whether an answer states the key phrase (ignoring case, spacing and punctuation)."""
    return _words(question.key) in _words(text)


def _words(text: str) -> str:
    return " " + " ".join(re.findall(r"[^\W_]+", text.casefold())) + " "


def evaluate(questions: Sequence[Question], search: Callable[[str], list[Hit]]) -> Score:
    outcomes = []
    for question in questions:
        hits = search(question.q)[:DEPTH]
        rank = next((n for n, h in enumerate(hits, start=1) if is_answer(h, question)), None)
        outcomes.append(Outcome(question, rank, hits[0] if hits else None))
    return Score(outcomes)


def _same_source(source: str, wanted: str) -> bool:
    wanted = wanted.strip()
    if "/" in wanted or "\\" in wanted:
        return Path(source) == Path(wanted) or source.endswith(wanted.replace("\\", "/"))
    return Path(source).name.casefold() == wanted.casefold()


def _squash(text: str) -> str:
    return " ".join(text.casefold().split())


def _miss(o: Outcome) -> dict[str, Any]:
    top = o.top.passage if o.top else None
    return {"q": o.question.q, "rank": o.rank,
            "top": None if top is None else {"source": Path(top.source).name,
                                             "page": top.page, "text": top.text[:160]}}
