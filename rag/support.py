"""Every generated sentence checked against the passages it rests on.

A small model states falsehoods in fluent sentences under correct citations. Each sentence of
an answer is checked against the passages the answer cites (all the passages it was given when
it cites none):

1. **Facts.** Every number it states (digits or words: "30", "thirty", "6.8", "2,400"), and every
   name (a capitalised word or an acronym not at the start of the sentence: "Apache", "GPL",
   "Romero") must occur in those passages. One that does not makes the sentence unsupported,
   whatever else it says: an invented dose or duration is the most harmful kind of error. A
   number must also be stated there of something the sentence names (one of its words within
   ``NEAR`` words of it in a source sentence): "the header is 16384 bytes" is not backed by
   "#define CHUNK 16384".
   A list's item numbers ("1) ...", "... 3. Encoding 4. Decoding") claim nothing.
2. **Content.** A sentence found word for word in a passage is supported. Otherwise its words
   that carry meaning must largely be the passages' words (``coverage``), or it must be close
   in meaning to one of their sentences (``similarity``, the bundled embedder) with a fair
   share of their words. The small model's frame ("The answer is: ...", "The document states
   that ...") is left out of both: its words are in no source.

Sentences that make no claim ("The documents do not say.") are not checked. The thresholds are
data (``SupportThresholds``), chosen on a labelled set of sentences from real answers
(tests/rag/data/sentences-labelled.jsonl; ``python -m bench.sentence_support`` measures them).
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rag.retrieval_types import Embedder, Hit
from rag.sentences import content_words, split_sentences, without_citation_marks

_NUMBER_WORDS = {
    "zero": 0, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7,
    "eight": 8, "nine": 9, "ten": 10, "eleven": 11, "twelve": 12, "thirteen": 13,
    "fourteen": 14, "fifteen": 15, "sixteen": 16, "seventeen": 17, "eighteen": 18,
    "nineteen": 19, "twenty": 20, "thirty": 30, "forty": 40, "fifty": 50, "sixty": 60,
    "seventy": 70, "eighty": 80, "ninety": 90, "hundred": 100, "thousand": 1000,
}
_DIGITS = re.compile(r"(?<![\w.])\d+(?:[.,]\d+)*(?![\w])")
_WORDS = re.compile(r"[^\W_]+(?:[-'][^\W_]+)*")
_NO_CLAIM = re.compile(
    r"\b(?:do(?:es)? not (?:say|state|mention|specify|contain|cover|answer)"
    r"|(?:could|can) ?not (?:find|tell|answer)|not (?:in|covered by) (?:the|your) "
    r"(?:documents|passages)|no (?:information|mention)|(?:isn't|is not) (?:stated|mentioned))",
    re.IGNORECASE)
# Capitalised words that name nothing in particular.
_NOT_NAMES = frozenset("""
i a an the this that these those it its they their there here he she we you your our my
yes no not however also if when where while although because since so thus therefore
according under as in on at by for from of to with without and or but each every any all
""".split())  # noqa: SIM905


@dataclass(frozen=True)
class SupportThresholds:
    coverage: float = 0.9  # supported on its words alone when the sources hold this share
    similarity: float = 0.8  # supported when this close to a source sentence ...
    coverage_with_similarity: float = 0.3  # ... and holding this share of its words


DEFAULT_THRESHOLDS = SupportThresholds()
# The reason of a sentence flagged on its content alone; every other reason names a number or
# a name the sources do not hold.
CONTENT_NOT_FOUND = "its content is not in the sources"


@dataclass(frozen=True)
class SentenceCheck:
    text: str
    supported: bool
    evidence: Hit | None  # the passage holding the closest source sentence
    reason: str = ""  # why not supported, in words: "30 days is not in the sources"
    claim: bool = True  # False: the sentence states nothing to check
    coverage: float = 0.0
    similarity: float = 0.0

    def to_json(self) -> dict[str, Any]:
        return {"text": self.text, "supported": self.supported,
                "evidence": self.evidence.to_json() if self.evidence is not None else None,
                "reason": self.reason, "claim": self.claim,
                "coverage": round(self.coverage, 4), "similarity": round(self.similarity, 4)}


# A numbered list's next marker, left at the end of the item before it by the sentence split
# ("... must include:\n1. The Work" gives "... must include: 1."): it starts a line of the
# answer, its item's words follow it, and it belongs to no claim; checked as a number, it
# marked every item of a list "not in the sources".
_NEXT_ITEM_MARKER = re.compile(r"\n[ \t]*\(?\d{1,3}[.)]$")
_ITEM_TEXT = re.compile(r"[ \t]+\S")  # the item's own words follow its marker
_TRAILING_NUMBER = re.compile(r"\s*\(?\d{1,3}[.)]$")


def answer_sentences(answer: str) -> list[str]:
    sentences = []
    for span in split_sentences(answer):
        text = span.text
        if _NEXT_ITEM_MARKER.search(answer[:span.end]) and \
                _ITEM_TEXT.match(answer, span.end):
            text = _TRAILING_NUMBER.sub("", text)
        text = without_citation_marks(text)
        if text:
            sentences.append(text)
    return sentences


# A list item's number ("1) Albert Cahalan ...", "... Normalization 3. Encoding 4. Decoding"):
# at the start of a sentence, or inline before a capitalised word where the next or the previous
# number is also such a marker. It orders the answer and claims nothing.
_LEADING_MARKER = re.compile(r"^\(?\d{1,2}[.)]\s+")
_INLINE_MARKER = re.compile(r"(?<=\s)\(?(\d{1,2})[.)]\s+(?=[A-Z])")


# How a small model opens a sentence ("The answer is: ...", "The document states that ..."): a
# frame around the claim, whose words are in no source. The claim is checked without it.
_FRAME = re.compile(
    r"^(?:so,?\s+)?(?:the\s+answer(?:\s+to\s+(?:this|your|the)\s+question)?\s+is:?\s*"
    r"|to\s+answer\s+your\s+question(?:\s+more\s+specifically)?:?\s*"
    r"|(?:the|this)\s+document\s+(?:states|says|mentions|explains)\s+that\s+"
    r"|according\s+to\s+the\s+documents?,?\s+)", re.IGNORECASE)


def without_frame(sentence: str) -> str:
    return _FRAME.sub("", sentence).strip() or sentence


def list_markers(sentences: Sequence[str]) -> set[int]:
    """The numbers these sentences use inline as a list's markers (one after another)."""
    seen = {int(m.group(1)) for s in sentences for m in _INLINE_MARKER.finditer(s)}
    return {n for n in seen if n - 1 in seen or n + 1 in seen}


def claimed_numbers(sentence: str, markers: Collection[int] = ()) -> set[str]:
    """The numbers a sentence states, its list markers left out."""
    text = _LEADING_MARKER.sub("", sentence)
    text = _INLINE_MARKER.sub(lambda m: "" if int(m.group(1)) in markers else m.group(0), text)
    return numbers_in(text)


def numbers_in(text: str) -> set[str]:
    found = {d.replace(",", "") for d in _DIGITS.findall(text)}
    for word in _WORDS.findall(text.lower()):
        if word in _NUMBER_WORDS:
            found.add(str(_NUMBER_WORDS[word]))
    return found


_POSSESSIVE = re.compile(r"'s$", re.IGNORECASE)  # after ’ became '


def names_in(sentence: str) -> set[str]:
    """The capitalised words a sentence states, possessives as their name ("the Work's
    licence" names "work", which the sources say; "work's" they never do)."""
    names = set()
    words = _WORDS.findall(sentence.replace("’", "'"))
    for position, word in enumerate(words):
        word = _POSSESSIVE.sub("", word)
        if position == 0 or not word or word.lower() in _NOT_NAMES:
            continue
        if word[0].isupper() or (len(word) > 1 and word.isupper()):
            names.add(word.lower())
    return names


def as_written(name: str, sentence: str) -> str:
    """A name as the sentence writes it ("GNU", not "gnu"), for a reason a person reads."""
    for word in _WORDS.findall(sentence.replace("’", "'")):
        if _POSSESSIVE.sub("", word).lower() == name:
            return _POSSESSIVE.sub("", word)
    return name


def check_sentences(sentences: Sequence[str], sources: Sequence[Hit], embedder: Embedder,
                    thresholds: SupportThresholds = DEFAULT_THRESHOLDS,
                    question: str = "") -> list[SentenceCheck]:
    """Each sentence's verdict against ``sources``. Numbers and names the person's own
    ``question`` gives, and the documents' titles and file names, count as known."""
    if not sentences:
        return []
    source_spans = [(hit, span.text) for hit in sources
                    for span in split_sentences(hit.passage.text)]
    source_text = " ".join(h.passage.text for h in sources)
    given = " ".join([question, *(
        f"{h.passage.title} {h.passage.section} {Path(h.passage.source).stem}"
        for h in sources)])  # the question and the documents' names
    known_text = f"{source_text} {given}"
    source_numbers = numbers_in(known_text)
    asked_numbers = numbers_in(given)
    number_spans = [near for _, t in source_spans for near in _numbers_with_neighbours(t)]
    source_words = {w.lower() for w in _WORDS.findall(known_text.replace("-", " "))} | \
        {w.lower() for w in _WORDS.findall(known_text)} | _glued(known_text)
    source_content = set(content_words(source_text))
    squashed_sources = _squash(source_text)
    claims = [s for s in sentences if not _NO_CLAIM.search(s)]
    markers = list_markers(sentences)
    vectors = embedder.embed([*(without_frame(c) for c in claims),
                              *(t for _, t in source_spans)]) if claims and source_spans else []
    claim_vectors = dict(zip(claims, vectors[:len(claims)], strict=False))
    span_vectors = vectors[len(claims):]
    checks = []
    for sentence in sentences:
        if sentence not in claim_vectors and _NO_CLAIM.search(sentence):
            checks.append(SentenceCheck(sentence, True, None, claim=False))
            continue
        similarity, evidence = 0.0, None
        vector = claim_vectors.get(sentence)
        for (hit, _), span_vector in zip(source_spans, span_vectors, strict=True):
            value = sum(a * b for a, b in zip(vector or (), span_vector, strict=False))
            if value > similarity:
                similarity, evidence = value, hit
        words = content_words(without_frame(sentence))
        meant = set(words)
        coverage = sum(1 for w in words if w in source_content) / len(words) if words else 1.0
        verbatim = _squash(sentence) in squashed_sources
        stated = claimed_numbers(sentence, markers)
        missing = sorted(stated - source_numbers)
        elsewhere = sorted(n for n in stated - asked_numbers - set(missing)
                           if not _said_of(n, meant, number_spans))
        unnamed = [as_written(n, sentence) for n in sorted(names_in(sentence))
                   if n not in source_words]
        reason = ""
        if missing:
            reason = f"{', '.join(missing)}: not in the sources"
        elif elsewhere:
            reason = f"{', '.join(elsewhere)}: in the sources, but said of something else"
        elif unnamed:
            reason = f"{', '.join(unnamed)}: not named in the sources"
        elif not (verbatim or coverage >= thresholds.coverage
                  or (similarity >= thresholds.similarity
                      and coverage >= thresholds.coverage_with_similarity)):
            reason = CONTENT_NOT_FOUND
        checks.append(SentenceCheck(sentence, not reason, evidence, reason, True, coverage,
                                    similarity))
    return checks


_TOKENS = re.compile(r"\d+(?:[.,]\d+)*|[^\W_]+(?:[-'][^\W_]+)*")  # "2,400" one token
NEAR = 8  # words either side of a number in a source sentence that say what it is of


def _numbers_with_neighbours(text: str) -> list[tuple[set[str], set[str]]]:
    """Each number a source sentence states, with the meaning-carrying words around it."""
    words = _TOKENS.findall(text)
    found = []
    for position, word in enumerate(words):
        numbers = numbers_in(word)
        if numbers:
            around = words[max(0, position - NEAR):position + NEAR + 1]
            found.append((numbers, set(content_words(" ".join(around)))))
    return found


def _said_of(number: str, words: set[str],
             spans: Sequence[tuple[set[str], set[str]]]) -> bool:
    """Whether a source states ``number`` with one of ``words`` near it."""
    about = words - {number}
    return any(number in numbers and near & about for numbers, near in spans)


def check_answer(answer: str, sources: Sequence[Hit], embedder: Embedder,
                 thresholds: SupportThresholds = DEFAULT_THRESHOLDS,
                 question: str = "") -> list[SentenceCheck]:
    return check_sentences(answer_sentences(answer), sources, embedder, thresholds, question)


def _squash(text: str) -> str:
    """Words only, lower case: how a quoted fragment is found in its source."""
    return " ".join(_WORDS.findall(text.lower()))


def _glued(text: str) -> set[str]:
    """"GPLv3", "gpl3" and "LGPL-2.1" as people write them: a name word with its version."""
    found = set()
    words = _WORDS.findall(text.lower().replace("-", " "))
    for word, after in itertools.pairwise(words):
        if after.replace(".", "").isdigit():
            found |= {f"{word}v{after}", f"{word}{after}"}
    return found
