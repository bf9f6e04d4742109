"""The server stores an engine snapshot every ``workflow_snapshot_every`` log records (in the transaction
that appends them); a process without the engine in memory loads the snapshot and replays only the
records after it, and ends up with the state a full replay builds (SQLite and PostgreSQL)."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from labelgate.server import Runtime, Settings, create_app
from labelgate.server.db.repos import workflow as repo
from labelgate.server.domain import Role
from labelgate.server.services import projects
from labelgate.server.services.workflow_host import ProjectEngine, hub
from tests.conftest import require_or_skip
from tests.integration.conftest import FAST_HASH, PG_URL, TestClient, _postgres_up, _user
from tests.unit.server.test_workflow_snapshots import engine_view, new_engine

API = "/api/v1"
CLASSES = ("Product", "Price tag")


@pytest.fixture(params=["sqlite", "postgres"])
def rt(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Runtime]:
    extra = {"workflow_snapshot_every": 10, **FAST_HASH}
    if request.param == "sqlite":
        settings = Settings(data_dir=tmp_path, **extra)
    else:
        require_or_skip(_postgres_up(), f"PostgreSQL is not reachable at {PG_URL}")
        settings = Settings(data_dir=tmp_path, database_url=PG_URL, database_schema=f"lg_snap_{uuid.uuid4().hex[:12]}",
                            **extra)
    runtime = Runtime.open(settings)
    try:
        yield runtime
    finally:
        runtime.close()
        if request.param == "postgres":
            import sqlalchemy as sa

            eng = sa.create_engine(PG_URL)
            with eng.begin() as conn:
                conn.execute(sa.text(f'DROP SCHEMA IF EXISTS "{settings.database_schema}" CASCADE'))
            eng.dispose()


def box(x: int, label: str) -> dict[str, object]:
    return {"geometry": {"type": "box", "x1": x, "y1": 0, "x2": x + 40, "y2": 40}, "label": label}


def test_a_restart_loads_the_snapshot_and_replays_the_tail(rt: Runtime) -> None:
    root, ann, mgr = _user(rt, "root", superuser=True), _user(rt, "ann"), _user(rt, "mgr")
    assert root.user is not None
    p = projects.create_project(rt, root.user, "snap", "", {"classes": [{"name": c} for c in CLASSES]},
                                settings={"blind": True})
    projects.set_member(rt, root.user, p.id, ann.name, Role.ANNOTATOR)
    projects.set_member(rt, root.user, p.id, mgr.name, Role.MANAGER)
    m = TestClient(create_app(runtime=rt), headers=mgr.headers)
    a = TestClient(create_app(runtime=rt), headers=ann.headers)
    conf = {"audits": {"rate": 0.3, "seed": 1, "min_gap": 2}, "overlap": {"k": 1}}
    assert m.put(f"{API}/projects/{p.id}/workflow", json=conf).status_code == 200
    m.post(f"{API}/projects/{p.id}/tasks", json={"items": [{"id": f"t{i}", "width": 99, "height": 99} for i in range(16)]})
    n = 0
    while (nxt := a.post(f"{API}/projects/{p.id}/next-task")).status_code == 200:
        n += 1
        tid = nxt.json()["id"]
        r = a.post(f"{API}/tasks/{tid}/submit", json={"regions": [box(0, CLASSES[(tid + n % 3) % 2]), box(50, "Product")]})
        assert r.status_code == 201, r.text
    cards = m.get(f"{API}/projects/{p.id}/quality/annotators").json()
    assert next(c for c in cards if c["member"] == ann.name)["retest"]["audits"] >= 2

    with rt.db.read() as conn:
        snap = repo.snapshot(conn, p.id)
        records = repo.records(conn, p.id)
    assert snap is not None and 10 <= snap[0] < len(records)  # a snapshot, and records after it
    before = hub(rt).get(p.id)
    assert before is not None
    live = engine_view(before)

    hub(rt).drop(p.id)  # as a fresh process: nothing in memory
    assert m.get(f"{API}/projects/{p.id}/quality/annotators").json() == cards
    loaded = hub(rt).get(p.id)
    assert isinstance(loaded, ProjectEngine) and loaded is not before
    assert loaded.snapshot_seq == snap[0] > 0  # built from the snapshot
    full = new_engine(conf)
    full.catch_up(records)
    assert len(loaded.state.log) == len(records)  # reading the scorecards added nothing
    assert engine_view(loaded) == engine_view(full) == live and loaded.max_task == full.max_task
    # work goes on from the restored engine
    m.post(f"{API}/projects/{p.id}/tasks", json={"items": [{"id": "late", "width": 99, "height": 99}]})
    keys = []
    while (nxt := a.post(f"{API}/projects/{p.id}/next-task")).status_code == 200 and len(keys) < 5:
        keys.append(nxt.json()["key"])
        assert a.post(f"{API}/tasks/{nxt.json()['id']}/submit", json={"regions": []}).status_code == 201
    assert "late" in keys and nxt.status_code == 204  # (an audit may ride along the new work)
