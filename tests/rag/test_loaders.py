"""Loaders read real files made in the test: the text, pages and titles a user would see."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from rag.chunking import chunk_document
from rag.documents import DocumentLoader, LoadedDocument
from rag.loaders import (
    SUPPORTED_SUFFIXES,
    DocxLoader,
    HtmlLoader,
    PdfLoader,
    TextLoader,
    is_supported,
    load_document,
)
from tests.factories import make_docx, make_html, make_pdf, make_text

LEASE_PAGES = [
    "1 Definitions\n\"Premises\" means the flat at 12 Rue de l'Église (2nd floor), Lyon.\n"
    "\"Rent\" means the monthly amount stated in clause 2.",
    "2 Rent\nThe Tenant pays a Rent of EUR 1,250 on the first day of each month, by bank "
    "transfer to the account the Landlord names in writing. A late payment carries interest "
    "at 3% above the base rate.",
    "3 Termination\n3.1 Notice\nEither party may end this lease by giving three months' "
    "written notice.",
]


def _flat(text: str) -> str:
    return " ".join(text.split())


def test_pdf_keeps_every_page_with_its_number_and_words(tmp_path: Path) -> None:
    pdf = make_pdf(tmp_path / "lease.pdf", LEASE_PAGES, title="Residential Lease")

    doc = load_document(pdf)

    assert doc.format == "pdf"
    assert doc.title == "Residential Lease"
    assert [page.number for page in doc.pages] == [1, 2, 3]
    for page, written in zip(doc.pages, LEASE_PAGES, strict=True):
        assert _flat(page.text) == _flat(written)
    assert "Église" in doc.pages[0].text  # non-ASCII survives WinAnsi encoding
    assert doc.sha256 == hashlib.sha256(pdf.read_bytes()).hexdigest()
    assert doc.path == pdf.absolute()


def test_pdf_title_falls_back_to_first_heading_then_file_name(tmp_path: Path) -> None:
    with_heading = make_pdf(tmp_path / "a.pdf", ["MASTER SERVICES AGREEMENT\nThe parties agree."])
    without = make_pdf(tmp_path / "board-minutes.pdf", ["we met and we talked about things."])

    assert load_document(with_heading).title == "MASTER SERVICES AGREEMENT"
    assert load_document(without).title == "board-minutes"


def test_pdf_running_headers_and_page_numbers_are_not_content(tmp_path: Path) -> None:
    bodies = ["The claimant sues.", "The defendant denies it.", "Witnesses were heard.",
              "Judgment for the claimant."]
    pages = [f"CONFIDENTIAL - ACME v. BOLT\n{body}\nPage {n} of 4"
             for n, body in enumerate(bodies, start=1)]
    doc = load_document(make_pdf(tmp_path / "brief.pdf", pages))

    assert [page.text for page in doc.pages] == bodies


def test_docx_headings_become_structure_and_tables_are_read(tmp_path: Path) -> None:
    docx = make_docx(tmp_path / "policy.docx", [
        ("heading1", "Data Retention Policy"),
        ("paragraph", "We keep client files for seven years."),
        ("heading2", "4.2 Deletion"),
        ("paragraph", "Files are deleted within 30 days of the retention end."),
        ("table", "Record|Retention\nInvoices|10 years\nEmails|2 years"),
    ])

    doc = load_document(docx)

    assert doc.format == "docx"
    assert doc.title == "Data Retention Policy"
    text = doc.pages[0].text
    assert "# Data Retention Policy" in text.split("\n")
    assert "## 4.2 Deletion" in text.split("\n")
    assert "| Invoices | 10 years |" in text
    assert doc.pages[0].number is None


def test_docx_title_comes_from_document_properties(tmp_path: Path) -> None:
    docx = make_docx(tmp_path / "x.docx", [("paragraph", "Body.")], title="Engagement Letter")
    assert load_document(docx).title == "Engagement Letter"


def test_html_keeps_visible_text_and_headings_and_drops_scripts_and_navigation(
    tmp_path: Path,
) -> None:
    html = make_html(tmp_path / "notice.html", "Privacy Notice", """
        <nav><a href="/">Home</a> | <a href="/about">About us</a></nav>
        <h1>Privacy Notice</h1>
        <p>We process data &amp; keep it&nbsp;safe &mdash; always.</p>
        <h2>Your rights</h2>
        <ul><li>Access</li><li>Erasure</li></ul>
        <script>alert('tracking');</script>
    """)

    doc = load_document(html)

    assert doc.format == "html"
    assert doc.title == "Privacy Notice"
    lines = doc.pages[0].text.split("\n")
    assert "# Privacy Notice" in lines
    assert "## Your rights" in lines
    assert "We process data & keep it safe — always." in lines
    assert "Access" in lines and "Erasure" in lines
    text = doc.pages[0].text
    assert "tracking" not in text and "About us" not in text and "font-family" not in text


def test_generated_documentation_loses_its_sidebars_and_permalinks(tmp_path: Path) -> None:
    # The shape Sphinx gives a manual: a related-links bar and a sidebar with role
    # "navigation", a permalink "¶" after each heading, and a "Contents" chapter.
    html = make_html(tmp_path / "policy.html", "Packaging Policy", """
        <div class="related" role="navigation"><h3>Navigation</h3>
          <ul><li><a href="#">index</a></li><li><div><a href="#">next</a></div></li></ul></div>
        <h1>Abstract<a class="headerlink" href="#abstract">¶</a></h1>
        <p>This document describes the packaging of Python.</p>
        <h1>Contents<a class="headerlink" href="#contents">¶</a></h1>
        <h2>1. Wheels<a class="headerlink" href="#wheels">¶</a></h2>
        <p>Binary packages must not ship wheel files; they are built at install time.</p>
        <div class="sphinxsidebar" role="navigation"><p>Quick search</p></div>
    """)
    passages = chunk_document(load_document(html))
    text = "\n".join(p.text for p in passages)
    assert "¶" not in text and "Navigation" not in text and "Quick search" not in text
    wheels = next(p for p in passages if "wheel files" in p.text)
    assert wheels.section == "1. Wheels"  # not "Abstract > 1. Wheels" or "Contents > ..."


def test_html_in_windows_1252_declared_in_meta_is_decoded(tmp_path: Path) -> None:
    html = make_html(tmp_path / "old.htm", "Ancien", "<p>Résiliation du bail: préavis.</p>",
                     encoding="cp1252")
    doc = load_document(html)
    assert "Résiliation du bail: préavis." in doc.pages[0].text


def test_html_title_falls_back_to_first_h1(tmp_path: Path) -> None:
    path = tmp_path / "page.html"
    path.write_text("<html><body><h1>Board Resolution</h1><p>Approved.</p></body></html>")
    assert load_document(path).title == "Board Resolution"


@pytest.mark.parametrize(
    "encoding", ["utf-8", "utf-8-sig", "cp1252", "utf-16", "utf-16-le", "utf-16-be", "utf-32"]
)
def test_text_in_common_encodings_reads_the_same(tmp_path: Path, encoding: str) -> None:
    words = "Kündigung: the café’s lease ends on 31 März — notice €500.\nSecond line."
    if encoding == "cp1252":
        words = words.replace("—", "-")  # present in cp1252, but keep the test about letters
    path = tmp_path / f"note-{encoding}.txt"
    path.write_bytes(words.encode(encoding))

    doc = load_document(path)

    assert doc.pages[0].text == words
    assert doc.format == "txt"


def test_markdown_title_and_format(tmp_path: Path) -> None:
    md = make_text(tmp_path / "memo.markdown", "Intro line\n\n# Settlement Memo\n\nText.")
    doc = load_document(md)
    assert doc.format == "md"
    assert doc.title == "Settlement Memo"


def test_nul_bytes_and_control_characters_are_stripped(tmp_path: Path) -> None:
    path = tmp_path / "dirty.txt"
    path.write_bytes(b"Clause\x00 7\x07 applies to every tenant of the building\x1b.\r\n"
                     b"Next\tline\x0b of the notice.\r\n")
    doc = load_document(path)
    assert doc.pages[0].text == (
        "Clause 7 applies to every tenant of the building.\nNext\tline of the notice."
    )


def test_terminal_formatting_leaves_only_the_words(tmp_path: Path) -> None:
    # A manual saved from a terminal: ANSI bold/underline codes and nroff overstriking.
    path = tmp_path / "man-db-manual.txt"
    path.write_bytes(b"Stray cats are kept under \x1b[4m/usr\x1b[24m, not under "
                     b"\x1b[1m/var/cache/man\x1b[0m.\n"
                     b"S\x08Se\x08ee\x08e _\x08a_\x08l_\x08s_\x08o the "
                     b"\x1b[1;31mmandb\x1b[m command.\n")
    doc = load_document(path)
    assert doc.pages[0].text == (
        "Stray cats are kept under /usr, not under /var/cache/man.\n"
        "See also the mandb command.")


def test_a_text_file_named_pdf_is_read_as_text(tmp_path: Path) -> None:
    path = make_text(tmp_path / "scan.pdf", "Minutes of the meeting of 3 May.\nAll agreed.")
    doc = load_document(path)
    assert doc.format == "txt"
    assert "All agreed." in doc.pages[0].text


def test_a_pdf_named_txt_is_read_as_pdf_with_pages(tmp_path: Path) -> None:
    pdf = make_pdf(tmp_path / "real.pdf", ["First page.", "Second page."])
    renamed = tmp_path / "export.txt"
    renamed.write_bytes(pdf.read_bytes())
    doc = load_document(renamed)
    assert doc.format == "pdf"
    assert [p.number for p in doc.pages] == [1, 2]


def test_each_loader_satisfies_the_protocol_and_reads_directly(tmp_path: Path) -> None:
    files: dict[DocumentLoader, Path] = {  # mypy checks each class against the Protocol
        PdfLoader(): make_pdf(tmp_path / "a.pdf", ["Alpha."]),
        DocxLoader(): make_docx(tmp_path / "b.docx", [("paragraph", "Bravo.")]),
        HtmlLoader(): make_html(tmp_path / "c.html", "C", "<p>Charlie.</p>"),
        TextLoader(): make_text(tmp_path / "d.txt", "Delta."),
    }
    for loader, path in files.items():
        doc = loader.load(path)
        assert isinstance(doc, LoadedDocument)
        assert doc.pages[0].text.endswith(".")


def test_supported_suffixes() -> None:
    assert {"pdf", "docx", "txt", "md", "markdown", "html", "htm"} <= SUPPORTED_SUFFIXES
    assert is_supported(Path("A/Contract.PDF"))
    assert is_supported("notes.md")
    assert is_supported(Path("scan.TIFF")) and is_supported(Path("photo.jpg"))
    assert not is_supported(Path("budget.xlsx"))
    assert not is_supported(Path("Makefile"))


def test_pdf_chapter_running_heads_with_page_numbers_are_not_content(tmp_path: Path) -> None:
    # A cover page, then chapters of two pages; the printed page number is one less than
    # the PDF's, and each chapter's running head appears on only two pages.
    chapters = ["Definitions", "Definitions", "Rent", "Rent", "Termination", "Termination"]
    bodies = [f"Body of page {n} about {chapter.lower()}." for n, chapter in
              enumerate(chapters, start=2)]
    pages = ["LEASE\nPrepared for the parties."] + [
        f"Chapter {n // 2}: {chapter} {n - 1}\n{body}"
        for n, (chapter, body) in enumerate(zip(chapters, bodies, strict=True), start=2)
    ]
    pages[3] += "\nSchedule 3"  # a real heading that happens to end in the page number

    doc = load_document(make_pdf(tmp_path / "book.pdf", pages))

    assert [page.text for page in doc.pages[1:]] == [
        bodies[0], bodies[1], bodies[2] + "\nSchedule 3", *bodies[3:]
    ]


def test_docx_automatic_heading_numbers_are_shown_as_in_word(tmp_path: Path) -> None:
    docx = make_docx(tmp_path / "msa.docx", [
        ("heading1", "Definitions"),
        ("paragraph", "Words have the meanings given here."),
        ("heading1", "Termination"),
        ("heading2", "Term"),
        ("paragraph", "Three years."),
        ("heading2", "Notice"),
        ("paragraph", "Ninety days in writing."),
        ("heading3", "Form of notice"),
        ("paragraph", "By registered letter."),
    ], numbered_headings=True)

    lines = load_document(docx).pages[0].text.split("\n")

    assert "# 1 Definitions" in lines
    assert "# 2 Termination" in lines
    assert "## 2.1 Term" in lines
    assert "## 2.2 Notice" in lines
    assert "### 2.2.1 Form of notice" in lines


def test_docx_numbered_list_items_keep_their_numbers(tmp_path: Path) -> None:
    docx = make_docx(tmp_path / "duties.docx", [
        ("paragraph", "The Tenant shall:"),
        ("numbered", "pay the rent on time;"),
        ("numbered", "keep the premises clean;"),
        ("bullet", "a bullet has no number"),
        ("numbered", "allow inspections."),
    ])
    lines = load_document(docx).pages[0].text.split("\n")
    assert "1. pay the rent on time;" in lines
    assert "2. keep the premises clean;" in lines
    assert "a bullet has no number" in lines
    assert "3. allow inspections." in lines


def test_docx_reads_what_word_shows_not_what_python_docx_text_sees(tmp_path: Path) -> None:
    import docx
    from docx.oxml import parse_xml
    from docx.oxml.ns import nsdecls

    document = docx.Document()
    body = document.element.body
    w = nsdecls("w")
    for xml in (
        # a tracked change: "sixty" was replaced by "ninety"
        f'<w:p {w}><w:r><w:t xml:space="preserve">Notice period: </w:t></w:r>'
        f'<w:del w:id="1" w:author="A"><w:r><w:delText>sixty</w:delText></w:r></w:del>'
        f'<w:ins w:id="2" w:author="A"><w:r><w:t>ninety</w:t></w:r></w:ins>'
        f'<w:r><w:t xml:space="preserve"> days.</w:t></w:r></w:p>',
        # a content control holding the party's name, as templates do
        f'<w:p {w}><w:r><w:t xml:space="preserve">Landlord: </w:t></w:r><w:sdt><w:sdtContent>'
        f'<w:r><w:t>Acme Properties SA</w:t></w:r></w:sdtContent></w:sdt></w:p>',
        # a block-level content control around a whole paragraph
        f'<w:sdt {w}><w:sdtContent><w:p><w:r><w:t>Governed by Swiss law.</w:t></w:r></w:p>'
        f'</w:sdtContent></w:sdt>',
    ):
        body.insert(len(body) - 1, parse_xml(xml))  # before the final w:sectPr
    path = tmp_path / "tracked.docx"
    document.save(str(path))

    lines = load_document(path).pages[0].text.split("\n")

    assert "Notice period: ninety days." in lines
    assert "Landlord: Acme Properties SA" in lines
    assert "Governed by Swiss law." in lines


def test_html_declared_charset_and_real_utf8(tmp_path: Path) -> None:
    latin = tmp_path / "latin.xhtml.html"
    latin.write_bytes('<?xml version="1.0" encoding="iso-8859-1"?>\n<html><body><p>Préavis de '
                      'trois mois.</p></body></html>'.encode("iso-8859-1"))
    mislabelled = tmp_path / "saved-as-utf8.html"
    mislabelled.write_bytes('<html><head><meta charset="windows-1252"></head><body><p>Préavis '
                            'de trois mois — €0.</p></body></html>'.encode())

    assert load_document(latin).pages[0].text == "Préavis de trois mois."
    assert load_document(mislabelled).pages[0].text == "Préavis de trois mois — €0."


def test_utf8_file_cut_in_the_middle_of_a_character_stays_utf8(tmp_path: Path) -> None:
    words = "Kündigungsfrist: drei Monate. Gebühren: 500 € pro Jahr. Größe: 80 m²."
    path = tmp_path / "cut.txt"
    path.write_bytes(words.encode("utf-8")[:-2])  # cut inside "²": a broken last byte
    text = load_document(path).pages[0].text
    assert text.startswith("Kündigungsfrist: drei Monate. Gebühren: 500 € pro Jahr. Größe: 80 m")


def test_pdf_words_hyphenated_by_the_typesetter_are_whole_again(tmp_path: Path) -> None:
    tex = make_pdf(tmp_path / "tex.pdf", [
        "The parser supports manip-\nulation of trees. Only self-employed persons,\n"
        "that is self-\nemployed ones, may apply."
    ], title="Manual", producer="pdfTeX-1.40.24")
    word = make_pdf(tmp_path / "word.pdf", [
        "Termination is final. Upon termi-\nnation the tenant, if self-\nemployed, pays."
    ], title="Lease", producer="Microsoft Word for Microsoft 365")

    tex_text = _flat(load_document(tex).pages[0].text)
    word_text = _flat(load_document(word).pages[0].text)

    assert "manipulation of trees" in tex_text  # TeX hyphenates: the hyphen goes
    assert "self- employed ones" in tex_text  # written "self-employed" elsewhere: it stays
    assert "Upon termination the tenant" in word_text  # "termination" is in the document
    assert "if self- employed, pays" in word_text  # Word does not hyphenate: kept
    # ... and chunking joins the compound back into one word.
    passage = chunk_document(load_document(word))[0]
    assert "Upon termination the tenant, if self-employed, pays." in passage.text


def test_docx_footnotes_are_read_after_the_body(tmp_path: Path) -> None:
    import docx
    from docx.opc.constants import RELATIONSHIP_TYPE
    from docx.opc.packuri import PackURI
    from docx.opc.part import Part
    from docx.oxml import parse_xml
    from docx.oxml.ns import nsdecls

    document = docx.Document()
    w = nsdecls("w")
    body = document.element.body
    body.insert(len(body) - 1, parse_xml(
        f'<w:p {w}><w:r><w:t>The cap applies to all claims.</w:t></w:r>'
        f'<w:r><w:footnoteReference w:id="1"/></w:r></w:p>'
    ))
    notes = (
        f'<w:footnotes {w}>'
        '<w:footnote w:type="separator" w:id="-1"><w:p><w:r><w:separator/></w:r></w:p>'
        '</w:footnote>'
        '<w:footnote w:id="1"><w:p><w:r><w:footnoteRef/></w:r>'
        '<w:r><w:t xml:space="preserve"> See Smith v Jones [2019] EWCA Civ 12.</w:t></w:r></w:p>'
        '</w:footnote></w:footnotes>'
    )
    part = Part(PackURI("/word/footnotes.xml"),
                "application/vnd.openxmlformats-officedocument.wordprocessingml.footnotes+xml",
                notes.encode(), document.part.package)
    document.part.relate_to(part, RELATIONSHIP_TYPE.FOOTNOTES)
    path = tmp_path / "opinion.docx"
    document.save(str(path))

    lines = load_document(path).pages[0].text.split("\n")

    assert "The cap applies to all claims.[1]" in lines
    assert "# Footnotes" in lines
    assert "[1] See Smith v Jones [2019] EWCA Civ 12." in lines


def test_text_exported_with_form_feeds_keeps_its_page_numbers(tmp_path: Path) -> None:
    path = make_text(tmp_path / "export.txt",
                     "Page one words.\n\fPage two words.\n\f\fPage four words.\n\f")
    doc = load_document(path)
    assert [(page.number, page.text) for page in doc.pages] == [
        (1, "Page one words."), (2, "Page two words."), (3, ""), (4, "Page four words.")
    ]
    assert [p.page for p in chunk_document(doc)] == [1, 2, 4]
