"""Chunking follows the document's structure; every passage can stand alone in a citation."""

from __future__ import annotations

import random
from pathlib import Path

import pytest

from rag.chunking import chunk_document, detect_heading, split_long_text
from rag.documents import LoadedDocument, Page, Passage
from rag.loaders import load_document
from rag.text_cleaning import clean_text
from tests.factories import make_docx, make_pdf


def _doc(*pages: str, numbered: bool = False, title: str = "Doc") -> LoadedDocument:
    return LoadedDocument(
        path=Path("/docs/doc.txt"),
        title=title,
        pages=[Page(i + 1 if numbered else None, text) for i, text in enumerate(pages)],
        format="pdf" if numbered else "txt",
        sha256="ab" * 32,
    )


def _flat(text: str) -> str:
    return " ".join(text.split())


def _passage_with(passages: list[Passage], words: str) -> Passage:
    found = [p for p in passages if words in _flat(p.text)]
    assert len(found) == 1, f"{words!r} in {len(found)} passages"
    return found[0]


CONTRACT_PAGES = [
    "SERVICES AGREEMENT\n"
    "1 Definitions\n"
    "In this Agreement the Supplier is Bolt Ltd and the Customer is Acme SA.\n"
    "2 Services\n"
    "2.1 Scope\n"
    "The Supplier shall provide hosting, backups and support as set out in Schedule 1.\n"
    "2.2 Service levels\n"
    "Availability shall be at least 99.9% in each calendar month.",
    "3 Fees\n"
    "The Customer pays the fees in Schedule 2 within 30 days of each invoice.\n"
    "4 Termination\n"
    "4.1 Term\n"
    "This Agreement lasts for three years from the Effective Date.",
    "4.2 Notice\n"
    "Either party may terminate for convenience on 90 days' written notice.\n"
    "4.3 Effect of termination\n"
    "On termination the Supplier returns all Customer data within 14 days.",
]


@pytest.fixture
def contract_passages(tmp_path: Path) -> list[Passage]:
    pdf = make_pdf(tmp_path / "msa.pdf", CONTRACT_PAGES, title="Master Services Agreement")
    return chunk_document(load_document(pdf))


def test_each_passage_has_the_page_it_is_printed_on(contract_passages: list[Passage]) -> None:
    assert _passage_with(contract_passages, "99.9% in each calendar month").page == 1
    assert _passage_with(contract_passages, "within 30 days of each invoice").page == 2
    assert _passage_with(contract_passages, "90 days' written notice").page == 3


def test_passage_section_is_the_heading_path_across_pages(
    contract_passages: list[Passage],
) -> None:
    notice = _passage_with(contract_passages, "90 days' written notice")
    assert notice.section == "4 Termination > 4.2 Notice"
    levels = _passage_with(contract_passages, "99.9% in each calendar month")
    assert levels.section == "2 Services > 2.2 Service levels"
    fees = _passage_with(contract_passages, "within 30 days of each invoice")
    assert fees.section == "3 Fees"


def test_passage_stands_alone_and_can_be_quoted(contract_passages: list[Passage]) -> None:
    notice = _passage_with(contract_passages, "90 days' written notice")
    # The heading that opens the section is part of the passage, in the document's words.
    assert notice.text.startswith("4.2 Notice\n")
    assert "Either party may terminate for convenience on 90 days' written notice." in notice.text
    assert notice.title == "Master Services Agreement"
    assert notice.metadata["context"] == (
        "Master Services Agreement > 4 Termination > 4.2 Notice"
    )
    assert notice.source.endswith("msa.pdf")


def test_passages_never_mix_sections_or_pages(contract_passages: list[Passage]) -> None:
    for passage in contract_passages:
        assert passage.page is not None
        page_text = _flat(CONTRACT_PAGES[passage.page - 1])
        assert _flat(passage.text) in page_text


def test_ordinals_run_in_document_order_and_chunking_is_deterministic(tmp_path: Path) -> None:
    doc = load_document(make_pdf(tmp_path / "msa.pdf", CONTRACT_PAGES))
    first, second = chunk_document(doc), chunk_document(doc)
    assert first == second
    assert [p.ordinal for p in first] == list(range(len(first)))
    assert [p.page for p in first] == sorted(p.page or 0 for p in first)
    assert len({p.passage_id for p in first}) == len(first)


def test_small_paragraphs_of_one_section_are_merged_up_to_the_limit() -> None:
    paragraphs = [f"Paragraph {n} says one short thing." for n in range(30)]
    passages = chunk_document(_doc("\n\n".join(paragraphs)), max_chars=200)

    assert all(len(p.text) <= 200 for p in passages)
    assert len(passages) < len(paragraphs) / 3
    joined = "\n".join(p.text for p in passages)
    assert joined == "\n".join(paragraphs)


def test_a_long_paragraph_is_split_at_sentence_boundaries() -> None:
    sentences = [f"Sentence number {n} explains an obligation of the tenant in detail."
                 for n in range(40)]
    passages = chunk_document(_doc(" ".join(sentences)), max_chars=300)

    assert len(passages) > 5
    for passage in passages:
        assert len(passage.text) <= 300
        assert passage.text.startswith("Sentence number ")
        assert passage.text.endswith("in detail.")


def test_a_huge_single_line_is_cut_into_bounded_passages() -> None:
    line = "word " * 200_000 + "x" * 900  # one 1 MB line
    passages = chunk_document(_doc(line))
    assert all(0 < len(p.text) <= 1000 for p in passages)
    assert sum(p.text.count("word") for p in passages) == 200_000


def test_docx_heading_styles_give_the_section_path(tmp_path: Path) -> None:
    docx = make_docx(tmp_path / "handbook.docx", [
        ("heading1", "Employee Handbook"),
        ("heading2", "Leave"),
        ("paragraph", "Staff have 25 days of paid leave each year."),
        ("heading3", "Sick leave"),
        ("paragraph", "Sick leave needs a doctor's note after three days."),
        ("heading2", "Conduct"),
        ("paragraph", "Be kind."),
    ])
    passages = chunk_document(load_document(docx))

    assert _passage_with(passages, "doctor's note").section == (
        "Employee Handbook > Leave > Sick leave"
    )
    assert _passage_with(passages, "Be kind.").section == "Employee Handbook > Conduct"
    assert all(p.page is None for p in passages)


def test_keyword_headings_and_title_lines() -> None:
    text = (
        "ARTICLE IV\nTERMINATION\n"
        "Section 4.1 Events of default\nThe Borrower defaults if it fails to pay.\n\n"
        "Section 4.2 Remedies\nThe Lender may accelerate the loan.\n\n"
        "ARTICLE V\nMISCELLANEOUS\nThis agreement is governed by English law."
    )
    passages = chunk_document(_doc(text))

    assert _passage_with(passages, "accelerate").section == (
        "ARTICLE IV TERMINATION > Section 4.2 Remedies"
    )
    assert _passage_with(passages, "English law").section == "ARTICLE V MISCELLANEOUS"


def test_markdown_and_setext_headings() -> None:
    text = ("Guide\n=====\n\nIntro text.\n\n## Install\n\nRun the installer.\n\n"
            "### Windows\n\nClick.")
    passages = chunk_document(_doc(text))
    assert _passage_with(passages, "Click.").section == "Guide > Install > Windows"
    assert _passage_with(passages, "Intro text.").section == "Guide"


@pytest.mark.parametrize("line, expected", [
    ("4.2 Notice", "4.2 Notice"),
    ("12. Governing Law", "12. Governing Law"),
    ("Section 3", "Section 3"),
    ("ARTICLE IV", "ARTICLE IV"),
    ("Schedule 2 - Fees", "Schedule 2 - Fees"),
    ("CONFIDENTIALITY", "CONFIDENTIALITY"),
    ("## Payment terms", "Payment terms"),
    ("1. Source Code.", "1. Source Code."),
    ("3. Protecting Users' Legal Rights From Anti-Circumvention Law.",
     "3. Protecting Users' Legal Rights From Anti-Circumvention Law."),
])
def test_heading_lines_are_recognised(line: str, expected: str) -> None:
    heading = detect_heading(line)
    assert heading is not None
    assert heading.text == expected


@pytest.mark.parametrize("line", [
    "1. the tenant shall keep the premises clean and in good repair at all times.",
    "2. Pay the rent.",
    "Section 3 of this Agreement applies to every tenant of the building.",
    "4.2 The Supplier shall notify the Customer of any incident without undue delay, and "
    "in any event within 24 hours.",
    "The rent is payable monthly.",
    "EUR 1,250",
    "",
])
def test_ordinary_sentences_are_not_headings(line: str) -> None:
    assert detect_heading(line) is None


def test_a_section_that_starts_at_the_bottom_of_a_page_keeps_its_heading() -> None:
    doc = _doc("Intro paragraph.\n7 Liability", "Liability is capped at the fees paid.",
               numbered=True)
    passages = chunk_document(doc)
    capped = _passage_with(passages, "capped")
    assert capped.page == 2
    assert capped.section == "7 Liability"


def test_split_long_text_respects_the_limit_even_without_spaces() -> None:
    pieces = split_long_text("a" * 2500, 1000)
    assert [len(p) for p in pieces] == [1000, 1000, 500]


def test_a_wrapped_line_that_starts_like_a_heading_is_not_one(tmp_path: Path) -> None:
    sentence = ("The Supplier shall provide hosting, backups, monitoring and round the clock "
                "support under Schedule 1.")
    pdf = make_pdf(tmp_path / "wrap.pdf", [f"5 Services\n{sentence}\nFees are due monthly."])
    doc = load_document(pdf)
    assert "\nSchedule 1.\n" in doc.pages[0].text  # the wrap really puts it on its own line

    passages = chunk_document(doc)

    assert len(passages) == 1
    assert passages[0].section == "5 Services"
    assert sentence in passages[0].text


def test_a_contents_page_does_not_swallow_the_first_section() -> None:
    contents = "\n".join(f"{n} Chapter number {n} .......... {n * 3}" for n in range(1, 30))
    doc = _doc(f"CONTENTS\n{contents}",
               "1 Chapter number 1\nThe first chapter starts here.", numbered=True)
    passages = chunk_document(doc, max_chars=400)

    first = _passage_with(passages, "The first chapter starts here.")
    assert first.page == 2
    assert first.text == "1 Chapter number 1\nThe first chapter starts here."
    assert first.section == "1 Chapter number 1"
    assert all(len(p.text) <= 400 for p in passages)
    assert "29 Chapter number 29 .......... 87" in "\n".join(p.text for p in passages)


def test_a_run_of_headings_without_text_keeps_its_words() -> None:
    outline = "\n".join(f"{n} Heading number {n}" for n in range(1, 40))
    passages = chunk_document(_doc(outline + "\nFinally some text."), max_chars=300)
    joined = "\n".join(p.text for p in passages)
    assert all(f"{n} Heading number {n}" in joined for n in range(1, 40))
    assert all(len(p.text) <= 300 for p in passages)
    assert passages[-1].text.endswith("Finally some text.")


def test_hash_lines_in_a_pdf_are_not_markdown_headings(tmp_path: Path) -> None:
    pdf = make_pdf(tmp_path / "config.pdf", [
        "2 Configuration\n# This file is generated by the installer.\n# Do not edit by hand.\n"
        "The installer writes the file once."
    ])
    passages = chunk_document(load_document(pdf))
    assert {p.section for p in passages} == {"2 Configuration"}


def test_word_numbered_clauses_give_the_section_path_and_stay_with_their_text(
    tmp_path: Path,
) -> None:
    docx = make_docx(tmp_path / "lease.docx", [
        ("heading1", "Termination"),
        ("heading2", "Notice"),
        ("paragraph", "Either party may end the lease with notice."),
        ("numbered", "Notice must be in writing."),
        ("numbered", "Notice must be signed."),
        ("heading2", "Effect"),
        ("paragraph", "Keys are returned on the last day."),
    ], numbered_headings=True)
    passages = chunk_document(load_document(docx))

    signed = _passage_with(passages, "2. Notice must be signed.")
    assert signed.section == "1 Termination > 1.1 Notice"
    assert signed.text.startswith("1 Termination\n1.1 Notice\nEither party")
    assert _passage_with(passages, "Keys are returned").section == "1 Termination > 1.2 Effect"


def test_words_broken_across_lines_are_whole_again_in_the_passage() -> None:
    extracted = clean_text("The tenant is self-\nemployed and the lease termi\u00ad\nnates in May.")
    passage = chunk_document(_doc(extracted))[0]
    assert passage.text == "The tenant is self-employed and the lease terminates in May."


def test_a_numbered_clause_that_wraps_is_a_paragraph_not_a_heading(tmp_path: Path) -> None:
    clause = ("4.2 Termination for convenience: either party may terminate this Agreement for "
              "convenience by giving the other party not less than ninety days' written notice.")
    pdf = make_pdf(tmp_path / "msa.pdf", [f"4. Termination\n{clause}\n4.3 Effect\nKeys back."])
    passages = chunk_document(load_document(pdf))

    convenience = _passage_with(passages, "ninety days' written notice")
    assert convenience.section == "4. Termination"
    assert clause in convenience.text
    assert _passage_with(passages, "Keys back.").section == "4. Termination > 4.3 Effect"


def test_markdown_code_blocks_and_table_rows_do_not_open_sections() -> None:
    text = ("# Setup\n\nRun this:\n\n```\n# install the tool\npip install tool\n```\n\n"
            "RENT 1,250 EUR\nDEPOSIT 2,500 EUR\n\nAll figures per month.")
    passages = chunk_document(_doc(text))
    assert {p.section for p in passages} == {"Setup"}
    assert "# install the tool" in passages[0].text


def _random_page(rng: random.Random) -> str:
    words = ["the", "tenant", "landlord", "shall", "pay", "rent", "notice", "within", "days",
             "party", "agreement"]
    lines: list[str] = []
    for _ in range(rng.randint(1, 12)):
        kind = rng.random()
        if kind < 0.15:
            lines.append(f"{rng.randint(1, 20)}.{rng.randint(1, 9)} {rng.choice(words).title()}")
        elif kind < 0.2:
            lines.append(rng.choice(["ARTICLE IV", "Section 7", "GENERAL PROVISIONS"]))
        elif kind < 0.3:
            lines.append("")
        else:
            sentences = [
                " ".join(rng.choice(words) for _ in range(rng.randint(3, 40))).capitalize() + "."
                for _ in range(rng.randint(1, 60 if rng.random() < 0.1 else 4))
            ]
            lines.append(" ".join(sentences))
    return "\n".join(lines)


@pytest.mark.parametrize("seed", range(12))
def test_random_documents_lose_no_words_and_keep_limits_and_pages(seed: int) -> None:
    rng = random.Random(seed)
    doc = _doc(*(_random_page(rng) for _ in range(rng.randint(1, 5))), numbered=True)
    max_chars = rng.choice([120, 400, 1000])

    passages = chunk_document(doc, max_chars=max_chars)

    assert all(0 < len(p.text) <= max_chars for p in passages)
    assert [p.ordinal for p in passages] == list(range(len(passages)))
    assert [w for p in passages for w in p.text.split()] == [
        w for page in doc.pages for w in page.text.split()
    ]
    previous: list[str] = []
    for page in doc.pages:
        # Every word of a passage is printed on its page, except headings printed at the
        # bottom of the page before, which open the section whose text follows.
        on_page = " ".join(w for p in passages if p.page == page.number for w in p.text.split())
        assert on_page in " ".join([*previous, *page.text.split()])
        previous = page.text.split()


def test_table_rows_that_look_like_numbered_headings_do_not_open_sections() -> None:
    # From a real specification PDF: a byte layout table between sections 2.9 and 2.10. Each
    # row reads like a numbered heading; none of them continues the document's numbering.
    passages = chunk_document(_doc(
        "2. Unified system\n"
        "2.9. The mime.cache files\n"
        "The cache file starts with a header.\n"
        "2 CARD16 MAJOR_VERSION 1\n"
        "4 CARD32 ALIAS_LIST_OFFSET\n"
        "4 CARD32 N_ALIASES\n",
        "2.10. Storing the MIME type using Extended Attributes\n"
        "An implementation may store the MIME type in an extended attribute.\n"
        "2.12. Recommended checking order\n"
        "Checking the first 128 bytes of the file for control characters tells binary from text.",
        numbered=True))
    row = _passage_with(passages, "4 CARD32 N_ALIASES")
    assert row.section == "2. Unified system > 2.9. The mime.cache files"
    attributes = _passage_with(passages, "may store the MIME type")
    assert attributes.section == (
        "2. Unified system > 2.10. Storing the MIME type using Extended Attributes")
    # A gap in the numbering (2.11 missing from the extraction) is still a heading.
    order = _passage_with(passages, "128 bytes")
    assert order.section == "2. Unified system > 2.12. Recommended checking order"


def test_an_address_line_is_not_a_section() -> None:
    passages = chunk_document(_doc(
        "GNU LESSER GENERAL PUBLIC LICENSE\n"
        "Version 2.1, February 1999\n"
        "51 Franklin Street, Fifth Floor, Boston, MA 02110-1301 USA\n"
        "Everyone is permitted to copy and distribute verbatim copies of this license.\n"
        "Preamble\n"
        "The licenses for most software are designed to take away your freedom.\n",
        title="GNU LESSER GENERAL PUBLIC LICENSE"))
    assert all("Franklin" not in p.section for p in passages)
    assert "51 Franklin Street" in _flat(passages[0].text)


def test_a_lone_numbered_heading_and_a_first_subsection_after_a_gap_stay_headings() -> None:
    passages = chunk_document(_doc(
        "1. Copyright and Related Rights. A Work made available may be protected.\n"
        "4. Limitations and Disclaimers.\n"
        "No trademark or patent rights are waived.\n"
        "Appendix text follows here.",
        title="CC0"))
    assert _passage_with(passages, "No trademark").section == "4. Limitations and Disclaimers."
    passages = chunk_document(_doc(
        "4 Function reference\n"
        "Functions are listed by topic.\n"
        "4.2 ASN.1 field functions\n"
        "Each function sets asn1_write_value for one element.",
        numbered=True))
    assert _passage_with(passages, "Each function").section == (
        "4 Function reference > 4.2 ASN.1 field functions")


def test_a_numbered_heading_run_into_its_paragraph_opens_its_section() -> None:
    # The Apache License 2.0 as Debian ships it: "1. Definitions." stands alone, each later
    # clause starts its paragraph. Every passage was labelled "1. Definitions.", clause 4 too.
    passages = chunk_document(_doc(
        "TERMS AND CONDITIONS FOR USE, REPRODUCTION, AND DISTRIBUTION\n\n"
        "1. Definitions.\n\n"
        "\"License\" shall mean the terms and conditions for use, reproduction,\n"
        "and distribution as defined by Sections 1 through 9 of this document.\n\n"
        "2. Grant of Copyright License. Subject to the terms and conditions of\n"
        "this License, each Contributor hereby grants to You a copyright license.\n\n"
        "3. Grant of Patent License. Subject to the terms and conditions of\n"
        "this License, each Contributor hereby grants to You a perpetual patent license\n"
        "to make, have made, use, offer to sell, sell, import, and otherwise transfer the Work.\n\n"
        "1. The Tenant. The tenant shall pay the rent; this list item opens no section.\n",
        title="Apache License"))
    assert _passage_with(passages, "shall mean the terms").section == "1. Definitions."
    grant = _passage_with(passages, "a copyright license")
    assert grant.section == "2. Grant of Copyright License."
    # Its heading is said once, at the start of the passage, as the document says it.
    assert _flat(grant.text).startswith("2. Grant of Copyright License. Subject to")
    assert _passage_with(passages, "offer to sell").section == "3. Grant of Patent License."
    assert _passage_with(passages, "The Tenant").section == "3. Grant of Patent License."
