"""The sentence check on real passages with the real embedder: an invented number or name is
flagged whatever the rest says; a sentence the passage states is not; a sentence that claims
nothing is not checked; the person's own question's names count as known."""

from __future__ import annotations

from rag.documents import Passage
from rag.embedder import MiniLMEmbedder
from rag.retrieval_types import Hit
from rag.support import check_answer, numbers_in

LEASE = Hit(Passage("d1", "/matter/lease.pdf", "Lease of Unit 4", "4 Termination", 2, 3,
                    "4.2 Notice. The tenant may end this lease by giving three months' notice "
                    "in writing to the landlord. The rent is GBP 2,400 a month."), 0.8)


def test_an_invented_duration_is_flagged_and_a_stated_fact_is_not(
        embedder: MiniLMEmbedder) -> None:
    checks = check_answer("The tenant may end this lease by giving three months' notice in "
                          "writing [1]. The tenant may end it with 30 days' notice.",
                          [LEASE], embedder)
    assert [c.supported for c in checks] == [True, False]
    assert "30" in checks[1].reason
    assert checks[0].evidence == LEASE


def test_an_invented_name_and_a_sentence_with_no_claim(embedder: MiniLMEmbedder) -> None:
    checks = check_answer("The landlord is Acme Holdings. The documents do not say more.",
                          [LEASE], embedder)
    assert not checks[0].supported
    assert checks[0].reason == "Acme, Holdings: not named in the sources"  # as written
    assert checks[1].supported and not checks[1].claim


def test_the_questions_own_words_are_known(embedder: MiniLMEmbedder) -> None:
    sentence = "Under the Unit 4 lease the rent is GBP 2,400 a month."
    assert check_answer(sentence, [LEASE], embedder, question="What rent for Unit 4?")[0].supported


def test_numbers_in_words_and_digits_are_the_same() -> None:
    assert numbers_in("three months, 2,400 GBP and 6.8 mmol/L") == {"3", "2400", "6.8"}


def test_a_numbered_list_is_checked_item_by_item_without_its_markers(
        embedder: MiniLMEmbedder) -> None:
    """Each item used to end with the next item's number ("... in writing 2."), and that number,
    in no source, marked every item of a true list "not in the sources"."""
    checks = check_answer("The lease says:\n1. The tenant may end this lease by giving three "
                          "months' notice in writing\n2. The rent is GBP 2,400 a month\n"
                          "3. The rent is GBP 3,100 a month", [LEASE], embedder)
    assert [c.text for c in checks][1:] == [
        "The tenant may end this lease by giving three months' notice in writing",
        "The rent is GBP 2,400 a month", "The rent is GBP 3,100 a month"]
    assert [c.supported for c in checks][1:] == [True, True, False]
    assert "3100" in checks[3].reason or "3,100" in checks[3].reason


def test_a_possessive_is_the_name_the_sources_state(embedder: MiniLMEmbedder) -> None:
    # Seen in the window: "A copy of the Work's License notice" was flagged "work's: not
    # named in the sources" under a passage about the Work and its License.
    from rag.support import names_in

    assert names_in("A copy of the Work's License notice, and the Licensor’s name.") == {
        "work", "license", "licensor"}
    apache = Hit(Passage("d2", "/docs/Apache-2.0.txt", "Apache License", "4. Redistribution.",
                         None, 4, "You must give any other recipients of the Work or Derivative "
                         "Works a copy of this License notice."), 0.7)
    [check] = check_answer("You must give recipients a copy of the Work's License notice.",
                           [apache], embedder)
    assert "not named" not in check.reason, check.reason


ZLIB = Hit(Passage("d3", "/docs/zlib_how.html", "zlib Usage Example", "", None, 2,
                   "#define CHUNK 16384\nCHUNK is simply the buffer size for feeding data to and "
                   "pulling data from the zlib routines. The zlib format has a header of only "
                   "two bytes."), 0.7)


def test_a_number_from_the_sources_said_of_something_else_is_flagged(
        embedder: MiniLMEmbedder) -> None:
    # Seen with the default model: "The header of the zlib format is 16384 bytes." passed,
    # since 16384 is in the passage (as the buffer size).
    wrong, right = check_answer("The header of the zlib format is 16384 bytes. The buffer "
                                "size CHUNK is 16384.", [ZLIB], embedder)
    assert not wrong.supported
    assert wrong.reason == "16384: in the sources, but said of something else"
    assert right.supported, right.reason


def test_the_models_frame_is_not_checked_as_a_claim(embedder: MiniLMEmbedder) -> None:
    # "The answer is: 2 hours." was flagged under "cached for two hours": its frame's words
    # are in no source.
    cache = Hit(Passage("d4", "/docs/README.md", "httplib2", "", None, 1,
                        "The response from bitworking.org will be cached for two hours."), 0.7)
    [check] = check_answer("The answer is: 2 hours.", [cache], embedder,
                           question="How long is the response from bitworking.org cached?")
    assert check.supported, check.reason


def test_list_item_numbers_claim_nothing(embedder: MiniLMEmbedder) -> None:
    # "1) ...", "2) ..." were flagged "1: not in the sources", and an inline list's
    # "3. Encoding 4. Decoding" as "3, 4".
    steps = Hit(Passage("d5", "/docs/README.md", "codec", "", None, 1,
                        "The codec runs compression, normalization, encoding and decoding."), 0.7)
    checks = check_answer("1) The codec runs compression.\n2) The codec runs decoding.\n"
                          "It runs these steps: Normalization 3. Encoding 4. Decoding.",
                          [steps], embedder)
    assert not any(c.reason[:1].isdigit() for c in checks), [c.reason for c in checks]
    [invented] = check_answer("2) The codec runs 7 passes.", [steps], embedder)
    assert invented.reason.startswith("7: not in the sources")
