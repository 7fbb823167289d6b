"""``python -m bench.refusal``: how often grounded mode refuses a question its collection cannot
answer, and how often it refuses one it can, with the first rule and with today's.

Three real collections of bench.retrieval_quality (13 licence texts, 4 technical documents, 6
system documents), built the same way (the same files, the bundled embedder, real Chroma).
Each has its answerable questions (tests/rag/data/<set>-qa.jsonl) and questions whose answer is
not in it (tests/rag/data/<set>-absent.jsonl): in the collection's own vocabulary ("What is the
limitation period for a breach of contract claim?" against licences) and off-topic ones. The
questions marked ``heldout`` were written with the others and never looked at while the rule
was chosen; their figures are printed apart.

Building a collection is the slow part (minutes on two cores), so each is kept under
``--cache`` (default: the temporary folder), keyed by its documents and the indexing code, and
reused while neither changes. ``--show`` prints every question's evidence.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench.retrieval_quality import DATA, ROOT, SETS, QuestionSet, _gather, embedder_for

COLLECTIONS = ("licences-13", "technical-docs", "system-docs")
# Code whose change does not change what was indexed: a cached collection survives it.
_NOT_INDEXING = {"assistant.py", "refusal.py", "quote.py", "support.py", "followup.py",
                 "prompting.py", "evaluation.py", "services.py", "answer_types.py"}


@dataclass(frozen=True)
class Asked:
    question: str
    answerable: bool
    kind: str  # "answerable", "in-domain" or "off-topic"
    heldout: bool


def _questions(qs: QuestionSet) -> list[Asked]:
    asked = [Asked(json.loads(line)["q"], True, "answerable", False)
             for line in (DATA / qs.questions).read_text(encoding="utf-8").splitlines()
             if line.strip()]
    absent = DATA / qs.questions.replace("-qa.jsonl", "-absent.jsonl")
    for line in absent.read_text(encoding="utf-8").splitlines():
        if line.strip():
            raw = json.loads(line)
            asked.append(Asked(raw["q"], False, raw["kind"], bool(raw.get("heldout"))))
    return asked


def _fingerprint(documents: Sequence[tuple[Path, str]]) -> str:
    digest = hashlib.sha256()
    for source, name in documents:
        digest.update(name.encode())
        digest.update(source.read_bytes() if source.is_file() else b"missing")
    for code in sorted([*(ROOT / "rag").rglob("*.py")]):
        if code.name not in _NOT_INDEXING:
            digest.update(code.read_bytes())
    return digest.hexdigest()[:16]


def _library(qs: QuestionSet, cache: Path, embedder: Any, progress: Any) -> Any:
    """The set's collection ("set"), built once and kept while its inputs are the same."""
    from rag.library import Library

    assert qs.documents is not None
    documents = qs.documents()
    where = cache / f"{qs.name}-{_fingerprint(documents)}"
    done = where / "built"
    if not done.is_file():
        import shutil

        shutil.rmtree(where, ignore_errors=True)
        progress(f"{qs.name}: building the collection (minutes)")
        missing = _gather(documents, where / "documents")
        if missing:
            raise SystemExit(f"{qs.name}: documents missing: {', '.join(missing)}")
        library = Library(where / "index", embedder)
        failed = [str(e.path) for e in library.ingest([where / "documents"], "set")
                  if e.kind == "failed"]
        if failed:
            library.close()
            raise SystemExit(f"{qs.name}: could not index {', '.join(failed)}")
        done.write_text("ok\n", encoding="utf-8")
        return library
    return Library(where / "index", embedder)


Row = tuple[Asked, Any]  # a question and its rag.refusal.RefusalEvidence
GROUPS = (("absent answer", lambda a: not a.answerable and not a.heldout),
          ("absent answer, held out", lambda a: not a.answerable and a.heldout),
          ("answerable (false)", lambda a: a.answerable))


def collect(names: Sequence[str], cache: Path, show: bool, progress: Any) -> dict[str, list[Row]]:
    """Each set's questions with the evidence retrieval gives on them, at the defaults."""
    from rag.assistant import AssistantOptions
    from rag.refusal import weigh

    options = AssistantOptions()
    embedder = embedder_for("torch")
    found_by_set: dict[str, list[Row]] = {}
    for qs in (s for s in SETS if s.name in names):
        library = _library(qs, cache, embedder, progress)
        try:
            rows = []
            for asked in _questions(qs):
                found = library.retrieve(asked.question, "set", options.top_k)
                rows.append((asked, weigh(asked.question, found)))
        finally:
            library.close()
        found_by_set[qs.name] = rows
        progress(f"{qs.name}: {len(rows)} questions retrieved")
        if show:
            _show(rows, options.relevance_threshold)
    return found_by_set


def _show(rows: Sequence[Row], threshold: float) -> None:
    from rag.refusal import refuses, refuses_before

    for asked, e in rows:
        print(f"  {'A' if asked.answerable else 'X'}{'h' if asked.heldout else ' '} "
              f"{int(refuses_before(e, threshold))}{int(refuses(e, threshold))} "
              f"sim {e.best_similarity:.3f} top {e.top_score:.3f} words {e.words_found:.2f} "
              f"one {e.best_passage:.2f} "
              f"| {asked.question[:70]} (missing: {' '.join(e.missing)})")


def _rate(refused: int, of: int) -> str:
    return f"{refused}/{of} ({refused / of:.0%})" if of else "-"


def report(found_by_set: dict[str, list[Row]], threshold: float) -> list[str]:
    """Refused before and after, per set and question group, then all sets together."""
    from rag.refusal import refuses, refuses_before

    lines = [f"relevance_threshold {threshold}; before: best cosine under it; after: that, or "
             "a weak best score missing much of the question (rag/refusal.py)",
             f"{'collection':<16}{'questions':<26}{'refused before':>16}{'refused after':>16}"]
    everything = [row for rows in found_by_set.values() for row in rows]
    for name, rows in [*found_by_set.items(), ("all", everything)]:
        for label, belongs in GROUPS:
            mine = [e for a, e in rows if belongs(a)]
            before = sum(refuses_before(e, threshold) for e in mine)
            after = sum(refuses(e, threshold) for e in mine)
            lines.append(f"{name:<16}{label:<26}{_rate(before, len(mine)):>16}"
                         f"{_rate(after, len(mine)):>16}")
    return lines


def sweep(found_by_set: dict[str, list[Row]], threshold: float) -> list[str]:
    """The rule's three constants moved about their values: absent-answer questions refused
    (not held out, and held out) and answerable ones refused, per set."""
    from rag.refusal import refuses

    lines = ["margin  words   one     absent   held out   answerable refused per set"]
    rows = [row for rows in found_by_set.values() for row in rows]
    for margin in (0.1, 0.15, 0.2):
        for share in (0.4, 0.45, 0.5):
            for one in (0.0, 0.34, 0.4, 0.45):
                def refused(belongs: Any, m: float = margin, s: float = share,
                            o: float = one) -> int:
                    return sum(refuses(e, threshold, m, s, o) for a, e in rows if belongs(a))

                answerable = [sum(refuses(e, threshold, margin, share, one)
                                  for a, e in set_rows if a.answerable)
                              for set_rows in found_by_set.values()]
                lines.append(f"{margin:<8}{share:<8}{one:<8}"
                             f"{refused(GROUPS[0][1]):<9}{refused(GROUPS[1][1]):<11}"
                             f"{' '.join(str(n) for n in answerable)}")
    return lines


def main(argv: Sequence[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m bench.refusal",
                                description="Refusal rates, first rule and today's.")
    p.add_argument("--sets", nargs="*", choices=COLLECTIONS, default=list(COLLECTIONS))
    p.add_argument("--cache", type=Path,
                   default=Path(tempfile.gettempdir()) / "enclave-refusal-bench")
    p.add_argument("--show", action="store_true", help="print every question's evidence")
    p.add_argument("--sweep", action="store_true",
                   help="also print the figures with the rule's constants moved")
    args = p.parse_args(argv)
    from desktop.egress.offline import force_offline_environment

    force_offline_environment()
    args.cache.mkdir(parents=True, exist_ok=True)
    from rag.assistant import AssistantOptions

    threshold = AssistantOptions().relevance_threshold
    found = collect(args.sets, args.cache, args.show,
                    lambda m: print(m, file=sys.stderr, flush=True))
    for line in report(found, threshold) + (sweep(found, threshold) if args.sweep else []):
        print(line, flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
