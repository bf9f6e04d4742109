"""Honeypots through the API: gold tasks imported or promoted from accepted work, mixed into an
annotator's stream, and indistinguishable: next-task, task detail and submit answer a gold task with
the same status, headers, fields and values as an ordinary one, and no gold answer is ever sent."""

from __future__ import annotations

from typing import Any

import orjson

from labelgate.server import create_app
from labelgate.server.domain import Role
from labelgate.server.services import projects
from tests.integration.conftest import TestClient, World

GOLD_BOX = {"geometry": {"type": "box", "x1": 12.3456, "y1": 23.4567, "x2": 34.5678, "y2": 45.6789}, "label": "Product"}
VOLATILE = {"date", "content-length", "etag"}


def shape(value: Any) -> Any:
    """The structure of a JSON value: keys and types, not values."""
    if isinstance(value, dict):
        return {k: shape(v) for k, v in sorted(value.items())}
    if isinstance(value, list):
        return [shape(value[0])] if value else []
    return type(value).__name__


def test_gold_tasks_are_blind_and_graded(runtime, world: World) -> None:  # type: ignore[no-untyped-def]
    su = world["superuser"].user
    assert su is not None
    p = projects.create_project(runtime, su, f"blind {world.project_id}", "", {"classes": [{"name": "Product"}]},
                                settings={"blind": True})
    projects.set_member(runtime, su, p.id, world["annotator"].name, Role.ANNOTATOR)
    projects.set_member(runtime, su, p.id, world["manager"].name, Role.MANAGER)
    mgr = TestClient(create_app(runtime=runtime), headers=world["manager"].headers)
    ann = TestClient(create_app(runtime=runtime), headers=world["annotator"].headers)
    api = "/api/v1"
    r = mgr.put(f"{api}/projects/{p.id}/workflow", json={"honeypots": {"rate": 0.3, "seed": 2, "min_samples": 1}})
    assert r.status_code == 200, r.text
    r = mgr.post(f"{api}/projects/{p.id}/gold", json={"entries": [
        {"item": {"id": f"g{i}", "width": 100, "height": 100}, "regions": [GOLD_BOX]} for i in range(3)]})
    assert r.status_code == 201, r.text
    gold = {t["id"] for t in r.json()}
    mgr.post(f"{api}/projects/{p.id}/tasks", json={"items": [{"id": f"t{i}", "width": 100, "height": 100}
                                                              for i in range(12)]})

    seen: dict[bool, list[tuple[Any, ...]]] = {True: [], False: []}
    for _ in range(15):
        nxt = ann.post(f"{api}/projects/{p.id}/next-task")
        if nxt.status_code == 204:
            break
        task = nxt.json()
        detail = ann.get(f"{api}/tasks/{task['id']}")
        sub = ann.post(f"{api}/tasks/{task['id']}/annotations", json={"regions": [GOLD_BOX], "submit": True})
        assert sub.status_code == 201, sub.text
        view = []
        for resp in (nxt, detail, sub):
            body = resp.json()
            assert b"12.3456" not in resp.content or resp is sub  # the annotator's own answer comes back to them
            view.append((resp.status_code, sorted(set(resp.headers) - VOLATILE), shape(body)))
        # values an annotator could compare: progress, completion, status, version
        view.append((task["n_submitted"], task["completed"], sub.json()["status"], sub.json()["version"],
                     [a["author_name"] for a in detail.json()["annotations"]]))
        seen[task["id"] in gold].append(tuple(orjson.dumps(v) for v in view))
    assert seen[True] and seen[False], "the stream should hold gold and ordinary tasks"
    assert set(seen[True]) == set(seen[False]) == {seen[False][0]}

    cards = mgr.get(f"{api}/projects/{p.id}/quality/annotators").json()
    mine = next(c for c in cards if c["member"] == world["annotator"].name)
    assert mine["gold"]["graded"] == len(seen[True]) and mine["gold"]["accuracy"] == 1.0
    # the annotator may not read quality data (it would tell which tasks were gold)
    assert ann.get(f"{api}/projects/{p.id}/quality/annotators").status_code == 403

    # promote accepted work to gold; twice is a conflict
    ordinary = next(t for t in range(1, 10**6) if t not in gold and ann.get(f"{api}/tasks/{t}").status_code == 200
                    and ann.get(f"{api}/tasks/{t}").json()["completed"])
    assert mgr.post(f"{api}/tasks/{ordinary}/promote-gold", json={}).status_code == 200
    again = mgr.post(f"{api}/tasks/{ordinary}/promote-gold", json={})
    assert again.status_code == 409 and "gold already" in again.json()["error"]["message"]


def test_failing_gold_pauses_until_a_manager_resumes(runtime, world: World) -> None:  # type: ignore[no-untyped-def]
    su = world["superuser"].user
    assert su is not None
    p = projects.create_project(runtime, su, f"pause {world.project_id}", "", {"classes": [{"name": "Product"}]},
                                settings={"blind": True})
    projects.set_member(runtime, su, p.id, world["annotator"].name, Role.ANNOTATOR)
    projects.set_member(runtime, su, p.id, world["manager"].name, Role.MANAGER)
    mgr = TestClient(create_app(runtime=runtime), headers=world["manager"].headers)
    ann = TestClient(create_app(runtime=runtime), headers=world["annotator"].headers)
    api = "/api/v1"
    hp = {"rate": 0.5, "seed": 0, "min_samples": 2, "threshold": 0.9, "actions": ["pause"]}
    assert mgr.put(f"{api}/projects/{p.id}/workflow", json={"honeypots": hp}).status_code == 200
    mgr.post(f"{api}/projects/{p.id}/gold", json={"entries": [
        {"item": {"id": f"g{i}", "width": 100, "height": 100}, "regions": [GOLD_BOX]} for i in range(4)]})
    mgr.post(f"{api}/projects/{p.id}/tasks", json={"items": [{"id": f"t{i}", "width": 100, "height": 100}
                                                              for i in range(10)]})
    served = 0
    while (nxt := ann.post(f"{api}/projects/{p.id}/next-task")).status_code == 200:
        served += 1
        assert served <= 14
        ann.post(f"{api}/tasks/{nxt.json()['id']}/annotations", json={"regions": [], "submit": True})  # always wrong
    assert nxt.status_code == 204 and served < 14  # paused before the work ran out
    card = next(c for c in mgr.get(f"{api}/projects/{p.id}/quality/annotators").json()
                if c["member"] == world["annotator"].name)
    assert card["drift"]["paused"] and card["gold"]["verdict"] == "fail" and card["gold"]["accuracy"] == 0.0
    r = mgr.post(f"{api}/projects/{p.id}/workflow/resume", json={"user_id": world["annotator"].user.id,
                                                                   "reason": "retrained on the guideline"})
    assert r.status_code == 200, r.text
    assert ann.post(f"{api}/projects/{p.id}/next-task").status_code == 200
