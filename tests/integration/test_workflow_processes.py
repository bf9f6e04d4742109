"""The engine's log shared by server processes, and concurrent annotators: a second process (its own
runtime, its own engines) catches up from the database before every event; threads asking and
submitting at once never get one task twice, and the stored log replays to the same state."""

from __future__ import annotations

import threading

from labelgate.client import Client
from labelgate.server import Runtime, create_app
from labelgate.server.services.workflow_host import hub
from tests.integration.conftest import TestClient, World

BOX = {"geometry": {"type": "box", "x1": 1, "y1": 2, "x2": 30, "y2": 40}, "label": "Product"}


def client(rt: Runtime, world: World, role: str) -> Client:
    return Client("http://testserver", world[role].token, http=TestClient(create_app(runtime=rt)))


def test_two_processes_share_one_log(runtime: Runtime, world: World) -> None:
    other = Runtime.open(runtime.settings, migrate=False)  # a second server process on the same database
    try:
        pid = world.project_id
        here, there = client(runtime, world, "annotator"), client(other, world, "annotator")
        manager = client(runtime, world, "manager")
        manager.set_workflow(pid, {"skip": {"mode": "exclude"}})
        manager.create_tasks(pid, [{"id": f"p{i}", "width": 10, "height": 10} for i in range(3)])
        t = here.next_task(pid)
        assert t is not None
        there.submit(t["id"], [BOX])  # the other process learns of the lease from the log
        t2 = there.next_task(pid)
        assert t2 is not None and t2["id"] != t["id"]
        here.skip(t2["id"], "blurry")  # and back: the skip is applied on the first process's engine
        t3 = here.next_task(pid)
        assert t3 is not None and t3["id"] not in (t["id"], t2["id"])
        a = client(runtime, world, "manager").quality_overview(pid)
        b = client(other, world, "manager").quality_overview(pid)
        assert a == b and a["tasks"]["accepted"] == 1
    finally:
        other.close()


def test_concurrent_annotators_never_share_a_task(runtime: Runtime, world: World) -> None:
    pid = world.project_id
    manager = client(runtime, world, "manager")
    manager.set_workflow(pid, {})
    manager.create_tasks(pid, [{"id": f"c{i}", "width": 10, "height": 10} for i in range(24)])
    got: dict[str, list[int]] = {"annotator": [], "annotator2": [], "reviewer": []}
    errors: list[BaseException] = []

    def work(role: str) -> None:
        c = client(runtime, world, role)
        try:
            while (t := c.next_task(pid)) is not None:
                c.submit(t["id"], [BOX])
                got[role].append(t["id"])
        except BaseException as exc:  # reported below, in the main thread
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(r,)) for r in got]
    for th in threads:
        th.start()
    for th in threads:
        th.join(timeout=120)
    assert not errors
    done = [t for ids in got.values() for t in ids]
    assert len(done) == len(set(done)) == 24
    before = manager.quality_overview(pid)
    hub(runtime).drop(pid)
    assert manager.quality_overview(pid) == before and before["tasks"]["accepted"] == 24
