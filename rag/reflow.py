"""A PDF page's text as paragraphs to read: the lines a PDF breaks at its margin joined again.

PDF text comes out one printed line at a time, so a sentence is cut wherever the page's margin
fell, and a word hyphenated at the margin stays in two pieces ("exam-" / "ple"). Reading it that
way is ragged. A line break is kept where it means something: a blank line, a line that starts
a list item ("(a)", "1.", "4.2", "•"), and a line that stops well short of the page's width (the
end of a paragraph, a heading). Every other break was the margin's, and is joined with a space,
or with nothing after a hyphen that cut a word.
"""

from __future__ import annotations

import re

# Bullets, "(a)", "a)", "1.", "iv)", and clause numbers like "4.2" at the start of a line.
_LIST_ITEM = re.compile(r"^\s*(?:[-*•·▪–]|\(?[0-9a-zA-Z]{1,3}[.)]|[0-9]+(?:\.[0-9]+)+\.?)\s+")
_CUT_WORD = re.compile(r"[^\W\d_]-$")  # "exam-": a letter, then the hyphen, at the line's end
SHORT_LINE = 0.7  # a line under this share of the page's width ends its paragraph


def reflow(text: str) -> str:
    """``text`` with the margin's line breaks joined; paragraphs are separated by a blank line,
    list items by a line break."""
    lines = [line.strip() for line in text.splitlines()]
    width = _page_width([line for line in lines if line])
    out: list[str] = []
    previous = ""  # the last non-blank line, "" after a blank line
    for line in lines:
        if not line:
            previous = ""
            continue
        if not out:
            out.append(line)
        elif not previous:
            out.append("\n\n" + line)
        elif _LIST_ITEM.match(line):
            out.append("\n" + line)
        elif len(previous) < SHORT_LINE * width:
            out.append("\n\n" + line)
        elif _CUT_WORD.search(previous) and line[0].islower():
            out[-1] = out[-1][:-1]  # the hyphen only cut the word at the margin
            out.append(line)
        else:
            out.append(" " + line)
        previous = line
    return "".join(out)


def _page_width(lines: list[str]) -> int:
    """The length of a full line on this page: nearly the longest (one overlong line, a URL or
    a table row, must not make every other line look short)."""
    if not lines:
        return 0
    lengths = sorted(len(line) for line in lines)
    if len(lengths) < 5:
        return lengths[-1]
    return lengths[int(0.9 * (len(lengths) - 1))]
