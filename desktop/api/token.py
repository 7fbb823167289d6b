"""The local API's token: made at the first start, kept in the data directory for its user
alone (0600), and asked of every request."""

from __future__ import annotations

import hmac
import os
import secrets
from pathlib import Path

TOKEN_FILE = "api-token"


def token_path(home: Path) -> Path:
    return home / TOKEN_FILE


def load_or_create_token(home: Path) -> str:
    """The token in ``home``, made now if there is none yet (never readable by others)."""
    path = token_path(home)
    try:
        text = path.read_text(encoding="ascii").strip()
    except FileNotFoundError:
        text = ""
    if text:
        if path.stat().st_mode & 0o077:
            os.chmod(path, 0o600)
        return text
    home.mkdir(parents=True, exist_ok=True)
    made = secrets.token_urlsafe(32)
    partial = path.with_name(path.name + ".partial")
    fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="ascii") as f:
        f.write(made + "\n")
    os.replace(partial, path)
    return made


def token_matches(expected: str, authorization: str | None) -> bool:
    """Whether an ``Authorization: Bearer <token>`` header carries ``expected``."""
    if not authorization or not authorization.startswith("Bearer "):
        return False
    return hmac.compare_digest(authorization[len("Bearer "):].strip().encode(),
                               expected.encode())
