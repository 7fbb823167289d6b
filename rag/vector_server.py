"""A practice's Chroma server, as IT starts it for the workstations' shared index:
``python -m rag.vector_server --path /srv/enclave/chroma --host 0.0.0.0 --port 8000
--token-file /etc/enclave/chroma-token [--ssl-certfile cert.pem --ssl-keyfile key.pem]``.

This is Chroma's own server (``chromadb.app``) with Chroma's own token authentication: a request
without the token is refused. Its product telemetry is turned off before it starts; nothing in it
connects anywhere. (``chroma run``, Chroma's Rust server, serves the same API but checks no
token, so a practice would have to put it behind a proxy that does.)
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

_TOKEN_AUTH = "chromadb.auth.token_authn.TokenAuthenticationServerProvider"


def server_environment(path: Path, token_file: Path | None) -> dict[str, str]:
    """The settings Chroma's server reads from its environment."""
    env = {"IS_PERSISTENT": "TRUE", "PERSIST_DIRECTORY": str(path),
           "ANONYMIZED_TELEMETRY": "FALSE", "ALLOW_RESET": "FALSE"}
    if token_file is not None:
        # The token as the clients read it, without the file's line end (Chroma would keep it).
        env |= {"CHROMA_SERVER_AUTHN_PROVIDER": _TOKEN_AUTH,
                "CHROMA_SERVER_AUTHN_CREDENTIALS": token_file.read_text("utf-8").strip()}
    return env


def mend_embedding_replies() -> None:
    """chromadb 1.5's Python server fails every read that returns vectors ("'list' object has
    no attribute 'tolist'"): it takes its engine's vectors for numpy arrays, and they come as
    lists. Its module's ``cast`` is the one place each vector passes: made to give a list back
    as an array, the reply is the vectors, as the embedded client gives them."""
    from typing import Any

    import numpy as np
    from chromadb.api.types import Embedding
    from chromadb.server import fastapi as server

    def cast(kind: Any, value: Any) -> Any:
        return np.asarray(value) if kind is Embedding and isinstance(value, list) else value

    server.cast = cast  # type: ignore[assignment]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m rag.vector_server", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--path", type=Path, required=True, help="where the vectors are kept")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8000)
    parser.add_argument("--token-file", type=Path, default=None,
                        help="a file holding the token clients must send (strongly advised)")
    parser.add_argument("--ssl-certfile", type=Path, default=None)
    parser.add_argument("--ssl-keyfile", type=Path, default=None)
    args = parser.parse_args(argv)
    if args.token_file is not None and not args.token_file.is_file():
        parser.error(f"the token file {args.token_file} does not exist")
    args.path.mkdir(parents=True, exist_ok=True)
    os.environ.update(server_environment(args.path, args.token_file))
    import uvicorn

    mend_embedding_replies()

    tls = {"ssl_certfile": str(args.ssl_certfile), "ssl_keyfile": str(args.ssl_keyfile)} \
        if args.ssl_certfile else {}
    uvicorn.run("chromadb.app:app", host=args.host, port=args.port, log_level="warning",
                **tls)  # type: ignore[arg-type]
    return 0


if __name__ == "__main__":
    sys.exit(main())
