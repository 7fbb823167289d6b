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
