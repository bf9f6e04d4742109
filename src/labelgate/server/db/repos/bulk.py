"""Bulk inserts that skip per-row ORM work: ``COPY`` on PostgreSQL, one ``executemany`` of plain
tuples on SQLite. Values are given already encoded for the column: JSON columns as JSON text,
booleans as bool, datetimes as timezone-aware datetimes."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

__all__ = ["bulk_insert"]


def _sqlite_datetimes(table: sa.Table, columns: Sequence[str], rows: Sequence[Sequence[Any]]) -> list[Sequence[Any]]:
    """Datetimes in the text form SQLAlchemy's SQLite DateTime reads back (UTC, no offset)."""
    dt_cols = [j for j, c in enumerate(columns) if isinstance(table.c[c].type, sa.DateTime)]
    if not dt_cols:
        return list(rows)
    cache: dict[datetime, str] = {}

    def text(v: datetime | None) -> str | None:
        if v is None:
            return None
        s = cache.get(v)
        if s is None:
            u = v.astimezone(UTC).replace(tzinfo=None) if v.tzinfo is not None else v
            s = cache[v] = u.strftime("%Y-%m-%d %H:%M:%S.%f")
        return s

    out: list[Sequence[Any]] = []
    for row in rows:
        r = list(row)
        for j in dt_cols:
            r[j] = text(r[j])
        out.append(r)
    return out


def bulk_insert(conn: Connection, table: sa.Table, columns: Sequence[str], rows: Sequence[Sequence[Any]]) -> None:
    """Insert ``rows`` (tuples in ``columns`` order) into ``table`` inside the caller's transaction."""
    if not rows:
        return
    cols = ", ".join(f'"{c}"' for c in columns)
    dbapi = conn.connection.driver_connection
    if conn.dialect.name == "postgresql":
        with dbapi.cursor() as cur, cur.copy(f'COPY "{table.name}" ({cols}) FROM STDIN') as copy:  # type: ignore[union-attr]
            for row in rows:
                copy.write_row(row)
        return
    marks = ", ".join("?" for _ in columns)
    cur = dbapi.cursor()  # type: ignore[union-attr]
    try:
        cur.executemany(f'INSERT INTO "{table.name}" ({cols}) VALUES ({marks})', _sqlite_datetimes(table, columns, rows))
    finally:
        cur.close()
