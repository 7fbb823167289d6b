"""The sentence check's bench: how far each signal alone tells true sentences from invented
ones, on the hand-labelled sentences of real answers."""

from __future__ import annotations

from bench.sentence_support import load, measure, separation
from rag.support import DEFAULT_THRESHOLDS


def test_separation_reads_a_perfect_split_a_reversed_one_and_a_coin() -> None:
    true, invented = [0.9, 0.8], [0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.75, 0.7, 0.6]
    assert separation(true, invented) == {"auc": 1.0, "true_flagged": 0.0}
    assert separation(invented[:2], [0.9] * 10) == {"auc": 0.0, "true_flagged": 1.0}
    assert separation([0.5, 0.5], [0.5] * 10)["auc"] == 0.5


def test_separation_flags_every_true_sentence_at_or_below_the_threshold() -> None:
    invented = [i / 10 for i in range(10)]  # 90% of them are at or below 0.8
    result = separation([0.8, 0.85, 0.95, 0.2], invented)
    assert result["true_flagged"] == 0.5


def test_every_labelled_sentence_is_measured_and_most_invented_ones_are_flagged(
        embedder: object) -> None:
    answers, labels = load()
    result = measure(DEFAULT_THRESHOLDS, answers, labels, embedder)
    assert (result["unsupported_sentences"], result["supported_sentences"]) == (250, 26)
    assert result["invented_flagged"] >= 0.8
    # A number or a name the sources do not hold is nearly always an invention (69 and 1).
    facts = result["flagged_on_facts"]
    assert facts["unsupported"] >= 60 and facts["supported"] <= 2, facts
    for split in result["signals"].values():  # each signal does better than a coin
        assert split["auc"] > 0.55
