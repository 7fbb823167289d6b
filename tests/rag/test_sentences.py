"""Sentences of real-looking passages: clause numbers, abbreviations, decimals and list items."""

from __future__ import annotations

from rag.sentences import content_words, split_sentences, without_citation_marks


def texts(text: str) -> list[str]:
    return [s.text for s in split_sentences(text)]


def test_a_sentence_ends_at_a_full_stop_not_inside_numbers_or_abbreviations() -> None:
    passage = ("The tenant may end this lease, e.g. by letter, giving three months' notice. "
               "Potassium was 6.8 mmol/L on admission. Dr. Smith reviewed it.")
    assert texts(passage) == [
        "The tenant may end this lease, e.g. by letter, giving three months' notice.",
        "Potassium was 6.8 mmol/L on admission.", "Dr. Smith reviewed it."]


def test_list_items_and_wrapped_lines() -> None:
    passage = ("The licensee must:\n- keep the notice intact\n- ship the source\n"
               "A line that wraps\nonto the next one ends here.")
    assert texts(passage) == ["The licensee must:", "- keep the notice intact",
                              "- ship the source", "A line that wraps onto the next one ends here."]


def test_offsets_point_back_into_the_text() -> None:
    passage = "First sentence here. Second sentence there."
    for span in split_sentences(passage):
        assert passage[span.start:span.end].strip().startswith(span.text[:10])


def test_citation_marks_and_content_words() -> None:
    assert without_citation_marks("Three months [1][2].") == "Three months."
    assert content_words("The tenants gave notices") == ["tenant", "gave", "notic"]


def test_a_tables_cells_are_never_run_together() -> None:
    # libxslt's FAQ is a table: a quote read "... to the LIBS options | passing parameters on
    # the xsltproc command line doesn't work | ...", a "|" the page does not show, and the
    # answer of one question run into the next question.
    text = ("| Linking with EXSLT | Prepend -lexslt to the LIBS options. |\n"
            "| Is it free? | Yes, it is MIT licensed. |\n"
            "A pipe in prose stays: run ls | grep x to see it.")
    spans = split_sentences(text)
    assert [s.text for s in spans] == [
        "Linking with EXSLT", "Prepend -lexslt to the LIBS options.", "Is it free?",
        "Yes, it is MIT licensed.", "A pipe in prose stays: run ls | grep x to see it."]
    assert all(text[s.start:s.end].strip() == s.text for s in spans), "offsets still hold"
