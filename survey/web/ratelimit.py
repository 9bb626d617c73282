"""In-memory limits per client address, per app instance: the collector's unknown codes, the
office's failed logins.

Nothing is persisted or logged, and not even memory holds a client's address: the key is a
keyed hash under a random key made when the process starts. IPv6 clients are counted per
/64, the block one subscriber usually holds. The address is the one the ASGI server reports
(``request.client.host``): uvicorn honours X-Forwarded-For only from the proxies listed in
SURVEY_TRUSTED_PROXIES. Each worker process counts on its own. (Production also limits the
collector in nginx.)
"""

from __future__ import annotations

import hashlib
import ipaddress
import secrets
import threading
import time
from collections import OrderedDict, deque
from collections.abc import Callable

MAX_CLIENTS = 100_000  # bounded memory under a flood of addresses: the oldest are forgotten


def client_key(address: str) -> str:
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return address
    if ip.version == 6:
        return str(ipaddress.ip_network(f"{ip}/64", strict=False))
    return str(ip)


class AddressLimiter:
    """At most ``limit`` recorded events per client within a sliding window."""

    def __init__(
        self,
        limit: int,
        window_seconds: float,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.limit = limit
        self.window = window_seconds
        self.clock = clock
        self._key = secrets.token_bytes(32)
        self._hits: OrderedDict[bytes, deque[float]] = OrderedDict()
        self._lock = threading.Lock()  # handlers run in worker threads

    def _id(self, client: str) -> bytes:
        return hashlib.blake2b(client_key(client).encode(), key=self._key, digest_size=16).digest()

    def _recent(self, ident: bytes) -> deque[float]:
        hits = self._hits.get(ident)
        if hits is None:
            hits = self._hits[ident] = deque()
            while len(self._hits) > MAX_CLIENTS:
                self._hits.popitem(last=False)
        cutoff = self.clock() - self.window
        while hits and hits[0] < cutoff:
            hits.popleft()
        return hits

    def blocked(self, client: str) -> bool:
        with self._lock:
            return len(self._recent(self._id(client))) >= self.limit

    def record(self, client: str) -> None:
        with self._lock:
            ident = self._id(client)
            self._recent(ident).append(self.clock())
            self._hits.move_to_end(ident)

    def admit(self, client: str) -> bool:
        """Count an attempt before its outcome is known, if the client is not blocked: checked
        and counted at once, so concurrent attempts cannot all slip under the limit."""
        with self._lock:
            ident = self._id(client)
            hits = self._recent(ident)
            if len(hits) >= self.limit:
                return False
            hits.append(self.clock())
            self._hits.move_to_end(ident)
            return True

    def forgive(self, client: str) -> None:
        """Take back the latest admitted attempt (it succeeded)."""
        with self._lock:
            hits = self._hits.get(self._id(client))
            if hits:
                hits.pop()


class UnknownCodeLimiter(AddressLimiter):
    """The collector's: unknown codes (404 replies) per client in ten minutes."""

    def __init__(self, limit: int, window_seconds: float = 600.0) -> None:
        super().__init__(limit, window_seconds)

    def record_unknown(self, client: str) -> None:
        self.record(client)
