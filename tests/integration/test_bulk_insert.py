"""Bulk inserts (COPY on PostgreSQL, executemany on SQLite) from lists and from lazy columns."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import orjson
import pytest
import sqlalchemy as sa

from labelgate.server.db import utcnow
from labelgate.server.db.repos.bulk import bulk_insert
from labelgate.server.db.tables import events, projects
from labelgate.server.services.runtime import Runtime


class _Undo(Exception):
    """Raised to roll a test's transaction back."""


def _project(conn: sa.Connection) -> int:
    now = utcnow()
    pk = conn.execute(projects.insert().values(name=f"bulk {uuid.uuid4().hex}", description="", label_schema={}, settings={},
                                               created_at=now, updated_at=now)).inserted_primary_key
    assert pk is not None
    return int(pk[0])


def _stored(conn: sa.Connection, pid: int) -> list[tuple[object, ...]]:
    q = sa.select(events.c.kind, events.c.data, events.c.actor_id).where(events.c.project_id == pid).order_by(events.c.id)
    return [tuple(r) for r in conn.execute(q)]


def _lazy(texts: list[str], fail_at: int | None = None) -> Iterator[str]:
    for i, t in enumerate(texts):
        if i == fail_at:
            raise KeyError("made up")
        yield t


@pytest.mark.parametrize("n", [1, 4_999, 5_001])  # around the helper's batches of 2,000
def test_a_lazy_column_stores_what_a_list_stores(runtime: Runtime, n: int) -> None:
    kinds = [f"k{i % 7}" for i in range(n)]
    data = [orjson.dumps({"i": i, "s": "é\\\t\n"}).decode() for i in range(n)]
    with pytest.raises(_Undo), runtime.db.write() as conn:
        a, b = _project(conn), _project(conn)
        bulk_insert(conn, events, {"kind": kinds, "data": data}, {"project_id": a, "actor_id": None, "created_at": utcnow()})
        bulk_insert(conn, events, {"kind": kinds, "data": _lazy(data)}, {"project_id": b, "actor_id": None,
                                                                         "created_at": utcnow()})
        stored = _stored(conn, b)
        assert stored == _stored(conn, a) and len(stored) == n and stored[-1][1] == {"i": n - 1, "s": "é\\\t\n"}
        raise _Undo


def test_a_lazy_column_that_runs_short_or_fails_raises_and_stops(runtime: Runtime) -> None:
    kinds = [f"k{i}" for i in range(4_500)]
    data = ["{}"] * len(kinds)
    for lazy, error in ((_lazy(data[:-1]), ValueError), (_lazy(data, fail_at=3_000), KeyError), (_lazy([*data, "{}"]), ValueError)):
        with pytest.raises(error), runtime.db.write() as conn:
            pid = _project(conn)
            bulk_insert(conn, events, {"kind": kinds, "data": lazy}, {"project_id": pid, "actor_id": None, "created_at": utcnow()})


def test_a_database_error_while_storing_a_lazy_column_is_raised(runtime: Runtime) -> None:
    n = 4_500
    with pytest.raises(Exception) as e, runtime.db.write() as conn:  # the driver's own error (raw DBAPI cursor)
        pid = _project(conn)
        actors = [None] * n
        actors[3_500] = 10**9  # no such user: the foreign key refuses the row
        bulk_insert(conn, events, {"kind": ["k"] * n, "actor_id": actors, "data": _lazy(["{}"] * n)},
                    {"project_id": pid, "created_at": utcnow()})
    assert "foreign key" in str(e.value).lower()
