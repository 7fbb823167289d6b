"""Documents a run indexed but has not reported stay that run's while it is going, and become the
next run's to report once it is over (rag/run_marker.py, Library.unreported)."""

from __future__ import annotations

from pathlib import Path

from rag.library import Library
from rag.run_marker import RunMarker


def test_a_run_still_going_keeps_its_unreported_documents(tmp_path: Path,
                                                          embedder: object) -> None:
    note = tmp_path / "note.txt"
    note.write_text("The deposit of 1,200 pounds was returned on 3 March.", encoding="utf-8")
    writer = Library(tmp_path / "index", embedder)  # type: ignore[arg-type]
    other = Library(tmp_path / "index", embedder)  # type: ignore[arg-type]
    try:
        assert [e.kind for e in writer.ingest([note], "Tenancy")
                if e.path and e.kind not in ("opening", "reading", "indexing")] == ["indexed"]
        assert other.unreported() == {}, "the writer is still going: its documents are its own"
        writer.close()
        assert other.unreported() == {"Tenancy": [note]}
        other.mark_reported("Tenancy", [note])
        assert other.unreported() == {}
    finally:
        other.close()


def test_a_marker_is_going_while_held_and_over_once_released(tmp_path: Path) -> None:
    mine, theirs = RunMarker(tmp_path), RunMarker(tmp_path)
    theirs.hold()
    assert mine.is_going(theirs.id) and mine.is_going(mine.id)
    theirs.close()
    assert not mine.is_going(theirs.id)
    assert not mine.is_going("0" * 32), "a run never seen here is not going"
