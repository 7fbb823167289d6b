"""The real local API server on a free loopback port, for the tests of desktop/api/."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from desktop.api.server import ApiServer, ApiService
from desktop.api.token import load_or_create_token
from desktop.app.application import Application
from models.model_thread import ThreadChatModel


@dataclass
class Served:
    server: ApiServer
    token: str

    @property
    def address(self) -> str:
        return self.server.address

    def client(self, token: str | None = None):  # type: ignore[no-untyped-def]
        from openai import OpenAI

        return OpenAI(base_url=self.address, api_key=token or self.token, max_retries=0,
                      timeout=120)


@contextmanager
def serving(app: Application, queue_limit: int = 32) -> Iterator[Served]:
    model = ThreadChatModel(app.start_model_thread)
    token = load_or_create_token(app.settings.home)
    server = ApiServer(ApiService(app, model, token, queue_limit), "127.0.0.1", 0)
    server.start()
    try:
        yield Served(server, token)
    finally:
        server.stop()
        model.close()
