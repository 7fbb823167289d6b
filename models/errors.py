"""Errors a person can act on: each message says what is wrong and what to do, in one line."""

from __future__ import annotations


class ModelError(RuntimeError):
    """The chat model cannot be used; ``str(error)`` is a one-line instruction for a person."""
