"""Honeypots through the API: gold tasks imported or promoted from accepted work, mixed into an
annotator's stream, and indistinguishable: next-task, task detail and submit answer a gold task with
the same status, headers, fields and values as an ordinary one, and no gold answer is ever sent."""

from __future__ import annotations

import re
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


def _view(resp: Any) -> tuple[Any, ...]:
    body = resp.json() if resp.content else None
    return resp.status_code, sorted(set(resp.headers) - VOLATILE), shape(body)


def observe(ann: TestClient, project_id: int, task_id: int, nxt: Any) -> tuple[bytes, ...]:
    """Everything an annotator can see of one task over its life, from next-task to reading their own
    annotation afterwards (volatile values such as ids and times reduced to their shape)."""
    api = "/api/v1"
    assignment = ann.get(f"{api}/tasks/{task_id}/assignment")
    before = ann.get(f"{api}/tasks/{task_id}")
    sub = ann.post(f"{api}/tasks/{task_id}/annotations", json={"regions": [GOLD_BOX], "submit": True})
    assert sub.status_code == 201, sub.text
    aid = sub.json()["id"]
    after = ann.get(f"{api}/tasks/{task_id}")
    own = ann.get(f"{api}/annotations/{aid}")
    events = ann.get(f"{api}/tasks/{task_id}/events")
    listed = [t for t in ann.get(f"{api}/projects/{project_id}/tasks", params={"limit": 1000}).json()["tasks"]
              if t["id"] == task_id]
    draft = ann.put(f"{api}/annotations/{aid}", json={"regions": [], "version": own.json()["version"]})
    resubmit = ann.post(f"{api}/tasks/{task_id}/annotations", json={"regions": [], "submit": True})
    again = ann.get(f"{api}/annotations/{aid}")
    responses = (nxt, assignment, before, sub, after, own, events, draft, resubmit, again)
    for resp in responses:
        assert b"12.3456" not in resp.content or resp in (sub, after, own, again)  # only their own answer comes back
    assert draft.status_code == 409 and "submitted work" in draft.json()["error"]["message"]
    assert again.json()["regions"] == own.json()["regions"]  # the refused draft changed nothing
    view: list[Any] = [_view(r) for r in responses]
    # values an annotator could compare: progress, completion, status, version, authors, event kinds, errors
    view.append([(t["n_submitted"], t["completed"]) for t in (nxt.json(), before.json(), after.json(), *listed)])
    view.append([a["author_name"] for a in after.json()["annotations"]])
    view.append([e["kind"] for e in events.json()])
    view.append([re.sub(r"\d+", "N", r.json()["error"]["message"]) for r in (draft, resubmit)])
    view.append({"assignment": {k: v for k, v in assignment.json().items() if k not in ("task_id", "lease_expires")},
                 "own": [own.json()["status"], own.json()["version"]]})
    return tuple(orjson.dumps(v) for v in view)


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
        tid = nxt.json()["id"]
        seen[tid in gold].append(observe(ann, p.id, tid, nxt))
    assert seen[True] and seen[False], "the stream should hold gold and ordinary tasks"
    assert set(seen[True]) == set(seen[False]) == {seen[False][0]}
    status_after = orjson.loads(seen[True][0][-1])
    assert status_after["own"] == ["accepted", 2]  # no review stage: accepted at once, gold or not

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


def test_gold_answers_wait_for_review_like_ordinary_ones(runtime, world: World) -> None:  # type: ignore[no-untyped-def]
    su = world["superuser"].user
    assert su is not None
    p = projects.create_project(runtime, su, f"review {world.project_id}", "", {"classes": [{"name": "Product"}]},
                                settings={"blind": True})
    for role in ("annotator", "reviewer", "manager"):
        projects.set_member(runtime, su, p.id, world[role].name, Role(role))
    mgr = TestClient(create_app(runtime=runtime), headers=world["manager"].headers)
    ann = TestClient(create_app(runtime=runtime), headers=world["annotator"].headers)
    rev = TestClient(create_app(runtime=runtime), headers=world["reviewer"].headers)
    api = "/api/v1"
    conf = {"stages": [{"name": "check", "role": "reviewer"}], "honeypots": {"rate": 0.5, "seed": 0, "min_samples": 1}}
    assert mgr.put(f"{api}/projects/{p.id}/workflow", json=conf).status_code == 200
    gold = {t["id"] for t in mgr.post(f"{api}/projects/{p.id}/gold", json={"entries": [
        {"item": {"id": f"g{i}", "width": 100, "height": 100}, "regions": [GOLD_BOX]} for i in range(2)]}).json()}
    mgr.post(f"{api}/projects/{p.id}/tasks", json={"items": [{"id": f"t{i}", "width": 100, "height": 100}
                                                              for i in range(4)]})
    mine: dict[int, int] = {}  # task -> the annotator's annotation
    while (nxt := ann.post(f"{api}/projects/{p.id}/next-task")).status_code == 200:
        tid = nxt.json()["id"]
        mine[tid] = ann.post(f"{api}/tasks/{tid}/submit", json={"regions": [GOLD_BOX]}).json()["id"]
    assert gold & set(mine) and set(mine) - gold

    def seen(tid: int) -> tuple[str, int, int, bool]:
        a, t = ann.get(f"{api}/annotations/{mine[tid]}").json(), ann.get(f"{api}/tasks/{tid}").json()
        return a["status"], a["version"], t["n_submitted"], t["completed"]

    # every stage samples all: gold and ordinary answers alike wait in review
    assert {seen(t) for t in mine} == {("submitted", 1, 0, False)}
    first = rev.post(f"{api}/projects/{p.id}/workflow/next", params={"stage": "check"}).json()["id"]
    assert first not in gold  # reviewers get ordinary work only
    r = rev.post(f"{api}/tasks/{first}/review", json={"accept": True})
    assert r.status_code == 200 and r.json()["status"] == "accepted", r.text
    # a reviewer's acceptance settles the gold answers waiting "in review" too, as accepted work
    assert seen(first) == ("accepted", 2, 1, True)
    assert {seen(t) for t in gold & set(mine)} == {("accepted", 2, 1, True)}
    waiting = set(mine) - gold - {first}
    assert {seen(t) for t in waiting} == {("submitted", 1, 0, False)}
    left = set(waiting)
    while left:  # the queue's order is its own; a set's iteration order says nothing about it
        tid = rev.post(f"{api}/projects/{p.id}/workflow/next", params={"stage": "check"}).json()["id"]
        assert tid in left
        left.remove(tid)
        assert rev.post(f"{api}/tasks/{tid}/review", json={"accept": True}).status_code == 200
    assert {seen(t) for t in mine} == {("accepted", 2, 1, True)}
    # the manager still sees the rows: gold tasks never complete
    assert not any(mgr.get(f"{api}/tasks/{t}").json()["completed"] for t in gold)
