"""``python -m bench.sentence_support``: how well the sentence check (rag/support.py) separates
invented sentences from true ones, on sentences of real answers labelled by hand.

The answers are the default model's, to questions of three real-document sets, with the
passages each was given (tests/rag/data/generated-answers.jsonl); every sentence was labelled
supported, unsupported or no claim against the passages its answer cites, by someone who had not
seen the checker (tests/rag/data/sentences-labelled.jsonl). Printed: the share of unsupported
sentences the check flags, and the share of supported ones it flags by mistake, at the current
thresholds; with ``--sweep``, the trade-off over a grid of thresholds.

Also printed: how many of each kind were flagged for a number or a name that the sources do
not hold (rather than on their content alone); and, for each signal the check weighs
(``coverage``: the share of a sentence's words that the passages hold; ``similarity``: its
embedding's closeness to their nearest sentence), how well that signal alone separates the two
kinds: the chance that a true sentence scores above an invented one (ROC AUC: 0.5 is a coin,
1.0 a perfect split), and the share of true sentences a threshold on it must flag to flag 90%
of invented ones. A signal near 0.5 cannot reach the issue's 90% / 10% at any threshold,
whatever the weights.
"""

from __future__ import annotations

import argparse
import itertools
import json
import math
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

DATA = Path(__file__).resolve().parents[1] / "tests" / "rag" / "data"


def load() -> tuple[dict[str, Any], list[dict[str, Any]]]:
    answers = {}
    for line in (DATA / "generated-answers.jsonl").read_text(encoding="utf-8").splitlines():
        record = json.loads(line)
        answers[record["id"]] = record
    labels = [json.loads(line) for line in
              (DATA / "sentences-labelled.jsonl").read_text(encoding="utf-8").splitlines()]
    return answers, labels


def measure(thresholds: Any, answers: dict[str, Any], labels: list[dict[str, Any]],
            embedder: Any) -> dict[str, Any]:
    from rag.documents import Passage
    from rag.retrieval_types import Hit
    from rag.support import CONTENT_NOT_FOUND, check_sentences

    verdicts: dict[tuple[str, str], bool] = {}
    on_facts: set[tuple[str, str]] = set()  # flagged for a number or a name
    signals: dict[tuple[str, str], dict[str, float]] = {}
    for rid, record in answers.items():
        sources = [Hit(Passage(rid, f"/documents/{p['source']}", "", "", p["page"], p["n"],
                               p["text"]), 1.0)
                   for p in record["passages"] if p["n"] in record["cited"]]
        for check in check_sentences(record["sentences"], sources, embedder, thresholds,
                                     question=record["q"]):
            verdicts[(rid, check.text)] = not check.supported
            if check.reason and check.reason != CONTENT_NOT_FOUND:
                on_facts.add((rid, check.text))
            if check.claim:
                signals[(rid, check.text)] = {"coverage": check.coverage,
                                              "similarity": check.similarity}
    scores: dict[str, dict[str, list[float]]] = {
        name: {"unsupported": [], "supported": []} for name in ("coverage", "similarity")}
    flagged = {"unsupported": 0, "supported": 0}
    facts = {"unsupported": 0, "supported": 0}
    counts = {"unsupported": 0, "supported": 0}
    for label in labels:
        kind = label["label"]
        if kind not in counts or (label["id"], label["text"]) not in verdicts:
            continue
        counts[kind] += 1
        flagged[kind] += verdicts[(label["id"], label["text"])]
        facts[kind] += (label["id"], label["text"]) in on_facts
        for name, value in signals.get((label["id"], label["text"]), {}).items():
            scores[name][kind].append(value)
    return {
        "unsupported_sentences": counts["unsupported"],
        "supported_sentences": counts["supported"],
        "invented_flagged": round(flagged["unsupported"] / max(counts["unsupported"], 1), 4),
        "true_flagged": round(flagged["supported"] / max(counts["supported"], 1), 4),
        # Flagged for a number or a name the sources do not hold (the rest on content alone).
        "flagged_on_facts": facts,
        "signals": {name: separation(kinds["supported"], kinds["unsupported"])
                    for name, kinds in scores.items()},
    }


def separation(true: Sequence[float], invented: Sequence[float],
               invented_share: float = 0.9) -> dict[str, float]:
    """How well one signal (higher: better supported) tells true sentences from invented ones:
    ``auc``, the chance that a true sentence scores above an invented one (ties count half);
    ``true_flagged``, the share of true sentences flagged by the threshold that flags
    ``invented_share`` of the invented ones (everything at or below it is flagged)."""
    if not true or not invented:
        return {"auc": 0.0, "true_flagged": 0.0}
    above = sum(1.0 if t > i else 0.5 if t == i else 0.0 for t in true for i in invented)
    ranked = sorted(invented)
    threshold = ranked[min(len(ranked) - 1, max(0, math.ceil(invented_share * len(ranked)) - 1))]
    return {"auc": round(above / (len(true) * len(invented)), 4),
            "true_flagged": round(sum(1 for t in true if t <= threshold) / len(true), 4)}


def main(argv: Sequence[str] | None = None) -> int:
    from desktop.app.settings_table import EMBEDDING_BACKENDS, default

    p = argparse.ArgumentParser(prog="python -m bench.sentence_support")
    p.add_argument("--sweep", action="store_true", help="also try a grid of thresholds")
    p.add_argument("--embedder", choices=EMBEDDING_BACKENDS,
                   default=default("embedding_backend"),
                   help="the embedding engine the check uses (default: the setting's default)")
    args = p.parse_args(argv)
    from desktop.egress.offline import force_offline_environment

    force_offline_environment()
    from bench.retrieval_quality import embedder_for
    from rag.support import DEFAULT_THRESHOLDS, SupportThresholds

    embedder = embedder_for(args.embedder)
    answers, labels = load()
    result = measure(DEFAULT_THRESHOLDS, answers, labels, embedder)
    print(json.dumps({"embedding_backend": args.embedder,
                      "thresholds": DEFAULT_THRESHOLDS.__dict__, **result}))
    facts = result["flagged_on_facts"]
    print(f"flagged for a number or a name not in the sources: {facts['unsupported']} of the "
          f"invented sentences, {facts['supported']} of the true")
    for name, split in result["signals"].items():
        print(f"{name} alone: a true sentence scores above an invented one {split['auc']:.1%} "
              f"of the time; flagging 90% of invented sentences flags "
              f"{split['true_flagged']:.1%} of true ones")
    if args.sweep:
        for values in itertools.product((0.8, 0.9, 1.01), (0.6, 0.7, 0.8), (0.3, 0.5)):
            r = measure(SupportThresholds(*values), answers, labels, embedder)
            print(f"{values}: invented flagged {r['invented_flagged']:.1%}, true flagged "
                  f"{r['true_flagged']:.1%}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
