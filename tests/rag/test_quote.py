"""Quote first: the passage's own sentence that answers, from a real library with the real
embedder, before any model runs."""

from __future__ import annotations

from pathlib import Path

from rag.library import Library
from rag.quote import pick_quote
from tests.factories import make_pdf, make_text


def test_the_quote_is_the_answering_sentence_with_its_file_and_page(
        library: Library, tmp_path: Path) -> None:
    make_pdf(tmp_path / "lease.pdf", [
        "1. Parties\nThis lease is between Acme Ltd (the landlord) and Bolt LLP (the tenant).",
        "4. Rent\n4.1 The tenant pays rent of GBP 2,000 a month in advance.\n"
        "4.2 Notice\nThe tenant may end this lease by giving three months' notice in writing. "
        "Notice must be sent to the landlord's registered office."], title="Lease")
    make_text(tmp_path / "note.txt", "The boiler will be replaced in June by the landlord.\n")
    list(library.ingest([tmp_path], "matter"))
    question = "How much notice must the tenant give to end the lease?"
    hits = library.retrieve(question, "matter", 5).hits
    quote = pick_quote(question, hits, library.embedder)
    assert quote is not None
    assert "three months' notice in writing" in quote.text
    assert quote.to_json()["source"].endswith("lease.pdf") and quote.to_json()["page"] == 2
    assert quote.text in " ".join(quote.hit.passage.text.split()), "verbatim"
    assert pick_quote(question, [], library.embedder) is None


def test_a_clause_heading_run_into_its_text_is_never_the_whole_quote(
        library: Library, tmp_path: Path) -> None:
    # The Apache License's clauses start with their heading: "2. Grant of Copyright License."
    # was quoted alone, which names the clause and says nothing of what it grants.
    make_text(tmp_path / "licence.txt",
              "TERMS AND CONDITIONS\n\n1. Definitions.\n\n\"Work\" shall mean the work of "
              "authorship made available under the License.\n\n"
              "2. Grant of Copyright License. Subject to the terms and conditions of\n"
              "this License, each Contributor hereby grants to You a perpetual, worldwide,\n"
              "royalty-free, irrevocable copyright license to reproduce the Work.\n\n"
              "3. Grant of Patent License. Subject to the terms and conditions of\n"
              "this License, each Contributor grants to You a patent license to use the Work.\n")
    list(library.ingest([tmp_path], "licences"))
    question = "What copyright license does the License grant?"
    hits = library.retrieve(question, "licences", 5).hits
    assert hits[0].passage.section == "2. Grant of Copyright License."
    quote = pick_quote(question, hits, library.embedder)
    assert quote is not None and "irrevocable copyright license" in quote.text, quote.text
    assert quote.text.startswith("2. Grant of Copyright License. Subject to")


def test_a_table_of_contents_line_is_never_the_quote(library: Library, tmp_path: Path) -> None:
    # libtasn1's manual: its index line "threads . . . 1" held the question's words and was
    # quoted instead of the sentence that answers.
    make_text(tmp_path / "manual.txt",
              "Index\n\nthreads, using the library from several threads . . . . . . . . . 1\n"
              "thread safety of the library . . . . . . . . . . . . . . . . . . . . . . . 1\n\n"
              "Features\n\nThread-safety. No global variables are used and multiple library "
              "handles may be used in parallel.\n")
    list(library.ingest([tmp_path], "manual"))
    question = "Can I use the library from several threads at once?"
    quote = pick_quote(question, library.retrieve(question, "manual", 5).hits,
                       library.embedder)
    assert quote is not None and "Thread-safety. No global variables are used" in quote.text
    assert ". . ." not in quote.text
