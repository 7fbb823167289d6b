"""The chat model on a practice's model server, against a real llama.cpp OpenAI-compatible
server on the default GGUF, started on 127.0.0.1 by the tests."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from models.chat_model import ChatMessage
from models.errors import ModelError
from models.server_chat_model import ServerChatModel, ServerOptions
from tests.model_server import (
    ALIAS,
    PRACTICE_TOKEN,
    RunningServer,
    free_port,
    model_server,
    self_signed,
)

TOKEN = PRACTICE_TOKEN
LONG = [ChatMessage("user", "Write a very long story about a dog who travels the world.")]


@pytest.fixture
def server(practice_server: RunningServer) -> RunningServer:
    return practice_server


@pytest.fixture
def model(server: RunningServer) -> Iterator[ServerChatModel]:
    connected = ServerChatModel(ServerOptions(url=server.url, token=TOKEN, context_size=2048))
    yield connected
    connected.close()


def test_an_answer_streams_from_the_server_with_its_stats(model: ServerChatModel) -> None:
    assert model.name == ALIAS and model.backend == f"server 127.0.0.1:{model.port}"
    completion = model.chat([ChatMessage("user", "Name three colours.")], max_tokens=24,
                            temperature=0.0)
    pieces = list(completion)
    assert len(pieces) > 3 and "".join(pieces).strip()
    stats = completion.stats
    assert stats is not None and stats.completion_tokens == 24 and stats.prompt_tokens > 5
    assert stats.finish_reason == "length" and stats.time_to_first_token > 0
    assert stats.tokens_per_second > 0
    # The server counts tokens itself, as the local model does.
    assert model.count_tokens("hello world") == 2


def test_stopping_closes_the_stream_and_the_server_stops_generating(
        model: ServerChatModel) -> None:
    stop = threading.Event()
    completion = model.chat(LONG, max_tokens=1500, temperature=0.8, cancel=stop)
    for n, _piece in enumerate(completion):
        if n == 4:
            stop.set()
    assert completion.stats is not None and completion.stats.finish_reason == "cancelled"
    # The server answers one request at a time: had it gone on with the story (up to 1,500
    # tokens, ~20 s here), the next question would wait for it.
    started = time.perf_counter()
    short = model.chat([ChatMessage("user", "Say yes.")], max_tokens=4, temperature=0.0)
    assert "".join(short)
    assert time.perf_counter() - started < 5


def test_two_workstations_at_once_each_get_a_whole_answer(server: RunningServer) -> None:
    """The server answers one question at a time; the second waits its turn instead of
    cutting the first short (llama-cpp-python's default, which gave an empty answer)."""
    answers: dict[int, tuple[str, str | None]] = {}

    def workstation(n: int) -> None:
        model = ServerChatModel(ServerOptions(url=server.url, token=TOKEN, context_size=2048))
        completion = model.chat([ChatMessage("user", f"Count to twenty, desk {n}.")],
                                max_tokens=40, temperature=0.0)
        text = "".join(completion)
        answers[n] = (text, completion.stats.finish_reason if completion.stats else None)
        model.close()

    desks = [threading.Thread(target=workstation, args=(n,)) for n in range(2)]
    for desk in desks:
        desk.start()
    for desk in desks:
        desk.join(120)
    assert sorted(answers) == [0, 1]
    for text, finish in answers.values():
        assert text.strip() and finish in ("stop", "length")


def test_a_stream_that_ends_unfinished_is_an_error_not_a_short_answer() -> None:
    """A seam: a server on loopback that sends two words and ends the stream without a
    finish reason (a server that cut this answer short)."""
    import http.server

    class Cut(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # the model list
            body = b'{"data": [{"id": "m"}]}'
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def do_POST(self) -> None:
            self.rfile.read(int(self.headers["Content-Length"]))
            self.send_response(200)
            self.send_header("Content-Type", "text/event-stream")
            self.end_headers()
            for word in ("Records ", "are "):
                self.wfile.write(b'data: {"choices": [{"delta": {"content": "%s"}}]}\n\n'
                                 % word.encode())
            self.close_connection = True

        def log_message(self, *args: object) -> None:
            pass

    with http.server.ThreadingHTTPServer(("127.0.0.1", 0), Cut) as cut:
        threading.Thread(target=cut.serve_forever, daemon=True).start()
        model = ServerChatModel(ServerOptions(url=f"http://127.0.0.1:{cut.server_port}"))
        with pytest.raises(ModelError, match="ended the answer without finishing it"):
            list(model.chat([ChatMessage("user", "How long?")], max_tokens=8,
                            temperature=0.0))
        model.close()
        cut.shutdown()


def test_a_long_conversation_is_fitted_to_the_servers_context(model: ServerChatModel) -> None:
    turn = "The clinic's records retention policy says many things. " * 30
    history = [ChatMessage("system", "You are a helpful assistant.")]
    for n in range(12):
        history += [ChatMessage("user", f"Question {n}: {turn}"),
                    ChatMessage("assistant", f"Answer {n}: {turn}")]
    completion = model.chat([*history, ChatMessage("user", "Summarise in one line.")],
                            max_tokens=16, temperature=0.0)
    assert "".join(completion)
    assert completion.stats is not None and completion.stats.trimmed_messages > 0
    assert completion.stats.prompt_tokens < model.context_size


def test_a_wrong_token_is_refused_and_never_shown(server: RunningServer) -> None:
    options = ServerOptions(url=server.url, token="wrong-" + TOKEN)
    with pytest.raises(ModelError, match="refused Enclave's token") as refused:
        ServerChatModel(options)
    assert TOKEN not in str(refused.value) and TOKEN not in repr(options)


def test_a_server_that_is_not_running_is_one_clear_line() -> None:
    port = free_port()  # nothing listens there
    started = time.perf_counter()
    with pytest.raises(ModelError, match=f"127.0.0.1:{port} cannot be reached"):
        ServerChatModel(ServerOptions(url=f"http://127.0.0.1:{port}"))
    assert time.perf_counter() - started < 5


def test_a_server_that_never_answers_times_out_with_a_message() -> None:
    """A seam: a listener on loopback that accepts and says nothing (a hung server)."""
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        port = listener.getsockname()[1]
        with pytest.raises(ModelError, match="did not answer within 1 seconds"):
            ServerChatModel(ServerOptions(url=f"http://127.0.0.1:{port}", timeout_s=1))


def test_a_server_killed_mid_answer_keeps_the_words_so_far_and_says_what_happened(
        default_model_path: Path, tmp_path: Path) -> None:
    with model_server(default_model_path, tmp_path / "doomed") as doomed:
        model = ServerChatModel(ServerOptions(url=doomed.url, context_size=2048, timeout_s=10))
        received: list[str] = []
        with pytest.raises(ModelError, match="closed the connection in the middle"):
            for n, piece in enumerate(model.chat(LONG, max_tokens=1500, temperature=0.8)):
                received.append(piece)
                if n == 3:
                    doomed.kill()
        assert len(received) >= 4
        model.close()


def test_tls_with_the_practices_ca_file(default_model_path: Path, tmp_path: Path) -> None:
    ca, cert, key = self_signed(tmp_path / "pki")
    with model_server(default_model_path, tmp_path / "tls", cert=(cert, key)) as secure:
        assert secure.url.startswith("https://")
        with pytest.raises(ModelError, match="certificate this computer does not trust"):
            ServerChatModel(ServerOptions(url=secure.url))
        model = ServerChatModel(ServerOptions(url=secure.url, ca_file=ca, context_size=2048))
        assert "".join(model.chat([ChatMessage("user", "Hi")], max_tokens=4, temperature=0.0))
        model.close()
