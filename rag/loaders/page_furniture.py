"""Page furniture: page numbers and running heads printed at the top or bottom of pages.

They are not content. Left in, "CONFIDENTIAL" or "Chapter 2: Fees 14" would be read as
headings, glued into passages, and nest every later section under them.
"""

from __future__ import annotations

import re
from collections import Counter

_DIGITS = re.compile(r"\d+")
_PAGE_NUMBER_LINE = re.compile(
    r"^(page\s*)?[-–—(]?\s*\d{1,4}\s*[-–—)]?(\s*(of|/)\s*\d{1,4})?$", re.IGNORECASE
)
# "Chapter 2: Fees 14": a running head that ends with the printed page number.
_TRAILING_NUMBER = re.compile(r"^(?P<head>\S+(\s+\S+)+)\s+(?P<number>\d{1,4})$")
# Three pages are enough: a chapter's running head repeats only within its chapter, and a
# real heading is printed once.
_MIN_REPEATS = 3
_EDGE_LINES = 2  # how many lines at the top and at the bottom of a page can be furniture


def without_page_furniture(texts: list[str]) -> list[str]:
    """The pages' texts without page numbers and running heads/feet; never empties a page."""
    pages = [text.split("\n") for text in texts]
    edges = [_edge_indexes(lines) for lines in pages]
    repeated = _repeated_edge_lines(pages, edges)
    offset = _printed_page_offset(pages)
    cleaned = []
    for number, (lines, edge) in enumerate(zip(pages, edges, strict=True), start=1):
        outer = {min(edge), max(edge)} if edge else set()
        kept = []
        for i, line in enumerate(lines):
            stripped = line.strip()
            furniture = i in edge and (
                _PAGE_NUMBER_LINE.match(stripped) is not None
                or _DIGITS.sub("#", stripped) in repeated
                or (i in outer and _is_running_head(stripped, number, offset))
            )
            if not furniture:
                kept.append(line)
        text = "\n".join(kept).strip("\n")
        cleaned.append(text if text.strip() else "\n".join(lines).strip("\n"))
    return cleaned


def _is_running_head(line: str, page_number: int, offset: int | None) -> bool:
    """A line ending with this page's printed number, when running heads show the offset."""
    m = _TRAILING_NUMBER.match(line)
    return offset is not None and m is not None and page_number - int(m["number"]) == offset


def _edge_indexes(lines: list[str]) -> set[int]:
    filled = [i for i, line in enumerate(lines) if line.strip()]
    return set(filled[:_EDGE_LINES]) | set(filled[-_EDGE_LINES:])


def _repeated_edge_lines(pages: list[list[str]], edges: list[set[int]]) -> set[str]:
    counts: Counter[str] = Counter()
    for lines, edge in zip(pages, edges, strict=True):
        counts.update({_DIGITS.sub("#", lines[i].strip()) for i in edge})
    return {key for key, n in counts.items() if n >= _MIN_REPEATS}


def _printed_page_offset(pages: list[list[str]]) -> int | None:
    """PDF page number minus printed page number, if running heads show one consistently."""
    offsets: Counter[int] = Counter()
    for number, lines in enumerate(pages, start=1):
        filled = [line.strip() for line in lines if line.strip()]
        found = set()
        for line in filled[:1] + filled[-1:]:
            if m := _TRAILING_NUMBER.match(line):
                found.add(number - int(m["number"]))
        offsets.update(found)
    if not offsets:
        return None
    offset, count = offsets.most_common(1)[0]
    return offset if count >= _MIN_REPEATS else None
