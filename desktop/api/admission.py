"""How many requests the local API takes at once. The model answers one question at a time, in
the order asked (its thread's queue is first come, first served); past ``limit`` questions
running or waiting, a new one is turned away with 429 rather than left waiting without end."""

from __future__ import annotations

import threading


class Admission:
    def __init__(self, limit: int) -> None:
        if limit < 1:
            raise ValueError("the limit must be at least 1")
        self.limit = limit
        self._taken = 0
        self._lock = threading.Lock()

    def try_enter(self) -> bool:
        with self._lock:
            if self._taken >= self.limit:
                return False
            self._taken += 1
            return True

    def leave(self) -> None:
        with self._lock:
            self._taken = max(0, self._taken - 1)

    @property
    def taken(self) -> int:
        return self._taken
