"""Identical and near-identical passages, kept once.

A document that repeats itself (a letterhead on every page, boilerplate clauses, a 2 MB file of
one word over and over) would otherwise be embedded and indexed once per copy, and fill every
result with the same text. Within a document, passages whose text is the same once case,
punctuation and spacing are set aside are stored once, with how many copies there were and on
which pages (the citation stays complete). Across documents, each document keeps its own copy
(a passage belongs to its document), but the same text is embedded once per ingest, and a
search shows it once, with the other places it is in.

Numbers are never set aside: "5 mg" and "50 mg" are different passages.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field, replace

from rag.documents import Passage
from rag.retrieval_types import Hit

_WORD = re.compile(r"[^\W_]+")


def text_key(text: str) -> str:
    """What two passages must share to be the same passage."""
    return " ".join(_WORD.findall(text.casefold()))


@dataclass(frozen=True)
class Copies:
    """The other places a kept passage's text occurred in its document."""

    count: int  # copies besides the kept one
    pages: tuple[int, ...] = field(default_factory=tuple)  # their pages, when the format has them


def collapse(passages: Sequence[Passage]) -> tuple[list[Passage], dict[int, Copies]]:
    """The passages with each text once (numbered again in order), and for each kept ordinal
    with copies, where those copies were."""
    kept: list[Passage] = []
    first: dict[str, int] = {}
    copies: dict[int, list[int | None]] = {}
    for passage in passages:
        key = text_key(passage.text)
        index = first.get(key)
        if index is not None:
            copies.setdefault(index, []).append(passage.page)
            continue
        first[key] = len(kept)
        kept.append(replace(passage, ordinal=len(kept)))
    return kept, {n: Copies(len(pages), tuple(sorted({p for p in pages if p is not None})))
                  for n, pages in copies.items()}


def collapse_hits(hits: Sequence[Hit], top_k: int) -> list[Hit]:
    """Each text once among the results, at its best place; the others' sources and pages go
    with it (``Hit.also``)."""
    by_key: dict[str, int] = {}
    shown: list[Hit] = []
    for hit in hits:
        key = text_key(hit.passage.text)
        at = by_key.get(key)
        if at is None:
            by_key[key] = len(shown)
            shown.append(hit)
            continue
        best = shown[at]
        place = {"source": hit.passage.source, "page": hit.passage.page}
        shown[at] = replace(best, also=(*best.also, place))
    return shown[:top_k]
