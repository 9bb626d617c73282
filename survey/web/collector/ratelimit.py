"""In-memory limit on unknown-code attempts, per client and per app instance.

Only 404 replies count. Nothing is persisted or logged, and not even memory holds a client's
address: the key is a keyed hash under a random key made when the process starts.
(Production also limits in nginx.)
"""

from __future__ import annotations

import hashlib
import secrets
import time
from collections import deque


class UnknownCodeLimiter:
    def __init__(self, limit: int, window_seconds: float = 600.0) -> None:
        self.limit = limit
        self.window = window_seconds
        self._key = secrets.token_bytes(32)
        self._hits: dict[bytes, deque[float]] = {}

    def _id(self, client: str) -> bytes:
        return hashlib.blake2b(client.encode(), key=self._key, digest_size=16).digest()

    def _recent(self, client: str) -> deque[float]:
        hits = self._hits.setdefault(self._id(client), deque())
        cutoff = time.monotonic() - self.window
        while hits and hits[0] < cutoff:
            hits.popleft()
        return hits

    def blocked(self, client: str) -> bool:
        return len(self._recent(client)) >= self.limit

    def record_unknown(self, client: str) -> None:
        self._recent(client).append(time.monotonic())
        if len(self._hits) > 100_000:  # bounded memory under a flood of addresses
            self._hits.clear()
