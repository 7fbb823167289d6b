"""What kind of answer a question asks for, and whether a passage holds one.

"How long must the offer be valid?" wants a duration, "Until what date ...?" a date, "What is
the maximum fee ...?" an amount, "What dose ...?" a dose, "What rate ...?" a percentage. A
passage that holds such an expression ("at least three years", "August 1, 2009", "GBP 19,750",
"500 mg", "4%") is more likely the one that answers than its neighbour on the same subject that
holds none. Retrieval gives it a small bonus (rag/scoring.py, answer_bonus).

"When" counts as asking for a date only at the start of a question and followed by its verb
("When was ...?", "When does ...?"): "when the contract ends" and "when writing a value" set a
condition, not a date; month names count with their capital only ("may" is a verb). Measured
with ``enclave eval`` (tests/rag/data/README.md): on 60 questions over 13 licence texts hit@1
80.0% -> 83.3% (a date, a fee), the other five sets unchanged and no question lost (a bonus of
0.03 to 0.05 gives the same; 0.08 lost one from the top five).
"""

from __future__ import annotations

import re

_NUMBER = (r"(?:\d+|one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|fourteen"
           r"|fifteen|twenty|thirty|forty|sixty|ninety)")
_MONTH = (r"(?:January|February|March|April|May|June|July|August|September|October|November"
          r"|December)")

# (what the question says, what the answer looks like)
_TYPES: tuple[tuple[re.Pattern[str], re.Pattern[str]], ...] = (
    (re.compile(r"\bhow long\b|\bhow many (?:days|weeks|months|years|hours)\b|\bhow soon\b"
                r"|\bhow quickly\b|\bwithin what\b|\bwhat (?:period|time limit|deadline)\b"
                r"|\bhow much time\b|\bdeadline\b|\bfor how long\b", re.IGNORECASE),
     re.compile(rf"\b{_NUMBER}\s*(?:\(\d+\)\s*)?(?:calendar |business |working )?"
                r"(?:day|week|month|year|hour|minute)s?\b", re.IGNORECASE)),
    (re.compile(r"(?:^|[.:;]\s*)when\s+(?:is|was|were|did|does|do|will|must|should|can|could)\b"
                r"|\bwhat (?:date|day|year)\b|\bby when\b|\buntil when\b|\bsince when\b"
                r"|\buntil what\b|\bwhich (?:date|year)\b", re.IGNORECASE),
     re.compile(rf"\b{_MONTH}\b|\b\d{{1,2}}[/.-]\d{{1,2}}[/.-]\d{{2,4}}\b|\b(?:19|20)\d\d\b")),
    (re.compile(r"\bhow much\b|\bwhat (?:fee|price|amount|sum|cost)\b|\bcharge\b|\bfee\b"
                r"|\bcost\b|\bpay\b", re.IGNORECASE),
     re.compile(r"[£$€]\s?\d|\b(?:GBP|USD|EUR|CHF)\s?\d|\b\d[\d,.]*\s?(?:GBP|USD|EUR|dollars"
                r"|pounds|euros)\b|\bfee\b|\bcharge\b|\bcost\b", re.IGNORECASE)),
    (re.compile(r"\bdose\b|\bdosage\b|\bhow much\b.*\b(?:give|take|prescribe)\b"
                r"|\bwhat (?:drug|antibiotic|medication)\b", re.IGNORECASE),
     re.compile(r"\b\d+(?:\.\d+)?\s?(?:mg|g|ml|mcg|micrograms|units|mmol)\b", re.IGNORECASE)),
    (re.compile(r"\bwhat percentage\b|\bwhat (?:rate|percent)\b|\bhow much interest\b",
                re.IGNORECASE),
     re.compile(r"\d\s?%|\bper ?cent\b", re.IGNORECASE)),
)


def wanted_answers(question: str) -> list[re.Pattern[str]]:
    """The shapes of answer the question asks for; empty for most questions."""
    return [answer for asks, answer in _TYPES if asks.search(question)]


def holds_answer(text: str, wanted: list[re.Pattern[str]]) -> bool:
    return any(pattern.search(text) for pattern in wanted)
