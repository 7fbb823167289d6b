"""The document commands of the real `enclave` CLI, run in process through ``main(argv)``
with the real model, Chroma and embedder: ingest, search, eval, collections, forget, and ask
answering from the documents."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from tests.desktop.cli.conftest import Enclave
from tests.factories import make_pdf, make_text

LEASE = ["1. Parties\nThis lease is between Acme Ltd (landlord) and Bolt LLP (tenant).",
         "4.2 Notice\nThe tenant may end this lease by giving three months' notice in writing.",
         "7. Rent\nThe rent is GBP 2,400 a month, payable on the first day of each month."]


Matter = tuple[dict[str, str], Path]


@pytest.fixture(scope="module")
def matter(tmp_path_factory: pytest.TempPathFactory, default_model_path: Path,
           enclave: Enclave) -> Matter:
    """An ENCLAVE_HOME with a folder ingested into collection "Acme (2024)" (one bad file)."""
    root = tmp_path_factory.mktemp("cli-rag")
    env = dict(os.environ, ENCLAVE_HOME=str(root / "home"),
               ENCLAVE_MODEL=str(default_model_path))
    folder = root / "matter"
    make_pdf(folder / "lease.pdf", LEASE, title="Lease of Unit 4")
    make_text(folder / "letter.txt", "Dear Bolt LLP, the boiler will be replaced in June.\n")
    (folder / "scan.pdf").write_bytes(b"%PDF-1.4 truncated")
    done = enclave("ingest", str(folder), "--collection", "Acme (2024)", "--json", env=env)
    assert done.returncode == 3, done.stderr  # some files could not be read, the rest indexed
    result = json.loads(done.stdout)
    assert sorted(Path(e["path"]).name for e in result["indexed"]) == ["lease.pdf", "letter.txt"]
    assert [Path(e["path"]).name for e in result["failed"]] == ["scan.pdf"]
    assert result["failed"][0]["error"]
    assert "Traceback" not in done.stderr
    return env, folder


def test_ingest_again_is_unchanged_and_exits_0(matter: Matter, enclave: Enclave) -> None:
    env, folder = matter
    done = enclave("ingest", str(folder / "lease.pdf"), "--collection", "Acme (2024)", env=env)
    assert done.returncode == 0, done.stderr
    assert "unchanged" in done.stdout and "lease.pdf" in done.stdout


def test_ingest_usage_errors_exit_2_with_one_line(matter: Matter, enclave: Enclave) -> None:
    env, folder = matter
    done = enclave("ingest", str(folder / "no-such-file.pdf"), env=env)
    assert done.returncode == 2
    assert "no such file or folder" in done.stderr and done.stderr.count("\n") == 1
    assert enclave("ingest", env=env).returncode == 2


def test_search_batch_writes_one_json_line_a_query(matter: Matter, enclave: Enclave,
                                                   tmp_path: Path) -> None:
    env, _ = matter
    batch = tmp_path / "queries.txt"
    batch.write_text("how much notice must the tenant give?\n\nwhat is the rent?\nboiler\n")
    done = enclave("search", "--batch", str(batch), "--collection", "Acme (2024)",
                   "--top-k", "2", env=env)
    assert done.returncode == 0, done.stderr
    lines = [json.loads(line) for line in done.stdout.splitlines()]
    assert [r["query"] for r in lines] == ["how much notice must the tenant give?",
                                           "what is the rent?", "boiler"]
    first = lines[0]["hits"][0]
    assert Path(first["source"]).name == "lease.pdf" and first["page"] == 2
    assert "three months' notice" in first["text"] and first["score"] > 0
    assert lines[1]["hits"][0]["page"] == 3
    assert Path(lines[2]["hits"][0]["source"]).name == "letter.txt"
    assert lines[2]["hits"][0]["page"] is None
    assert all(len(r["hits"]) <= 2 for r in lines)


def test_search_never_reads_another_collection(matter: Matter, enclave: Enclave) -> None:
    env, _ = matter
    done = enclave("search", "rent", "--json", env=env)  # the default collection: empty
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["hits"] == []
    missing = enclave("search", "rent", "--collection", "Nobody", env=env)
    assert missing.returncode == 2 and "no collection named 'Nobody'" in missing.stderr


def test_eval_scores_a_question_set(matter: Matter, enclave: Enclave, tmp_path: Path) -> None:
    env, _ = matter
    qa = tmp_path / "qa.jsonl"
    qa.write_text("\n".join(json.dumps(q) for q in [
        {"q": "How much notice must the tenant give?", "source": "lease.pdf",
         "key": "three months' notice", "page": 2},
        {"q": "What is the monthly rent?", "source": "lease.pdf", "key": "GBP 2,400"},
        {"q": "When is the boiler replaced?", "source": "letter.txt", "key": "in June"},
        {"q": "Who is the landlord?", "source": "lease.pdf", "key": "no such words"},
    ]) + "\n")
    done = enclave("eval", str(qa), "--collection", "Acme (2024)", "--json", env=env)
    assert done.returncode == 0, done.stderr
    score = json.loads(done.stdout)
    assert score["questions"] == 4
    assert score["hit@1"] == 0.75 and score["hit@5"] == 0.75
    assert [m["q"] for m in score["misses"]] == ["Who is the landlord?"]
    qa.write_text("not json\n")
    bad = enclave("eval", str(qa), env=env)
    assert bad.returncode == 2 and "line 1 is not a question" in bad.stderr
    qa.write_text(json.dumps({"q": "Who is the tenant?", "source": "leese.pdf",
                              "key": "Bolt"}) + "\n")
    typo = enclave("eval", str(qa), "--collection", "Acme (2024)", "--json", env=env)
    assert typo.returncode == 0, typo.stderr
    assert "not in collection 'Acme (2024)'" in typo.stderr and "leese.pdf" in typo.stderr
    assert json.loads(typo.stdout)["unknown_sources"] == ["leese.pdf"]


def test_eval_answers_asks_the_model_each_question_and_says_how_far_it_has_got(
        matter: Matter, enclave: Enclave, tmp_path: Path) -> None:
    env, _ = matter
    qa = tmp_path / "qa.jsonl"
    qa.write_text("\n".join(json.dumps(q) for q in [
        {"q": "How much notice must the tenant give?", "source": "lease.pdf",
         "key": "three months' notice"},
        {"q": "When is the boiler replaced?", "source": "letter.txt", "key": "in June"},
    ]) + "\n")
    done = enclave("eval", str(qa), "--collection", "Acme (2024)", "--answers",
                   "--max-tokens", "16", "--json", env=env)
    assert done.returncode == 0, done.stderr
    assert "Asking question 1 of 2" in done.stderr and "Asking question 2 of 2" in done.stderr
    answers = json.loads(done.stdout)["answers"]
    assert answers["questions"] == 2 and answers["quote_holds_key"] == 1.0
    assert [row["q"] for row in answers["per_question"]] == [
        "How much notice must the tenant give?", "When is the boiler replaced?"]
    assert all(row["answer"] and row["seconds"] > 0 for row in answers["per_question"])
    assert 0.0 <= answers["unsupported_share"] <= 1.0 and answers["seconds_per_answer"] > 0


def test_ask_answers_from_the_documents_with_citations(matter: Matter, enclave: Enclave
                                                       ) -> None:
    env, _ = matter
    done = enclave("ask", "How much notice must the tenant give to end the lease?",
                   "--collection", "Acme (2024)", "--max-tokens", "48", "--json", env=env)
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    assert result["refused"] is False and result["answer"].strip()
    assert result["stats"]["completion_tokens"] > 0
    cited = {(Path(c["source"]).name, c["page"]) for c in result["citations"]}
    assert ("lease.pdf", 2) in cited
    assert all(c["text"] for c in result["citations"])


def test_ask_refuses_without_calling_the_model(matter: Matter, enclave: Enclave) -> None:
    env, _ = matter
    env = dict(env, ENCLAVE_MODEL="/nonexistent/model.gguf")  # a model call would fail
    done = enclave("ask", "What is a good recipe for banana bread?", "--collection",
                   "Acme (2024)", "--json", env=env)
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    assert result["refused"] is True and result["citations"] == []
    assert result["answer"] == "I could not find this in your documents (collection Acme (2024))."
    assert result["stats"]["completion_tokens"] == 0
    plain = enclave("ask", "What is a good recipe for banana bread?", "--collection",
                    "Acme (2024)", env=env)
    assert plain.returncode == 0 and "could not find this in your documents" in plain.stdout


def test_collections_and_forget(matter: Matter, enclave: Enclave) -> None:
    env, folder = matter
    listed = json.loads(enclave("collections", "--json", env=env).stdout)["collections"]
    acme = next(c for c in listed if c["name"] == "Acme (2024)")
    assert acme["documents"] == 2 and acme["passages"] >= 3
    done = enclave("forget", str(folder / "letter.txt"), "--collection", "Acme (2024)", env=env)
    assert done.returncode == 0, done.stderr
    again = enclave("forget", str(folder / "letter.txt"), "--collection", "Acme (2024)", env=env)
    assert again.returncode == 1 and "is not in the collection" in again.stderr
    hits = json.loads(enclave("search", "boiler", "--collection", "Acme (2024)", "--json",
                              env=env).stdout)["hits"]
    assert all(Path(h["source"]).name != "letter.txt" for h in hits)


def test_search_explain_shows_what_each_score_was_made_of(matter: Matter,
                                                          enclave: Enclave) -> None:
    from rag.scoring import Features, Scoring, score

    env, _ = matter
    done = enclave("search", "clause 4.2 notice", "--collection", "Acme (2024)", "--json",
                   "--explain", env=env)
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    scoring = Scoring(**result["scoring"])
    top = result["hits"][0]
    features = top["features"]
    assert set(features) == {"cosine", "bm25", "names_document", "cites_reference",
                             "holds_answer", "short", "rare"}
    assert features["cites_reference"] is True, "the passage headed 4.2 is the one named"
    for hit in result["hits"]:
        assert abs(score(Features(**hit["features"]), scoring) - hit["score"]) < 1e-5
    plain = enclave("search", "rent", "--collection", "Acme (2024)", env=env)
    assert "features" not in plain.stdout and "cosine" not in plain.stdout


def test_ask_json_quotes_first_checks_each_sentence_and_follows_a_conversation(
        matter: Matter, enclave: Enclave) -> None:
    env, _ = matter
    first = enclave("ask", "How much notice must the tenant give to end the lease?",
                    "--collection", "Acme (2024)", "--max-tokens", "40", "--conversation",
                    "new", "--json", env=env)
    assert first.returncode == 0, first.stderr
    result = json.loads(first.stdout)
    assert "three months' notice" in result["quote"]["text"]
    assert Path(result["quote"]["source"]).name == "lease.pdf" and result["quote"]["page"] == 2
    assert result["sentences"] and all(set(s) >= {"text", "supported", "evidence"}
                                       for s in result["sentences"])
    follow = enclave("ask", "And what is the rent?", "--conversation",
                     str(result["conversation"]), "--max-tokens", "24", "--json", env=env)
    assert follow.returncode == 0, follow.stderr
    again = json.loads(follow.stdout)
    assert again["conversation"] == result["conversation"]
    assert any("GBP 2,400" in c["text"] for c in again["citations"])
    missing = enclave("ask", "x", "--conversation", "999", env=env)
    assert missing.returncode == 2 and "no conversation 999" in missing.stderr
