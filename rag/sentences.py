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
    spans: list[tuple[int, Span]] = []  # (cell, span): 0 outside tables
    for cell, piece_start, piece in _pieces(text):
        start = 0
        for match in _END.finditer(piece):
            cut = match.start()
            if _ends_in_abbreviation(piece[start:cut]):
                continue
            spans.append((cell, Span(piece[start:cut], piece_start + start, piece_start + cut)))
            start = match.end()
        spans.append((cell, Span(piece[start:], piece_start + start, piece_start + len(piece))))
    return _merge_short([(cell, s) for cell, s in ((c, _trim(s)) for c, s in spans) if s.text])


_CELL = re.compile(r"[^|]+")


def _is_row(line: str) -> bool:
    """A table's row, as the loaders write one: "| question | answer |"."""
    return line.lstrip().startswith("|")


def _pieces(text: str) -> list[tuple[int, int, str]]:
    """(cell, offset, text) of the blocks, a table's rows cut at each cell (numbered from 1):
    a sentence never runs from one cell into the next, nor holds a "|" the document has not."""
    pieces, cells = [], 0
    for start, block in _blocks(text):
        if _is_row(block):
            for cell in _CELL.finditer(block):
                cells += 1
                pieces.append((cells, start + cell.start(), cell.group()))
        else:
            pieces.append((0, start, block))
    return pieces


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
                                  or _is_row(line) or _is_row(current)
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


def _merge_short(spans: list[tuple[int, Span]]) -> list[Span]:
    """Pieces shorter than a sentence join the one before, within the same table cell."""
    merged: list[tuple[int, Span]] = []
    for cell, span in spans:
        if merged and len(span.text) < MIN_SENTENCE and merged[-1][0] == cell:
            last = merged[-1][1]
            merged[-1] = (cell, Span(f"{last.text} {span.text}", last.start, span.end))
        else:
            merged.append((cell, span))
    return [span for _, span in merged]


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
