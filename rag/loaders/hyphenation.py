"""Words a PDF's typesetter broke across lines ("manip-" / "ulation"), made whole again.

A hyphen at the end of a line is either the typesetter's (TeX and book layout software
hyphenate) or part of a compound word ("self-" / "employed"; Word does not hyphenate by
default, it only breaks after real hyphens). The document itself is the dictionary: if
"manipulation" is written whole elsewhere in it, the hyphen goes; if "self-employed" is
written with its hyphen elsewhere, it stays. Otherwise the producer decides: TeX output
loses the hyphen, anything else keeps it (and chunking re-joins "self-employed").
Searching for "termination" then finds a passage that printed "termi-" / "nation".
"""

from __future__ import annotations

import re
from collections import Counter

_BROKEN = re.compile(r"([^\W\d_]+)-\n[ \t]*([^\W\d_]+)")
_WORD = re.compile(r"[^\W\d_]+(?:-[^\W\d_]+)*")
_TEX_PRODUCERS = re.compile(r"tex|dvips|dvipdf", re.IGNORECASE)


def is_tex_producer(producer: str) -> bool:
    return bool(_TEX_PRODUCERS.search(producer))


def join_broken_words(texts: list[str], typesetter_hyphenates: bool) -> list[str]:
    """The pages' texts with line-end hyphenation undone where it was the typesetter's."""
    vocabulary = Counter(word.lower() for text in texts for word in _WORD.findall(text))

    def rejoin(m: re.Match[str]) -> str:
        head, tail = m.group(1), m.group(2)
        if tail[0].isupper() and not head.isupper():
            return m.group(0)  # "Anglo-" / "Saxon", "e-" / "Mail": a capital starts a word
        whole = f"{head}{tail}"
        if vocabulary[whole.lower()]:
            drop = True
        elif vocabulary[f"{head}-{tail}".lower()]:
            drop = False
        else:
            drop = typesetter_hyphenates
        # The rest of the word moves up, so the line break stays where it was.
        return f"{whole}\n" if drop else m.group(0)

    return [_BROKEN.sub(rejoin, text) for text in texts]
