"""Each file read in a child process held to a time and a memory limit (rag/loaders/isolated.py):
crafted files that once held an ingest for hours end at their limit with the reason, and the
files after them are read as usual."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from bench.crafted_files import docx_bomb, shared_stream_pdf
from rag.documents import UnreadableDocument
from rag.library import Library
from rag.loaders import load_document
from rag.loaders.isolated import IsolatedReader, ReadingLimits, ReadingStopped
from tests.factories import make_docx, make_image_only_pdf, make_pdf, make_scanned_pdf


@pytest.fixture
def reader() -> Iterator[IsolatedReader]:
    isolated = IsolatedReader(ReadingLimits(seconds=60, memory_mb=1024))
    yield isolated
    isolated.close()


def test_ordinary_documents_read_in_the_child_as_in_process(reader: IsolatedReader,
                                                            tmp_path: Path) -> None:
    files = [
        make_pdf(tmp_path / "lease.pdf", ["Clause 1. The tenant pays rent monthly.",
                                          "Clause 2. The deposit is 1,200 pounds."], "Lease"),
        make_docx(tmp_path / "letter.docx", [("heading1", "Referral"),
                                             ("paragraph", "Please see Mrs Romero on Tuesday.")]),
        make_scanned_pdf(tmp_path / "scan.pdf", pages=2),
    ]
    (tmp_path / "note.txt").write_text("Potassium 6.8 mmol/L, repeat tomorrow.", encoding="utf-8")
    files.append(tmp_path / "note.txt")
    for path in files:
        assert reader.read(path) == load_document(path)


def test_a_pdf_whose_pages_share_one_huge_stream_is_read_once(reader: IsolatedReader,
                                                              tmp_path: Path) -> None:
    # 300 pages drawing one 70 MB stream: read per page, this took some 11 s a page.
    crafted = shared_stream_pdf(tmp_path / "shared.pdf", pages=300, stream_mb=70)
    assert crafted.stat().st_size < 300_000
    document = reader.read(crafted)
    assert len(document.pages) == 300


def test_a_pdf_with_too_much_distinct_drawing_is_refused_at_once(reader: IsolatedReader,
                                                                 tmp_path: Path) -> None:
    crafted = shared_stream_pdf(tmp_path / "many.pdf", pages=40, stream_mb=70, shared=False)
    with pytest.raises(UnreadableDocument, match="more than 256 MB of drawing instructions"):
        reader.read(crafted)


def test_a_word_document_that_unpacks_to_hundreds_of_megabytes_is_refused(
        reader: IsolatedReader, tmp_path: Path) -> None:
    bomb = docx_bomb(tmp_path / "bomb.docx", unpacked_mb=450)
    assert bomb.stat().st_size < 3 * 2**20
    with pytest.raises(UnreadableDocument, match=r"its text would unpack to 4[45]\d MB"):
        reader.read(bomb)


def test_a_file_slower_than_the_limit_is_skipped_and_the_next_is_read(tmp_path: Path) -> None:
    slow = shared_stream_pdf(tmp_path / "slow.pdf", pages=2, stream_mb=70, shared=False)
    good = make_pdf(tmp_path / "good.pdf", ["The hearing is on 4 May."], "Hearing")
    reader = IsolatedReader(ReadingLimits(seconds=2, memory_mb=1024))
    try:
        started = time.monotonic()
        with pytest.raises(ReadingStopped, match="took longer than 2 seconds to read"):
            reader.read(slow)
        assert time.monotonic() - started < 10
        assert "The hearing is on 4 May." in reader.read(good).pages[0].text
    finally:
        reader.close()


def test_a_file_that_needs_more_memory_than_the_limit_is_skipped(tmp_path: Path) -> None:
    # Two pages of 70 MB of drawing instructions each: parsed, several times that.
    heavy = shared_stream_pdf(tmp_path / "swell.pdf", pages=2, stream_mb=70, shared=False)
    good = tmp_path / "good.txt"
    good.write_text("The deposit was returned on 3 March.", encoding="utf-8")
    reader = IsolatedReader(ReadingLimits(seconds=120, memory_mb=400))
    try:
        with pytest.raises(ReadingStopped, match=r"needed more than 0\.4 GB of memory"):
            reader.read(heavy)
        assert "returned on 3 March" in reader.read(good).pages[0].text
    finally:
        reader.close()


def test_a_reader_that_crashes_costs_only_that_file(reader: IsolatedReader,
                                                    tmp_path: Path) -> None:
    slow = shared_stream_pdf(tmp_path / "slow.pdf", pages=2, stream_mb=70, shared=False)
    good = make_pdf(tmp_path / "good.pdf", ["The hearing is on 4 May."], "Hearing")
    reader.read(good)  # the child is running
    child = reader._child  # the seam this test is about: the child process
    assert child is not None
    threading.Timer(0.5, child.kill).start()
    with pytest.raises(ReadingStopped, match="stopped Enclave's document reader"):
        reader.read(slow)
    assert "4 May" in reader.read(good).pages[0].text


def test_stopping_an_ingest_ends_a_long_read_at_once(reader: IsolatedReader,
                                                     tmp_path: Path) -> None:
    slow = shared_stream_pdf(tmp_path / "slow.pdf", pages=2, stream_mb=70, shared=False)
    stop = threading.Event()
    threading.Timer(0.5, stop.set).start()
    started = time.monotonic()
    with pytest.raises(ReadingStopped, match="stopped while it was being read"):
        reader.read(slow, stop)
    assert time.monotonic() - started < 5


def test_scanned_pages_are_drawn_in_the_child(reader: IsolatedReader, tmp_path: Path) -> None:
    source = make_pdf(tmp_path / "src.pdf", ["The claimant seeks damages."])
    scan = make_image_only_pdf(source, tmp_path / "scan.pdf")
    document = reader.read(scan)
    assert document.scanned == (1,)
    image = reader.page_image(scan, document.format, 1)
    assert image.startswith(b"\x89PNG")
    with pytest.raises(UnreadableDocument, match="page 2"):
        reader.page_image(scan, document.format, 2)


def test_pages_slow_to_draw_stop_after_three(tmp_path: Path) -> None:
    # Every page draws 70 MB of instructions: some 10 s each, against a 1 s limit a page.
    crafted = shared_stream_pdf(tmp_path / "slow-pages.pdf", pages=300, stream_mb=70)
    reader = IsolatedReader(ReadingLimits(seconds=60, memory_mb=1024, page_seconds=1))
    try:
        document = reader.read(crafted)
        outcomes = []
        for number in document.scanned:
            try:
                reader.page_image(crafted, document.format, number)
                outcomes.append("drawn")
            except ReadingStopped as exc:
                outcomes.append(exc.why)
                break
            except UnreadableDocument as exc:
                outcomes.append(exc.reason)
        assert outcomes == ["page 1 took longer than 1 second to draw",
                            "page 2 took longer than 1 second to draw",
                            "its pages took too long to draw"]
    finally:
        reader.close()


def test_an_ingest_reads_past_crafted_files(tmp_path: Path, enclave_home: Path,
                                            embedder: object) -> None:
    folder = tmp_path / "matter"
    folder.mkdir()
    shared_stream_pdf(folder / "slow.pdf", pages=3, stream_mb=70, shared=False)
    docx_bomb(folder / "bomb.docx", unpacked_mb=100)
    (folder / "note.txt").write_text("Tenancy note: the deposit of 1,200 pounds was returned "
                                     "on 3 March.", encoding="utf-8")
    reader = IsolatedReader(ReadingLimits(seconds=3, memory_mb=1024))
    library = Library(enclave_home / "index", embedder, reader=reader)  # type: ignore[arg-type]
    try:
        events = {e.path.name: e for e in library.ingest([folder], "Matter")
                  if e.path is not None and e.kind != "reading"}
        assert events["note.txt"].kind == "indexed"
        assert events["slow.pdf"].kind == "failed"
        assert "took longer than 3 seconds to read" in events["slow.pdf"].detail
        assert events["bomb.docx"].kind == "failed"
        assert "its text would unpack to 100 MB" in events["bomb.docx"].detail
        assert reader._child is None  # no reader left running after an ingest
    finally:
        library.close()
