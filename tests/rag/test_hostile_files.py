"""Files that used to lose content or stop an ingest: minified HTML, deeply nested HTML, a file
name that is not valid text, and a collection name reused after a rename."""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path

import pytest

from bench.crafted_files import big_text
from rag.catalog import Catalog
from rag.documents import UnreadableDocument
from rag.library import Library
from rag.loaders import load_document

ROWS = [("haemoglobin", "128", "g/L"), ("potassium", "6.8", "mmol/L"),
        ("sodium", "139", "mmol/L"), ("INR", "3.9", "ratio"), ("creatinine", "88", "umol/L")] * 4


def test_minified_html_keeps_every_table_row(tmp_path: Path) -> None:
    rows = "".join(f"<tr><td>{name}</td><td>{value}</td><td>{unit}</td></tr>"
                   for name, value, unit in ROWS)
    page = tmp_path / "labs.html"
    page.write_text("<html><head><title>Lab results</title></head><body><h1>Lab results for "
                    f"patient</h1><table>{rows}</table><p>by Dr Smith.</p></body></html>",
                    encoding="utf-8")
    assert max(len(run) for run in page.read_text().split()) > 1000, "one run, no spaces"
    text = load_document(page).pages[0].text
    assert "potassium" in text and "6.8" in text and "mmol/L" in text and "3.9" in text
    assert text.count("haemoglobin") == 4


def test_fifty_thousand_nested_divs_keep_the_title_and_the_words(tmp_path: Path) -> None:
    page = tmp_path / "deep.html"
    page.write_text("<html><head><title>Referral letter</title></head><body>" + "<div>" * 50_000
                    + "Dear colleague, please see Mrs Romero." + "</div>" * 50_000
                    + "<p>Kind regards</p></body></html>", encoding="utf-8")
    document = load_document(page)
    assert document.title == "Referral letter"
    assert "please see Mrs Romero" in document.pages[0].text
    assert "Kind regards" in document.pages[0].text


def test_a_file_name_that_is_not_valid_text_fails_alone(library: Library, tmp_path: Path) -> None:
    folder = tmp_path / "share"
    folder.mkdir()
    (Path(os.fsdecode(os.fsencode(folder) + b"/r\xe9sum\xe9.txt"))).write_text(
        "An old note about the tenancy deposit.", encoding="utf-8")
    (folder / "good.txt").write_text("A note about rent arrears in March.", encoding="utf-8")
    events = [e for e in library.ingest([folder], "s") if e.path is not None]
    by_kind = {e.kind: e for e in events}
    assert by_kind["indexed"].path.name == "good.txt"
    assert "name is not valid text" in by_kind["failed"].detail


def test_a_renamed_collections_old_name_can_be_used_again(tmp_path: Path) -> None:
    catalog = Catalog(sqlite3.connect(tmp_path / "library.sqlite3"))
    first = catalog.create_collection("Smith v Jones")
    catalog.rename_collection("Smith v Jones", "Smith v Jones (closed)")
    again = catalog.create_collection("Smith v Jones")
    assert again.id != first.id and again.name == "Smith v Jones"
    assert {c.name for c in catalog.collections()} == {"Smith v Jones",
                                                       "Smith v Jones (closed)"}


def test_a_file_with_more_text_than_any_document_is_refused_named(tmp_path: Path) -> None:
    dump = big_text(tmp_path / "export.txt", 12)
    with pytest.raises(UnreadableDocument, match="holds 13 million characters of text"):
        load_document(dump)
    slice_ = big_text(tmp_path / "slice.txt", 5)
    assert len(load_document(slice_).pages[0].text) > 5_000_000
