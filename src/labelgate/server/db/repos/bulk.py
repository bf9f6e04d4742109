"""Bulk inserts that skip per-row ORM work: ``COPY`` on PostgreSQL, ``executemany`` of plain
tuples on SQLite (fifty rows to a statement). Values are given column by column, already encoded for
the column: JSON columns as JSON text, booleans as bool, datetimes as timezone-aware datetimes; a
value the same for every row is given once.

A column may be a lazy iterator (values still being made, e.g. JSON text built a chunk at a time):
rows are then made as they are stored. PostgreSQL's server process takes ``COPY`` data as it comes,
so it stores the first rows while the rest are made.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from collections.abc import Sized as SizedABC
from datetime import UTC, datetime
from itertools import chain, islice, repeat
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

__all__ = ["bulk_insert"]

# rows per SQLite statement: one VALUES list of many rows costs a fraction of as many one-row statements
_SQLITE_ROWS = 50
_SQLITE_VARIABLES = 32_766  # SQLite's limit on ? per statement since 3.32


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
    one = "(" + ", ".join("?" for _ in names) + ")"
    k = max(1, min(_SQLITE_ROWS, _SQLITE_VARIABLES // len(names)))
    rest: list[tuple[Any, ...]] = []
    cur = dbapi.cursor()  # type: ignore[union-attr]
    try:
        cur.executemany(f'INSERT INTO "{table.name}" ({cols}) VALUES {", ".join([one] * k)}',
                        _joined(_rows(values, tuple(consts)), k, rest))
        if rest:
            cur.executemany(f'INSERT INTO "{table.name}" ({cols}) VALUES {one}', rest)
    finally:
        cur.close()


def _rows(values: list[Iterable[Any]], consts: tuple[Any, ...]) -> Iterator[tuple[Any, ...]]:
    """Row tuples: the columns side by side (a lazy one that runs short or long raises ValueError),
    then the constants."""
    return map(tuple.__add__, zip(*values, strict=True), repeat(consts))


def _joined(rows: Iterator[tuple[Any, ...]], k: int, rest: list[tuple[Any, ...]]) -> Iterator[tuple[Any, ...]]:
    """The parameters of ``k`` rows at a time, one tuple each; the last rows, fewer than ``k``, go to ``rest``."""
    while len(chunk := list(islice(rows, k))) == k:
        yield tuple(chain.from_iterable(chunk))
    rest.extend(chunk)
