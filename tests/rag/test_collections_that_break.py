"""Collections that broke retrieval, on real files with the real embedder: a name or a number
that occurs once, one huge repetitive file beside real documents, the same passage in several
places, and a file too big to read."""

from __future__ import annotations

import resource
import shutil
from pathlib import Path

import pytest

from rag.library import Library
from tests.factories import make_text

LICENCES = Path("/usr/share/common-licenses")
NAMES = ("GPL-2", "GPL-3", "LGPL-2.1", "Apache-2.0", "MPL-2.0")
pytestmark = pytest.mark.skipif(not all((LICENCES / n).is_file() for n in NAMES),
                                reason="needs Debian's licence texts")


def licences_with(folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for name in NAMES:
        shutil.copyfile(LICENCES / name, folder / f"{name}.txt")
    return folder


def test_a_name_or_number_that_occurs_once_is_found_first(library: Library,
                                                           tmp_path: Path) -> None:
    folder = licences_with(tmp_path / "matter")
    make_text(folder / "note.txt", "The client Adaeze Okonkwo signed the retainer on 3 March. "
                                   "Billing reference 2024-CV-08817.\n")
    list(library.ingest([folder], "m"))
    for query in ("Adaeze", "2024-CV-08817", "When did Okonkwo sign the retainer?"):
        top = library.search(query, "m", 5)[0]
        assert Path(top.passage.source).name == "note.txt", query
        assert top.features.cosine is not None, "scored on both sides: its real cosine"
        if len(query.split()) == 1:
            assert top.features.rare >= 0.5, "the query is mostly the rare word"


def test_one_huge_repetitive_file_does_not_swamp_the_others(library: Library,
                                                            tmp_path: Path) -> None:
    folder = licences_with(tmp_path / "ward")
    (folder / "lorem.txt").write_text("lorem " * 400_000, encoding="utf-8")  # 2.4 MB
    make_text(folder / "discharge.txt", "DISCHARGE NOTE\nMrs Romero was discharged after a trip "
                                        "to Zanzibar; follow-up in clinic in two weeks.\n")
    events = {Path(e.path).name: e for e in library.ingest([folder], "w") if e.path}
    assert events["lorem.txt"].kind == "indexed"
    assert events["lorem.txt"].passages <= 3, "2,400 copies of one text are stored once"
    hits = library.search("zanzibar", "w", 5)
    assert Path(hits[0].passage.source).name == "discharge.txt"
    texts = [" ".join(h.passage.text.split()) for h in hits]
    assert len(set(texts)) == len(texts), "the same text is never shown twice"
    lorem = library.search("lorem lorem", "w", 5)
    assert any(h.copies >= 2000 and Path(h.passage.source).name == "lorem.txt" for h in lorem)


def test_the_same_passage_in_two_documents_is_shown_once_with_both_places(
        library: Library, tmp_path: Path) -> None:
    clause = ("12. Confidentiality\n\n" + " ".join(
        f"12.{n} Each party shall keep the other party's confidential information secret, "
        f"use it only for the purposes of this agreement, and return it on request ({n})."
        for n in range(1, 6)))
    for name, title, subject in (("msa.txt", "MASTER SERVICES AGREEMENT", "hosting services"),
                                 ("nda.txt", "NON-DISCLOSURE AGREEMENT", "a joint venture")):
        body = " ".join(f"1.{n} The parties agree on {subject}, item {n}, as Schedule {n} "
                        "describes in full, with its prices and service levels." for n in
                        range(1, 12))
        make_text(tmp_path / "docs" / name, f"{title}\n\n1. Scope\n\n{body}\n\n{clause}\n")
    list(library.ingest([tmp_path / "docs"], "c"))
    hits = library.search("keep confidential information secret", "c", 5)
    same = [h for h in hits if "confidential information secret" in h.passage.text]
    assert len(same) == 1
    places = {Path(same[0].passage.source).name,
              *(Path(a["source"]).name for a in same[0].also)}
    assert places == {"msa.txt", "nda.txt"}, "the citation keeps both places"
    assert same[0].to_json()["also_in"]


def test_a_200_megabyte_text_file_is_refused_before_it_is_read(library: Library,
                                                               tmp_path: Path) -> None:
    big = tmp_path / "dump" / "export.txt"
    big.parent.mkdir()
    with big.open("wb") as f:
        f.truncate(200 * 1024 * 1024)  # sparse: costs no disk
    make_text(tmp_path / "dump" / "real.txt", "A real note about the tenancy deposit.\n")
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    events = {Path(e.path).name: e for e in library.ingest([big.parent], "d") if e.path}
    grown_mb = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before) / 1024
    assert events["export.txt"].kind == "failed"
    assert "too large" in events["export.txt"].detail and "split" in events["export.txt"].detail
    assert events["real.txt"].kind == "indexed", "one file never holds the others hostage"
    assert grown_mb < 100, f"memory grew by {grown_mb:.0f} MB"
