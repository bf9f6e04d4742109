"""Statements of the annotators' hot path, compiled once per dialect and run on the connection's own
DBAPI cursor.

``Connection.execute`` spends ~150 µs of Python per statement here (cache key, execution context,
result object) on statements SQLite answers in ~15 µs; next-task + submit run ~10 of them per round.
A :class:`FastStatement` keeps the statement written in SQLAlchemy Core, compiles it once per dialect,
and converts parameters and results with the same type processors SQLAlchemy would use, so stored
values are identical; it runs in the connection's current transaction and hands driver errors to
SQLAlchemy's own handling (the ``DBAPIError`` family, ``handle_error`` listeners, disconnect detection).
When something listens to the engine's ``before_cursor_execute`` or ``after_cursor_execute`` events (a
statement counter, OpenTelemetry's SQLAlchemy instrumentation), it runs through ``Connection.execute``
instead, so those listeners get the execution context they expect.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, cast

from sqlalchemy.engine import Connection, Dialect
from sqlalchemy.sql.base import Executable
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.elements import ClauseElement

__all__ = ["FastStatement"]

_Processor = Callable[[Any], Any] | None


@dataclass(frozen=True)
class _Compiled:
    sql: str
    names: tuple[str, ...]  # positional dialects: bind names in placeholder order
    positional: bool
    defaults: Mapping[str, Any]  # values the statement carries itself (e.g. a literal compared to)
    binds: Mapping[str, Callable[[Any], Any]]  # bind name -> type processor
    types: tuple[Any, ...]  # per result column, its SQLAlchemy type for this dialect
    keys: tuple[str, ...]  # result column names


class FastStatement:
    """One Core statement, run without ``Connection.execute``'s per-call work. Expanding (``IN``)
    parameters are not supported; every other bind is, by name."""

    def __init__(self, statement: ClauseElement) -> None:
        self.statement = statement
        self._executable = cast(Executable, statement)
        self._compiled: dict[str, _Compiled] = {}
        self._results: dict[str, tuple[_Processor, ...]] = {}

    def _compile(self, dialect: Dialect) -> _Compiled:
        found = self._compiled.get(dialect.name)
        if found is not None:
            return found
        comp = self.statement.compile(dialect=dialect)
        assert isinstance(comp, SQLCompiler)
        defaults: dict[str, Any] = {}
        binds: dict[str, Callable[[Any], Any]] = {}
        for name, bind in comp.binds.items():
            if bind.expanding:
                raise TypeError(f"FastStatement does not support expanding parameter {name!r}")
            if not bind.required:
                defaults[name] = bind.effective_value
            proc = bind.type.dialect_impl(dialect).bind_processor(dialect)
            if proc is not None:
                binds[name] = proc
        columns: Sequence[Any] = getattr(self.statement, "exported_columns", ())
        types = tuple(c.type.dialect_impl(dialect) for c in columns)
        keys = tuple(str(c.key) for c in columns)
        found = _Compiled(comp.string, tuple(comp.positiontup or ()), bool(comp.positional), defaults, binds, types,
                          keys)
        self._compiled[dialect.name] = found
        return found

    @staticmethod
    def _watched(conn: Connection) -> bool:
        """Whether a listener would see the statement run: then it goes through ``Connection.execute``."""
        return bool(conn.dispatch.before_cursor_execute or conn.dispatch.after_cursor_execute)

    def _run(self, conn: Connection, params: Mapping[str, Any]) -> Any:
        dialect = conn.dialect
        c = self._compile(dialect)
        values = {**c.defaults, **params} if c.defaults else dict(params)
        for name, proc in c.binds.items():
            values[name] = proc(values[name])
        args: Any = tuple(values[n] for n in c.names) if c.positional else values
        cursor = conn.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
        try:
            cursor.execute(c.sql, args)
        except dialect.loaded_dbapi.Error as exc:
            # SQLAlchemy's own handling: closes the cursor, runs handle_error listeners, raises the DBAPIError
            # family, and invalidates a connection the database dropped (else it would go back to the pool)
            conn._handle_dbapi_exception(exc, c.sql, args, cursor, None)
        return cursor

    def all(self, conn: Connection, params: Mapping[str, Any]) -> list[tuple[Any, ...]]:
        """Every result row, each value converted as ``Connection.execute`` would."""
        if self._watched(conn):
            return [tuple(r) for r in conn.execute(self._executable, dict(params))]
        cursor = self._run(conn, params)
        rows = cursor.fetchall()
        procs = self._results.get(conn.dialect.name)
        if procs is None:  # some drivers' processors depend on the column's type code (PostgreSQL numerics)
            types = self._compile(conn.dialect).types
            procs = tuple(t.result_processor(conn.dialect, d[1]) for t, d in zip(types, cursor.description, strict=True))
            self._results[conn.dialect.name] = procs
        cursor.close()
        if not any(procs):
            return [tuple(r) for r in rows]
        return [tuple(v if p is None or v is None else p(v) for p, v in zip(procs, r, strict=True)) for r in rows]

    def first(self, conn: Connection, params: Mapping[str, Any]) -> tuple[Any, ...] | None:
        rows = self.all(conn, params)
        return rows[0] if rows else None

    def first_map(self, conn: Connection, params: Mapping[str, Any]) -> dict[str, Any] | None:
        """The first row as ``{column name: value}``."""
        row = self.first(conn, params)
        return None if row is None else dict(zip(self._compile(conn.dialect).keys, row, strict=True))

    def rowcount(self, conn: Connection, params: Mapping[str, Any]) -> int:
        """Rows a statement without results changed."""
        if self._watched(conn):
            return int(conn.execute(self._executable, dict(params)).rowcount)
        cursor = self._run(conn, params)
        n = int(cursor.rowcount)
        cursor.close()
        return n
