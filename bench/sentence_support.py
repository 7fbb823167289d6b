"""``python -m bench.sentence_support``: how well the sentence check (rag/support.py) separates
invented sentences from true ones, on sentences of real answers labelled by hand.

The answers are the default model's, to questions of three real-document sets, with the
passages each was given (tests/rag/data/generated-answers.jsonl); every sentence was labelled
supported, unsupported or no claim against the passages its answer cites, by someone who had not
seen the checker (tests/rag/data/sentences-labelled.jsonl). Printed: the share of unsupported
sentences the check flags, and the share of supported ones it flags by mistake, at the current
thresholds; with ``--sweep``, the trade-off over a grid of thresholds.
"""

from __future__ import annotations

import argparse
import itertools
import json
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
    from rag.support import check_sentences

    verdicts: dict[tuple[str, str], bool] = {}
    for rid, record in answers.items():
        sources = [Hit(Passage(rid, f"/documents/{p['source']}", "", "", p["page"], p["n"],
                               p["text"]), 1.0)
                   for p in record["passages"] if p["n"] in record["cited"]]
        for check in check_sentences(record["sentences"], sources, embedder, thresholds,
                                     question=record["q"]):
            verdicts[(rid, check.text)] = not check.supported
    flagged = {"unsupported": 0, "supported": 0}
    counts = {"unsupported": 0, "supported": 0}
    for label in labels:
        kind = label["label"]
        if kind not in counts or (label["id"], label["text"]) not in verdicts:
            continue
        counts[kind] += 1
        flagged[kind] += verdicts[(label["id"], label["text"])]
    return {
        "unsupported_sentences": counts["unsupported"],
        "supported_sentences": counts["supported"],
        "invented_flagged": round(flagged["unsupported"] / max(counts["unsupported"], 1), 4),
        "true_flagged": round(flagged["supported"] / max(counts["supported"], 1), 4),
    }


def main(argv: Sequence[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m bench.sentence_support")
    p.add_argument("--sweep", action="store_true", help="also try a grid of thresholds")
    args = p.parse_args(argv)
    from desktop.egress.offline import force_offline_environment

    force_offline_environment()
    from rag.embedder import MiniLMEmbedder
    from rag.support import DEFAULT_THRESHOLDS, SupportThresholds

    embedder = MiniLMEmbedder().load()
    answers, labels = load()
    result = measure(DEFAULT_THRESHOLDS, answers, labels, embedder)
    print(json.dumps({"thresholds": DEFAULT_THRESHOLDS.__dict__, **result}))
    if args.sweep:
        for values in itertools.product((0.8, 0.9, 1.01), (0.6, 0.7, 0.8), (0.3, 0.5)):
            r = measure(SupportThresholds(*values), answers, labels, embedder)
            print(f"{values}: invented flagged {r['invented_flagged']:.1%}, true flagged "
                  f"{r['true_flagged']:.1%}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
