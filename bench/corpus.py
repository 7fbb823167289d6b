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


def sentence(rng: random.Random) -> str:
    return (f"{rng.choice(_SUBJECTS)} {rng.choice(_VERBS)} {rng.choice(_OBJECTS)} "
            f"{rng.choice(_QUALIFIERS)}.")


def passage(rng: random.Random, chars: int) -> str:
    """About ``chars`` characters of sentences (never cut mid-sentence)."""
    parts: list[str] = []
    length = 0
    while length < chars:
        parts.append(sentence(rng))
        length += len(parts[-1]) + 1
    return " ".join(parts)


def passages(count: int, chars: int, seed: int = 7) -> list[str]:
    rng = random.Random(seed)
    return [passage(rng, chars) for _ in range(count)]


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
