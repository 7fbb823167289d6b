"""Cutting a loaded document into passages that follow its structure.

The document is read line by line: headings (Markdown ``#``, numbered sections such as
"4.2 Notice", "Section 3", "ARTICLE IV", short ALL-CAPS lines) open sections; blank lines,
list items and the short last line of a wrapped paragraph end paragraphs. Paragraphs of one
section and one page are merged up to ``max_chars``; a longer paragraph is split at
sentence boundaries, then at spaces, then anywhere. A passage never spans two pages or
two sections.

What a passage carries:

* ``text`` is the document's own words (lines of one paragraph re-joined with a space),
  so a citation can be quoted exactly. The headings that open a section are kept at the
  start of that section's first passage, because they are words of the document too.
* ``section`` is the heading path, e.g. "4 Termination > 4.2 Notice".
* ``metadata["context"]`` is "<title> > <section>": what the index should embed in front of
  ``text`` so that a passage deep inside a section still knows what it is about. It is
  never shown as a quote.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

from rag.documents import LoadedDocument, Passage

DEFAULT_MAX_CHARS = 1000


@dataclass(frozen=True)
class Heading:
    text: str  # as written, without Markdown's #'s
    level: int  # smaller is outer; only the order matters
    closes: int | None = None  # opening it first closes the sections at this level and deeper


_MARKDOWN = re.compile(r"^(#{1,6})\s+(.+?)\s*#*\s*$")
_NUMBERED = re.compile(r"^(\d{1,3}(?:\.\d{1,3})*)\.?\s+(\S.*)$")
_KEYWORD = re.compile(
    r"^(PART|Part|CHAPTER|Chapter|ARTICLE|Article|SECTION|Section|CLAUSE|Clause|SCHEDULE|Schedule"
    r"|ANNEX|Annex|APPENDIX|Appendix|EXHIBIT|Exhibit|§)\s*"
    r"(\d{1,3}[A-Za-z]?(?:\.\d{1,3})*|[IVXLCDM]{1,7}|[A-Z])\b[\s.:\-–—]*(.*)$"
)
# Outer to inner; schedules and annexes sit beside parts, at the top.
_KEYWORD_LEVEL = {"part": 1, "schedule": 1, "annex": 1, "appendix": 1, "exhibit": 1,
                  "chapter": 2, "article": 3, "section": 4, "§": 4, "clause": 5}
_NUMBERED_BASE = 10  # "4" is level 11, "4.2" is level 12
# An ALL-CAPS heading ranks with "4 Termination": the next top-level number closes it, so a
# document's title or a stray caps line does not become the parent of every later section.
_CAPS_LEVEL = _NUMBERED_BASE + 1
# "4.2 Notice ........ 12" is a table-of-contents entry, not the section itself.
_TOC_LEADER = re.compile(r"(\.\s?){4,}|…{2,}|_{4,}")
# A contents page is no chapter: the first real heading after it closes it.
_CONTENTS = re.compile(r"^(table of contents|contents|index|inhalt|sommaire)$", re.IGNORECASE)
_INNERMOST = 99
_MAX_HEADING_CHARS = 100
_MAX_HEADING_WORDS = 12


def detect_heading(line: str, markdown: bool = True) -> Heading | None:
    """The heading a single (stripped) line is, or None for ordinary text.

    ``markdown=False`` for text extracted from PDFs, where a line starting with "#" is a
    comment or a number sign, never a heading mark.
    """
    line = line.strip()
    if not line or len(line) > _MAX_HEADING_CHARS + 10 or _TOC_LEADER.search(line):
        return None
    if _CONTENTS.match(line.lstrip("#").strip()):
        # A Markdown or HTML contents heading first closes the sections at its level ("#
        # Abstract" before "# Contents" does not become the parent of every chapter).
        level = len(line) - len(line.lstrip("#")) if markdown else 0
        return Heading(line.lstrip("#").strip(), _INNERMOST, closes=level or _INNERMOST)
    if markdown and (m := _MARKDOWN.match(line)):
        return Heading(m.group(2).strip(), len(m.group(1)))
    if m := _KEYWORD.match(line):
        rest = m.group(3).strip()
        if not rest or _looks_like_title(rest):
            return Heading(line, _KEYWORD_LEVEL[m.group(1).lower()])
        return None
    if m := _NUMBERED.match(line):
        title = m.group(2).strip()
        if title[:1].isupper() and _looks_like_title(title):
            return Heading(line, _NUMBERED_BASE + m.group(1).count(".") + 1)
        return None
    if _is_caps_heading(line):
        return Heading(line, _CAPS_LEVEL)
    return None


def _looks_like_title(text: str) -> bool:
    words = text.split()
    if not words or len(words) > _MAX_HEADING_WORDS or len(text) > _MAX_HEADING_CHARS:
        return False
    if not text[0].isupper() and not text[0].isdigit() and text[0] not in "\"'(“":
        return False
    # A sentence ends with punctuation; a title does not, unless it is in Title Case
    # ("1. Source Code." in the GPL): "1. Pay the rent." is a list item.
    return text[-1] not in ".;,:!?" or (text[-1] == "." and _is_title_case(words))


_SMALL_WORDS = frozenset({"a", "an", "and", "as", "at", "by", "for", "from", "in", "of", "on",
                          "or", "the", "to", "with", "de", "du", "des", "la", "le", "et"})


def _is_title_case(words: list[str]) -> bool:
    return all(w[:1].isupper() or not w[:1].isalpha() or w.lower() in _SMALL_WORDS
               for w in words)


def _is_caps_heading(line: str) -> bool:
    letters = [ch for ch in line if ch.isalpha()]
    if len(letters) < 4 or len(line) > 80 or len(line.split()) > 8:
        return False
    if any(ch.isdigit() for ch in line):
        return False  # "RENT 1,250 EUR" is a table row; "4 TERMINATION" is a numbered heading
    if line[-1] in ".,;:" or not line[0].isalnum():
        return False
    return all(ch.isupper() for ch in letters)


# --- lines to paragraphs ------------------------------------------------------------------

_CLAUSE_START = re.compile(r"^\d{1,3}(\.\d{1,3})+\.?\s+\S")  # "4.2 The Supplier shall..."
_LIST_ITEM = re.compile(r"^([-*•▪◦‣–]|\(?[a-zA-Z0-9]{1,3}[.)])\s+")
_SETEXT_UNDERLINE = re.compile(r"^(=+|-+)$")
_CODE_FENCE = re.compile(r"^(```|~~~)")
_SPACES = re.compile(r"[ \t]+")
_ENDS_SENTENCE = tuple(".!?:;\"'”’)")


@dataclass(frozen=True)
class _Block:
    kind: str  # "heading" or "paragraph"
    text: str
    heading: Heading | None = None


def _page_blocks(text: str, markdown: bool) -> Iterator[_Block]:
    lines = [_SPACES.sub(" ", line).strip() for line in text.split("\n")]
    # A "short" line ends a paragraph: wrapped text fills the line, the last line does not.
    lengths = sorted(len(line) for line in lines if line)
    full_width = lengths[int(len(lengths) * 0.9)] if lengths else 0
    paragraph: list[str] = []
    in_code = False  # inside a Markdown code fence, where "# x" is a comment

    def flush() -> Iterator[_Block]:
        if paragraph:
            yield _Block("paragraph", _join_lines(paragraph))
            paragraph.clear()

    i = 0
    while i < len(lines):
        line = lines[i]
        next_line = lines[i + 1] if i + 1 < len(lines) else ""
        if not line:
            yield from flush()
            i += 1
            continue
        if markdown and _CODE_FENCE.match(line):
            in_code = not in_code
        if in_code or (markdown and _CODE_FENCE.match(line)):
            paragraph.append(line)
            i += 1
            continue
        if markdown and _SETEXT_UNDERLINE.match(next_line) and len(next_line) >= 3 and (
            not paragraph
        ):
            yield _Block("heading", line, Heading(line, 1 if next_line[0] == "=" else 2))
            i += 2
            continue
        # A full line that ends mid-sentence continues onto this one: not a heading, even
        # if the wrap happens to put "Schedule 1." or "4.2 Notice" at the start of a line.
        continues = bool(paragraph) and not paragraph[-1].endswith(_ENDS_SENTENCE) and (
            len(paragraph[-1]) >= 0.75 * full_width
        )
        heading = None if continues else detect_heading(line, markdown)
        if heading is not None and _runs_on(line, next_line, full_width):
            heading = None
        if heading is not None:
            yield from flush()
            if _is_bare_keyword(heading) and next_line and _is_title_line(next_line):
                heading = Heading(f"{line} {next_line}", heading.level)
                i += 1
            yield _Block("heading", heading.text, heading)
            i += 1
            continue
        if paragraph and (
            _LIST_ITEM.match(line)
            or line.startswith("|")
            or (_CLAUSE_START.match(line) and paragraph[-1].endswith(_ENDS_SENTENCE))
        ):
            yield from flush()
        paragraph.append(line)
        if line.startswith("|") or (
            line.endswith(_ENDS_SENTENCE) and len(line) < 0.75 * full_width
        ):
            yield from flush()
        i += 1
    yield from flush()


def _runs_on(line: str, next_line: str, full_width: int) -> bool:
    """Whether ``line`` is the first line of a wrapped sentence rather than a heading: the
    next line carries on in lower case, or this line fills the width like wrapped prose."""
    if not next_line or line.startswith("#"):
        return False
    if next_line[0].islower():
        return True
    return len(line) >= 60 and len(line) >= 0.9 * full_width and detect_heading(next_line) is None


def _is_bare_keyword(heading: Heading) -> bool:
    m = _KEYWORD.match(heading.text)
    return m is not None and not m.group(3).strip()


def _is_title_line(line: str) -> bool:
    """A line that names the bare heading above it ("ARTICLE IV" / "TERMINATION")."""
    heading = detect_heading(line)
    if heading is not None and heading.level != _CAPS_LEVEL:
        return False
    return _looks_like_title(line) and not line.endswith(".")


def _join_lines(lines: list[str]) -> str:
    """Wrapped prose becomes one line again; Markdown table rows stay rows.

    A line that ends in a hyphen before a lower-case word ("self-" / "employed") is joined
    without a space: in word-processor PDFs that hyphen belongs to a compound word.
    """
    if lines[0].startswith("|"):
        return "\n".join(lines)
    joined = lines[0]
    for line in lines[1:]:
        if joined.endswith("-") and joined[-2:-1].isalpha() and line[:1].islower():
            joined += line
        else:
            joined += " " + line
    return joined


# --- paragraphs to passages -----------------------------------------------------------------

_SENTENCE_END = re.compile(r"(?<=[.!?])[\"'”’)\]]*\s+(?=[\"'“(\[]?[A-Z0-9§])")


def split_long_text(text: str, max_chars: int) -> list[str]:
    """Pieces of at most ``max_chars``: whole sentences where possible, then words, then cuts."""
    if len(text) <= max_chars:
        return [text]
    pieces: list[str] = []
    current = ""
    for unit in _units(text, max_chars):
        if current and len(current) + 1 + len(unit) > max_chars:
            pieces.append(current)
            current = unit
        else:
            current = f"{current} {unit}" if current else unit
    if current:
        pieces.append(current)
    return pieces


def _units(text: str, max_chars: int) -> Iterator[str]:
    """Sentences, each no longer than ``max_chars`` (long ones are cut at spaces, then anywhere)."""
    start = 0
    for m in _SENTENCE_END.finditer(text):
        yield from _cut_sentence(text[start:m.start()].strip(), max_chars)
        start = m.end()
    yield from _cut_sentence(text[start:].strip(), max_chars)


def _cut_sentence(sentence: str, max_chars: int) -> Iterator[str]:
    if not sentence:
        return
    if len(sentence) <= max_chars:
        yield sentence
        return
    current = ""
    for word in sentence.split(" "):
        while len(word) > max_chars:  # no space to cut at: cut the word itself
            if current:
                yield current
                current = ""
            yield word[:max_chars]
            word = word[max_chars:]
        if current and len(current) + 1 + len(word) > max_chars:
            yield current
            current = word
        else:
            current = f"{current} {word}" if current else word
    if current:
        yield current


class _PassageBuilder:
    """Accumulates paragraphs of one section and one page; emits passages in order."""

    def __init__(self, doc: LoadedDocument, max_chars: int) -> None:
        self.doc = doc
        self.max_chars = max_chars
        self.passages: list[Passage] = []
        self.stack: list[Heading] = []
        self.pending_headings: list[str] = []  # opened a section, wait for its first words
        self.buffer: list[str] = []
        self.page: int | None = None

    @property
    def section(self) -> str:
        return " > ".join(h.text for h in self.stack)

    def _enter(self, heading: Heading) -> None:
        """Close the sections the heading ends, then open it."""
        self.flush()
        closes = min(heading.level, heading.closes or heading.level)
        while self.stack and self.stack[-1].level >= closes:
            self.stack.pop()
        self.stack.append(heading)

    def open_section(self, heading: Heading) -> None:
        self._enter(heading)
        self.pending_headings.append(heading.text)
        if len("\n".join(self.pending_headings)) > self.max_chars // 2:
            # A run of headings with no text between them (an outline, a contents page):
            # keep their words as a passage of their own rather than glue them onto the next.
            self._emit_pending_headings()

    def open_run_in_section(self, heading: Heading) -> None:
        """A section whose heading starts its first paragraph ("2. Grant of Copyright License.
        Subject to ..."): its words stay in that paragraph, not repeated before it."""
        self._enter(heading)

    def _emit_pending_headings(self) -> None:
        for piece in split_long_text("\n".join(self.pending_headings), self.max_chars):
            self.buffer = [piece]
            self.flush()
        self.pending_headings = []

    def add_paragraph(self, text: str) -> None:
        if self.pending_headings:
            self.flush()
            prefix = "\n".join(self.pending_headings)
            if len(prefix) + 1 + min(len(text), self.max_chars // 2) > self.max_chars:
                self._emit_pending_headings()  # too long to lead a passage: stands alone
            else:
                self.pending_headings = []
                first, *rest = split_long_text(text, self.max_chars - len(prefix) - 1)
                self.buffer = [prefix, first]
                if not rest:
                    return
                self.flush()
                text = " ".join(rest)
        if len(text) > self.max_chars:
            self.flush()
            for piece in split_long_text(text, self.max_chars):
                self.buffer = [piece]
                self.flush()
            return
        if self.buffer and len(self._buffer_text()) + 1 + len(text) > self.max_chars:
            self.flush()
        self.buffer.append(text)

    def end_page(self) -> None:
        self.flush()

    def finish(self) -> list[Passage]:
        self.flush()
        if self.pending_headings:  # headings with nothing after them are words too
            self._emit_pending_headings()
        return self.passages

    def _buffer_text(self) -> str:
        return "\n".join(self.buffer)

    def flush(self) -> None:
        if not self.buffer:
            return
        section = self.section
        context = self.doc.title
        if section and section.lower() != context.lower():
            context = f"{context} > {section}"
        self.passages.append(Passage(
            doc_sha256=self.doc.sha256,
            source=str(self.doc.path),
            title=self.doc.title,
            section=section,
            page=self.page,
            ordinal=len(self.passages),
            text=self._buffer_text(),
            metadata={"context": context},
        ))
        self.buffer = []


# --- numbered headings that break the document's numbering ----------------------------------

# A gap in the numbering ("2.3" after "2.1", "2.9" after "2": headings the extraction missed)
# still links the chain, for less than a heading that follows in order.
_MAX_GAP = 3
_GAP_WEIGHT = 0.5
# A numbered heading that nothing else continues is believed up to this number.
_MAX_LONE_NUMBER = 20


def _numbering(heading: Heading) -> tuple[int, ...] | None:
    """(2, 10) for "2.10. Storing the MIME type"; None for a heading that is not numbered."""
    m = _NUMBERED.match(heading.text) if heading.level < _INNERMOST else None
    return tuple(int(n) for n in m.group(1).split(".")) if m else None


def _first(numbers: tuple[int, ...]) -> bool:
    """Whether these are first numbers at their levels: (), (1,), (0,), (1, 1)."""
    return all(n <= 1 for n in numbers)


def _stray_numbered(blocks: list[_Block]) -> set[int]:
    """The positions of numbered "headings" that break the document's own numbering.

    A line of a table ("4 CARD32 ICON_NAME_OFFSET") or a numbered list item looks like a
    numbered heading, and one that opens a section makes every later section its child
    ("4 CARD32 ICON_NAME_OFFSET > 2.12. Recommended checking order"). The real headings are
    the longest chain in which each continues one before it: the next number at some level
    ("2.9" -> "2.10", "3", "3.1"), a subsection ("2" -> "2.1") or a fresh start ("1", "0");
    a small gap counts for less. The others are read as text; Markdown and underlined headings
    stay headings whatever their numbers.
    """
    numbered = [(i, n, block.heading.level) for i, block in enumerate(blocks)
                if block.heading is not None and (n := _numbering(block.heading)) is not None]
    best: list[float] = []
    previous: list[int | None] = []
    by_prefix: dict[tuple[int, ...], int] = {}  # the best chain end whose number starts so
    by_number: dict[tuple[int, ...], int] = {}  # the best chain end with exactly this number
    overall: int | None = None
    for j, (_, number, _level) in enumerate(numbered):
        options: list[tuple[float, int | None]] = []
        if _first(number):
            options.append((1.0, overall))
        for depth in range(1, len(number)):
            if _first(number[depth + 1:]):
                weight = 1.0 if number[depth] <= 1 else _GAP_WEIGHT
                options.append((weight, by_number.get(number[:depth])))
        for level in range(len(number)):
            if _first(number[level + 1:]):
                for step in range(1, min(_MAX_GAP, number[level]) + 1):
                    options.append((1.0 if step == 1 else _GAP_WEIGHT,
                                    by_prefix.get((*number[:level], number[level] - step))))
        score, link = 1.0, None
        for weight, node in options:
            if node is not None and best[node] + weight > score:
                score, link = best[node] + weight, node
        best.append(score)
        previous.append(link)
        for key in (number[:depth] for depth in range(1, len(number) + 1)):
            if key not in by_prefix or score > best[by_prefix[key]]:
                by_prefix[key] = j
        if number not in by_number or score > best[by_number[number]]:
            by_number[number] = j
        if overall is None or score > best[overall]:
            overall = j
    chain: set[int] = set()
    at = overall
    while at is not None:
        chain.add(at)
        at = previous[at]
    if len(chain) == 1 and max(numbered[min(chain)][1]) > _MAX_LONE_NUMBER:
        chain = set()  # "51 Franklin Street" alone: an address, not section 51
    return {i for j, (i, _, level) in enumerate(numbered)
            if j not in chain and level > _NUMBERED_BASE}


# "2. Grant of Copyright License. Subject to the terms ...": a numbered heading run into its
# first paragraph, as in the Apache License (whose "1. Definitions." stands on its own line).
_RUN_IN = re.compile(r"^(\d{1,3}(?:\.\d{1,3})*)\.?\s+([A-Z][^.;:!?]{0,80}?\.)\s+\S")
_MAX_RUN_IN_WORDS = 8


def run_in_heading(text: str, stack: Sequence[Heading]) -> Heading | None:
    """The heading a paragraph opens with, or None. Only one that continues a numbered
    heading already open ("2." after "1. Definitions.") counts, so that a numbered list item
    ("1. The Tenant. The tenant shall ...") is not read as a section."""
    m = _RUN_IN.match(text)
    if m is None:
        return None
    words = m.group(2)[:-1].split()
    if len(words) > _MAX_RUN_IN_WORDS or not _is_title_case(words):
        return None
    number = tuple(int(n) for n in m.group(1).split("."))
    if number[-1] < 1:
        return None
    previous = (*number[:-1], number[-1] - 1)
    level = _NUMBERED_BASE + len(number)
    if not any(h.level == level and _numbering(h) == previous for h in stack):
        return None
    return Heading(text[:m.end(2)], level)


def chunk_document(doc: LoadedDocument, max_chars: int = DEFAULT_MAX_CHARS) -> list[Passage]:
    """The document's passages, in document order, each at most ``max_chars`` long."""
    if max_chars < 20:
        raise ValueError("max_chars must be at least 20")
    builder = _PassageBuilder(doc, max_chars)
    pages = [(page.number, list(_page_blocks(page.text, markdown=doc.format != "pdf")))
             for page in doc.pages]
    stray = _stray_numbered([block for _, blocks in pages for block in blocks])
    position = 0
    for number, blocks in pages:
        builder.page = number
        for block in blocks:
            if block.heading is not None and position not in stray:
                builder.open_section(block.heading)
            else:
                if block.heading is None and (
                        run_in := run_in_heading(block.text, builder.stack)) is not None:
                    builder.open_run_in_section(run_in)
                builder.add_paragraph(block.text)
            position += 1
        builder.end_page()
    return builder.finish()
