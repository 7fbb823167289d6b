"""Texts for comparing the embedder's engines, and the cosines of their vectors."""

from __future__ import annotations

TEXTS = ["The tenant may end this lease by giving three months' notice in writing.",
         "Amoxicillin 500 mg three times a day for five days.",
         "How much notice must the tenant give?", "x"]


def cosines(a: list[list[float]], b: list[list[float]]) -> list[float]:
    """Pairwise cosines of normalised vectors."""
    return [sum(x * y for x, y in zip(u, v, strict=True)) for u, v in zip(a, b, strict=True)]
