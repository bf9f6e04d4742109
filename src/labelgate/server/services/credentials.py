"""Recently verified credentials, so that a request need not look its token up again.

An annotator's client sends the same API token (or session cookie) several times a second; each
lookup is a read transaction of its own. A hit here trusts the user found by the last lookup for at
most ``ttl`` seconds. Revoking a token, logging out, changing a password or deactivating a user
clears this process's cache at once; other server processes (``--workers``) notice within ``ttl``.
A lookup that was under way while the cache was cleared does not put its (possibly revoked) answer
back: each clear starts a new generation, and ``put`` names the generation its lookup began in.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

from labelgate.server.domain import User

__all__ = ["CredentialCache"]


class CredentialCache:
    """Credential digest -> (user, monotonic deadline); at most ``capacity`` entries (emptied when full)."""

    def __init__(self, ttl: float, capacity: int = 10_000, clock: Callable[[], float] = time.monotonic) -> None:
        self.ttl = ttl
        self.capacity = capacity
        self._clock = clock
        self._entries: dict[str, tuple[User, float]] = {}
        self._lock = threading.Lock()
        self._generation = 0

    def get(self, digest: str) -> User | None:
        if self.ttl <= 0:
            return None
        hit = self._entries.get(digest)
        if hit is None:
            return None
        if hit[1] <= self._clock():
            with self._lock:
                self._entries.pop(digest, None)
            return None
        return hit[0]

    def generation(self) -> int:
        """Read before looking a credential up; pass to :meth:`put`."""
        return self._generation

    def put(self, digest: str, user: User, generation: int) -> None:
        """Remember a lookup's answer, unless the cache was cleared since ``generation`` was read."""
        if self.ttl <= 0:
            return
        with self._lock:
            if generation != self._generation:
                return  # a revocation, logout or deactivation happened during the lookup
            if len(self._entries) >= self.capacity:
                self._entries.clear()
            self._entries[digest] = (user, self._clock() + self.ttl)

    def clear(self) -> None:
        with self._lock:
            self._generation += 1
            self._entries.clear()
