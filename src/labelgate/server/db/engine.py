"""The database handle: one engine per server, SQLite (WAL) or PostgreSQL (psycopg)."""

from __future__ import annotations

import os
import re
import sqlite3
import threading
import weakref
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

import orjson
import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.engine import Connection, Engine

from labelgate.core.errors import InvariantError
from labelgate.server.settings import Settings

__all__ = ["Database", "utcnow"]

_SQLITE_BUSY_S = 30  # how long a writer waits for the write lock before giving up
_SCHEMA_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,62}$")


def _dumps(value: Any) -> str:
    """JSON columns through orjson (numpy scalars included)."""
    return orjson.dumps(value, option=orjson.OPT_SERIALIZE_NUMPY).decode()


def utcnow() -> datetime:
    return datetime.now(UTC)


class Database:
    """Owns the engine. ``write()`` opens a transaction that takes the write lock up front on
    SQLite (``BEGIN IMMEDIATE``), so concurrent writers queue instead of failing; ``read()`` a
    plain one."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._checkpointer: _Checkpointer | None = None
        url = sa.make_url(settings.url)
        self.dialect = url.get_backend_name()
        if self.dialect == "sqlite":
            if url.database and url.database != ":memory:":
                from pathlib import Path

                Path(url.database).parent.mkdir(parents=True, exist_ok=True)
            # enough connections for the server's worker threads plus background jobs
            self.engine = sa.create_engine(url, connect_args={"check_same_thread": False, "timeout": 30},
                                           pool_size=20, max_overflow=40,
                                           json_serializer=_dumps, json_deserializer=orjson.loads)
            _sqlite_setup(self.engine)
            self._writer = threading.RLock()
            self._checkpointer = _Checkpointer.start(self, url.database) if url.database and url.database != ":memory:" else None
            # no other process writes (a CLI command against the same store may; then a write waits in
            # SQLite's busy handler on the event loop: a stall, never a lost or corrupt write)
            self._inline = settings.server_processes == 1 and settings.job_queue == "inprocess"
        elif self.dialect == "postgresql":
            connect_args: dict[str, Any] = {}
            if settings.database_schema:
                if not _SCHEMA_NAME.match(settings.database_schema):
                    raise InvariantError(f"LABELGATE_DATABASE_SCHEMA {settings.database_schema!r} is not a plain identifier")
                connect_args["options"] = f"-csearch_path={settings.database_schema}"
            self._inline = False  # every statement waits on the network: worker threads
            self.engine = sa.create_engine(url, pool_size=10, max_overflow=40, connect_args=connect_args,
                                           json_serializer=_dumps, json_deserializer=orjson.loads)
        else:
            raise InvariantError(f"unsupported database {self.dialect!r}: use sqlite or postgresql+psycopg")

    def create_schema(self) -> None:
        """Create the PostgreSQL schema named in the settings, if any and if missing."""
        name = self.settings.database_schema
        if self.dialect == "postgresql" and name:
            with self.engine.begin() as conn:
                conn.exec_driver_sql(f'CREATE SCHEMA IF NOT EXISTS "{name}"')

    @contextmanager
    def write(self) -> Iterator[Connection]:
        if self.dialect == "sqlite":
            # One writer at a time in this process, queued on a lock: threads that all sent BEGIN
            # IMMEDIATE would wait in SQLite's busy handler instead, which sleeps in growing steps (up
            # to 100 ms) and so leaves the database idle while 40 writers doze (8 submits/s, not 100+).
            # Other processes (--workers, job workers) still meet at SQLite's own lock.
            got = self._writer.acquire(timeout=_SQLITE_BUSY_S)
            try:
                with self.engine.connect() as conn:
                    conn.execution_options(labelgate_write=True)
                    with conn.begin():
                        yield conn
            finally:
                if got:
                    self._writer.release()
            if self._checkpointer is not None:
                self._checkpointer.wake.set()
            return
        with self.engine.connect() as conn:
            conn.execution_options(labelgate_write=True)
            with conn.begin():
                yield conn

    @contextmanager
    def inline_writer(self) -> Iterator[bool]:
        """Whether a short write may run on the calling (event loop) thread now, holding the write lock
        for its duration: SQLite, the only server process, in-process jobs, and nobody writing at this
        moment. Never waits: a busy lock yields False and the caller uses a worker thread."""
        if not self._inline or not self._writer.acquire(blocking=False):
            yield False
            return
        try:
            yield True
        finally:
            self._writer.release()

    @contextmanager
    def snapshot(self) -> Iterator[Connection]:
        """A read transaction whose statements all see one consistent state (REPEATABLE READ on
        PostgreSQL; a WAL read transaction on SQLite already is one)."""
        with self.engine.connect() as conn:
            if self.dialect == "postgresql":
                conn.execution_options(isolation_level="REPEATABLE READ")
            with conn.begin():
                yield conn

    @contextmanager
    def read(self) -> Iterator[Connection]:
        with self.engine.connect() as conn, conn.begin():
            yield conn

    def dispose(self) -> None:
        if self._checkpointer is not None:
            self._checkpointer.stop()
        self.engine.dispose()


def _sqlite_setup(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn: Any, _record: Any) -> None:
        dbapi_conn.isolation_level = None  # we emit BEGIN ourselves
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA journal_mode=WAL")
        cur.execute("PRAGMA synchronous=NORMAL")
        cur.execute("PRAGMA foreign_keys=ON")
        cur.execute(f"PRAGMA busy_timeout={_SQLITE_BUSY_S * 1000}")
        # no checkpoint in the committing connection (SQLite's default after a commit leaves 1,000+ pages
        # in the WAL: a bulk import's request then waited ~1.5 s copying its pages into the database
        # file); the Database's checkpointer thread does that after writes instead (see _Checkpointer)
        cur.execute("PRAGMA wal_autocheckpoint=0")
        cur.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Connection) -> None:
        immediate = conn.get_execution_options().get("labelgate_write", False)
        # on the driver's connection: exec_driver_sql costs ~100 µs of Python for this
        conn.connection.dbapi_connection.execute("BEGIN IMMEDIATE" if immediate else "BEGIN")  # type: ignore[union-attr]


class _Checkpointer:
    """Copies the SQLite WAL into the database file in a thread of its own, off the request path
    (connections run with ``wal_autocheckpoint=0``). Woken after each ``Database.write()`` and every
    :data:`_CHECKPOINT_POLL_S` regardless (writes made elsewhere, e.g. other processes or the driver
    connection directly, grow the WAL too); it checkpoints (PASSIVE: never blocks readers or writers)
    whenever the WAL file changed since its last look. SQLite itself checkpoints when the last
    connection closes."""

    def __init__(self, path: str) -> None:
        self.wal = path + "-wal"
        self.wake = threading.Event()
        self._stopped = threading.Event()
        self._seen: tuple[int, int] | None = None
        self._thread = threading.Thread(target=self._run, name="labelgate-sqlite-checkpoint", daemon=True)

    @classmethod
    def start(cls, owner: Database, path: str) -> _Checkpointer:
        self = cls(path)
        weakref.finalize(owner, self.stop)  # a Database dropped without dispose() stops it too
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stopped.set()
        self.wake.set()
        if self._thread.is_alive() and self._thread is not threading.current_thread():
            self._thread.join(timeout=_SQLITE_BUSY_S)

    def _changed(self) -> bool:
        try:
            st = os.stat(self.wal)
        except OSError:
            return False  # no WAL (yet, or any more)
        seen = (st.st_size, st.st_mtime_ns)
        if seen == self._seen:
            return False
        self._seen = seen
        return True

    def _run(self) -> None:
        conn: sqlite3.Connection | None = None
        try:
            while not self._stopped.is_set():
                woken = self.wake.wait(_CHECKPOINT_POLL_S)
                self.wake.clear()
                # after a write: checkpoint (a stat could miss a same-size write within one mtime tick);
                # otherwise only if the WAL changed
                if self._stopped.is_set() or not (self._changed() or woken):
                    continue
                try:
                    if conn is None:
                        conn = sqlite3.connect(self.wal[: -len("-wal")], timeout=_SQLITE_BUSY_S, check_same_thread=False)
                        conn.isolation_level = None
                    busy, frames, copied = conn.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
                    if busy or copied < frames:
                        self._seen = None  # readers held some frames back: the next look tries again
                except sqlite3.Error:
                    # a busy or vanished database: the next wake tries again (the WAL only grows meanwhile)
                    self._seen = None
                # at most one checkpoint a while: a stream of short writes then shares one (each has an fsync)
                self._stopped.wait(_CHECKPOINT_GAP_S)
        finally:
            if conn is not None:
                conn.close()


_CHECKPOINT_POLL_S = 2.0  # look at the WAL this often without writes through Database.write()
_CHECKPOINT_GAP_S = 0.5
