"""Ingestion through the Library on real files, real Chroma and the real embedder."""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator, Sequence
from pathlib import Path

import pytest

from rag.catalog import CollectionError
from rag.embedder import MiniLMEmbedder
from rag.index_storage import ServerStorage
from rag.keyword_index import KeywordIndex
from rag.library import Library
from rag.services import IngestEvent
from tests.doubles import HashEmbedder
from tests.factories import make_docx, make_html, make_pdf, make_text

NOTICE = ["1. Parties\nThis lease is between Acme Ltd and Bolt LLP.",
          "4.2 Notice\nThe tenant may end this lease by giving three months' notice in writing."]


@pytest.fixture(params=["embedded", "shared servers"])
def library(request: pytest.FixtureRequest, enclave_home: Path,
            embedder: MiniLMEmbedder) -> Iterator[Library]:
    """Every test here twice: on the library's own files (the default), and on a practice's
    shared index, a real PostgreSQL and a real Chroma server."""
    storage = None
    if request.param == "shared servers":
        storage = ServerStorage(request.getfixturevalue("shared_index"))
    lib = Library(enclave_home / "index", embedder, storage=storage)
    yield lib
    lib.close()


def kinds(events: list[IngestEvent]) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for e in events:
        found.setdefault(e.kind, []).append(e.path.name if e.path else "")
    return found


def passage_count(library: Library, collection: str) -> int:
    return sum(c.passages for c in library.collections() if c.name == collection)


def test_a_folder_is_indexed_and_searchable_with_pages(library: Library, tmp_path: Path) -> None:
    folder = tmp_path / "matter"
    make_pdf(folder / "lease.pdf", NOTICE, title="Lease")
    make_docx(folder / "memo.docx", [("heading1", "Memo"),
                                     ("paragraph", "The landlord is Acme Ltd of Leeds.")])
    make_html(folder / "note.html", "Note", "<p>Rent is GBP 2,000 a month.</p>")
    events = list(library.ingest([folder], "Acme lease"))
    assert events[0].kind == "started" and events[-1].kind == "finished"
    assert sorted(kinds(events)["indexed"]) == ["lease.pdf", "memo.docx", "note.html"]
    assert events[-1].done == events[-1].total == 3
    hit = library.search("how much notice must the tenant give?", "Acme lease", 3)[0]
    assert Path(hit.passage.source).name == "lease.pdf" and hit.passage.page == 2
    assert "three months' notice" in hit.passage.text
    docs = {d.path.name: d for d in library.documents("Acme lease")}
    assert docs["lease.pdf"].pages == 2 and docs["lease.pdf"].passages >= 1


def test_unchanged_files_cost_nothing_and_changed_files_replace(library: Library,
                                                                 tmp_path: Path) -> None:
    doc = make_text(tmp_path / "policy.txt", "Visitors must sign in at reception.\n")
    list(library.ingest([doc], "c"))
    before = passage_count(library, "c")
    again = list(library.ingest([doc], "c"))
    assert kinds(again)["unchanged"] == ["policy.txt"]
    assert passage_count(library, "c") == before

    # Same bytes, new mtime: the hash says unchanged.
    os.utime(doc, ns=(1_000_000_000, 1_000_000_000))
    assert kinds(list(library.ingest([doc], "c")))["unchanged"] == ["policy.txt"]

    make_text(doc, "Visitors must wear a badge at all times.\n")
    changed = list(library.ingest([doc], "c"))
    assert kinds(changed)["indexed"] == ["policy.txt"]
    hits = library.search("visitors", "c", 5)
    assert [h.passage.text for h in hits] == ["Visitors must wear a badge at all times."]


def test_forget_removes_a_document(library: Library, tmp_path: Path) -> None:
    a = make_text(tmp_path / "a.txt", "Apples are stored in the cold room.\n")
    b = make_text(tmp_path / "b.txt", "Bananas are stored in the warm room.\n")
    list(library.ingest([a, b], "fruit"))
    assert library.forget(a, "fruit") is True
    assert library.forget(a, "fruit") is False
    sources = {Path(h.passage.source).name for h in library.search("stored room", "fruit", 5)}
    assert sources == {"b.txt"}
    assert [d.path.name for d in library.documents("fruit")] == ["b.txt"]


def test_collections_never_mix(library: Library, tmp_path: Path) -> None:
    list(library.ingest([make_text(tmp_path / "smith.txt", "Smith's knee was injured.\n")],
                        "Smith v Jones (2024)"))
    list(library.ingest([make_text(tmp_path / "brown.txt", "Brown's knee was injured.\n")],
                        "Patient: Brown / ward 3"))
    for collection, name in (("Smith v Jones (2024)", "smith.txt"),
                             ("Patient: Brown / ward 3", "brown.txt")):
        hits = library.search("knee injury", collection, 10)
        assert {Path(h.passage.source).name for h in hits} == {name}
    assert {c.name for c in library.collections()} == {"Smith v Jones (2024)",
                                                        "Patient: Brown / ward 3"}
    with pytest.raises(CollectionError, match="no collection named 'Nope'"):
        library.search("knee", "Nope", 5)


def test_collections_rename_and_delete(library: Library, tmp_path: Path) -> None:
    list(library.ingest([make_text(tmp_path / "x.txt", "Xylophones are loud.\n")], "Old"))
    library.rename_collection("Old", "New")
    assert library.search("xylophone", "New", 1)
    library.delete_collection("New")
    assert library.collections() == []
    list(library.ingest([make_text(tmp_path / "y.txt", "Yaks are hairy.\n")], "New"))
    assert {Path(h.passage.source).name for h in library.search("animals", "New", 5)} == \
        {"y.txt"}


def test_bad_files_are_named_and_the_rest_indexed(library: Library, tmp_path: Path) -> None:
    folder = tmp_path / "in"
    make_text(folder / "good.txt", "The boiler is serviced every May.\n")
    (folder / "broken.pdf").write_bytes(b"%PDF-1.4\n1 0 obj <<")
    (folder / "empty.txt").write_bytes(b"")
    (folder / "photo.jpg").write_bytes(b"\xff\xd8\xff\xe0 not a document")  # a broken scan
    (folder / "budget.xlsx").write_bytes(b"PK\x03\x04 a spreadsheet")
    outside = make_text(tmp_path / "secret.txt", "The safe code is 4711.\n")
    (folder / "link.txt").symlink_to(outside)
    events = list(library.ingest([folder], "house"))
    found = kinds(events)
    assert found["indexed"] == ["good.txt"]
    assert sorted(found["failed"]) == ["broken.pdf", "empty.txt", "photo.jpg"]
    skipped = {e.path.name: e.detail for e in events if e.kind == "skipped" and e.path}
    assert skipped["link.txt"] == "points outside the folder you added"
    assert "not a supported kind of document" in skipped["budget.xlsx"]
    assert all(e.detail for e in events if e.kind == "failed")
    assert all("4711" not in h.passage.text for h in library.search("safe code", "house", 5))


def test_a_file_removed_from_the_folder_is_forgotten(library: Library, tmp_path: Path) -> None:
    folder = tmp_path / "f"
    make_text(folder / "keep.txt", "Keep this note about gardens.\n")
    gone = make_text(folder / "gone.txt", "This note about gardens will be deleted.\n")
    list(library.ingest([folder], "g"))
    gone.unlink()
    events = list(library.ingest([folder], "g"))
    assert any(e.kind == "skipped" and e.path == gone and "forgotten" in e.detail
               for e in events)
    assert [d.path.name for d in library.documents("g")] == ["keep.txt"]


def test_a_crash_mid_ingest_leaves_a_usable_index_and_the_next_ingest_completes(
        enclave_home: Path, embedder: MiniLMEmbedder, tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    index = enclave_home / "index"
    first = make_text(tmp_path / "first.txt", "The first note is about lamps.\n")
    second = make_pdf(tmp_path / "second.pdf", NOTICE)
    library = Library(index, embedder)
    list(library.ingest([first], "c"))

    real_add = KeywordIndex.add

    def crash_after_the_vector_write(self: KeywordIndex, *args: object) -> None:
        raise RuntimeError("power cut")

    monkeypatch.setattr(KeywordIndex, "add", crash_after_the_vector_write)
    with pytest.raises(RuntimeError, match="power cut"):
        list(library.ingest([second], "c"))
    library.close()
    monkeypatch.setattr(KeywordIndex, "add", real_add)

    reopened = Library(index, embedder)  # as after a restart
    assert [d.path.name for d in reopened.documents("c")] == ["first.txt"]
    assert reopened.search("lamps", "c", 1)[0].passage.source == str(first)
    events = list(reopened.ingest([first, second], "c"))
    assert kinds(events)["indexed"] == ["second.pdf"]
    assert kinds(events)["unchanged"] == ["first.txt"]
    hits = reopened.search("notice in writing", "c", 20)
    ids = [h.passage.passage_id for h in hits]
    assert len(ids) == len(set(ids))
    stored = reopened._store(reopened._collection("c")).count()  # vectors, not duplicated
    assert stored == passage_count(reopened, "c") == len(hits)
    reopened.close()


def test_cancel_stops_between_files(library: Library, tmp_path: Path) -> None:
    folder = tmp_path / "many"
    for n in range(3):
        make_text(folder / f"n{n}.txt", f"Note number {n} about trains.\n")
    cancel = threading.Event()
    events = []
    for event in library.ingest([folder], "c", cancel):
        events.append(event)
        cancel.set()  # after "started"
    assert events[-1].kind == "finished" and events[-1].detail == "cancelled"
    assert "indexed" not in kinds(events)


def test_a_document_indexed_by_another_index_version_is_indexed_again(
        library: Library, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import rag.library

    folder = tmp_path / "matter"
    make_pdf(folder / "lease.pdf", NOTICE, title="Lease")
    make_text(folder / "policy.txt", "Visitors sign in at the front desk.")
    assert sorted(kinds(list(library.ingest([folder], "c")))["indexed"]) == [
        "lease.pdf", "policy.txt"]
    before = passage_count(library, "c")
    # The chunker or the embedded text changed: same files, a new index version.
    monkeypatch.setattr(rag.library, "INDEX_VERSION", rag.library.INDEX_VERSION + 1)
    again = kinds(list(library.ingest([folder], "c")))
    assert sorted(again["indexed"]) == ["lease.pdf", "policy.txt"]
    assert "unchanged" not in again
    assert passage_count(library, "c") == before  # replaced, not duplicated
    hits = library.search("how much notice must the tenant give", "c", 5)
    assert len({h.passage.passage_id for h in hits}) == len(hits)
    assert hits[0].passage.page == 2
    # Built by the current version now: nothing more to do.
    assert sorted(kinds(list(library.ingest([folder], "c")))["unchanged"]) == [
        "lease.pdf", "policy.txt"]


def test_a_catalogue_from_before_index_versions_counts_as_version_zero(tmp_path: Path) -> None:
    import sqlite3

    from rag.catalog import Catalog

    db = sqlite3.connect(tmp_path / "old.sqlite3")
    db.executescript("""
        CREATE TABLE collections (id TEXT PRIMARY KEY, name TEXT NOT NULL UNIQUE,
                                  created_at TEXT NOT NULL);
        CREATE TABLE documents (collection_id TEXT NOT NULL, path TEXT NOT NULL,
            sha256 TEXT NOT NULL, size INTEGER NOT NULL, mtime_ns INTEGER NOT NULL,
            title TEXT NOT NULL, pages INTEGER NOT NULL, passages INTEGER NOT NULL,
            state TEXT NOT NULL, ingested_at TEXT NOT NULL,
            PRIMARY KEY (collection_id, path));
        INSERT INTO collections VALUES ('c-x', 'x', '2026-01-01');
        INSERT INTO documents VALUES ('c-x', '/d/a.txt', 'ab', 3, 1, 'A', 1, 1, 'complete',
                                      '2026-01-01');
    """)
    catalog = Catalog(db)
    collection = catalog.find_collection("x")
    assert collection is not None
    [row] = catalog.documents(collection)
    assert row.path == "/d/a.txt" and row.index_version == 0


def test_a_search_sees_what_another_library_on_the_same_files_just_indexed(
        enclave_home: Path, embedder: MiniLMEmbedder, tmp_path: Path) -> None:
    # The keyword side searches on its own read-only connection and thread: it must see what
    # was written since (here by a second process's worth of library), and close cleanly.
    def keyword_threads() -> set[threading.Thread]:
        return {t for t in threading.enumerate() if t.name.startswith("enclave-keyword-search")}

    before = keyword_threads()  # other tests' libraries may still be open
    reader = Library(enclave_home / "index", embedder)
    reader.create_collection("Acme lease")
    assert reader.search("notice", "Acme lease", 3) == []
    writer = Library(enclave_home / "index", embedder)
    make_pdf(tmp_path / "m" / "lease.pdf", NOTICE, title="Lease")
    list(writer.ingest([tmp_path / "m"], "Acme lease"))
    writer.close()
    hit = reader.search("three months", "Acme lease", 3)[0]
    assert "three months' notice" in hit.passage.text
    assert keyword_threads() - before
    reader.close()
    assert keyword_threads() <= before


def test_a_long_document_is_indexed_after_the_short_ones_with_its_progress(
        tmp_path: Path, embedder: object) -> None:
    folder = tmp_path / "matter"
    folder.mkdir()
    paragraph = ("The tenant shall keep the roof, gutters and drains in repair and shall "
                 "notify the landlord of any defect within seven days. ")
    (folder / "a-bundle.txt").write_text("\n\n".join(f"Clause {n}. {paragraph * 6}"
                                                     for n in range(1, 80)), encoding="utf-8")
    (folder / "b-note.txt").write_text("The deposit was returned on 3 March.", encoding="utf-8")
    (folder / "c-note.txt").write_text("The hearing is listed for 4 May.", encoding="utf-8")
    library = Library(tmp_path / "index", embedder,  # type: ignore[arg-type]
                      long_document_passages=20)
    try:
        events = list(library.ingest([folder], "Matter"))
    finally:
        library.close()
    files = [e.path.name for e in events if e.kind == "indexed" and e.path is not None]
    assert files == ["b-note.txt", "c-note.txt", "a-bundle.txt"], "the short ones first"
    progress = [e for e in events if e.kind == "indexing"]
    assert progress and {e.path.name for e in progress if e.path} == {"a-bundle.txt"}
    done = [e.texts_done for e in progress]
    assert done == sorted(done) and done[0] == 0 and progress[0].texts > done[-1]
    assert all(e.done == 2 and e.total == 3 for e in progress), "two files done, one going"
    assert events[-1].kind == "finished" and events[-1].done == 3


def test_every_file_read_and_every_embedding_step_is_reported(tmp_path: Path,
                                                               embedder: object) -> None:
    """'Indexing 1 of 7' must not stand still while files are read and embedded together."""
    folder = tmp_path / "matter"
    folder.mkdir()
    paragraph = "The landlord shall insure the building against fire and flood. " * 5
    for n in range(1, 5):
        (folder / f"note-{n}.txt").write_text("\n\n".join(f"Note {n}, clause {k}. {paragraph}"
                                                          for k in range(1, 40)))
    library = Library(tmp_path / "index", embedder)  # type: ignore[arg-type]
    try:
        events = list(library.ingest([folder], "Matter"))
    finally:
        library.close()
    read = [e for e in events if e.kind == "opening"]
    assert [e.path.name for e in read if e.path] == [f"note-{n}.txt" for n in range(1, 5)]
    assert [e.done for e in read] == [0, 1, 2, 3] and all(e.total == 4 for e in read)
    steps = [e for e in events if e.kind == "indexing"]
    assert len(steps) >= 2, "the four files' texts take several embedding steps"
    assert all(e.path is None and e.files == 4 and e.done == 0 for e in steps)
    assert [e.texts_done for e in steps] == sorted(e.texts_done for e in steps)
    assert steps[-1].texts_done < steps[-1].texts
    assert "indexing 4 files" in steps[0].detail
    assert [e.path.name for e in events if e.kind == "indexed" and e.path] == \
        [f"note-{n}.txt" for n in range(1, 5)]


def test_a_failed_file_is_recorded_until_it_is_indexed(library: Library,
                                                         tmp_path: Path) -> None:
    folder = tmp_path / "matter"
    make_text(folder / "policy.txt", "Visitors must sign in at reception.\n")
    broken = folder / "broken.pdf"
    broken.parent.mkdir(parents=True, exist_ok=True)
    broken.write_bytes(b"%PDF-1.4\nthis is not really a pdf\n")
    list(library.ingest([folder], "Matter 12"))
    [failed] = library.failed_files("Matter 12")
    assert failed.path == broken and len(failed.reason) > 5 and failed.failed_at
    assert library.failed_files("another collection") == []

    # Fixed, and ingested again (a retry): indexed, and no longer listed as failed.
    make_pdf(broken, ["The broken file is readable now: rent is due monthly."])
    events = list(library.ingest([broken], "Matter 12"))
    assert kinds(events)["indexed"] == ["broken.pdf"]
    assert library.failed_files("Matter 12") == []


def test_a_failed_file_can_be_dismissed_and_goes_with_its_collection(library: Library,
                                                                     tmp_path: Path) -> None:
    broken = tmp_path / "broken.pdf"
    broken.write_bytes(b"%PDF-1.4\nthis is not really a pdf\n")
    list(library.ingest([broken], "c"))
    assert [f.path for f in library.failed_files("c")] == [broken]
    library.dismiss_failed("c", [broken])
    assert library.failed_files("c") == []
    list(library.ingest([broken], "c"))
    library.delete_collection("c")
    library.create_collection("c")
    assert library.failed_files("c") == []


def test_files_without_pages_count_none(library: Library, tmp_path: Path) -> None:
    make_text(tmp_path / "m" / "notes.txt", "Visitors must sign in at reception.\n")
    make_text(tmp_path / "m" / "paged.txt", "First page.\fSecond page.\f")
    make_pdf(tmp_path / "m" / "one.pdf", ["A single page of a lease."])
    list(library.ingest([tmp_path / "m"], "c"))
    docs = {d.path.name: d for d in library.documents("c")}
    assert docs["notes.txt"].pages == 0 and docs["notes.txt"].size > 0
    assert docs["paged.txt"].pages == 2
    assert docs["one.pdf"].pages == 1


class _WaitsForTheNextFile(HashEmbedder):
    """Embeds only once the ingest has opened the file after the batch being embedded, and
    remembers whether that happened: it cannot, unless reading and embedding overlap."""

    def __init__(self) -> None:
        self.next_file_opened = threading.Event()
        self.overlapped: list[bool] = []

    def embed(self, texts: Sequence[str]) -> list[list[float]]:
        if not self.overlapped:
            self.overlapped.append(self.next_file_opened.wait(timeout=10))
        return super().embed(texts)


def test_the_next_file_is_read_while_a_batch_is_embedded(tmp_path: Path) -> None:
    folder = tmp_path / "matter"
    paragraph = "The tenant shall keep the roof, gutters and drains in good repair. " * 12
    for n in range(1, 4):  # about 80 passages each: the first batch is full after two files
        make_text(folder / f"bundle-{n}.txt",
                  "\n\n".join(f"Bundle {n}, clause {k}. {paragraph}" for k in range(80)))
    embedder = _WaitsForTheNextFile()
    library = Library(tmp_path / "index", embedder)  # type: ignore[arg-type]
    events = []
    try:
        for event in library.ingest([folder], "Matter"):
            events.append(event)
            if event.kind == "opening" and event.path and event.path.name == "bundle-3.txt":
                embedder.next_file_opened.set()
        assert library.search("gutters and drains", "Matter", 3)
    finally:
        library.close()
    assert embedder.overlapped == [True], "bundle-3 was opened while bundles 1-2 embedded"
    assert [e.path.name for e in events if e.kind == "indexed" and e.path] == \
        ["bundle-1.txt", "bundle-2.txt", "bundle-3.txt"], "written in the order they were read"
    assert events[-1].kind == "finished" and events[-1].done == 3


def test_an_ingest_stopped_by_its_reader_leaves_no_embedding_running(tmp_path: Path) -> None:
    """The window's ingest may be dropped half way (the caller stops reading): the embedder's
    thread lets go, and the library closes."""
    folder = tmp_path / "matter"
    paragraph = "The landlord shall insure the building against fire and flood. " * 12
    for n in range(1, 4):
        make_text(folder / f"note-{n}.txt",
                  "\n\n".join(f"Note {n}, clause {k}. {paragraph}" for k in range(80)))
    others = set(threading.enumerate())  # other tests' libraries may still be open
    library = Library(tmp_path / "index", HashEmbedder())  # type: ignore[arg-type]
    try:
        for event in library.ingest([folder], "Matter"):
            if event.kind == "opening" and event.path and event.path.name == "note-3.txt":
                break  # the first batch is embedding now
    finally:
        library.close()
    reopened = Library(tmp_path / "index", HashEmbedder())  # type: ignore[arg-type]
    try:
        events = list(reopened.ingest([folder], "Matter"))
        assert sorted(e.path.name for e in events
                      if e.kind in ("indexed", "unchanged") and e.path) == \
            ["note-1.txt", "note-2.txt", "note-3.txt"]
        assert len(reopened.documents("Matter")) == 3
    finally:
        reopened.close()
    assert not [t for t in threading.enumerate()
                if t.name.startswith("enclave-embed") and t not in others]
