"""Sentences of a passage or an answer, and the words in them that carry meaning.

Documents are not tidy prose: clauses are numbered ("4.2 Notice. The tenant ..."), lists have
one item a line, abbreviations end in a full stop ("e.g.", "Dr.", "s. 4"), and decimals and
versions hold dots ("2.0", "6.8 mmol/L"). A sentence ends at ., ! or ? followed by a space and a
capital, a digit or an opening quote, at a semicolon before a list item, or at a line break
between lines that each read as a whole (a list item, a heading); never inside a number or
after a known abbreviation.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from rag.keyword_index import is_stopword

_ABBREVIATIONS = frozenset((
    "e.g", "i.e", "etc", "cf", "vs", "mr", "mrs", "ms", "dr", "prof", "st", "no", "nos", "art",
    "arts", "sec", "secs", "para", "paras", "fig", "figs", "approx", "incl", "ltd", "co", "inc",
    "corp", "jr", "sr", "vol", "pp", "ch", "cl", "u.s", "u.k",
))
_END = re.compile(r"(?<=[.!?])[\"')\]]*\s+(?=[\"'(\[]?[A-Z0-9])")
_LINE_ITEM = re.compile(r"^\s*(?:[-*•·]|\(?[0-9a-z]{1,3}[.)]|[0-9]+(?:\.[0-9]+)+)\s+")
_WORD = re.compile(r"[^\W_]+(?:[-'][^\W_]+)*")
_CITATION_MARK = re.compile(r"\s*\[\d+(?:\s*[-–,]\s*\d+)*\]")
MIN_SENTENCE = 12  # characters: shorter pieces join the sentence before them


@dataclass(frozen=True)
class Span:
    text: str
    start: int  # offset in the text it was cut from
    end: int


def split_sentences(text: str) -> list[Span]:
    """The sentences of ``text`` with their offsets, whitespace trimmed."""
    spans: list[Span] = []
    for block_start, block in _blocks(text):
        start = 0
        for match in _END.finditer(block):
            cut = match.start()
            if _ends_in_abbreviation(block[start:cut]):
                continue
            spans.append(Span(block[start:cut], block_start + start, block_start + cut))
            start = match.end()
        spans.append(Span(block[start:], block_start + start, block_start + len(block)))
    return _merge_short([s for s in (_trim(s) for s in spans) if s.text])


def _blocks(text: str) -> list[tuple[int, str]]:
    """Paragraphs and list items: a line break ends a block when the next line starts an item
    or the line before ends like a sentence or a heading (no trailing comma or lower-case word
    run-on); otherwise the line wraps and continues."""
    blocks: list[tuple[int, str]] = []
    offset, current, current_start = 0, "", 0
    for line in text.splitlines(keepends=True):
        stripped = line.strip()
        if not stripped:
            if current.strip():
                blocks.append((current_start, current))
            current, current_start = "", offset + len(line)
        elif current.strip() and (_LINE_ITEM.match(line) or _complete(current)
                                  or (_LINE_ITEM.match(current) and stripped[0].isupper())):
            blocks.append((current_start, current))
            current, current_start = line, offset
        else:
            if not current:
                current_start = offset
            current += line
        offset += len(line)
    if current.strip():
        blocks.append((current_start, current))
    return blocks


def _complete(text: str) -> bool:
    last = text.rstrip()
    return bool(last) and last[-1] in ".!?:;" and not _ends_in_abbreviation(last)


def _ends_in_abbreviation(text: str) -> bool:
    words = text.rstrip().rstrip(".").split()
    if not words:
        return True
    last = words[-1].lower().strip("(\"'")
    return last in _ABBREVIATIONS or (len(last) == 1 and last.isalpha())


def _trim(span: Span) -> Span:
    lead = len(span.text) - len(span.text.lstrip())
    text = " ".join(span.text.split())
    return Span(text, span.start + lead, span.end)


def _merge_short(spans: list[Span]) -> list[Span]:
    merged: list[Span] = []
    for span in spans:
        if merged and len(span.text) < MIN_SENTENCE:
            last = merged[-1]
            merged[-1] = Span(f"{last.text} {span.text}", last.start, span.end)
        else:
            merged.append(span)
    return merged


def without_citation_marks(text: str) -> str:
    return _CITATION_MARK.sub("", text).strip()


def content_words(text: str) -> list[str]:
    """Lower-case words that carry meaning, crudely singular ("notices" -> "notice")."""
    words = []
    for word in _WORD.findall(text.lower()):
        if is_stopword(word) or len(word) < 2:
            continue
        words.append(stem(word))
    return words


def stem(word: str) -> str:
    """A crude English stem, enough to match "notices"/"notice", "terminated"/"terminate"."""
    if len(word) <= 4:
        return word
    for suffix, keep in (("ies", "y"), ("ing", ""), ("ed", ""), ("es", ""), ("s", ""),
                         ("e", "")):
        if word.endswith(suffix) and len(word) - len(suffix) >= 3 and \
                not (suffix == "s" and word.endswith("ss")):
            return word[: len(word) - len(suffix)] + keep
    return word
