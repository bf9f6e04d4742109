"""Bulk inserts that skip per-row ORM work: ``COPY`` on PostgreSQL, one ``executemany`` of plain
tuples on SQLite. Values are given column by column, already encoded for the column: JSON columns
as JSON text, booleans as bool, datetimes as timezone-aware datetimes; a value the same for every
row is given once.

A column may be a lazy iterator (values still being made, e.g. JSON text built a chunk at a time):
the database then stores the first rows while the rest are made. PostgreSQL's server process takes
``COPY`` data as it comes; SQLite's ``executemany`` runs in a helper thread (SQLite lets go of the
GIL while it writes) that the calling thread feeds with batches of rows.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Iterator, Mapping
from collections.abc import Sized as SizedABC
from datetime import UTC, datetime
from itertools import chain, islice, repeat
from queue import Queue
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

__all__ = ["bulk_insert"]

_BATCH = 2_000  # rows handed to SQLite's thread at a time


def _sqlite_text(v: datetime | None) -> str | None:
    """A datetime in the text form SQLAlchemy's SQLite DateTime reads back (UTC, no offset)."""
    if v is None:
        return None
    u = v.astimezone(UTC).replace(tzinfo=None) if v.tzinfo is not None else v
    return u.strftime("%Y-%m-%d %H:%M:%S.%f")


def bulk_insert(conn: Connection, table: sa.Table, columns: Mapping[str, Iterable[Any]],
                same: Mapping[str, Any] | None = None) -> None:
    """Insert one row per value of ``columns`` (column name -> one value per row; lists of one
    length, or lazy iterators as long as they) into ``table`` inside the caller's transaction;
    ``same``: columns whose value is the same for every row, given once."""
    lengths = {len(v) for v in columns.values() if isinstance(v, SizedABC)}
    if len(lengths) != 1:
        raise ValueError(f"bulk_insert into {table.name}: needs lists of one length, got lengths {sorted(lengths)}")
    if not lengths.pop():
        return
    lazy = not all(isinstance(v, SizedABC) for v in columns.values())
    fixed = dict(same or {})
    names = [*columns, *fixed]
    cols = ", ".join(f'"{c}"' for c in names)
    dbapi = conn.connection.driver_connection
    values: list[Iterable[Any]] = list(columns.values())
    if conn.dialect.name == "postgresql":
        rows = _rows(values, tuple(fixed.values()))
        with dbapi.cursor() as cur, cur.copy(f'COPY "{table.name}" ({cols}) FROM STDIN') as copy:  # type: ignore[union-attr]
            for row in rows:
                copy.write_row(row)
        return
    dt = {c for c in names if isinstance(table.c[c].type, sa.DateTime)}
    values = [map(_sqlite_text, v) if c in dt else v for c, v in zip(columns, values, strict=True)]
    consts = [_sqlite_text(v) if c in dt else v for c, v in fixed.items()]
    marks = ", ".join("?" for _ in names)
    sql = f'INSERT INTO "{table.name}" ({cols}) VALUES ({marks})'
    rows = _rows(values, tuple(consts))
    cur = dbapi.cursor()  # type: ignore[union-attr]
    try:
        if lazy:
            _executemany_beside(cur, sql, rows)
        else:
            cur.executemany(sql, rows)
    finally:
        cur.close()


def _rows(values: list[Iterable[Any]], consts: tuple[Any, ...]) -> Iterator[tuple[Any, ...]]:
    """Row tuples: the columns side by side (a lazy one that runs short or long raises ValueError),
    then the constants."""
    return map(tuple.__add__, zip(*values, strict=True), repeat(consts))


def _executemany_beside(cur: Any, sql: str, rows: Iterator[tuple[Any, ...]]) -> None:
    """``cur.executemany(sql, rows)`` with SQLite in a helper thread and ``rows`` made in this one,
    in batches: the two overlap. Whatever fails first (making rows, or storing them) is raised here,
    after the helper has stopped."""
    batches: Queue[list[tuple[Any, ...]] | None] = Queue(maxsize=4)
    failed: list[BaseException] = []

    def store() -> None:
        try:
            cur.executemany(sql, chain.from_iterable(iter(batches.get, None)))
        except BaseException as e:
            failed.append(e)
            while batches.get() is not None:  # keep taking batches so the maker never blocks on a full queue
                pass

    helper = threading.Thread(target=store, name="bulk-insert", daemon=True)
    helper.start()
    try:
        while not failed and (batch := list(islice(rows, _BATCH))):
            batches.put(batch)
    finally:
        batches.put(None)
        helper.join()
    if failed:
        raise failed[0]
