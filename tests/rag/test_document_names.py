"""Which documents a question names: by file name, title words, title initials and version."""

from __future__ import annotations

from pathlib import Path

import pytest

from rag.document_names import DocumentName, DocumentNames
from rag.loaders import load_document

# Titles as the text loader reads them from the licence files Debian ships.
LICENCES = {
    "GPL-1.txt": "GNU GENERAL PUBLIC LICENSE, Version 1, February 1989",
    "GPL-2.txt": "GNU GENERAL PUBLIC LICENSE, Version 2, June 1991",
    "GPL-3.txt": "GNU GENERAL PUBLIC LICENSE, Version 3, 29 June 2007",
    "LGPL-2.txt": "GNU LIBRARY GENERAL PUBLIC LICENSE, Version 2, June 1991",
    "LGPL-2.1.txt": "GNU LESSER GENERAL PUBLIC LICENSE, Version 2.1, February 1999",
    "LGPL-3.txt": "GNU LESSER GENERAL PUBLIC LICENSE, Version 3, 29 June 2007",
    "MPL-1.1.txt": "MOZILLA PUBLIC LICENSE, Version 1.1",
    "MPL-2.0.txt": "Mozilla Public License Version 2.0",
    "Apache-2.0.txt": "Apache License, Version 2.0, January 2004",
    "GFDL-1.3.txt": "GNU Free Documentation License, Version 1.3, 3 November 2008",
    "CC0-1.0.txt": "Creative Commons Legal Code, CC0 1.0 Universal",
}


@pytest.fixture(scope="module")
def licences() -> DocumentNames:
    return DocumentNames((Path(f).stem, DocumentName.of(title, f"/matter/{f}"))
                         for f, title in LICENCES.items())


@pytest.mark.parametrize(("question", "named"), [
    ("Under GPLv2 section 3(b), what may I charge for the source?", {"GPL-2"}),
    ("GPL 3: is running a hosted service conveying?", {"GPL-3"}),
    ("under the GNU General Public License version 2, is there a warranty?", {"GPL-2"}),
    ("Under the 1989 GPL (version 1), what about standard libraries?", {"GPL-1"}),
    ("LGPL 2.1: may I link dynamically?", {"LGPL-2.1"}),
    ("Why did the FSF adopt the Library GPL v2?", {"LGPL-2"}),
    ("Mozilla 2.0 patent retaliation", {"MPL-2.0"}),
    ("MPL 1.1: how long must source stay downloadable?", {"MPL-1.1"}),
    ("Can MPL 2.0 code combined into a GPL project be distributed under the GPL?", {"MPL-2.0"}),
    ("Does CC0 waive moral rights?", {"CC0-1.0"}),
    ("Under the FDL, can we keep the original title?", {"GFDL-1.3"}),
    ("Can I use the Apache project's brand names?", {"Apache-2.0"}),
    ("What fee can I charge for a copy?", set()),
    # "free" alone does not name the GNU Free Documentation License
    ("Can the Free Software Foundation publish new versions?", set()),
])
def test_the_document_a_question_names(licences: DocumentNames, question: str,
                                       named: set[str]) -> None:
    assert licences.named_by(question) == named


def test_a_version_without_a_name_names_the_documents_with_that_version() -> None:
    names = DocumentNames([("v2", DocumentName.of("Open Works Public Licence 2.0",
                                                  "/m/licence-v2.pdf")),
                           ("v3", DocumentName.of("Open Works Public Licence 3.0",
                                                  "/m/licence-v3.pdf")),
                           ("msa", DocumentName.of("Master Services Agreement",
                                                   "/m/services-agreement.pdf"))])
    assert names.named_by("version 2: how long must a written offer be valid?") == {"v2"}
    assert names.named_by("What does the MSA say about fees?") == {"msa"}
    assert names.named_by("how long must a written offer be valid?") == set()


def test_the_keyword_side_drops_the_words_that_name_the_document(
        licences: DocumentNames) -> None:
    question = "Under GPLv2 section 3(b), what is the maximum fee for the source?"
    named = licences.named_by(question)
    assert licences.without_names(question, named) == \
        "Under section 3(b), what is the maximum fee for the source?"
    assert licences.without_names("GPL 3", licences.named_by("GPL 3")) == "GPL 3"  # nothing left


def test_a_licence_title_keeps_its_version_line(tmp_path: Path) -> None:
    path = tmp_path / "GPL-2.txt"
    path.write_text("                    GNU GENERAL PUBLIC LICENSE\n"
                    "                       Version 2, June 1991\n\n"
                    " Copyright (C) 1989, 1991 Free Software Foundation, Inc.\n\n"
                    "                            Preamble\n\n  The licenses for most software...\n")
    assert load_document(path).title == "GNU GENERAL PUBLIC LICENSE, Version 2, June 1991"
    underlined = tmp_path / "MPL-2.0.txt"
    underlined.write_text("Mozilla Public License Version 2.0\n"
                          "==================================\n\n1. Definitions\n")
    assert load_document(underlined).title == "Mozilla Public License Version 2.0"
