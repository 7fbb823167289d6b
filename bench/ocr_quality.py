"""Scans against their originals: how well the OCR path reads them, and whether retrieval
still finds the answers on the right page.

``python -m bench.ocr_quality [--licences N] [--out FILE]`` (needs the Tesseract engine):

1. Originals: real documents with a text layer: the licence texts in
   /usr/share/common-licenses laid out as multi-page PDFs, and the real typeset PDFs under
   /usr/share/doc (the shared-mime-info specification, when installed).
2. Scans: each page rendered by pdfium at 200 dpi (an office scanner's usual setting) into an
   image-only PDF, as a scanner makes one.
3. Reading: each scanned page rendered back and read by Tesseract at each candidate DPI:
   character accuracy against the original's text layer (difflib's match ratio over the
   whitespace-normalised texts) and seconds per page.
4. Retrieval: the licence question set (tests/rag/data/licences-13-qa.jsonl) over the
   originals and over the scans, hit@5 counting only the right file and the right page.
"""

from __future__ import annotations

import argparse
import difflib
import json
import shutil
import tempfile
import time
from pathlib import Path
from typing import Any

LICENCES = Path("/usr/share/common-licenses")
NAMES = ("Apache-2.0", "Artistic", "BSD", "CC0-1.0", "GFDL-1.3", "GPL-1", "GPL-2", "GPL-3",
         "LGPL-2", "LGPL-2.1", "LGPL-3", "MPL-1.1", "MPL-2.0")
TYPESET = (Path("/usr/share/doc/shared-mime-info/shared-mime-info-spec.pdf"),)
QUESTIONS = Path(__file__).resolve().parents[1] / "tests" / "rag" / "data" / \
    "licences-13-qa.jsonl"
SCAN_DPI = 200
READ_DPIS = (150, 200, 300)


def _paged(text: str, lines: int = 50) -> list[str]:
    import textwrap

    wrapped: list[str] = []
    for paragraph in text.splitlines():
        wrapped.extend(textwrap.wrap(paragraph, 90) or [""])
    return ["\n".join(wrapped[n:n + lines]) for n in range(0, len(wrapped), lines)]


def _scan(source: Path, target: Path) -> None:
    import pypdfium2

    document = pypdfium2.PdfDocument(str(source))
    try:
        images = [document[n].render(scale=SCAN_DPI / 72, grayscale=True).to_pil()
                  for n in range(len(document))]
    finally:
        document.close()
    images[0].save(target, "PDF", save_all=True, append_images=images[1:],
                   resolution=SCAN_DPI)


def _norm(text: str) -> str:
    return " ".join(text.split())


def _accuracy(reference: str, read: str) -> float:
    return difflib.SequenceMatcher(None, _norm(reference), _norm(read),
                                   autojunk=False).ratio()


def measure(licences: int, progress: Any = print) -> dict[str, Any]:
    from pypdf import PdfReader

    from desktop.app.sample_pdf import write_pdf
    from rag.embedder import MiniLMEmbedder
    from rag.evaluation import Question, is_answer
    from rag.library import Library
    from rag.ocr import TesseractReader, default_languages, find_engine, pdf_page_image

    engine = find_engine()
    if engine is None:
        raise SystemExit("no OCR engine: apt install tesseract-ocr tesseract-ocr-eng")
    reader = TesseractReader(engine, default_languages(engine.languages))
    work = Path(tempfile.mkdtemp(prefix="enclave-ocr-bench-"))
    originals, scans = work / "originals", work / "scans"
    originals.mkdir()
    scans.mkdir()
    pages: dict[str, list[str]] = {}
    for name in NAMES[:licences]:
        pages[name] = _paged((LICENCES / name).read_text(encoding="utf-8"))
        write_pdf(originals / f"{name}.pdf", pages[name], title=f"{name} licence")
    for path in TYPESET:
        if path.is_file():
            shutil.copyfile(path, originals / path.name)
    for source in sorted(originals.iterdir()):
        _scan(source, scans / source.name)

    reading: dict[str, Any] = {}
    sample = [(p, n) for p in sorted(originals.iterdir())
              for n in range(1, len(PdfReader(p).pages) + 1)][::3]  # every third page
    for dpi in READ_DPIS:
        scores, seconds = [], []
        for source, number in sample:
            progress(f"reading at {dpi} dpi: {source.name} page {number}")
            reference = PdfReader(source).pages[number - 1].extract_text() or ""
            if len(_norm(reference)) < 200:
                continue
            started = time.perf_counter()
            text = reader.read(pdf_page_image((scans / source.name).read_bytes(), number, dpi))
            seconds.append(time.perf_counter() - started)
            scores.append(_accuracy(reference, text))
        reading[str(dpi)] = {"pages": len(scores),
                             "character_accuracy_mean": round(sum(scores) / len(scores), 4),
                             "character_accuracy_worst": round(min(scores), 4),
                             "seconds_per_page_mean": round(sum(seconds) / len(seconds), 2)}

    embedder = MiniLMEmbedder().load()
    plain = Library(work / "plain-index", embedder)
    ocr = Library(work / "ocr-index", embedder, ocr=reader)
    started = time.perf_counter()
    list(plain.ingest([originals], "originals"))
    plain_s = time.perf_counter() - started
    started = time.perf_counter()
    scanned_pages = 0
    for event in ocr.ingest([scans], "scans"):
        if event.kind == "reading":
            scanned_pages += 1
            if event.pages_read == 0:
                progress(f"OCR ingest: {event.path.name if event.path else ''}")
    ocr_s = time.perf_counter() - started

    wanted = []
    for line in QUESTIONS.read_text().splitlines():
        row = json.loads(line)
        name = row["source"].removesuffix(".txt")
        if name not in pages:
            continue
        key = "".join(row["key"].lower().split())
        page = next((n for n, t in enumerate(pages[name], start=1)
                     if key in "".join(t.lower().split())), None)
        if page is not None:
            wanted.append(Question(row["q"], f"{name}.pdf", row["key"], page))

    def hit_at_5(library: Library, collection: str) -> float:
        return sum(any(is_answer(h, q) for h in library.retrieve(q.q, collection, 5).hits)
                   for q in wanted) / len(wanted)

    result = {
        "engine": engine.version, "languages": list(reader.languages), "scan_dpi": SCAN_DPI,
        "read_dpi_in_use": __import__("rag.ocr", fromlist=["DPI"]).DPI,
        "reading": reading,
        "retrieval": {"questions": len(wanted),
                      "hit_at_5_with_page_originals": round(hit_at_5(plain, "originals"), 4),
                      "hit_at_5_with_page_scans": round(hit_at_5(ocr, "scans"), 4)},
        "ingest": {"scanned_pages": scanned_pages, "ocr_seconds": round(ocr_s, 1),
                   "text_layer_seconds": round(plain_s, 1),
                   "ocr_pages_per_second": round(scanned_pages / ocr_s, 3)},
    }
    plain.close()
    ocr.close()
    shutil.rmtree(work, ignore_errors=True)
    return result


def main() -> None:
    from desktop.egress import guard
    from desktop.egress.offline import force_offline_environment

    force_offline_environment()
    guard.install()
    parser = argparse.ArgumentParser(prog="python -m bench.ocr_quality")
    parser.add_argument("--licences", type=int, default=len(NAMES))
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args()
    result = measure(args.licences)
    text = json.dumps(result, indent=2)
    print(text)
    if args.out is not None:
        args.out.write_text(text + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
