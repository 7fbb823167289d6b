"""Which part of a cited passage to highlight in its page (Qt-free).

A passage can be a whole page; highlighting all of it tells the reader nothing. What is marked is
the part that answers: the answer's quote when it comes from this passage, else the passage's
sentences closest to the answer's sentences that this passage backs, else the sentence sharing
the most words with the question. Only when none of these is found is the whole passage marked.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from rag.sentences import content_words, split_sentences

MAX_PASSAGE_WORDS = 200  # a longer passage is found by its first words

Span = tuple[int, int]


@dataclass(frozen=True)
class Focus:
    """What the answer made of this passage."""

    quote: str = ""  # the answer's verbatim quote, when it comes from this passage
    backed: tuple[str, ...] = ()  # the answer's sentences this passage was the evidence for
    question: str = ""

    def to_json(self) -> dict[str, Any]:
        return {"quote": self.quote, "backed": list(self.backed), "question": self.question}

    @classmethod
    def from_json(cls, data: Any) -> Focus:
        if not isinstance(data, dict):
            return cls()
        return cls(str(data.get("quote") or ""), tuple(str(s) for s in data.get("backed") or ()),
                   str(data.get("question") or ""))


def same_passage(citation: dict[str, Any], other: dict[str, Any] | None) -> bool:
    """Whether ``other`` (a quote, a sentence's evidence) comes from the cited passage."""
    if not other or other.get("source") != citation.get("source") or \
            other.get("page") != citation.get("page"):
        return False
    text = " ".join(str(other.get("text", "")).split())
    passage = " ".join(str(citation.get("text", "")).split())
    return bool(text) and (text in passage or passage in text)


def focus_for(citation: dict[str, Any], quote: dict[str, Any] | None,
              sentences: list[dict[str, Any]], question: str) -> Focus:
    """The focus of ``citation`` given its answer's quote and sentence checks."""
    quoted = str(quote.get("text", "")) if quote and same_passage(citation, quote) else ""
    backed = tuple(str(s.get("text", "")) for s in sentences
                   if s.get("supported") and same_passage(citation, s.get("evidence")))
    return Focus(quoted, backed, question)


def find_passage(text: str, passage: str, words: int = MAX_PASSAGE_WORDS) -> Span | None:
    """Where ``passage`` is in ``text``, across any re-flowing of the whitespace between its
    words, and across a word hyphenated at a line's end in one and joined in the other."""
    tokens = passage.split()[:words]
    if not tokens:
        return None
    pattern = ""
    for i, token in enumerate(tokens):
        last = i == len(tokens) - 1
        if token.endswith("-") and len(token) > 1 and not last:
            pattern += re.escape(token[:-1]) + r"(?:-\s*)?"  # "exam- ple" or "example"
        else:
            pattern += re.escape(token) + ("" if last else r"\s+")
    found = re.search(pattern, text, flags=re.IGNORECASE)
    return (found.start(), found.end()) if found else None


def locate_passage(text: str, passage: str) -> Span | None:
    """Where the whole passage is in its page: found by its first words when it is long, or
    when the page has changed a little since it was indexed; its end follows from its length."""
    found = find_passage(text, passage) or find_passage(text, passage, words=12)
    if found is None:
        return None
    if len(passage.split()) > MAX_PASSAGE_WORDS or not _whole(text, found, passage):
        return found[0], max(found[1], min(len(text), found[0] + len(passage)))
    return found


def _whole(text: str, span: Span, passage: str) -> bool:
    return len(text[span[0]:span[1]].split()) >= len(passage.split())


def focus_spans(text: str, passage: Span, focus: Focus) -> tuple[list[Span], str]:
    """The spans of ``text`` to highlight inside the passage at ``passage``, in order, and why
    they were chosen: "quote", "backed", "question", or "passage" (nothing finer was found)."""
    start, end = passage
    region = text[start:end]
    if focus.quote:
        found = find_passage(region, focus.quote)
        if found:
            return [(start + found[0], start + found[1])], "quote"
    sentences = [(start + s.start, start + s.start + len(region[s.start:s.end].rstrip()))
                 for s in split_sentences(region)]
    words = [set(content_words(text[a:b])) for a, b in sentences]
    backed = {best for claim in focus.backed
              if (best := _closest(sentences, words, set(content_words(claim)))) is not None}
    if backed:
        return sorted(backed), "backed"
    best = _closest(sentences, words, set(content_words(focus.question)))
    if best is not None and len(sentences) > 1:
        return [best], "question"
    return [passage], "passage"


def _closest(sentences: list[Span], words: list[set[str]], wanted: set[str]) -> Span | None:
    """The sentence holding the most of ``wanted`` (the first of equals), if it holds enough:
    two of the words, or the only one there is."""
    if not wanted or not sentences:
        return None
    shared = [len(w & wanted) for w in words]
    best = max(range(len(sentences)), key=lambda i: (shared[i], -i))
    return sentences[best] if shared[best] >= min(2, len(wanted)) else None
