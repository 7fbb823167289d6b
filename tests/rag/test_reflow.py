"""A PDF page's text reads as paragraphs: the margin's line breaks are gone, the document's own
breaks (paragraphs, list items, headings) are kept."""

from __future__ import annotations

from pathlib import Path

from rag.loaders import load_document
from rag.reflow import reflow
from tests.factories import make_pdf

NOTICE = ("Either party may end this lease by giving the other ninety days written notice, sent "
          "by recorded delivery to the address given above or to the registered office of the "
          "company concerned, and the notice runs from the day it is received.")
DEPOSIT = ("(b) the landlord must refund the deposit within fourteen days of the end of the "
           "lease, less any sums due under it.")


def test_a_real_pdf_page_reads_as_paragraphs_without_mid_sentence_breaks(tmp_path: Path) -> None:
    pdf = make_pdf(tmp_path / "lease.pdf", [
        f"9. Termination\n{NOTICE}\n(a) the tenant must return the keys;\n{DEPOSIT}\n"
        "10. Governing law"])
    raw = load_document(pdf).pages[0].text
    assert NOTICE not in raw, "the PDF breaks the sentence at its margin"

    text = reflow(raw)
    # A heading, its paragraph, then the list items and the next clause, each on its own line.
    assert text.split("\n") == ["9. Termination", "", NOTICE,
                                "(a) the tenant must return the keys;", DEPOSIT,
                                "10. Governing law"]
    for sentence in (NOTICE, DEPOSIT):
        assert sentence in text.split("\n"), "each sentence is whole, on one line"


def test_a_word_hyphenated_at_the_margin_is_one_word_again() -> None:
    page = ("The parties agree that every notice under this agreement, for exam-\n"
            "ple a notice to end it, is given in writing and signed by a director of the\n"
            "party giving it.\n"
            "Short last line.\n"
            "\n"
            "A well-known term keeps its hyphen when it is not at the end of a line.")
    text = reflow(page)
    assert "for example a notice to end it" in text
    assert "exam-" not in text and "exam ple" not in text
    assert "director of the party giving it." in text
    assert "A well-known term keeps its hyphen" in text
    assert text.count("\n\n") == 2, "paragraph breaks are kept"


def test_short_lines_of_a_list_or_a_table_stay_apart() -> None:
    page = "Doses\n• 5 mg daily\n• 10 mg at night\n- not with food"
    assert reflow(page) == "Doses\n• 5 mg daily\n• 10 mg at night\n- not with food"
