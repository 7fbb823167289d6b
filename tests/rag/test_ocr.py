"""Scans read by OCR (rag/ocr.py, Tesseract): image-only PDFs made from real documents,
mixed PDFs, PNG and multi-page TIFF images, with page-accurate citations; per-page progress,
cancel, a clear result per file, and what happens on a machine without the engine.

The engine is a Debian package; `.ci/run` installs it and sets ENCLAVE_REQUIRE_OCR=1, so there
a missing engine fails these tests instead of skipping them."""

from __future__ import annotations

import json
import os
import threading
from pathlib import Path

import pytest

from bench.crafted_files import shared_stream_pdf
from rag.evaluation import Question, is_answer
from rag.library import Library
from rag.loaders.isolated import IsolatedReader, ReadingLimits
from rag.ocr import EngineInfo, OcrError, TesseractReader, default_languages, find_engine
from tests.factories import (
    make_image_only_pdf,
    make_mixed_pdf,
    make_pdf,
    make_scanned_pdf,
    page_images,
    paged,
)

LICENCES = Path("/usr/share/common-licenses")
SCANNED = ("GPL-3", "Apache-2.0", "MPL-2.0", "LGPL-3", "CC0-1.0", "BSD")
QUESTIONS = Path(__file__).with_name("data") / "licences-13-qa.jsonl"


@pytest.fixture(scope="module")
def engine() -> EngineInfo:
    found = find_engine()
    if found is None or "eng" not in found.languages:
        if os.environ.get("ENCLAVE_REQUIRE_OCR") == "1":
            pytest.fail("Tesseract with English is required here (apt install tesseract-ocr "
                        "tesseract-ocr-eng)")
        pytest.skip("the Tesseract OCR engine is not installed")
    return found


@pytest.fixture(scope="module")
def reader(engine: EngineInfo) -> TesseractReader:
    return TesseractReader(engine, ["eng"])


def _originals(folder: Path) -> dict[str, list[str]]:
    """Each licence as a real multi-page PDF with a text layer; its page texts by name."""
    pages = {}
    for name in SCANNED:
        pages[name] = paged((LICENCES / name).read_text(encoding="utf-8"))
        make_pdf(folder / f"{name}.pdf", pages[name], title=f"{name} licence")
    return pages


def _page_of(pages: list[str], key: str) -> int | None:
    squash = "".join(key.lower().split())
    for number, text in enumerate(pages, start=1):
        if squash in "".join(text.lower().split()):
            return number
    return None


@pytest.mark.skipif(not all((LICENCES / n).is_file() for n in SCANNED),
                    reason="needs the Debian licence texts")
def test_scanned_copies_are_found_on_the_right_page_nearly_as_well_as_the_originals(
        tmp_path: Path, embedder: object, reader: TesseractReader) -> None:
    originals, scans = tmp_path / "originals", tmp_path / "scans"
    pages = _originals(originals)
    for name in SCANNED:
        make_image_only_pdf(originals / f"{name}.pdf", scans / f"{name}.pdf")
    plain = Library(tmp_path / "plain-index", embedder)  # type: ignore[arg-type]
    ocr = Library(tmp_path / "ocr-index", embedder, ocr=reader)  # type: ignore[arg-type]
    list(plain.ingest([originals], "originals"))
    events = list(ocr.ingest([scans], "scans"))
    indexed = {Path(e.path).stem: e for e in events if e.kind == "indexed" and e.path}
    assert set(indexed) == set(SCANNED), [(e.kind, e.path, e.detail) for e in events]
    gpl = indexed["GPL-3"]
    assert gpl.detail == f"{len(pages['GPL-3'])} pages read by OCR" and gpl.pages == \
        len(pages["GPL-3"])
    reading = [e for e in events if e.kind == "reading"]
    assert len(reading) == sum(len(p) for p in pages.values()), "one progress event a page"

    rows = [json.loads(line) for line in QUESTIONS.read_text().splitlines()]
    wanted = []
    for row in rows:
        name = row["source"].removesuffix(".txt")
        if name in SCANNED and (page := _page_of(pages[name], row["key"])) is not None:
            wanted.append(Question(row["q"], f"{name}.pdf", row["key"], page))
    assert len(wanted) >= 20

    def hit_at_5(library: Library, collection: str) -> float:
        return sum(any(is_answer(h, q) for h in library.retrieve(q.q, collection, 5).hits)
                   for q in wanted) / len(wanted)

    on_originals, on_scans = hit_at_5(plain, "originals"), hit_at_5(ocr, "scans")
    print(f"hit@5 with the page: originals {on_originals:.1%}, scans {on_scans:.1%} "
          f"({len(wanted)} questions)")
    assert on_scans >= on_originals - 0.05, (on_originals, on_scans)
    plain.close()
    ocr.close()


def test_a_mixed_pdf_keeps_its_text_pages_and_reads_its_scanned_page(
        tmp_path: Path, embedder: object, reader: TesseractReader) -> None:
    text = make_pdf(tmp_path / "text.pdf", [
        "1. Parties\nThis lease is between Acme Ltd and Bolt LLP for Unit 4 of Harbour Yard.",
        "7. Rent\nThe rent is GBP 2,400 a month, payable on the first day of each month."])
    signed = make_pdf(tmp_path / "signed.pdf", [
        "Schedule 2. The tenant shall keep the premises insured against fire and flood "
        "with a reputable insurer, and shall produce the policy on request."])
    scan = make_image_only_pdf(signed, tmp_path / "signed-scan.pdf")
    mixed = make_mixed_pdf(tmp_path / "docs" / "lease.pdf", [(text, 1), (scan, 1), (text, 2)])
    library = Library(tmp_path / "index", embedder, ocr=reader)  # type: ignore[arg-type]
    events = list(library.ingest([mixed], "lease"))
    done = next(e for e in events if e.kind == "indexed")
    assert done.detail == "1 page read by OCR" and done.pages == 3
    hits = library.retrieve("Who must insure the premises against fire and flood?", "lease",
                            3).hits
    assert hits[0].passage.page == 2 and "insured against fire" in hits[0].passage.text
    rent = library.retrieve("How much is the rent?", "lease", 3).hits
    assert rent[0].passage.page == 3 and "GBP 2,400" in rent[0].passage.text
    library.close()


def test_png_and_multi_page_tiff_images_are_read_with_their_page_numbers(
        tmp_path: Path, embedder: object, reader: TesseractReader) -> None:
    source = make_pdf(tmp_path / "letter.pdf", [
        "Referral letter. Mrs Adaeze Okonkwo is referred for a cardiology review of her "
        "atrial fibrillation.",
        "Medication: apixaban 5 mg twice daily. Allergies: penicillin causes a rash."])
    first, second = page_images(source)
    docs = tmp_path / "docs"
    docs.mkdir()
    first.save(docs / "referral.png")
    first.save(docs / "referral.tiff", save_all=True, append_images=[second])
    library = Library(tmp_path / "index", embedder, ocr=reader)  # type: ignore[arg-type]
    events = {Path(e.path).name: e for e in library.ingest([docs], "clinic")
              if e.kind == "indexed" and e.path}
    assert events["referral.png"].detail == "1 page read by OCR"
    assert events["referral.tiff"].detail == "2 pages read by OCR"
    hits = library.retrieve("What is the patient allergic to?", "clinic", 3).hits
    top = hits[0].passage
    assert Path(top.source).name == "referral.tiff" and top.page == 2
    assert "penicillin" in top.text
    library.close()


class _FailsOnPage:
    """A PageReader that cannot read its ``bad``-th page: the seam this test is about."""

    languages = ("eng",)

    def __init__(self, inner: TesseractReader, bad: int) -> None:
        self._inner, self._bad, self._count = inner, bad, 0

    def read(self, image: bytes) -> str:
        self._count += 1
        if self._count == self._bad:
            raise OcrError("the OCR engine could not read this page (test)")
        return self._inner.read(image)


def test_an_unreadable_page_is_counted_and_the_rest_indexed(
        tmp_path: Path, embedder: object, reader: TesseractReader) -> None:
    source = make_pdf(tmp_path / "a.pdf", ["The first page talks about boilers and radiators.",
                                           "The second page talks about gutters and drains.",
                                           "The third page talks about windows and doors."])
    scan = make_image_only_pdf(source, tmp_path / "docs" / "scan.pdf")
    library = Library(tmp_path / "index", embedder,  # type: ignore[arg-type]
                      ocr=_FailsOnPage(reader, 2))
    done = next(e for e in library.ingest([scan], "house") if e.kind == "indexed")
    assert done.detail == "2 pages read by OCR, 1 unreadable (page 2)"
    assert {h.passage.page for h in library.retrieve("windows and doors", "house", 5).hits} \
        <= {1, 3}
    library.close()


def test_cancel_stops_between_pages(tmp_path: Path, embedder: object,
                                    reader: TesseractReader) -> None:
    source = make_pdf(tmp_path / "a.pdf", [f"Page {n} of a long scanned bundle about leases."
                                           for n in range(1, 6)])
    scan = make_image_only_pdf(source, tmp_path / "docs" / "bundle.pdf")
    library = Library(tmp_path / "index", embedder, ocr=reader)  # type: ignore[arg-type]
    cancel = threading.Event()
    seen = []
    for event in library.ingest([scan], "bundle", cancel):
        seen.append(event)
        if event.kind == "reading" and "(2 of 5)" in event.detail:
            cancel.set()
    assert [e.kind for e in seen].count("reading") == 2
    assert seen[-1].kind == "finished" and seen[-1].detail == "cancelled"
    assert library.documents("bundle") == [], "nothing half-read is indexed"
    library.close()


def test_without_an_engine_scans_say_what_to_install_and_text_pages_still_count(
        tmp_path: Path, embedder: object) -> None:
    scan = make_scanned_pdf(tmp_path / "docs" / "scan.pdf", pages=2)
    text = make_pdf(tmp_path / "text.pdf", ["The rent is GBP 2,400 a month, payable monthly."])
    make_mixed_pdf(tmp_path / "docs" / "mixed.pdf", [(text, 1), (scan, 1)])
    library = Library(tmp_path / "index", embedder)  # type: ignore[arg-type]
    events = {Path(e.path).name: e for e in library.ingest([tmp_path / "docs"], "x")
              if e.path and e.kind in ("indexed", "failed")}
    assert events["scan.pdf"].kind == "failed"
    assert events["scan.pdf"].detail.startswith("no text layer (scanned?): install the "
                                                "Tesseract OCR engine")
    assert events["mixed.pdf"].kind == "indexed"
    assert events["mixed.pdf"].detail.startswith("1 page scanned, not read: install")
    library.close()


def test_the_default_languages_are_the_systems_then_english() -> None:
    installed = ("deu", "eng", "fra")
    assert default_languages(installed, {"LANG": "de_DE.UTF-8"}) == ("deu", "eng")
    assert default_languages(installed, {"LANG": "fr_CH.UTF-8"}) == ("fra", "eng")
    assert default_languages(installed, {"LANG": "C.UTF-8"}) == ("eng",)
    assert default_languages(("deu",), {"LANG": "it_IT.UTF-8"}) == ("deu",)


def test_a_language_that_is_not_installed_is_named(engine: EngineInfo) -> None:
    with pytest.raises(OcrError, match="tesseract-ocr-xxx"):
        TesseractReader(engine, ["xxx"])




def test_a_page_scanned_sideways_is_turned_and_read(
        tmp_path: Path, embedder: object, reader: TesseractReader, engine: EngineInfo) -> None:
    if not engine.orientation:
        pytest.skip("Tesseract's orientation data (tesseract-ocr-osd) is not installed")
    source = make_pdf(tmp_path / "form.pdf", [
        "Consent form. The patient consents to a colonoscopy under sedation.\n"
        "Risks explained: bleeding, perforation and a reaction to the sedative.\n"
        "Signed by the patient and witnessed by the ward nurse on 3 March."])
    page = page_images(source)[0].rotate(90, expand=True)  # fed into the scanner sideways
    docs = tmp_path / "docs"
    docs.mkdir()
    page.save(docs / "consent-fax.png")
    library = Library(tmp_path / "index", embedder, ocr=reader)  # type: ignore[arg-type]
    done = next(e for e in library.ingest([docs], "ward") if e.kind == "indexed")
    assert done.detail == "1 page read by OCR"
    hits = library.retrieve("What risks of the colonoscopy were explained?", "ward", 3).hits
    assert "perforation" in hits[0].passage.text and "colonoscopy" in hits[0].passage.text
    library.close()


def test_scans_are_drawn_by_the_isolated_reader_and_read(
        tmp_path: Path, embedder: object, reader: TesseractReader) -> None:
    source = make_pdf(tmp_path / "a.pdf", ["The boiler was serviced in March.",
                                           "The gutters were cleared in April."])
    scan = make_image_only_pdf(source, tmp_path / "docs" / "scan.pdf")
    isolated = IsolatedReader(ReadingLimits(seconds=60, memory_mb=1024))
    library = Library(tmp_path / "index", embedder, ocr=reader,  # type: ignore[arg-type]
                      reader=isolated)
    try:
        done = next(e for e in library.ingest([scan], "house") if e.kind == "indexed")
        assert done.detail == "2 pages read by OCR"
        hits = library.retrieve("when were the gutters cleared", "house", 3).hits
        assert hits[0].passage.page == 2
    finally:
        library.close()


def test_a_pdf_whose_pages_draw_slowly_is_skipped_after_three_pages(
        tmp_path: Path, embedder: object, reader: TesseractReader) -> None:
    folder = tmp_path / "docs"
    folder.mkdir()
    # 300 pages with no text, each drawing one 70 MB stream: some 10 s a page to draw.
    shared_stream_pdf(folder / "slow-pages.pdf", pages=300, stream_mb=70)
    (folder / "note.txt").write_text("The boiler was serviced in March.", encoding="utf-8")
    isolated = IsolatedReader(ReadingLimits(seconds=60, memory_mb=1024, page_seconds=1))
    library = Library(tmp_path / "index", embedder, ocr=reader,  # type: ignore[arg-type]
                      reader=isolated)
    try:
        events = [e for e in library.ingest([folder], "house") if e.path is not None]
        final = {e.path.name: e for e in events if e.kind != "reading"}
        assert final["note.txt"].kind == "indexed"
        assert final["slow-pages.pdf"].kind == "failed"
        assert final["slow-pages.pdf"].detail == ("its pages took too long to draw, so it was "
                                                  "skipped")
        pages_tried = [e for e in events if e.kind == "reading"]
        assert len(pages_tried) == 3
    finally:
        library.close()
