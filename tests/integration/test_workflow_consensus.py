"""Adjudication starts from the engine's consensus: with ``adjudication.consensus`` a box project's
overlapping answers are fused (labelgate.quality.fusion, boxes clustered by IoU, kept at a quorum,
averaged). The adjudicator is offered the fused boxes; tasks that agree are accepted with the fused
answer, naming every annotation as a source and the fusion as the method."""

from __future__ import annotations

from typing import Any

import pytest

from labelgate.server import create_app
from labelgate.server.services.workflow_host import hub
from tests.integration.conftest import TestClient, World

API = "/api/v1"


def box(x1: float, y1: float, x2: float, y2: float, label: str = "Product") -> dict[str, Any]:
    return {"geometry": {"type": "box", "x1": x1, "y1": y1, "x2": x2, "y2": y2}, "label": label}


def clients(runtime, world: World) -> tuple[TestClient, ...]:  # type: ignore[no-untyped-def]
    return tuple(TestClient(create_app(runtime=runtime), headers=world[r].headers)
                 for r in ("manager", "annotator", "annotator2"))


def test_adjudicator_starts_from_the_fused_boxes(runtime, world: World) -> None:  # type: ignore[no-untyped-def]
    mgr, one, two = clients(runtime, world)
    pid = world.project_id
    conf = {"overlap": {"k": 2, "fraction": 1.0, "order": "complete"},
            "adjudication": {"role": "manager", "threshold": 0.9, "consensus": {"quorum": 2}}}
    assert mgr.put(f"{API}/projects/{pid}/workflow", json=conf).status_code == 200
    mgr.post(f"{API}/projects/{pid}/tasks", json={"items": [{"id": k, "width": 100, "height": 100}
                                                             for k in ("disagree", "agree")]})
    answers = {"disagree": ([box(10, 10, 50, 50), box(60, 60, 90, 90, "Price tag")], [box(12, 10, 52, 50)]),
               "agree": ([box(10, 20, 30, 40)], [box(12, 20, 30, 42)])}
    ids: dict[str, list[int]] = {}
    for _ in answers:
        t1 = one.post(f"{API}/projects/{pid}/next-task").json()
        t2 = two.post(f"{API}/projects/{pid}/next-task").json()
        assert t1["id"] == t2["id"]
        mine, theirs = answers[t1["key"]]
        ids[t1["key"]] = [c.post(f"{API}/tasks/{t1['id']}/submit", json={"regions": r}).json()["id"]
                          for c, r in ((one, mine), (two, theirs))]
    tasks = {t["key"]: t["id"] for t in mgr.get(f"{API}/projects/{pid}/tasks").json()["tasks"]}
    state = hub(runtime).get(pid)
    assert state is not None
    method = "box_fusion(quorum=2, iou=0.5)"

    # agreeing overlap: accepted with the fused box, built from both annotations
    final = state.state.tasks[str(tasks["agree"])].final
    assert final is not None and final.method == method and len(final.sources) == 2
    assert [r["geometry"] for r in final.answer] == [{"type": "box", "x1": 11.0, "y1": 20.0, "x2": 30.0, "y2": 41.0}]
    assert mgr.get(f"{API}/tasks/{tasks['agree']}").json()["completed"] is True

    # disagreeing overlap: the adjudicator's proposal holds what both drew (the lone price tag is below quorum)
    got = mgr.post(f"{API}/projects/{pid}/workflow/next", params={"stage": "adjudicate"})
    assert got.status_code == 200 and got.json()["id"] == tasks["disagree"]
    held = mgr.get(f"{API}/tasks/{tasks['disagree']}/assignment").json()
    assert held["mode"] == "adjudicate" and sorted(held["annotations"]) == sorted(ids["disagree"])
    (proposal,) = held["proposal"]
    assert proposal["label"] == "Product" and proposal["score"] == 1.0
    assert proposal["geometry"] == {"type": "box", "x1": 11.0, "y1": 10.0, "x2": 51.0, "y2": 50.0}
    r = mgr.post(f"{API}/tasks/{tasks['disagree']}/adjudicate",
                 json={"regions": held["proposal"], "sources": ids["disagree"], "method": method})
    assert r.status_code == 201, r.text
    final = state.state.tasks[str(tasks["disagree"])].final
    assert final is not None and final.method == method and final.by == str(world["manager"].user.id)  # type: ignore[union-attr]
    assert sorted(int(s.split("v")[0]) for s in final.sources) == sorted(ids["disagree"])
    assert [x["geometry"] for x in r.json()["regions"]] == [proposal["geometry"]]


@pytest.mark.parametrize("consensus", [{"quorum": 0}, {"quorum": "two"}, {"iou": 0}, {"kind": "vote"}, "yes"])
def test_a_bad_consensus_config_is_refused(runtime, world: World, consensus: Any) -> None:  # type: ignore[no-untyped-def]
    mgr = clients(runtime, world)[0]
    r = mgr.put(f"{API}/projects/{world.project_id}/workflow",
                json={"adjudication": {"role": "manager", "threshold": 0.5, "consensus": consensus}})
    assert r.status_code == 422 and "consensus" in r.json()["error"]["message"], r.text
