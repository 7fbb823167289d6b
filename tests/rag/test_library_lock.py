"""Several processes on one library: writers take turns, a lost vector is found and repaired,
and two copies of one file are not both reported indexed."""

from __future__ import annotations

import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from rag.library import Library
from rag.library_lock import LibraryBusy, LibraryLock

HOLD = """
import fcntl, os, sys, time
fd = os.open(sys.argv[1], os.O_RDWR | os.O_CREAT, 0o600)
fcntl.flock(fd, fcntl.LOCK_EX)
print("held", flush=True)
time.sleep(float(sys.argv[2]))
"""


def _holder(path: Path, seconds: float) -> subprocess.Popen[str]:
    """Another process holding the library lock for a while."""
    process = subprocess.Popen([sys.executable, "-c", HOLD, str(path), str(seconds)],
                               stdout=subprocess.PIPE, text=True)
    assert process.stdout is not None and process.stdout.readline().strip() == "held"
    return process


def test_a_writer_waits_for_another_processes_write(tmp_path: Path) -> None:
    holder = _holder(tmp_path / "library.lock", 1.0)
    lock = LibraryLock(tmp_path, wait_seconds=30)
    started = time.monotonic()
    with lock.exclusive():
        waited = time.monotonic() - started
    holder.wait()
    assert waited > 0.5, "took the lock while the other process held it"


def test_a_process_that_holds_the_lock_too_long_is_named_not_waited_for_forever(
        tmp_path: Path) -> None:
    holder = _holder(tmp_path / "library.lock", 5.0)
    lock = LibraryLock(tmp_path, wait_seconds=0.3)
    with pytest.raises(LibraryBusy, match="Another Enclave window or command"), lock.shared():
        pass
    holder.kill()


def test_readers_share_and_a_search_inside_a_write_stays_exclusive(tmp_path: Path) -> None:
    one, two = LibraryLock(tmp_path, wait_seconds=0.3), LibraryLock(tmp_path, wait_seconds=0.3)
    with one.shared(), two.shared():
        pass  # two searches at once
    with one.exclusive(), one.shared(), pytest.raises(LibraryBusy), two.shared():
        pass
    with two.exclusive():  # released in the end
        pass


def test_a_lost_vector_is_found_by_the_check_and_embedded_again(library: Library,
                                                                tmp_path: Path) -> None:
    (tmp_path / "lease.txt").write_text(
        "The tenant shall pay the rent on the first day of each month. The landlord shall "
        "repair the roof within fourteen days of notice.\n\n" + "The deposit is held by the "
        "scheme. " * 30, encoding="utf-8")
    list(library.ingest([tmp_path / "lease.txt"], "Lease"))
    [healthy] = library.verify_index()
    assert healthy.healthy and healthy.passages > 0
    # What two writers at once used to do: a passage catalogued, its vector gone.
    store = library._store(library._collection("Lease"))
    victim = sorted(store.entry_ids())[0]
    store._collection.delete(ids=[victim])  # type: ignore[attr-defined]
    [broken] = library.verify_index()
    assert broken.lost == 1 and not broken.healthy
    assert broken.documents == (str(tmp_path / "lease.txt"),)
    [mended] = library.verify_index(repair=True)
    assert mended.repaired
    [after] = library.verify_index()
    assert after.lost == 0 and after.healthy
    assert library.search("When is the rent paid?", "Lease", 3)


def test_two_copies_of_one_file_are_one_indexed_and_one_unchanged(library: Library,
                                                                  tmp_path: Path) -> None:
    folder = tmp_path / "consents"
    folder.mkdir()
    for name in ("consent.txt", "consent (copy).txt"):
        (folder / name).write_text("The patient consents to the procedure described by "
                                     "Dr Okafor on 3 March.", encoding="utf-8")
    events = [e for e in library.ingest([folder], "Consents")
              if e.path is not None and e.kind not in ("opening", "reading", "indexing")]
    kinds = sorted(e.kind for e in events)
    assert kinds == ["indexed", "unchanged"]
    assert "same content as" in next(e.detail for e in events if e.kind == "unchanged")
    assert len(library.documents("Consents")) == 1


def test_another_library_sees_what_this_one_wrote(library: Library, tmp_path: Path,
                                                  enclave_home: Path, embedder: object) -> None:
    """The window's library and a CLI ingest's, in one process here (each opens its own
    Chroma, as two processes do): the window finds what the ingest wrote after it opened."""
    window = Library(enclave_home / "index", embedder)  # type: ignore[arg-type]
    try:
        (tmp_path / "a.txt").write_text("The warranty lasts two years from delivery.",
                                        encoding="utf-8")
        list(library.ingest([tmp_path / "a.txt"], "Shared"))
        assert window.search("How long is the warranty?", "Shared", 3)
        (tmp_path / "b.txt").write_text("The invoice is payable within thirty days.",
                                        encoding="utf-8")
        list(library.ingest([tmp_path / "b.txt"], "Shared"))
        hits = window.search("When is the invoice payable?", "Shared", 3)
        assert hits and hits[0].passage.source.endswith("b.txt")
        assert all(c.healthy for c in window.verify_index())
    finally:
        window.close()


def test_writes_from_two_threads_of_two_libraries_take_turns(library: Library, tmp_path: Path,
                                                            enclave_home: Path,
                                                            embedder: object) -> None:
    other = Library(enclave_home / "index", embedder)  # type: ignore[arg-type]
    try:
        for side in ("one", "two"):
            (tmp_path / side).mkdir()
            for n in range(6):
                (tmp_path / side / f"{side}-{n}.txt").write_text(
                    f"Note {n} of folder {side}: the meeting on day {n} agreed item {n}.\n\n"
                    + f"Further detail {side} {n}. " * 40, encoding="utf-8")
        threads = [threading.Thread(target=lambda lib=lib, side=side: list(
            lib.ingest([tmp_path / side], "Both")))
            for lib, side in ((library, "one"), (other, "two"))]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert len(library.documents("Both")) == 12
        assert all(c.lost == 0 for c in other.verify_index())
    finally:
        other.close()


WRITE_HOLD = """
import sqlite3, sys, time
db = sqlite3.connect(sys.argv[1], isolation_level=None)
db.execute("BEGIN IMMEDIATE")
print("writing", flush=True)
time.sleep(float(sys.argv[2]))
db.execute("COMMIT")
"""


def test_a_catalogue_write_waits_out_another_processes_long_write(tmp_path: Path) -> None:
    """Another Enclave process's batch is one database transaction, Chroma's upsert included;
    under load it outlasted the 10 s a write used to wait, and the other ingest stopped with
    "database is locked" (seen in CI's two-ingests-at-once test)."""
    from tests.doubles import HashEmbedder

    library = Library(tmp_path / "index", HashEmbedder())
    library.create_collection("Ward")
    writer = subprocess.Popen([sys.executable, "-c", WRITE_HOLD,
                               str(tmp_path / "index" / "library.sqlite3"), "12"],
                              stdout=subprocess.PIPE, text=True)
    assert writer.stdout is not None and writer.stdout.readline().strip() == "writing"
    started = time.monotonic()
    library.dismiss_failed("Ward", [tmp_path / "gone.pdf"])  # a write, no exception
    assert time.monotonic() - started > 5  # it did wait for the other write
    writer.wait(30)
    library.close()
