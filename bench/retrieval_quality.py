"""``python -m bench.retrieval_quality``: hit@1 and hit@5 on every question set, in one run.

The question sets (tests/rag/data/README.md says how each was written) are scored the way
``enclave eval`` scores a customer's own: each set's documents are copied from where Debian's
packages (and the Rust toolchain) install them, ingested into a fresh library with the bundled
embedder, and every question is retrieved at the default settings. A set whose documents are
not on this machine is reported as missing, never scored on fewer documents.

The figures, the scoring configuration they were measured with (rag/scoring.py) and the date go
to ``docs/retrieval-results.json`` (``--out`` to change): the one place the README's retrieval
table comes from. ``--sets`` picks some sets by name.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime
import gzip
import json
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "tests" / "rag" / "data"
DEFAULT_OUT = ROOT / "docs" / "retrieval-results.json"
LICENSES = Path("/usr/share/common-licenses")
DOC = Path("/usr/share/doc")


def _rust_docs() -> Path:
    found = sorted(Path.home().glob(".rustup/toolchains/stable-*/share/doc/rust/html"))
    return found[0] if found else Path("/nonexistent-rust-docs")


@dataclass(frozen=True)
class QuestionSet:
    name: str
    questions: str  # file name under tests/rag/data, or under the generated corpus folder
    description: str
    # (source, name in the folder); a source ending in .gz is decompressed.
    documents: Callable[[], list[tuple[Path, str]]] | None = None
    generated: bool = False  # the documents come from tests/rag/corpus.py
    language: str | None = None  # only the questions over documents in this language


def _man_pages(language: str) -> Callable[[], list[tuple[Path, str]]]:
    """The translated manual pages of tests/rag/data/multilingual-docs.txt in ``language``."""
    def documents() -> list[tuple[Path, str]]:
        pairs = [line.split() for line in (DATA / "multilingual-docs.txt").read_text(
            encoding="utf-8").splitlines() if line.strip()]
        return [(Path(src), name) for src, name in pairs if name.startswith(f"{language}-")]
    return documents


def _licences(names: Sequence[str]) -> Callable[[], list[tuple[Path, str]]]:
    return lambda: [(LICENSES / n, f"{n}.txt") for n in names]


SIX_LICENCES = ("GPL-2", "GPL-3", "LGPL-2.1", "LGPL-3", "Apache-2.0", "MPL-2.0")
THIRTEEN_LICENCES = ("Apache-2.0", "Artistic", "BSD", "CC0-1.0", "GFDL-1.3", "GPL-1", "GPL-2",
                     "GPL-3", "LGPL-2", "LGPL-2.1", "LGPL-3", "MPL-1.1", "MPL-2.0")

SETS: tuple[QuestionSet, ...] = (
    QuestionSet("licences-13", "licences-13-qa.jsonl",
                "60 questions a lawyer might ask, half in their own words, over 13 real licence "
                "texts with near-identical versions", _licences(THIRTEEN_LICENCES)),
    QuestionSet("technical-docs", "technical-docs-qa.jsonl",
                "60 questions over 4 technical documents: two PDFs (17 and 36 pages, pages "
                "checked), two HTML manuals",
                lambda: [(DOC / "shared-mime-info/shared-mime-info-spec.pdf",
                          "shared-mime-info-spec.pdf"),
                         (DOC / "libtasn1-doc/libtasn1.pdf", "libtasn1.pdf"),
                         (DOC / "python3/python-policy.html", "python-policy.html"),
                         (DOC / "ninja-build/manual.html", "manual.html")]),
    QuestionSet("system-docs", "system-docs-qa.jsonl",
                "60 questions, two thirds in the asker's words, written after all the tuning, "
                "over 6 documents of other kinds (mdBook and DocBook HTML, plain text)",
                lambda: [(_rust_docs() / "rustc/target-tier-policy.html",
                          "target-tier-policy.html"),
                         (_rust_docs() / "book/ch04-01-what-is-ownership.html",
                          "ch04-01-what-is-ownership.html"),
                         (DOC / "valgrind/html/faq.html", "faq.html"),
                         (DOC / "base-passwd/users-and-groups.html", "users-and-groups.html"),
                         (DOC / "dpkg/spec/triggers.txt", "triggers.txt"),
                         (DOC / "man-db/man-db-manual.txt.gz", "man-db-manual.txt")]),
    QuestionSet("common-licenses", "common-licenses-qa.jsonl",
                "16 questions over 6 licence texts", _licences(SIX_LICENCES)),
    QuestionSet("common-licenses-heldout", "common-licenses-heldout-qa.jsonl",
                "10 questions over the same 6, written after the tuning",
                _licences(SIX_LICENCES)),
    QuestionSet("multilingual-de", "multilingual-qa.jsonl",
                "20 questions over 6 German manual pages (dpkg-deb, passwd, sources.list, "
                "apt-get, adduser, start-stop-daemon), 10 in German and 10 in English",
                _man_pages("de"), language="de"),
    QuestionSet("multilingual-fr", "multilingual-qa.jsonl",
                "20 questions over the same 6 manual pages in French, 10 in French and 10 in "
                "English", _man_pages("fr"), language="fr"),
    QuestionSet("generated", "qa.jsonl",
                "69 questions in the documents' words, pages checked, over 8 generated "
                "documents (contract, amendment, protocols, licences, memo)", generated=True),
    QuestionSet("generated-paraphrased", "qa-paraphrased.jsonl",
                "32 questions in other words over the same 8", generated=True),
)


def _gather(documents: list[tuple[Path, str]], folder: Path) -> list[str]:
    """Copy the set's documents into ``folder``; the sources that are missing."""
    folder.mkdir(parents=True)
    missing = []
    for source, name in documents:
        if not source.is_file():
            missing.append(str(source))
        elif "/man/" in str(source):  # a manual page, rendered as a person reads it
            rendered = subprocess.run(["man", "--encoding=UTF-8", "-l", str(source)],
                                      capture_output=True, text=True,
                                      env={"MANWIDTH": "80", "PATH": "/usr/bin:/bin"})
            plain = subprocess.run(["col", "-b"], input=rendered.stdout, capture_output=True,
                                   text=True)
            (folder / name).write_text(plain.stdout, encoding="utf-8")
        elif source.suffix == ".gz":
            (folder / name).write_bytes(gzip.decompress(source.read_bytes()))
        else:
            shutil.copyfile(source, folder / name)
    return missing


def _generated_corpus(work: Path) -> Path:
    out = work / "generated"
    subprocess.run([sys.executable, "-m", "tests.rag.corpus", str(out)], cwd=ROOT, check=True,
                   capture_output=True)
    return out


def _searcher(library: Any, depth: int) -> Callable[[str], list[Any]]:
    return lambda q: list(library.retrieve(q, "set", depth).hits)


def _by_question_language(questions_file: Path, score: Any) -> dict[str, Any]:
    """hit@1 / hit@5 of the questions asked in each language."""
    langs = {raw["q"]: raw.get("q_lang") for raw in (json.loads(line) for line in
             questions_file.read_text(encoding="utf-8").splitlines() if line.strip())}
    out: dict[str, Any] = {}
    for lang in sorted({langs[o.question.q] for o in score.outcomes}):
        mine = [o for o in score.outcomes if langs[o.question.q] == lang]
        out[f"questions_in_{lang}"] = {
            "questions": len(mine),
            "hit@1": round(sum(1 for o in mine if o.rank == 1) / len(mine), 4),
            "hit@5": round(sum(1 for o in mine if o.rank is not None) / len(mine), 4)}
    return out


def embedder_for(backend: str) -> Any:
    """The bundled model on ``backend`` (what the setting embedding_backend chooses)."""
    from rag.embedder import MiniLMEmbedder

    if backend in ("torch", "torch-fp32"):
        return MiniLMEmbedder(precision="fp32" if backend == "torch-fp32" else "auto").load()
    from rag.onnx_embedder import OnnxEmbedder, exported_model

    cache = Path(tempfile.gettempdir()) / "enclave-retrieval-embedder"
    return OnnxEmbedder(exported_model(cache, "int8" if backend == "onnx-int8" else "fp32"))


# What the retrieval section measures the configured engine against: Enclave's vectors before
# issue 18 made ingestion faster.
REFERENCE_BACKEND = "torch-fp32"


def named_sets(names: Sequence[str]) -> list[QuestionSet]:
    """The sets of these names, in their order here; "all" is every set."""
    return [s for s in SETS if "all" in names or s.name in names]


class EmbeddedWhole:
    """The embedder without its tokens' sums: each passage is embedded whole as well as its
    windows, as Enclave did before issue 18 (the reference pooled passages are measured
    against)."""

    def __init__(self, inner: Any) -> None:
        self._inner = inner
        self.dimension = inner.dimension
        self.vector_space = getattr(inner, "vector_space", "minilm")

    def embed(self, texts: Sequence[str]) -> list[list[float]]:
        result: list[list[float]] = self._inner.embed(texts)
        return result


def compare_passage_vectors(sets: Sequence[QuestionSet],
                            progress: Callable[[str], None] = print,
                            backend: str = "torch") -> dict[str, Any]:
    """Every set scored as Enclave embeds now (``backend``, each passage's vector pooled from
    its windows) and as it did before issue 18 (torch at fp32, each passage embedded whole as
    well as its windows), and by how many questions hit@1 and hit@5 moved."""
    pooled = measure(sets, lambda m: progress(f"{backend}, pooled: {m}"), backend)
    whole = measure(sets, lambda m: progress(f"before (torch-fp32, embedded whole): {m}"),
                    REFERENCE_BACKEND, passages="whole")
    moved: dict[str, dict[str, int]] = {}
    for name, now in pooled["sets"].items():
        before = whole["sets"][name]
        if "questions" not in now or "questions" not in before:
            continue
        moved[name] = {key: round((now[key] - before[key]) * now["questions"])
                       for key in ("hit@1", "hit@5")}
    return {"method": "bench.retrieval_quality on each set: the configured embedding engine "
                      "with passage vectors pooled from their windows, against torch at fp32 "
                      "with passages embedded whole as well (before issue 18)",
            "embedding_backend": backend, "reference_backend": REFERENCE_BACKEND,
            "pooled": pooled["sets"], "whole": whole["sets"],
            "questions_moved": moved,
            "within_one_question": all(abs(v) <= 1 for m in moved.values() for v in m.values()),
            "none_lost_more_than_one": all(v >= -1 for m in moved.values() for v in m.values())}


@dataclass(frozen=True)
class QuoteOutcome:
    """Whether the quote picked from a question's top passages holds its key, and whether any
    sentence or pair of sentences it could have picked does (in any of the passages; in the
    first): how far the choice of sentence, rather than retrieval, keeps the quote from it."""

    holds_key: bool
    key_in_passages: bool
    key_in_first_passage: bool


def _quotes(library: Any, questions: Sequence[Any], embedder: Any) -> list[QuoteOutcome]:
    from rag.evaluation import DEPTH, quote_answers
    from rag.quote import candidates, pick_quote

    found = []
    for question in questions:
        hits = library.retrieve(question.q, "set", DEPTH).hits
        quote = pick_quote(question.q, hits, embedder)
        could = [i for i, text, _ in candidates(hits)
                 if quote_answers(text, hits[i].passage.source, question)]
        found.append(QuoteOutcome(
            quote is not None and quote_answers(quote.text, quote.hit.passage.source, question),
            bool(could), 0 in could))
    return found


def measure(sets: Sequence[QuestionSet], progress: Callable[[str], None] = print,
            backend: str = "torch", passages: str = "pooled",
            index: str = "embedded") -> dict[str, Any]:
    """Each set scored; ``passages="whole"`` embeds each passage whole as well as its windows
    (before issue 18), "pooled" pools its vector from its windows (rag/passage_embedding.py).
    ``index="servers"``: each set on a shared index, real PostgreSQL and Chroma servers started
    here on loopback (bench/index_servers.py)."""
    from rag.evaluation import DEPTH, evaluate, read_questions
    from rag.index_storage import ServerStorage
    from rag.library import Library
    from rag.scoring import DEFAULT_SCORING

    embedder = embedder_for(backend)
    if passages == "whole":
        embedder = EmbeddedWhole(embedder)
    results: dict[str, Any] = {}
    with tempfile.TemporaryDirectory(prefix="enclave-retrieval-") as tmp, \
            contextlib.ExitStack() as servers:
        work = Path(tmp)
        practice = None
        if index == "servers":
            from bench.index_servers import PracticeIndex, chroma_server, postgres_server

            practice = PracticeIndex(
                servers.enter_context(postgres_server(work / "postgres")),
                servers.enter_context(chroma_server(work / "chroma")))
        corpus: Path | None = None
        for qs in sets:
            started = time.perf_counter()
            if qs.generated:
                corpus = corpus or _generated_corpus(work)
                folder, questions_file, missing = corpus / "docs", corpus / qs.questions, []
            else:
                assert qs.documents is not None
                folder = work / qs.name
                missing = _gather(qs.documents(), folder)
                questions_file = DATA / qs.questions
            if missing:
                results[qs.name] = {"description": qs.description, "missing": missing}
                progress(f"{qs.name}: documents missing ({', '.join(missing)}), not scored")
                continue
            storage = ServerStorage(practice.fresh()) if practice is not None else None
            library = Library(work / f"{qs.name}-index", embedder, storage=storage)
            try:
                events = list(library.ingest([folder], "set"))
                failed = [str(e.path) for e in events if e.kind == "failed"]
                questions = read_questions(questions_file)
                if qs.language is not None:
                    languages = [json.loads(line) for line in questions_file.read_text(
                        encoding="utf-8").splitlines() if line.strip()]
                    questions = [q for q, raw in zip(questions, languages, strict=True)
                                 if raw.get("doc_lang") == qs.language]
                score = evaluate(questions, _searcher(library, DEPTH))
                quoted = _quotes(library, questions, embedder)
                held = _share(o.holds_key for o in quoted)
            finally:
                library.close()
            results[qs.name] = {
                "description": qs.description,
                "documents": sum(1 for e in events if e.kind == "indexed"),
                "failed_documents": failed,
                "questions": score.questions,
                "hit@1": round(score.hit_at(1), 4),
                "hit@5": round(score.hit_at(5), 4),
                "mrr": round(score.mrr(), 4),
                "misses_at_5": [o.question.q for o in score.outcomes if o.rank is None],
                **(_by_question_language(questions_file, score) if qs.language else {}),
                # The quote shown before the answer (rag/quote.py) holds the key phrase.
                "quote_holds_key": held,
                # ... and one of the sentences it chose from does (of all five passages; of
                # the first): the ceiling a better choice of sentence could reach.
                "quote_key_in_passages": _share(o.key_in_passages for o in quoted),
                "quote_key_in_first_passage": _share(o.key_in_first_passage for o in quoted),
                "quote_misses": [q.q for q, o in zip(questions, quoted, strict=True)
                                 if not o.holds_key],
                "seconds": round(time.perf_counter() - started, 1),
            }
            progress(f"{qs.name}: hit@1 {score.hit_at(1):.1%}  hit@5 {score.hit_at(5):.1%}  "
                     f"quote {held:.1%}  ({score.questions} questions)")
    return {
        "date": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
        "command": "python -m bench.retrieval_quality",
        "scoring": DEFAULT_SCORING.to_json(),
        "embedding_backend": backend,
        "passages": passages,
        "index": index,
        "sets": results,
    }


def _share(flags: Iterable[bool]) -> float:
    values = list(flags)
    return round(sum(values) / len(values), 4) if values else 0.0


def main(argv: Sequence[str] | None = None) -> int:
    from desktop.app.settings_table import EMBEDDING_BACKENDS, default

    p = argparse.ArgumentParser(prog="python -m bench.retrieval_quality",
                                description="Score retrieval on every question set.")
    p.add_argument("--out", type=Path, default=DEFAULT_OUT)
    p.add_argument("--sets", nargs="*", choices=[s.name for s in SETS], default=None)
    p.add_argument("--embedder", choices=EMBEDDING_BACKENDS,
                   default=default("embedding_backend"),
                   help="the embedding engine to measure (default: the setting's default, "
                        "onnx-int8; torch-fp32 is the reference)")
    p.add_argument("--passages", choices=("pooled", "whole"), default="pooled",
                   help="each passage's vector pooled from its windows (Enclave's way) or the "
                        "passage embedded whole as well (before issue 18)")
    p.add_argument("--index", choices=("embedded", "servers"), default="embedded",
                   help="the library's own files (default), or a shared index on real "
                        "PostgreSQL and Chroma servers started on loopback")
    args = p.parse_args(argv)
    from desktop.egress.offline import force_offline_environment

    force_offline_environment()
    chosen = [s for s in SETS if args.sets is None or s.name in args.sets]
    result = measure(chosen, lambda m: print(m, file=sys.stderr, flush=True), args.embedder,
                     args.passages, args.index)
    if args.out.is_file() and args.sets is not None:
        # Scoring some sets keeps the others' last figures.
        previous = json.loads(args.out.read_text(encoding="utf-8")).get("sets", {})
        result["sets"] = {**previous, **result["sets"]}
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2, ensure_ascii=False) + "\n",
                        encoding="utf-8")
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
