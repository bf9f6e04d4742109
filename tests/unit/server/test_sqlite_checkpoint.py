"""SQLite's WAL is copied into the database file by the Database's checkpointer thread, not by the
committing connection (so a bulk import's request does not wait for it)."""

from __future__ import annotations

import os
import time
from pathlib import Path

from labelgate.server.db import Database
from labelgate.server.settings import Settings


def _wait(cond, seconds: float = 10.0) -> bool:  # type: ignore[no-untyped-def]
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        if cond():
            return True
        time.sleep(0.02)
    return bool(cond())


def test_checkpoint_runs_after_a_write_off_the_committing_connection(tmp_path: Path) -> None:
    db = Database(Settings(data_dir=tmp_path))
    path = tmp_path / "labelgate.db"
    try:
        with db.read() as conn:
            assert conn.exec_driver_sql("PRAGMA wal_autocheckpoint").scalar() == 0
            assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        blob = os.urandom(4096)
        with db.write() as conn:
            conn.exec_driver_sql("CREATE TABLE big (b BLOB NOT NULL)")
            for _ in range(2_000):  # ~8 MB: well past SQLite's own 1,000-page autocheckpoint
                conn.exec_driver_sql("INSERT INTO big VALUES (?)", (blob,))
        # the pages reach the database file without another write or a close
        assert _wait(lambda: path.stat().st_size > 8_000_000), path.stat().st_size
        with db.read() as conn:
            assert conn.exec_driver_sql("SELECT count(*) FROM big").scalar() == 2_000
    finally:
        db.dispose()
    assert db._checkpointer is not None and not db._checkpointer._thread.is_alive()


def test_dispose_stops_the_checkpointer(tmp_path: Path) -> None:
    db = Database(Settings(data_dir=tmp_path))
    checkpointer = db._checkpointer
    assert checkpointer is not None and checkpointer._thread.is_alive()
    db.dispose()
    assert not checkpointer._thread.is_alive()

