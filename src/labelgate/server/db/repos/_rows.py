"""Row helpers shared by repositories."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

__all__ = ["aware", "fields", "mapped"]


def aware(dt: datetime | None) -> datetime | None:
    """SQLite hands back naive datetimes; everything we store is UTC."""
    if dt is None:
        return None
    return dt if dt.tzinfo is not None else dt.replace(tzinfo=UTC)


def fields(row: Any, *names: str) -> dict[str, Any]:
    """The row as a dict, datetimes made timezone-aware; ``names`` limits the columns."""
    return mapped(row._mapping, *names)


def mapped(m: Mapping[str, Any], *names: str) -> dict[str, Any]:
    """:func:`fields` of a ``{column: value}`` mapping."""
    out = {k: m[k] for k in (names or m.keys())}
    for k, v in out.items():
        if isinstance(v, datetime):
            out[k] = aware(v)
    return out
