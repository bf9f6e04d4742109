"""The login limiter: failed logins per key (``user:<name>``, ``client:<address>``) within a sliding window,
kept in the database so that every server process (``--workers``) counts against one limit."""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable
from dataclasses import dataclass

from labelgate.server.db import Database
from labelgate.server.db.repos import logins
from labelgate.server.errors import RateLimited

__all__ = ["Attempt", "LoginLimiter"]

_KEY_CHARS = 255  # the column's width; a longer key (a pasted essay as the username) is stored as its digest


def _key(key: str) -> str:
    return key if len(key) <= _KEY_CHARS else "sha256:" + hashlib.sha256(key.encode()).hexdigest()


@dataclass(frozen=True)
class Attempt:
    """An attempt under way: recorded as a failure until :meth:`LoginLimiter.succeeded` says otherwise."""

    keys: tuple[str, ...]
    ids: tuple[int, ...]


class LoginLimiter:
    """At most ``limit`` failures per key within ``window`` seconds; the next attempt gets
    :class:`RateLimited` until the oldest failure leaves the window.

    An attempt is written down as a failure *before* the password is checked (in the transaction that
    checks the count), and taken back if it succeeds: so parallel guesses cannot all pass the check while
    the slow password hash runs, and a process that dies mid-check still counts the guess. ``clock`` is
    wall time (seconds since the epoch), shared by every process."""

    def __init__(self, db: Database, limit: int, window: float, clock: Callable[[], float] = time.time) -> None:
        self.db = db
        self.limit = limit
        self.window = window
        self._clock = clock

    def begin(self, *keys: str) -> Attempt:
        """Refuse (:class:`RateLimited`) if a key is at its limit, else record the attempt."""
        ks = tuple(dict.fromkeys(_key(k) for k in keys))
        now = float(self._clock())
        since = now - self.window
        with self.db.write() as conn:
            logins.lock(conn, ks)
            logins.prune(conn, since)
            full = [oldest for n, oldest in logins.failures(conn, ks, since).values() if n >= self.limit]
            if full:
                wait = max(min(full) + self.window - now, 0.0)
                raise RateLimited(f"too many failed logins; try again in {int(wait) + 1} s", retry_after=wait)
            return Attempt(ks, tuple(logins.add(conn, ks, now)))

    def succeeded(self, attempt: Attempt, *forget: str) -> None:
        """The attempt was right: take it back, and forget the earlier failures of the keys ``forget``."""
        with self.db.write() as conn:
            logins.delete(conn, attempt.ids)
            if forget:
                logins.forget(conn, [_key(k) for k in forget])

    def reset(self, *keys: str) -> None:
        """Forget every failure of these keys (an administrator unlocking an account; tests)."""
        with self.db.write() as conn:
            logins.forget(conn, [_key(k) for k in keys])
