"""Failed logins, counted per key (``user:<name>``, ``client:<address>``) across server processes."""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from labelgate.server.db.tables import login_failures

__all__ = ["add", "delete", "failures", "forget", "lock", "prune"]

_LOCK = sa.text("SELECT pg_advisory_xact_lock(hashtextextended(:key, 0))")


def lock(conn: Connection, keys: Sequence[str]) -> None:
    """Hold these keys until the transaction ends, so that two attempts never both count the same
    failures and both pass. On PostgreSQL an advisory lock per key (in sorted order: no deadlock); a
    SQLite write transaction holds the whole database already."""
    if conn.dialect.name == "postgresql":
        for k in sorted(set(keys)):
            conn.execute(_LOCK, {"key": k})


def failures(conn: Connection, keys: Sequence[str], since: float) -> dict[str, tuple[int, float]]:
    """For each key with failures after ``since``: their count and the oldest one's time."""
    q = (sa.select(login_failures.c.key, sa.func.count(), sa.func.min(login_failures.c.at))
         .where(login_failures.c.key.in_(keys), login_failures.c.at > since).group_by(login_failures.c.key))
    return {k: (int(n), float(oldest)) for k, n, oldest in conn.execute(q)}


def add(conn: Connection, keys: Sequence[str], at: float) -> list[int]:
    """One failure row per key; their ids."""
    res = conn.execute(login_failures.insert().returning(login_failures.c.id, sort_by_parameter_order=True),
                       [{"key": k, "at": at} for k in keys])
    return [int(i) for i in res.scalars()]


def delete(conn: Connection, ids: Sequence[int]) -> None:
    if ids:
        conn.execute(login_failures.delete().where(login_failures.c.id.in_(ids)))


def forget(conn: Connection, keys: Sequence[str]) -> None:
    """Every failure of these keys."""
    conn.execute(login_failures.delete().where(login_failures.c.key.in_(keys)))


def prune(conn: Connection, before: float) -> None:
    """Failures at or before ``before`` (out of every window)."""
    conn.execute(login_failures.delete().where(login_failures.c.at <= before))
