"""The database handle's write transactions under threads, and the request thread pool's size."""

from __future__ import annotations

import threading
import warnings
from pathlib import Path

import pytest

pytest.importorskip("fastapi")

import anyio.to_thread
import sqlalchemy as sa

from labelgate.server.db import Database
from labelgate.server.settings import Settings

with warnings.catch_warnings():
    warnings.filterwarnings("ignore", message="Using `httpx` with `starlette.testclient`")
    from fastapi.testclient import TestClient


def _db(tmp_path: Path) -> Database:
    db = Database(Settings(data_dir=tmp_path))
    with db.write() as conn:
        conn.exec_driver_sql("CREATE TABLE counter (n INTEGER NOT NULL)")
        conn.exec_driver_sql("INSERT INTO counter VALUES (0)")
    return db


def test_sqlite_writers_in_threads_all_land(tmp_path: Path) -> None:
    """Writers queue on the process's lock: every read-modify-write lands, none fails as 'locked'."""
    db = _db(tmp_path)
    errors: list[BaseException] = []

    def bump() -> None:
        try:
            for _ in range(15):
                with db.write() as conn:
                    n = conn.exec_driver_sql("SELECT n FROM counter").scalar_one()
                    conn.exec_driver_sql(f"UPDATE counter SET n = {n + 1}")
        except BaseException as e:
            errors.append(e)

    threads = [threading.Thread(target=bump) for _ in range(12)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert not errors
    with db.read() as conn:
        assert conn.execute(sa.text("SELECT n FROM counter")).scalar_one() == 12 * 15
    db.dispose()


def test_a_failed_write_rolls_back_and_frees_the_lock(tmp_path: Path) -> None:
    db = _db(tmp_path)
    with pytest.raises(RuntimeError), db.write() as conn:
        conn.exec_driver_sql("UPDATE counter SET n = 99")
        raise RuntimeError("boom")
    done = threading.Event()

    def other() -> None:
        with db.write() as conn:
            conn.exec_driver_sql("UPDATE counter SET n = n + 1")
        done.set()

    t = threading.Thread(target=other)
    t.start()
    assert done.wait(10), "another thread could not write after a failed transaction"
    t.join()
    with db.read() as conn:
        assert conn.execute(sa.text("SELECT n FROM counter")).scalar_one() == 1
    db.dispose()


def test_request_handlers_run_on_the_configured_thread_pool(tmp_path: Path) -> None:
    from labelgate.server import create_app

    app = create_app(Settings(data_dir=tmp_path, request_threads=3, argon2_time_cost=1, argon2_memory_kib=64))

    @app.get("/probe-threads")
    def probe() -> int:
        return 0

    @app.get("/probe-limit")
    async def limit() -> float:
        return anyio.to_thread.current_default_thread_limiter().total_tokens

    with TestClient(app) as c:
        assert c.get("/probe-threads").status_code == 200
        assert c.get("/probe-limit").json() == 3
