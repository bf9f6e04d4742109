"""Bulk inserts that skip per-row ORM work: ``COPY`` on PostgreSQL, one ``executemany`` of plain
tuples on SQLite. Values are given column by column, already encoded for the column: JSON columns
as JSON text, booleans as bool, datetimes as timezone-aware datetimes; a value the same for every
row is given once."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, datetime
from itertools import repeat
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

__all__ = ["bulk_insert"]


def _sqlite_text(v: datetime | None) -> str | None:
    """A datetime in the text form SQLAlchemy's SQLite DateTime reads back (UTC, no offset)."""
    if v is None:
        return None
    u = v.astimezone(UTC).replace(tzinfo=None) if v.tzinfo is not None else v
    return u.strftime("%Y-%m-%d %H:%M:%S.%f")


def bulk_insert(conn: Connection, table: sa.Table, columns: Mapping[str, Sequence[Any]],
                same: Mapping[str, Any] | None = None) -> None:
    """Insert one row per value of ``columns`` (column name -> one value per row, all of one
    length) into ``table`` inside the caller's transaction; ``same``: columns whose value is the
    same for every row, given once."""
    lengths = {len(v) for v in columns.values()}
    if len(lengths) != 1:
        raise ValueError(f"bulk_insert into {table.name}: columns of different lengths {sorted(lengths)}")
    if not lengths.pop():
        return
    fixed = dict(same or {})
    names = [*columns, *fixed]
    cols = ", ".join(f'"{c}"' for c in names)
    dbapi = conn.connection.driver_connection
    values: list[Iterable[Any]] = list(columns.values())
    if conn.dialect.name == "postgresql":
        rows = zip(*values, *map(repeat, fixed.values()), strict=False)  # the repeats are endless
        with dbapi.cursor() as cur, cur.copy(f'COPY "{table.name}" ({cols}) FROM STDIN') as copy:  # type: ignore[union-attr]
            for row in rows:
                copy.write_row(row)
        return
    dt = {c for c in names if isinstance(table.c[c].type, sa.DateTime)}
    values = [map(_sqlite_text, v) if c in dt else v for c, v in zip(columns, values, strict=True)]
    consts = [_sqlite_text(v) if c in dt else v for c, v in fixed.items()]
    marks = ", ".join("?" for _ in names)
    cur = dbapi.cursor()  # type: ignore[union-attr]
    try:
        cur.executemany(f'INSERT INTO "{table.name}" ({cols}) VALUES ({marks})', zip(*values, *map(repeat, consts), strict=False))
    finally:
        cur.close()
