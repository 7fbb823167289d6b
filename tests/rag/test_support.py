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
    assert not checks[0].supported and "acme" in checks[0].reason
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
