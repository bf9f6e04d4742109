"""A sliding-window counter of failures per key (used for logins)."""

from __future__ import annotations

import threading
import time
from collections import deque

from labelgate.server.errors import RateLimited

__all__ = ["RateLimiter"]


class RateLimiter:
    """At most ``limit`` failures per key within ``window`` seconds; then :class:`RateLimited`
    until the oldest failure leaves the window. Per process (a Redis-backed limiter can replace it)."""

    def __init__(self, limit: int, window: float, clock: object = time.monotonic) -> None:
        self.limit = limit
        self.window = window
        self._clock = clock
        self._failures: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    def _now(self) -> float:
        return float(self._clock())  # type: ignore[operator]

    def check(self, *keys: str) -> None:
        now = self._now()
        with self._lock:
            for key in keys:
                q = self._failures.get(key)
                if not q:
                    continue
                while q and q[0] <= now - self.window:
                    q.popleft()
                if len(q) >= self.limit:
                    wait = q[0] + self.window - now
                    raise RateLimited(f"too many failed logins; try again in {int(wait) + 1} s", retry_after=wait)

    def fail(self, *keys: str) -> None:
        now = self._now()
        with self._lock:
            for key in keys:
                self._failures.setdefault(key, deque()).append(now)

    def reset(self, *keys: str) -> None:
        with self._lock:
            for key in keys:
                self._failures.pop(key, None)
