"""The workflow through the SDK: the defect review chain (technician, then quality engineer; a rejection
pinned to a region, a fix, acceptance), the event log surviving a restart, and guideline versions on
annotations."""

from __future__ import annotations

import pytest

from labelgate.client import Client
from labelgate.core.errors import ConflictError, NotFoundError
from labelgate.server import create_app
from labelgate.server.services.workflow_host import hub
from tests.integration.conftest import TestClient, World

SCRATCH = {"geometry": {"type": "box", "x1": 10, "y1": 10, "x2": 40, "y2": 30}, "label": "Product", "id": 7}
DENT = {"geometry": {"type": "box", "x1": 50, "y1": 50, "x2": 90, "y2": 80}, "label": "Price tag", "id": 8}


@pytest.fixture
def sdk(runtime, world: World):  # type: ignore[no-untyped-def]
    def make(role: str) -> Client:
        return Client("http://testserver", world[role].token, http=TestClient(create_app(runtime=runtime)))
    return make


def chain(world: World) -> dict:  # type: ignore[type-arg]
    return {"stages": [{"name": "technician", "group": "technicians"}, {"name": "quality", "group": "engineers"}],
            "groups": {"technicians": [world["reviewer"].name], "engineers": [world["manager"].name]}}


def test_defect_review_chain(sdk, world: World) -> None:  # type: ignore[no-untyped-def]
    manager, tech, worker = sdk("manager"), sdk("reviewer"), sdk("annotator")
    pid = world.project_id
    manager.set_workflow(pid, {**chain(world), "gate": {"min_review_coverage": 1.0}})
    manager.publish_guideline(pid, "Box every defect.")
    assert manager.quality_gate(pid)["reasons"] == ["review coverage is not measured yet (needs >= 1)"]
    manager.create_tasks(pid, [{"id": "weld-1", "width": 100, "height": 100}])

    t = worker.next_task(pid)  # the ordinary endpoint goes through the engine too
    assert t is not None and t["key"] == "weld-1"
    assert worker.assignment(t["id"])["mode"] == "annotate"
    first = worker.submit(t["id"], [SCRATCH, DENT])
    assert first["status"] == "submitted"
    assert manager.next_at(pid, "quality") is None  # nothing at the second stage yet
    held = tech.next_at(pid, "technician")
    assert held is not None and held["id"] == t["id"]
    assert tech.review_task(t["id"], True)["stage"] == "quality"

    qe = manager.next_at(pid, "quality")
    assert qe is not None and qe["id"] == t["id"]
    out = manager.review_task(t["id"], False, regions=[{"region_id": "8", "accept": False,
                                                        "comment": "that is a dent, not a price tag"}])
    assert out["status"] == "rework"
    assert worker.annotation(first["id"])["status"] == "rejected"

    again = worker.next_task(pid)
    assert again is not None and again["id"] == t["id"]
    a = worker.assignment(t["id"])
    assert a["mode"] == "rework"
    assert a["comments"] == [{"region_id": "8", "accept": False, "comment": "that is a dent, not a price tag"}]
    fixed = worker.submit(t["id"], [SCRATCH, {**DENT, "label": "Product"}])
    assert fixed["id"] == first["id"] and fixed["version"] > first["version"]

    assert tech.next_at(pid, "technician") is None  # the fix goes back to the stage that rejected it
    assert manager.next_at(pid, "quality")["id"] == t["id"]
    assert manager.review_task(t["id"], True)["status"] == "accepted"
    final = worker.annotation(first["id"])
    assert final["status"] == "accepted" and final["regions"][1]["label"] == "Product"
    assert worker.task(t["id"])["completed"] is True
    gate = manager.quality_gate(pid)
    assert gate["passed"] and gate["metrics"]["review_coverage"] == 1.0

    # the log is in the database: a fresh process (dropped cache) replays to the same state
    before = manager.quality_overview(pid)
    hub(world.rt).drop(pid)
    assert manager.quality_overview(pid) == before
    assert before["tasks"]["accepted"] == 1 and before["guideline_version"] == 1


def test_refusals_and_permissions(sdk, world: World) -> None:  # type: ignore[no-untyped-def]
    manager, worker, other = sdk("manager"), sdk("annotator"), sdk("annotator2")
    pid = world.project_id
    with pytest.raises(NotFoundError):
        worker.next_at(pid)  # no workflow yet
    manager.set_workflow(pid, chain(world))
    manager.create_tasks(pid, [{"id": "a", "width": 10, "height": 10}])
    t = worker.next_task(pid)
    assert t is not None
    with pytest.raises(ConflictError):
        other.submit(t["id"], [])  # not theirs
    with pytest.raises(ConflictError):
        worker.review_task(t["id"], True)  # holds no review
    worker.submit(t["id"], [])
    with pytest.raises(ConflictError):
        manager.set_workflow(pid, {})  # started: the config is fixed
    with pytest.raises(NotFoundError):
        sdk("outsider").next_at(pid)


def test_adjudication_of_disagreeing_overlap(sdk, world: World) -> None:  # type: ignore[no-untyped-def]
    from labelgate.server.db.repos import workflow as wf_repo

    manager, one, two = sdk("manager"), sdk("annotator"), sdk("annotator2")
    pid = world.project_id
    manager.set_workflow(pid, {"overlap": {"k": 2, "fraction": 1.0},
                               "adjudication": {"role": "manager", "threshold": 0.9}})
    manager.publish_guideline(pid, "v1")
    manager.create_tasks(pid, [{"id": "shelf", "width": 100, "height": 100}])
    t1, t2 = one.next_task(pid), two.next_task(pid)
    assert t1 is not None and t2 is not None and t1["id"] == t2["id"]
    a1 = one.submit(t1["id"], [SCRATCH])
    a2 = two.submit(t2["id"], [DENT])
    with world.rt.db.read() as conn:
        assert wf_repo.annotation_versions(conn, [a1["id"], a2["id"]]) == {a1["id"]: 1, a2["id"]: 1}
    assert manager.quality_overview(pid)["tasks"]["adjudicating"] == 1
    got = manager.next_at(pid, "adjudicate")
    assert got is not None and got["id"] == t1["id"]
    held = manager.assignment(t1["id"])
    assert held["mode"] == "adjudicate" and sorted(held["annotations"]) == sorted([a1["id"], a2["id"]])
    with pytest.raises(ConflictError):
        one.adjudicate(t1["id"], [SCRATCH], [a1["id"]])  # holds no adjudication
    final = manager.adjudicate(t1["id"], [SCRATCH], [a1["id"]], "took the scratch")
    assert final["status"] == "accepted"
    assert one.annotation(a1["id"])["status"] == "accepted"
    assert manager.task(t1["id"])["completed"] is True
    overview = manager.quality_overview(pid)
    assert overview["tasks"]["accepted"] == 1
    report = manager.agreement(pid)
    assert report["by_version"]["1"]["items"] == 1 and report["by_version"]["1"]["objects"] == 2


def test_plain_review_is_refused_in_workflow_projects(sdk, world: World) -> None:  # type: ignore[no-untyped-def]
    manager, worker = sdk("manager"), sdk("annotator")
    pid = world.project_id
    manager.set_workflow(pid, chain(world))
    manager.create_tasks(pid, [{"id": "w", "width": 10, "height": 10}])
    t = worker.next_task(pid)
    assert t is not None
    a = worker.create_annotation(t["id"], [SCRATCH], submit=True)  # the ordinary endpoint submits to the engine
    assert manager.quality_overview(pid)["tasks"]["in_review"] == 1
    with pytest.raises(ConflictError, match="workflow stages"):
        manager.review(a["id"], a["version"], True)
