"""What is embedded for a passage: the whole passage, and windows of a few sentences.

all-MiniLM-L6-v2 averages a text into one vector, so a passage of several sentences is
represented by what most of it is about. A question about one sentence of it (the fee cap in a
clause about offers of source code) matches that sentence better than the whole. Each passage
longer than one window is therefore also embedded as consecutive windows of whole sentences of
at most ``WINDOW_CHARS`` characters, and its vector score blends the two:

    (1 - WINDOW_WEIGHT) * cosine(question, passage) + WINDOW_WEIGHT * best cosine(question, window)

Measured with ``enclave eval`` on 60 questions over 13 real licence texts and 60 over four
technical documents (PDF and HTML): hit@1 80.0% -> 86.7% and hit@5 95.0% -> 96.7% on the
licences, hit@5 96.7% -> 98.3% on the technical documents (hit@1 81.7% -> 80.0%), the other sets
unchanged. Windows only, without the whole passage, lost 5 to 12 points of hit@1 on the licence
sets; windows of 500 characters gained less; a weight of 0.3 less on hit@5. The windows cost
ingestion more than half its speed (bench.ingestion, 12 PDFs of 8 pages: 5.35 -> 2.34 pages/s),
so a passage with windows is no longer embedded whole as well: its vector is pooled from its
windows' tokens (rag/passage_embedding.py).

Every text starts with the chunker's "title > section" line: it tells the embedder what a
passage deep inside a section is about; the stored text stays the document's own words.
"""

from __future__ import annotations

from rag.chunking import split_long_text
from rag.documents import Passage

WINDOW_CHARS = 300
WINDOW_WEIGHT = 0.5


def windows(passage: Passage) -> list[str]:
    """The passage as consecutive windows of whole sentences; none for a passage of one."""
    pieces = split_long_text(" ".join(passage.text.split()), WINDOW_CHARS)
    return pieces if len(pieces) > 1 else []


def embedding_texts(passage: Passage) -> list[str]:
    """The texts embedded for a passage: the whole of it first, then its windows."""
    context = str(passage.metadata.get("context", "")).strip()
    return [f"{context}\n{text}" if context else text
            for text in (passage.text, *windows(passage))]


def blended_similarity(passage_similarity: float, best_window: float | None) -> float:
    """The vector score of a passage from its own cosine and its best window's."""
    if best_window is None:
        return passage_similarity
    return (1 - WINDOW_WEIGHT) * passage_similarity + WINDOW_WEIGHT * best_window
