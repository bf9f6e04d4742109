"""The annotators' hot path (next-task, submit) stays lean, and credential caching never outlives
its stated window.

A statement budget guards against a per-request query creeping back in: 50 annotators looping
next-task + submit is what the server benchmark measures (benchmarks/server)."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient

from labelgate.server import Runtime, create_app
from labelgate.server.services import auth
from labelgate.server.services.credentials import CredentialCache
from tests.conftest import FakeClock
from tests.integration.conftest import World

BOX = {"geometry": {"type": "box", "x1": 1, "y1": 2, "x2": 30, "y2": 40}, "label": "Product"}


@contextmanager
def counting(rt: Runtime) -> Iterator[dict[str, Any]]:
    """Every statement and commit. FastStatements are counted where they run, and kept on their fast path
    (a cursor listener alone would send them through ``Connection.execute``)."""
    from unittest import mock

    from labelgate.server.db.fast import FastStatement

    seen: dict[str, Any] = {"statements": [], "commits": 0, "fast": 0}

    def on_execute(_c: Any, _cur: Any, statement: str, *_: Any) -> None:
        seen["statements"].append(statement.split(None, 1)[0].upper())

    def on_commit(_c: Any) -> None:
        seen["commits"] += 1

    fast_run = FastStatement._run

    def run_fast(self: FastStatement, conn: Any, params: Any) -> Any:
        seen["fast"] += 1
        on_execute(conn, None, self._compile(conn.dialect).sql)
        return fast_run(self, conn, params)

    sa.event.listen(rt.db.engine, "before_cursor_execute", on_execute)
    sa.event.listen(rt.db.engine, "commit", on_commit)
    try:
        with mock.patch.object(FastStatement, "_watched", staticmethod(lambda conn: False)), \
                mock.patch.object(FastStatement, "_run", run_fast):
            yield seen
    finally:
        sa.event.remove(rt.db.engine, "before_cursor_execute", on_execute)
        sa.event.remove(rt.db.engine, "commit", on_commit)


def test_next_task_and_submit_take_two_transactions_and_few_statements(app_client: TestClient, world: World) -> None:
    c, h = app_client, world["annotator"].headers
    items = [{"id": f"hot_{i}", "width": 640, "height": 480} for i in range(3)]
    assert c.post(f"/api/v1/projects/{world.project_id}/tasks", headers=world["manager"].headers,
                  json={"items": items}).status_code == 201
    assert c.get("/api/v1/auth/me", headers=h).status_code == 200  # the token is verified (and cached) once
    with counting(world.rt) as seen:
        r = c.post(f"/api/v1/projects/{world.project_id}/next-task", headers=h)
        assert r.status_code == 200, r.text
        r = c.post(f"/api/v1/tasks/{r.json()['id']}/annotations", headers=h, json={"regions": [BOX], "submit": True})
        assert r.status_code == 201, r.text
    data = [s for s in seen["statements"] if s not in ("BEGIN", "COMMIT", "ROLLBACK")]
    assert seen["commits"] == 2, seen
    # next-task: project+role, own draft, reserve the next; submit: task+project+role, insert, progress
    # (after its row lock on PostgreSQL), the events (created, submitted, task completed) in one statement
    assert len(data) <= 8, data
    assert seen["fast"] >= 6, seen  # those of the hot path ran as FastStatements, on the DBAPI cursor
    assert r.json()["status"] == "submitted"
    task = c.get(f"/api/v1/tasks/{r.json()['task_id']}", headers=world["manager"].headers).json()
    assert task["completed"] and task["n_submitted"] == 1


def test_a_duplicate_annotation_is_refused_without_writing(app_client: TestClient, world: World) -> None:
    c, h = app_client, world["annotator2"].headers
    t = c.post(f"/api/v1/projects/{world.project_id}/tasks", headers=world["manager"].headers,
               json={"items": [{"id": f"dup_{uuid.uuid4().hex[:6]}", "width": 10, "height": 10}]}).json()[0]
    first = c.post(f"/api/v1/tasks/{t['id']}/annotations", headers=h, json={"regions": [BOX]}).json()
    r = c.post(f"/api/v1/tasks/{t['id']}/annotations", headers=h, json={"regions": [BOX, BOX], "submit": True})
    assert r.status_code == 409 and f"annotation {first['id']}" in r.json()["error"]["message"], r.text
    again = c.get(f"/api/v1/annotations/{first['id']}", headers=h).json()
    assert again["version"] == 1 and again["status"] == "draft" and len(again["regions"]) == 1
    events = [e["kind"] for e in c.get(f"/api/v1/tasks/{t['id']}/events", headers=world["manager"].headers).json()]
    assert events.count("annotation.created") == 1


def test_revocation_is_immediate_here_and_within_auth_cache_s_in_another_process(runtime: Runtime, world: World) -> None:
    """Two server processes on one database: the one that revokes forgets at once; the other trusts
    its cached check for at most ``auth_cache_s`` seconds."""
    user = world["reviewer"].user
    assert user is not None
    info, token = auth.create_token(runtime, user, "second process")
    other = Runtime.open(runtime.settings)
    clock = FakeClock(1000.0)
    other.credentials = CredentialCache(runtime.settings.auth_cache_s, clock=clock)
    h = {"Authorization": f"Token {token}"}
    try:
        with TestClient(create_app(runtime=runtime)) as here, TestClient(create_app(runtime=other)) as there:
            assert here.get("/api/v1/auth/me", headers=h).status_code == 200
            assert there.get("/api/v1/auth/me", headers=h).status_code == 200
            assert here.delete(f"/api/v1/auth/tokens/{info['id']}", headers=h).status_code == 204
            assert here.get("/api/v1/auth/me", headers=h).status_code == 401
            assert there.get("/api/v1/auth/me", headers=h).status_code == 200  # still inside its window
            clock.now += runtime.settings.auth_cache_s
            assert there.get("/api/v1/auth/me", headers=h).status_code == 401
    finally:
        other.close()


def test_fast_statements_read_and_write_exactly_what_sqlalchemy_does(runtime: Runtime, world: World) -> None:
    """The hot path's FastStatements against ``Connection.execute`` on the same rows (the values,
    types and time zones), and what they write read back through SQLAlchemy."""
    from datetime import UTC, datetime

    from labelgate.server.db.fast import FastStatement
    from labelgate.server.db.repos import projects as projects_repo
    from labelgate.server.db.repos import tasks as tasks_repo

    su = world["superuser"].user
    ann = world["annotator"].user
    assert su is not None and ann is not None
    from labelgate.server.services import imports

    t = imports.create_tasks(runtime, su, world.project_id, [{"id": f"fast_{uuid.uuid4().hex[:6]}", "width": 8,
                                                               "height": 6, "meta": {"k": [1.5, "x"]}}])[0]
    now = datetime.now(UTC)
    with runtime.db.write() as conn:
        for stmt, params in ((projects_repo._WITH_ROLE, {"pid": world.project_id, "uid": ann.id}),
                             (projects_repo._TASK_WITH_ROLE, {"tid": t.id, "uid": ann.id}),
                             (tasks_repo._NEXT_ID, {"pid": world.project_id, "uid": ann.id, "now": now})):
            assert FastStatement(stmt).all(conn, params) == [tuple(r) for r in conn.execute(stmt, params)]
        mine = tasks_repo.insert_own_annotation(conn, {
            "project_id": world.project_id, "task_id": t.id, "author_id": ann.id, "author_name": ann.username,
            "source": "human", "status": "submitted", "regions": [{"x": 0.1, "nested": {"y": [1, None]}}],
            "lead_time": 2.25, "submitted_at": now})
        assert mine is not None and mine.created_at.tzinfo is not None
        assert tasks_repo.annotation(conn, mine.id) == mine
        assert tasks_repo.insert_own_annotation(conn, {
            "project_id": world.project_id, "task_id": t.id, "author_id": ann.id, "author_name": ann.username,
            "source": "human", "status": "draft", "regions": []}) is None
        assert tasks_repo.refresh_progress(conn, t.id, 1) == (1, True)
        tasks_repo.add_events(conn, [{"project_id": world.project_id, "task_id": t.id, "kind": f"k{i}",
                                      "data": {"i": i}} for i in range(3)])
        got = [(e.kind, e.data) for e in tasks_repo.list_events(conn, t.id)[-3:]]
        assert got == [("k0", {"i": 0}), ("k1", {"i": 1}), ("k2", {"i": 2})]
        conn.rollback()


def test_fast_statements_give_watching_listeners_a_real_context(runtime: Runtime, world: World) -> None:
    """A listener on the cursor events (as OpenTelemetry's SQLAlchemy instrumentation is: it keeps its span on
    the execution context between ``before_`` and ``after_cursor_execute``) sees each FastStatement with its
    context; without one, the statement runs on the DBAPI cursor and ``Connection.execute`` is not called."""
    from unittest import mock

    from labelgate.server.db.fast import FastStatement
    from labelgate.server.db.repos import projects as projects_repo

    ann = world["annotator"].user
    assert ann is not None
    stmt, params = projects_repo._WITH_ROLE, {"pid": world.project_id, "uid": ann.id}
    fast = FastStatement(stmt)
    spans: list[str] = []

    def before(_c: Any, _cur: Any, statement: str, _p: Any, context: Any, _many: bool) -> None:
        context._test_span = statement  # fails on a missing context

    def after(_c: Any, _cur: Any, _s: Any, _p: Any, context: Any, _many: bool) -> None:
        spans.append(context._test_span)

    with runtime.db.read() as conn:
        expected = [tuple(r) for r in conn.execute(stmt, params)]
        with mock.patch.object(type(conn), "execute", side_effect=AssertionError("not the fast path")):
            assert fast.all(conn, params) == expected
    sa.event.listen(runtime.db.engine, "before_cursor_execute", before)
    sa.event.listen(runtime.db.engine, "after_cursor_execute", after)
    try:
        with runtime.db.read() as conn:
            assert fast.all(conn, params) == expected
    finally:
        sa.event.remove(runtime.db.engine, "before_cursor_execute", before)
        sa.event.remove(runtime.db.engine, "after_cursor_execute", after)
    assert any(s.lstrip().upper().startswith("SELECT") for s in spans)


def test_a_fast_statement_error_goes_through_sqlalchemys_handling(runtime: Runtime) -> None:
    """A driver error on the fast path: SQLAlchemy's exception family, ``handle_error`` listeners, and a
    connection judged dropped is invalidated (not handed back to the pool for the next request)."""
    from labelgate.server.db.fast import FastStatement

    bad = FastStatement(sa.select(sa.literal_column("1")).select_from(sa.table("no_such_table")))
    seen: list[bool] = []

    def on_error(ctx: Any) -> None:
        seen.append(ctx.is_disconnect)
        ctx.is_disconnect = True  # as the dialect says when the server went away

    sa.event.listen(runtime.db.engine, "handle_error", on_error)
    try:
        with runtime.db.engine.connect() as conn:
            with pytest.raises(sa.exc.ProgrammingError if runtime.db.dialect == "postgresql" else sa.exc.OperationalError):
                bad.all(conn, {})
            assert conn.invalidated
    finally:
        sa.event.remove(runtime.db.engine, "handle_error", on_error)
    assert seen == [False]
    with runtime.db.read() as conn:  # the pool hands out a working connection afterwards
        assert conn.exec_driver_sql("SELECT 1").scalar_one() == 1


def test_bulk_task_creation_refreshes_postgresql_statistics(app_client: TestClient, world: World) -> None:
    """Fresh rows look like an empty table to PostgreSQL's planner until statistics are taken; next-task's
    candidate query was then planned as a loop over the annotator's own annotations per open task."""
    rt = world.rt
    if rt.db.dialect != "postgresql":
        return  # SQLite's planner does not depend on ANALYZE here
    items = [{"id": f"stats_{uuid.uuid4().hex[:6]}_{i}", "width": 4, "height": 4} for i in range(1000)]
    assert app_client.post(f"/api/v1/projects/{world.project_id}/tasks", headers=world["manager"].headers,
                           json={"items": items}).status_code == 201
    with rt.db.read() as conn:
        tuples = conn.exec_driver_sql("SELECT reltuples FROM pg_class WHERE oid = 'tasks'::regclass").scalar_one()
        plan = "\n".join(r[0] for r in conn.exec_driver_sql(
            "EXPLAIN SELECT id FROM tasks WHERE project_id = %(p)s AND completed IS false ORDER BY id LIMIT 1",
            {"p": world.project_id}))
    assert tuples >= 1000, tuples
    assert "Sort" not in plan, plan  # walks an index in id order and stops at the first open task


def test_short_writes_run_inline_only_when_nobody_writes(runtime: Runtime, tmp_path) -> None:
    """SQLite with one server process: the event loop may take the write lock only when it is free;
    a writer on another thread (an import job, say) sends requests to worker threads instead of
    making the loop wait. PostgreSQL, or several server processes: never inline."""
    import threading

    from labelgate.server import Settings
    from labelgate.server.db import Database

    db = runtime.db
    if db.dialect != "sqlite":
        with db.inline_writer() as free:
            assert free is False
        return
    with db.inline_writer() as free:
        assert free is True
    holding, release = threading.Event(), threading.Event()

    def writer() -> None:
        with db.write():
            holding.set()
            release.wait(10)

    t = threading.Thread(target=writer)
    t.start()
    try:
        assert holding.wait(10)
        with db.inline_writer() as free:
            assert free is False
    finally:
        release.set()
        t.join(10)
    with db.inline_writer() as free:
        assert free is True
    several = Database(Settings(data_dir=tmp_path, server_processes=2))
    try:
        with several.inline_writer() as free:
            assert free is False
    finally:
        several.dispose()


def test_a_big_submit_takes_the_worker_thread_path_and_is_stored_whole(app_client: TestClient, world: World) -> None:
    c, h = app_client, world["annotator2"].headers
    t = c.post(f"/api/v1/projects/{world.project_id}/tasks", headers=world["manager"].headers,
               json={"items": [{"id": f"big_{uuid.uuid4().hex[:6]}", "width": 4000, "height": 3000}]}).json()[0]
    boxes = [{"geometry": {"type": "box", "x1": i, "y1": i, "x2": i + 10.5, "y2": i + 20.25}, "label": "Product"}
             for i in range(1500)]  # ~140 kB of JSON: above the inline limit
    r = c.post(f"/api/v1/tasks/{t['id']}/annotations", headers=h, json={"regions": boxes, "submit": True})
    assert r.status_code == 201, r.text
    stored = c.get(f"/api/v1/annotations/{r.json()['id']}", headers=h).json()
    assert len(stored["regions"]) == 1500 and stored["regions"][-1]["geometry"]["x2"] == 1509.5


def test_next_task_walks_its_projects_open_tasks_not_every_task(app_client: TestClient, world: World) -> None:
    """PostgreSQL planned "ORDER BY id LIMIT 1" as a walk of the primary key past every earlier project's
    tasks (10 ms per next-task at 20,000 of them); ordered as the index is, it starts at the project's
    first open task."""
    rt = world.rt
    if rt.db.dialect != "postgresql":
        return  # SQLite picks the (project_id, completed, id) index for either order
    from datetime import UTC, datetime

    from sqlalchemy.dialects import postgresql

    from labelgate.server.db.repos import tasks as tasks_repo

    mh = world["manager"].headers
    for pid, n in ((world.other_project_id, 3000), (world.project_id, 1000)):
        su = world["superuser"].headers
        items = [{"id": f"walk_{uuid.uuid4().hex[:6]}_{i}", "width": 4, "height": 4} for i in range(n)]
        assert app_client.post(f"/api/v1/projects/{pid}/tasks", headers=su if pid != world.project_id else mh,
                               json={"items": items}).status_code == 201
    ann = world["annotator"].user
    assert ann is not None
    sql = str(tasks_repo._NEXT_ID.compile(dialect=postgresql.dialect()))
    with rt.db.read() as conn:
        plan = "\n".join(r[0] for r in conn.exec_driver_sql(
            "EXPLAIN " + sql, {"pid": world.project_id, "uid": ann.id, "now": datetime.now(UTC), "param_1": 1}))
    assert "ix_tasks_project_open" in plan and "pk_tasks" not in plan, plan
