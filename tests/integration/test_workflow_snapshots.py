"""Every ``workflow_snapshot_every`` log records a project is due an engine snapshot; the request that makes
it due only marks it, and the process's snapshotter stores it later (a child process building the engine
from the database). A process without the engine in memory loads the snapshot and replays only the records
after it, and ends up with the state a full replay builds. A snapshot covering fewer records never replaces
one covering more (SQLite and PostgreSQL)."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from labelgate.server import Runtime, create_app
from labelgate.server.db.repos import workflow as repo
from labelgate.server.domain import Role
from labelgate.server.services import projects
from labelgate.server.services.workflow_host import ProjectEngine, gold_tasks, hub
from labelgate.server.services.workflow_snapshotter import snapshotter
from tests.integration.conftest import TestClient, _user, open_runtime
from tests.unit.server.test_workflow_snapshots import engine_view, new_engine

API = "/api/v1"
CLASSES = ("Product", "Price tag")


@pytest.fixture(params=["sqlite", "postgres"])
def rt(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Runtime]:
    # snapshots wait for an hour of idleness: a test takes them with flush() or lowers the wait itself
    with open_runtime(request.param, tmp_path, workflow_snapshot_every=10, workflow_snapshot_idle_s=3600.0) as runtime:
        yield runtime


def box(x: int, label: str) -> dict[str, object]:
    return {"geometry": {"type": "box", "x1": x, "y1": 0, "x2": x + 40, "y2": 40}, "label": label}


CONF = {"audits": {"rate": 0.3, "seed": 1, "min_gap": 2}, "overlap": {"k": 1}}


def work(rt: Runtime, until_due: bool = False) -> tuple[int, TestClient, TestClient, str]:
    """A project worked through the API until no task is left (or until it is first due a snapshot):
    (project id, manager client, annotator client, annotator's name)."""
    root, ann, mgr = _user(rt, "root", superuser=True), _user(rt, "ann"), _user(rt, "mgr")
    assert root.user is not None
    p = projects.create_project(rt, root.user, "snap", "", {"classes": [{"name": c} for c in CLASSES]},
                                settings={"blind": True})
    projects.set_member(rt, root.user, p.id, ann.name, Role.ANNOTATOR)
    projects.set_member(rt, root.user, p.id, mgr.name, Role.MANAGER)
    m = TestClient(create_app(runtime=rt), headers=mgr.headers)
    a = TestClient(create_app(runtime=rt), headers=ann.headers)
    assert m.put(f"{API}/projects/{p.id}/workflow", json=CONF).status_code == 200
    m.post(f"{API}/projects/{p.id}/tasks", json={"items": [{"id": f"t{i}", "width": 99, "height": 99} for i in range(16)]})
    n = 0
    while (nxt := a.post(f"{API}/projects/{p.id}/next-task")).status_code == 200:
        n += 1
        tid = nxt.json()["id"]
        r = a.post(f"{API}/tasks/{tid}/submit", json={"regions": [box(0, CLASSES[(tid + n % 3) % 2]), box(50, "Product")]})
        assert r.status_code == 201, r.text
        if until_due and p.id in snapshotter(rt).due_projects():
            break
    return p.id, m, a, ann.name


def restart_equals_full_replay(rt: Runtime, pid: int, seq: int) -> None:
    """A process without the engine builds it from the snapshot of ``seq`` records and the tail, and gets
    what a full replay of the log builds."""
    with rt.db.read() as conn:
        snap = repo.snapshot(conn, pid)
        records = repo.records(conn, pid)
    assert snap is not None and snap[0] == seq
    hub(rt).drop(pid)  # as a fresh process: nothing in memory
    gold_tasks(rt, pid)  # builds the engine, reading only
    loaded = hub(rt).get(pid)
    assert loaded is not None and loaded.snapshot_seq == seq > 0  # built from the snapshot
    full = new_engine(CONF)
    full.catch_up(records)
    assert len(loaded.state.log) == len(records)
    assert engine_view(loaded) == engine_view(full) and loaded.max_task == full.max_task


def test_a_restart_loads_the_snapshot_and_replays_the_tail(rt: Runtime) -> None:
    pid, m, a, ann_name = work(rt)
    with rt.db.read() as conn:
        assert repo.snapshot(conn, pid) is None  # due, but taken by no request
    assert snapshotter(rt).flush() == [pid]
    # more work after the snapshot, so that a restart replays a tail
    m.post(f"{API}/projects/{pid}/tasks", json={"items": [{"id": f"u{i}", "width": 99, "height": 99} for i in range(3)]})
    while (nxt := a.post(f"{API}/projects/{pid}/next-task")).status_code == 200:
        assert a.post(f"{API}/tasks/{nxt.json()['id']}/submit", json={"regions": []}).status_code == 201
    cards = m.get(f"{API}/projects/{pid}/quality/annotators").json()
    assert next(c for c in cards if c["member"] == ann_name)["retest"]["audits"] >= 2

    with rt.db.read() as conn:
        snap = repo.snapshot(conn, pid)
        records = repo.records(conn, pid)
    assert snap is not None and 10 <= snap[0] < len(records)  # a snapshot, and records after it
    before = hub(rt).get(pid)
    assert before is not None
    live = engine_view(before)

    hub(rt).drop(pid)  # as a fresh process: nothing in memory
    assert m.get(f"{API}/projects/{pid}/quality/annotators").json() == cards
    loaded = hub(rt).get(pid)
    assert isinstance(loaded, ProjectEngine) and loaded is not before
    assert loaded.snapshot_seq == snap[0] > 0  # built from the snapshot
    full = new_engine(CONF)
    full.catch_up(records)
    assert len(loaded.state.log) == len(records)  # reading the scorecards added nothing
    assert engine_view(loaded) == engine_view(full) == live and loaded.max_task == full.max_task
    # work goes on from the restored engine
    m.post(f"{API}/projects/{pid}/tasks", json={"items": [{"id": "late", "width": 99, "height": 99}]})
    keys: list[str] = []
    while (nxt := a.post(f"{API}/projects/{pid}/next-task")).status_code == 200 and len(keys) < 5:
        keys.append(nxt.json()["key"])
        assert a.post(f"{API}/tasks/{nxt.json()['id']}/submit", json={"regions": []}).status_code == 201
    assert "late" in keys and nxt.status_code == 204  # (an audit may ride along the new work)


def test_the_request_that_makes_a_snapshot_due_returns_before_it_is_written(rt: Runtime) -> None:
    pid, _, _, _ = work(rt, until_due=True)
    with rt.db.read() as conn:
        assert repo.snapshot(conn, pid) is None and repo.log_length(conn, pid) >= 10
    # the background path: the snapshotter's thread, once the project is idle
    rt.settings.workflow_snapshot_idle_s = 0.0
    engine = hub(rt).get(pid)
    assert engine is not None
    snapshotter(rt).mark(engine)  # (marked again: the thread reads the wait when a mark wakes it)
    deadline = time.monotonic() + 120
    while pid in snapshotter(rt).due_projects():
        assert time.monotonic() < deadline, "the snapshotter took no snapshot in 120 s"
        time.sleep(0.05)
    with rt.db.read() as conn:
        seq = repo.log_length(conn, pid)
    restart_equals_full_replay(rt, pid, seq)  # the snapshot covers every record, and holds their state


def test_closing_the_runtime_takes_the_due_snapshots(rt: Runtime) -> None:
    pid, _, _, _ = work(rt, until_due=True)
    with rt.db.read() as conn:
        seq = repo.log_length(conn, pid)
        assert repo.snapshot(conn, pid) is None
    rt.close()  # what the app's lifespan does at shutdown
    again = Runtime.open(rt.settings)
    try:
        with again.db.read() as conn:
            snap = repo.snapshot(conn, pid)
        assert snap is not None and snap[0] == seq
    finally:
        again.close()


def test_a_snapshot_another_process_took_is_not_taken_again(rt: Runtime) -> None:
    pid, _, _, _ = work(rt, until_due=True)
    snap = snapshotter(rt)
    assert snap.flush() == [pid]
    first = snap.taken[-1][1]
    assert first.stored and first.nbytes > 0
    engine = hub(rt).get(pid)
    assert engine is not None and engine.snapshot_seq == first.seq
    engine.snapshot_seq = 0  # this process did not see it being taken (as when another process took it)
    snap.mark(engine)
    assert snap.flush() == [pid]
    again = snap.taken[-1][1]
    assert again.seq == first.seq and not again.stored and again.nbytes == 0  # nothing built
    assert engine.snapshot_seq == first.seq and pid not in snap.due_projects()


def test_a_snapshot_never_replaces_one_covering_more_records(rt: Runtime) -> None:
    pid, _, _, _ = work(rt, until_due=True)
    with rt.db.write() as conn:
        assert repo.save_snapshot(conn, pid, 20, "f20", b"twenty")
        assert not repo.save_snapshot(conn, pid, 10, "f10", b"ten")  # finished later, but older
        assert not repo.save_snapshot(conn, pid, 20, "g20", b"again")
        assert repo.snapshot(conn, pid) == (20, "f20", b"twenty")
        assert repo.save_snapshot(conn, pid, 30, "f30", b"thirty")
        assert repo.snapshot(conn, pid) == (30, "f30", b"thirty")
    # and the snapshotter's child stores nothing over a snapshot covering more than the log
    with rt.db.write() as conn:
        assert repo.save_snapshot(conn, pid, 10_000, "fp", b"far ahead")
    assert snapshotter(rt).flush() == [pid]
    with rt.db.read() as conn:
        assert repo.snapshot(conn, pid) == (10_000, "fp", b"far ahead")
