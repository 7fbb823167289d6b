"""A practice's shared index with several workstations on it: real PostgreSQL and a real
Chroma server (tests/index_servers.py), each workstation its own Library with its own
connections, as forty desks would be. (tests/rag/test_library.py runs the single-library
behaviour on these servers too.)"""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

from bench.index_servers import (
    DB_PASSWORD,
    INDEX_TOKEN,
    PracticeIndex,
    chroma_server,
    postgres_server,
)
from desktop.app.storage_errors import explain
from rag.embedder import MiniLMEmbedder
from rag.index_servers import IndexServers, VectorServer
from rag.index_storage import ServerStorage
from rag.library import Library
from rag.pg_keyword_index import PgKeywordIndex
from rag.postgres import DatabaseOptions, IndexServerError, PgConnection
from tests.factories import make_text


def workstation(servers: IndexServers, home: Path, embedder: MiniLMEmbedder) -> Library:
    return Library(home / "index", embedder, storage=ServerStorage(servers))


def write_notes(folder: Path, topic: str, count: int) -> list[Path]:
    return [make_text(folder / f"{topic}-{n}.txt",
                      f"{topic.title()} note {n}.\n\nThe {topic} file number {n} records that "
                      f"case {topic}-{n:03d} was reviewed by the {topic} team on day {n}.\n")
            for n in range(count)]


def test_what_one_workstation_indexes_another_finds_at_once(
        shared_index: IndexServers, embedder: MiniLMEmbedder, tmp_path: Path) -> None:
    reception = workstation(shared_index, tmp_path / "reception", embedder)
    surgery = workstation(shared_index, tmp_path / "surgery", embedder)
    policy = make_text(tmp_path / "retention.txt", "Records retention.\n\nPatient records are "
                       "kept for ten years after the last visit, then destroyed securely.\n")
    list(reception.ingest([policy], "Policies"))
    assert [c.name for c in surgery.collections()] == ["Policies"]
    hits = surgery.search("how long are patient records kept", "Policies", 3)
    assert hits and "ten years" in hits[0].passage.text
    # The second desk's ingest of the same file is "unchanged": one copy for the practice.
    events = list(surgery.ingest([policy], "Policies"))
    assert [e.kind for e in events if e.path] == ["opening", "unchanged"]
    # And what it forgets is gone for everyone.
    assert surgery.forget(policy, "Policies")
    assert reception.search("patient records kept", "Policies", 3) == []
    reception.close()
    surgery.close()


def test_four_workstations_ingesting_and_searching_at_once_lose_nothing(
        shared_index: IndexServers, embedder: MiniLMEmbedder, tmp_path: Path) -> None:
    desks = [workstation(shared_index, tmp_path / f"desk{n}", embedder) for n in range(4)]
    topics = ["billing", "triage", "consent", "imaging"]
    folders = {t: write_notes(tmp_path / t, t, 6) for t in topics}
    errors: list[BaseException] = []
    searching = threading.Event()
    searching.set()

    def ingest(desk: Library, topic: str) -> None:
        try:
            events = list(desk.ingest([tmp_path / topic], "Practice"))
            assert not [e for e in events if e.kind == "failed"], events
        except BaseException as exc:
            errors.append(exc)

    def search() -> None:
        reader = workstation(shared_index, tmp_path / "reader", embedder)
        try:
            while searching.is_set():
                reader.search("who reviewed the case", "Practice", 5)
        except BaseException as exc:
            errors.append(exc)
        finally:
            reader.close()

    # The collection exists before the searcher starts (a search of an unknown one says so).
    desks[0].create_collection("Practice")
    threads = [threading.Thread(target=ingest, args=pair)
               for pair in zip(desks, topics, strict=True)]
    searcher = threading.Thread(target=search)
    searcher.start()
    for t in threads:
        t.start()
    for t in threads:
        t.join(300)
    searching.clear()
    searcher.join(60)
    assert errors == []
    documents = desks[1].documents("Practice")
    assert len(documents) == sum(len(f) for f in folders.values()) == 24
    for topic in topics:
        hits = desks[2].search(f"case {topic}-003", "Practice", 3)
        assert hits[0].passage.source == str(tmp_path / topic / f"{topic}-3.txt")
    [check] = desks[3].verify_index()
    assert (check.passages, check.lost, check.extra) == (24, 0, 0)
    for desk in desks:
        desk.close()


def test_a_workstation_that_dies_mid_write_leaves_no_half_document(
        shared_index: IndexServers, embedder: MiniLMEmbedder, tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    first = make_text(tmp_path / "first.txt", "The first note is about lamps.\n")
    second = make_text(tmp_path / "second.txt", "The second note is about the notice period, "
                       "three months in writing.\n")
    dying = workstation(shared_index, tmp_path / "dying", embedder)
    list(dying.ingest([first], "c"))

    def power_cut(self: PgKeywordIndex, *args: object) -> None:
        raise RuntimeError("power cut")  # after its vectors, before its keywords and row

    monkeypatch.setattr(PgKeywordIndex, "add", power_cut)
    with pytest.raises(RuntimeError, match="power cut"):
        list(dying.ingest([second], "c"))
    monkeypatch.undo()
    # The desk goes away: its connections drop, and its lock with them; its pending row and
    # the vectors it wrote stay on the servers, as after a crash.
    dying.close()

    other = workstation(shared_index, tmp_path / "other", embedder)
    assert [d.path.name for d in other.documents("c")] == ["first.txt"]
    events = list(other.ingest([first, second], "c"))
    assert sorted((e.kind, e.path.name) for e in events
                  if e.path and e.kind in ("indexed", "unchanged")) == [
        ("indexed", "second.txt"), ("unchanged", "first.txt")]
    hits = other.search("notice period in writing", "c", 10)
    assert [h.passage.source for h in hits].count(str(second)) == 1
    [check] = other.verify_index()
    assert (check.lost, check.extra) == (0, 0)
    other.close()


def test_a_vector_server_killed_mid_search_is_one_sentence_and_loses_nothing(
        practice_index: PracticeIndex, embedder: MiniLMEmbedder, tmp_path: Path) -> None:
    database = practice_index.fresh().database
    with chroma_server(tmp_path / "chroma") as chroma:
        servers = IndexServers(chroma.server(), database)
        desk = workstation(servers, tmp_path / "desk", embedder)
        notes = write_notes(tmp_path / "notes", "billing", 3)
        list(desk.ingest(notes, "Accounts"))
        chroma.kill()
        with pytest.raises(Exception) as failure:
            desk.search("who reviewed the case", "Accounts", 3)
        said = explain(failure.value, tmp_path)
        assert said is not None and said.startswith("The practice's index server stopped "
                                                    "answering")
        assert INDEX_TOKEN not in said
        desk.close()
        port = int(chroma.url.rsplit(":", 1)[1])
    # IT restarts it on the same folder: everything indexed before is there.
    with chroma_server(tmp_path / "chroma", port=port) as again:
        desk = workstation(IndexServers(again.server(), database), tmp_path / "desk", embedder)
        hits = desk.search("case billing-002", "Accounts", 3)
        assert hits[0].passage.source == str(notes[2])
        [check] = desk.verify_index()
        assert (check.passages, check.lost) == (3, 0)
        desk.close()


def test_a_database_killed_mid_ingest_is_one_sentence_and_the_next_ingest_completes(
        practice_index: PracticeIndex, embedder: MiniLMEmbedder, tmp_path: Path) -> None:
    with postgres_server(tmp_path / "postgres") as postgres:
        postgres.create_database("practice")
        practice_index.chroma.wipe()
        servers = IndexServers(practice_index.chroma.server(), postgres.options("practice"))
        desk = workstation(servers, tmp_path / "desk", embedder)
        notes = write_notes(tmp_path / "notes", "triage", 4)
        list(desk.ingest(notes[:2], "Clinic"))
        postgres.kill()
        with pytest.raises(Exception) as failure:
            list(desk.ingest(notes, "Clinic"))
        said = explain(failure.value, tmp_path)
        assert said is not None and "index server stopped answering" in said
        assert DB_PASSWORD not in said
        desk.close()
        postgres.start()
        desk = workstation(servers, tmp_path / "desk", embedder)
        events = list(desk.ingest(notes, "Clinic"))
        assert sorted(e.kind for e in events if e.path and e.kind != "opening") == [
            "indexed", "indexed", "unchanged", "unchanged"]
        [check] = desk.verify_index()
        assert (check.passages, check.lost, check.extra) == (4, 0, 0)
        desk.close()


def test_a_wrong_token_or_password_is_one_sentence_without_the_secret(
        practice_index: PracticeIndex, tmp_path: Path) -> None:
    with pytest.raises(IndexServerError, match="refused Enclave's token") as token:
        VectorServer(practice_index.chroma.url, token="not-the-token").connect()
    assert "not-the-token" not in str(token.value)
    passfile = tmp_path / "passfile"
    passfile.write_text(f"127.0.0.1:{practice_index.postgres.port}:*:enclave:wrong-password\n",
                        encoding="utf-8")
    passfile.chmod(0o600)
    url = f"postgresql://enclave@127.0.0.1:{practice_index.postgres.port}/postgres"
    with pytest.raises(IndexServerError, match="refused Enclave's password") as password:
        ServerStorage(IndexServers(practice_index.chroma.server(),
                                   DatabaseOptions(url, password_file=passfile))).connect()
    assert "wrong-password" not in str(password.value)
    with pytest.raises(IndexServerError, match="holds a password"):
        DatabaseOptions(f"postgresql://enclave:{DB_PASSWORD}@127.0.0.1:5432/x").endpoint()


def test_the_vector_server_scores_passages_as_the_embedded_store_does(
        practice_index: PracticeIndex, tmp_path: Path) -> None:
    """On a server the few passages a search asks about are scored there while it holds few
    entries, and from their vectors read back once it holds many (a query filtered to them
    walks its whole index): either way the similarities are the embedded store's, to float
    precision."""
    import numpy as np

    from rag.documents import Passage
    from rag.passage_vectors import windows
    from rag.vector_store import ChromaVectorStore, ChromaVectorStores

    practice_index.chroma.wipe()
    rng = np.random.default_rng(7)
    passages = [Passage(f"{n % 3:0>64}", f"/docs/{n % 3}.txt", "T", "", None, n,
                        ". ".join(f"Sentence {n} {k} about topic {k % 4}" for k in range(12)))
                for n in range(30)]
    vectors = []
    for p in passages:
        block = rng.standard_normal((1 + len(windows(p)), 8)).astype(np.float32)
        vectors.append((block / np.linalg.norm(block, axis=1, keepdims=True)).tolist())
    local = ChromaVectorStores.embedded(tmp_path / "chroma").store("c-parity")
    served = ChromaVectorStores.on_server(practice_index.chroma.server()).store("c-parity")
    for store in (local, served):
        store.add(passages, vectors)
    question = vectors[4][0]
    by_local, by_server = local.query(question, 5), served.query(question, 5)
    assert [h.passage.passage_id for h in by_server] == [h.passage.passage_id for h in by_local]
    for mine, theirs in zip(by_server, by_local, strict=True):
        assert mine.similarity == pytest.approx(theirs.similarity, abs=1e-5)
        assert mine.best_window == pytest.approx(theirs.best_window, abs=1e-5)
    wanted = passages[10:20]
    local_scores, server_scores = (local.similarities(question, wanted),
                                   served.similarities(question, wanted))
    assert server_scores.keys() == local_scores.keys() == {p.passage_id for p in wanted}
    for pid, value in local_scores.items():
        assert server_scores[pid] == pytest.approx(value, abs=1e-5)
    # The same collection as if it held a million entries: its vectors are read back.
    large = ChromaVectorStore(served._collection, entries=lambda: 1_000_000)
    assert [h.passage.passage_id for h in large.query(question, 5)] == \
        [h.passage.passage_id for h in by_local]
    for pid, value in large.similarities(question, wanted).items():
        assert value == pytest.approx(local_scores[pid], abs=1e-5)


def test_a_server_collections_size_is_read_again_once_a_minute_old() -> None:
    from rag.vector_store import COUNT_SECONDS, EntryCount

    class Collection:
        held, reads = 10, 0

        def count(self) -> int:
            self.reads += 1
            return self.held

    now = [0.0]
    collection = Collection()
    entries = EntryCount(collection, clock=lambda: now[0])
    assert entries() == 10
    collection.held = 5000
    now[0] = COUNT_SECONDS - 1
    assert entries() == 10 and collection.reads == 1
    now[0] = COUNT_SECONDS
    assert entries() == 5000 and collection.reads == 2


def test_both_index_servers_over_tls_with_the_practices_ca_and_not_without_it(
        embedder: MiniLMEmbedder, tmp_path: Path) -> None:
    """The practice's own CA (certificates made by openssl): with index_server_ca_file set, the
    library works over TLS to both servers; with another CA, each says so in one sentence."""
    from tests.model_server import self_signed

    ca, cert, key = self_signed(tmp_path / "tls")
    other_ca, _, _ = self_signed(tmp_path / "other")
    with postgres_server(tmp_path / "postgres", cert=(cert, key)) as postgres, \
            chroma_server(tmp_path / "chroma", cert=(ca, cert, key)) as chroma:
        postgres.create_database("practice")
        servers = IndexServers(chroma.server(), postgres.options("practice", ca_file=ca))
        assert chroma.url.startswith("https://")
        desk = workstation(servers, tmp_path / "desk", embedder)
        notes = write_notes(tmp_path / "notes", "consent", 2)
        list(desk.ingest(notes, "Clinic"))
        assert desk.search("case consent-001", "Clinic", 1)[0].passage.source == str(notes[1])
        desk.close()
        # What the library's connections are: verified TLS (sslmode=verify-full).
        connection = PgConnection(servers.database)
        assert connection.execute("SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()"
                                  ).fetchone()[0] is True
        connection.close()
        with pytest.raises(IndexServerError, match="could not be verified over TLS"):
            VectorServer(chroma.url, token=INDEX_TOKEN, ca_file=other_ca).connect()
        with pytest.raises(IndexServerError, match="could not be verified over TLS"):
            ServerStorage(IndexServers(chroma.server(), postgres.options(
                "practice", ca_file=other_ca))).connect()


def test_a_database_older_than_the_index_needs_is_named_with_its_version(
        practice_index: PracticeIndex, monkeypatch: pytest.MonkeyPatch) -> None:
    """Too old a PostgreSQL would fail the first search with a syntax error; it is refused at
    connection with its version and what to do (the real server, the oldest supported version
    raised above it)."""
    import rag.postgres

    options = practice_index.fresh().database
    real = PgConnection(options).server_version
    monkeypatch.setattr(rag.postgres, "OLDEST_SERVER", real + 10000)
    with pytest.raises(IndexServerError, match=r"runs PostgreSQL \d+\.\d+; the shared index "
                                               r"needs PostgreSQL \d+ or later"):
        PgConnection(options)
