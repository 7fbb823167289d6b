"""Synthetic but plausible document text: passages, a RAG prompt, and search queries.

Deterministic (seeded) so two runs, and the two sides of one comparison, see the same words.
The vocabulary mixes the clinical and legal language Enclave's users bring, so keyword search
has real terms to match and passages differ from each other.
"""

from __future__ import annotations

import random

_SUBJECTS = (
    "The attending physician", "The licensee", "The nursing team", "Either party",
    "The discharge summary", "The contractor", "The patient", "The supplier",
    "The ward protocol", "The tenant", "The pharmacist", "The landlord",
    "The clinical guideline", "The employer", "The surgeon", "The court",
)
_VERBS = (
    "must record", "shall notify", "should review", "may terminate", "will assess",
    "is required to document", "must not disclose", "shall indemnify", "should escalate",
    "may request", "must confirm", "shall deliver", "is responsible for monitoring",
)
_OBJECTS = (
    "the anticoagulant dose", "any breach of confidentiality", "the sepsis screening result",
    "the renewal notice", "the insulin sliding scale", "all outstanding invoices",
    "the blood pressure trend", "the intellectual property schedule", "the allergy history",
    "the termination fee", "the fluid balance chart", "the deposition transcript",
    "the antibiotic course", "the warranty claim", "the wound assessment",
    "the arbitration clause", "the potassium level", "the liability cap",
)
_QUALIFIERS = (
    "within twenty-four hours", "before the end of the notice period", "at every handover",
    "in writing", "without undue delay", "unless the governing law provides otherwise",
    "after consulting the senior registrar", "as set out in Schedule 3",
    "when the early warning score exceeds five", "on the first business day of each month",
    "for the duration of the agreement", "before the patient leaves the ward",
)


_FUNCTION_WORDS = ("the", "of", "and", "to", "in", "a", "is", "that", "for", "it", "as", "with",
                   "was", "on", "be", "by", "this", "are", "or", "from", "at", "which", "not")
_SYLLABLES = ("ka", "lo", "mi", "ren", "dor", "tis", "val", "pen", "sor", "ul", "ber", "can",
              "dex", "fi", "gor", "ham", "jin", "ku", "lex", "mon", "nar", "op", "pra", "quin",
              "rus", "sel", "tor", "ven", "wil", "yar", "zen", "the", "ment", "ly", "ing", "al")
# Real collections have a long-tailed vocabulary (Zipf): most words are rare, so a keyword
# matches a small share of passages. Template sentences alone would make every term common.
_VOCABULARY_SIZE = 30_000


class Corpus:
    """Deterministic text: domain sentences mixed with Zipf-distributed filler words."""

    def __init__(self, seed: int = 7) -> None:
        self._rng = random.Random(seed)
        words = dict.fromkeys(_FUNCTION_WORDS)
        while len(words) < _VOCABULARY_SIZE:
            words["".join(self._rng.choices(_SYLLABLES, k=self._rng.randint(2, 4)))] = None
        self._words = list(words)
        weights = [1.0 / rank for rank in range(1, len(self._words) + 1)]
        total = 0.0
        self._cumulative = []
        for w in weights:
            total += w
            self._cumulative.append(total)

    def sentence(self) -> str:
        rng = self._rng
        if rng.random() < 0.3:
            return (f"{rng.choice(_SUBJECTS)} {rng.choice(_VERBS)} {rng.choice(_OBJECTS)} "
                    f"{rng.choice(_QUALIFIERS)}.")
        filler = rng.choices(self._words, cum_weights=self._cumulative, k=rng.randint(8, 16))
        return " ".join(filler).capitalize() + "."

    def passage(self, chars: int) -> str:
        """About ``chars`` characters of sentences (never cut mid-sentence)."""
        parts: list[str] = []
        length = 0
        while length < chars:
            parts.append(self.sentence())
            length += len(parts[-1]) + 1
        return " ".join(parts)


def passages(count: int, chars: int, seed: int = 7) -> list[str]:
    corpus = Corpus(seed)
    return [corpus.passage(chars) for _ in range(count)]


def rag_user_message(texts: list[str], question: str) -> str:
    """A grounded question the way a retrieval prompt looks: numbered sources, then the ask."""
    sources = "\n\n".join(f"[{i}] (contract.pdf, page {i + 2})\n{text}"
                          for i, text in enumerate(texts, start=1))
    return (f"Use only the sources below to answer, citing them like [1].\n\n{sources}\n\n"
            f"Question: {question}")


LONG_ANSWER_QUESTION = (
    "Write a long and detailed report that goes through every source one by one, explaining "
    "each obligation, who carries it, when it applies and what happens if it is missed."
)

SEARCH_QUERIES = (
    "when must the licensee send the renewal notice",
    "anticoagulant dose record at handover",
    "who pays the termination fee",
    "sepsis screening escalation early warning score",
    "liability cap for the supplier",
    "potassium level monitoring before discharge",
    "arbitration clause governing law",
    "allergy history documented by the pharmacist",
)
