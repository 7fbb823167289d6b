"""Which documents a question names: "under GPLv2", "the Mozilla licence 2.0", "in the MSA".

People name the document they mean, by its file name ("GPL-2.txt"), by words of its title
("Mozilla Public License, Version 2.0"), by the title's initials ("MSA" for "Master Services
Agreement", "LGPL" for "Lesser General Public License") and by its version ("version 2", "v3",
"2.1"). When a collection holds near-identical documents (GPL-1/2/3, a contract and its
amendment, last year's protocol and this year's) the passage that answers is often word for
word the same in several of them, and only the name in the question picks the right one.

A document is named when the question carries at least one of its *distinctive* name words
(found in the names of some but not all of the collection's documents) with a weight of two: a
word of its file name counts three, an acronym of its title two, another title word one ("free"
alone does not name the "GNU Free Documentation License"), a matching version one more. The
documents with the highest weight are named; a version the question gives then narrows them to
the documents with that version ("2" is not "2.1"; "2.0" is "2"). A question that gives a version
and no name ("version 2: how long ...") names the documents with that version.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterable, Set
from dataclasses import dataclass
from pathlib import Path

from rag.keyword_index import is_stopword

_FILE_WORD = 3
_ACRONYM = 2
_TITLE_WORD = 1
_VERSION = 1
_NAMED = 2  # the least weight that names a document

_WORD = re.compile(r"[a-z0-9]+(?:\.\d+)*")
_PART = re.compile(r"[a-z]+|\d+(?:\.\d+)*")
_GLUED_VERSION = re.compile(r"([a-z]{2,})v(\d+(?:\.\d+)*)")  # "gplv2", "lgplv3"
_BARE_VERSION = re.compile(r"v(\d+(?:\.\d+)*)")  # "v2" in "licence-v2.pdf"
_DOTTED = re.compile(r"\b\d+\.\d+(?:\.\d+)*\b")  # "2.0" in "Open Works Public Licence 2.0"
_LETTERS_DIGIT = re.compile(r"[a-z]+\d")  # "cc0", "x509": one name, not a word and a version
_NUMBER = re.compile(r"\d+(?:\.\d+)*")
_VERSION_WORDS = frozenset({"version", "ver", "v", "revision", "rev", "release", "edition"})
_AFTER_VERSION_WORD = re.compile(
    r"(?:\bversion|\bver\.?|\brev(?:ision)?|\brelease|\bedition|\bv)\s*(\d+(?:\.\d+)*)",
    re.IGNORECASE)
_TITLE_LETTERS = re.compile(r"[A-Za-z]+")
_ACRONYM_WORDS = (3, 6)  # acronyms of 3 to 6 consecutive title words


def name_words(text: str) -> list[str]:
    """Lower-case words and numbers, with "gplv2" read as "gpl", "2"."""
    words: list[str] = []
    for word in _WORD.findall(text.lower()):
        if bare := _BARE_VERSION.fullmatch(word):
            words += ["v", bare.group(1)]
        elif glued := _GLUED_VERSION.fullmatch(word):
            words += [glued.group(1), glued.group(2)]
        elif _LETTERS_DIGIT.fullmatch(word):
            words.append(word)
        else:
            words += _PART.findall(word)
    return words


def acronyms(text: str) -> set[str]:
    """The initials of each run of 3 to 6 consecutive words that are not stopwords."""
    words = [w for w in _TITLE_LETTERS.findall(text) if not is_stopword(w)]
    low, high = _ACRONYM_WORDS
    return {"".join(w[0] for w in words[i:j]).lower()
            for i in range(len(words)) for j in range(i + low, min(len(words), i + high) + 1)}


def normal_version(version: str) -> str:
    """ "2.0" and "2" are the same version; "2.1" is another."""
    while version.endswith(".0"):
        version = version[:-2]
    return version


@dataclass(frozen=True)
class DocumentName:
    """What a document is called: its file name's words, its title's words and acronyms, and
    the versions either gives."""

    file_words: frozenset[str]
    title_words: frozenset[str]
    acronyms: frozenset[str]
    versions: frozenset[str]

    @classmethod
    def of(cls, title: str, source: str) -> DocumentName:
        stem = Path(source).stem
        stem_words = name_words(stem)
        file_words = {w for w in stem_words if _is_name_word(w)}
        title_words = {w for w in name_words(title) if _is_name_word(w)} - file_words
        versions = {normal_version(w) for w in stem_words if w[0].isdigit()}
        versions |= {normal_version(v) for v in _AFTER_VERSION_WORD.findall(title)}
        versions |= {normal_version(v) for v in _DOTTED.findall(title)}
        return cls(frozenset(file_words), frozenset(title_words),
                   frozenset(acronyms(title) - file_words - title_words), frozenset(versions))

    @property
    def words(self) -> frozenset[str]:
        return self.file_words | self.title_words | self.acronyms


def _version_key(version: str) -> tuple[int, ...]:
    return tuple(int(part) for part in version.split(".") if part.isdigit())


def _question_words(question: str) -> set[str]:
    """The question's name words, the initials of its runs of words, and a word's initial
    glued to the acronym after it: "Library GPL" and "Lesser GPL" also read "lgpl"."""
    words = name_words(question)
    glued = {f"{first[0]}{second}" for first, second in itertools.pairwise(words)
             if first.isalpha() and second.isalpha() and len(second) > 1}
    return set(words) | acronyms(question) | glued


def _has_version(name: DocumentName, versions: set[tuple[str | None, str]]) -> bool:
    """Whether the document carries one of the versions, given after one of its own name
    words or after none ("MPL 2.0 code in a GPL project" gives MPL's version, not the GPL's)."""
    return any(version in name.versions and (word is None or word in name.words)
               for word, version in versions)


def _is_name_word(word: str) -> bool:
    return len(word) > 1 and not word[0].isdigit() and not is_stopword(word)


class DocumentNames:
    """The names of one collection's documents, keyed by document (content hash)."""

    def __init__(self, names: Iterable[tuple[str, DocumentName]]) -> None:
        self._names = dict(names)
        counts: dict[str, int] = {}
        for name in self._names.values():
            for word in name.words:
                counts[word] = counts.get(word, 0) + 1
        total = len(self._names)
        self._all_words = frozenset(counts)
        # In every document's name ("license" in a folder of licences): names none of them.
        self._distinctive = frozenset(w for w, n in counts.items() if n < total)
        self._by_word: dict[str, list[str]] = {}
        for key, name in self._names.items():
            for word in name.words & self._distinctive:
                self._by_word.setdefault(word, []).append(key)

    def __len__(self) -> int:
        return len(self._names)

    def named_by(self, question: str) -> set[str]:
        """The documents (content hashes) the question names; empty when it names none."""
        words = _question_words(question) & self._distinctive
        versions = self.versions_in(question)
        weights: dict[str, int] = {}
        for word in words:
            for key in self._by_word.get(word, ()):
                weights[key] = weights.get(key, 0) + self._weight(self._names[key], word)
        for key in weights:
            if _has_version(self._names[key], versions):
                weights[key] += _VERSION
        best = max(weights.values(), default=0)
        if best < _NAMED:
            # "version 2: how long ...": no name, but a version only some documents carry.
            carrying = {key for key, name in self._names.items() if _has_version(name, versions)}
            return carrying if len(carrying) < len(self._names) else set()
        named = {key for key, weight in weights.items() if weight == best}
        if versions:
            return {key for key in named if _has_version(self._names[key], versions)} or named
        return named

    def versions_in(self, question: str) -> set[tuple[str | None, str]]:
        """Versions a question gives, each with the name word it follows: "LGPL 2.1" and
        "GPLv2" give ("lgpl", "2.1") and ("gpl", "2"); "version 2" and "v3" give (None, "2")
        and (None, "3"), a version of whatever the question names."""
        found: set[tuple[str | None, str]] = {
            (None, normal_version(v)) for v in _AFTER_VERSION_WORD.findall(question)}
        words = name_words(question)
        for before, word in itertools.pairwise(words):
            if before in self._all_words and _NUMBER.fullmatch(word):
                found.add((before, normal_version(word)))
        return found

    def without_names(self, question: str, named: Set[str]) -> str:
        """The question without the words that name these documents, for the keyword side: the
        name is in every passage's title, so it says nothing about which passage answers."""
        if not named:
            return question
        words: set[str] = set()
        versions: set[str] = set()
        for key in named:
            words |= self._names[key].words
            versions |= self._names[key].versions
        kept = []
        for token in question.split():
            parts = name_words(token)
            if parts and all(p in words or p in _VERSION_WORDS or normal_version(p) in versions
                             for p in parts):
                continue
            kept.append(token)
        rest = " ".join(kept)
        return rest if len(rest.split()) >= 2 else question

    def neighbour_version(self, text: str, step: int) -> str | None:
        """The version before (``step`` -1) or after (+1) the one ``text`` names, among the
        documents that share its file name's words: "the GPL version 3", -1 gives "2" when
        GPL-1, GPL-2 and GPL-3 are all here. None when ``text`` names no one version, or
        there is no such neighbour."""
        named = self.named_by(text)
        if len(named) != 1:
            return None
        name = self._names[next(iter(named))]
        if len(name.versions) != 1 or not name.file_words:
            return None
        current = _version_key(next(iter(name.versions)))
        versions = {v for other in self._names.values() if other.file_words == name.file_words
                    for v in other.versions}
        ordered = sorted(versions, key=_version_key)
        before = [v for v in ordered if _version_key(v) < current]
        after = [v for v in ordered if _version_key(v) > current]
        if step < 0:
            return before[-1] if before else None
        return after[0] if after else None

    @staticmethod
    def _weight(name: DocumentName, word: str) -> int:
        if word in name.file_words:
            return _FILE_WORD
        if word in name.acronyms:
            return _ACRONYM
        return _TITLE_WORD
