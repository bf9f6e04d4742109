"""Gold tasks in exports (manager-only): left out by default (items added as gold, and every answer to
a gold task; a promoted task keeps the accepted work it was promoted from), kept with ``gold="include"``;
either way the manifest names the gold tasks and the answers to them."""

from __future__ import annotations

import time
from typing import Any

import orjson

from labelgate.server import create_app
from labelgate.server.domain import Role
from labelgate.server.services import projects
from tests.integration.conftest import TestClient, World

API = "/api/v1"
BOX = {"geometry": {"type": "box", "x1": 10, "y1": 10, "x2": 40, "y2": 40}, "label": "Product"}


def _export(mgr: TestClient, pid: int, **body: Any) -> tuple[dict[str, Any], dict[str, Any]]:
    started = mgr.post(f"{API}/projects/{pid}/exports", json={"format": "native", **body})
    assert started.status_code == 202, started.text
    deadline = time.monotonic() + 30
    while (job := mgr.get(f"{API}/jobs/{started.json()['job']['id']}").json())["status"] not in ("succeeded", "failed"):
        assert time.monotonic() < deadline
        time.sleep(0.05)
    assert job["status"] == "succeeded", job
    exp = mgr.get(f"{API}/exports/{started.json()['export']['id']}").json()
    return exp["manifest"], orjson.loads(mgr.get(f"{API}/exports/{exp['id']}/files/dataset.json").content)


def _work(client: TestClient, pid: int, gold: set[int], answers: dict[int, bool]) -> None:
    while (nxt := client.post(f"{API}/projects/{pid}/next-task")).status_code == 200:
        tid = nxt.json()["id"]
        r = client.post(f"{API}/tasks/{tid}/submit", json={"regions": [BOX]})
        assert r.status_code == 201, r.text
        answers[r.json()["id"]] = tid in gold


def test_gold_is_left_out_of_exports_unless_asked_for(runtime, world: World) -> None:  # type: ignore[no-untyped-def]
    su = world["superuser"].user
    assert su is not None
    p = projects.create_project(runtime, su, f"gold export {world.project_id}", "", {"classes": [{"name": "Product"}]},
                                settings={"blind": True})
    for role in ("annotator", "annotator2", "manager"):
        projects.set_member(runtime, su, p.id, world[role].name, Role.MANAGER if role == "manager" else Role.ANNOTATOR)
    mgr, one, two = (TestClient(create_app(runtime=runtime), headers=world[r].headers)
                     for r in ("manager", "annotator", "annotator2"))
    assert mgr.put(f"{API}/projects/{p.id}/workflow",
                   json={"honeypots": {"rate": 0.5, "seed": 1, "min_samples": 1}}).status_code == 200
    added = {t["id"]: t["key"] for t in mgr.post(f"{API}/projects/{p.id}/gold", json={"entries": [
        {"item": {"id": f"g{i}", "width": 100, "height": 100}, "regions": [BOX]} for i in range(2)]}).json()}
    mgr.post(f"{API}/projects/{p.id}/tasks", json={"items": [{"id": f"a{i}", "width": 100, "height": 100}
                                                              for i in range(4)]})
    answers: dict[int, bool] = {}  # annotation -> answered a gold task as gold
    _work(one, p.id, set(added), answers)
    assert any(answers.values())
    promoted_id, promoted_key = next((t["id"], t["key"]) for t in mgr.get(f"{API}/projects/{p.id}/tasks").json()["tasks"]
                                     if t["completed"])
    assert mgr.post(f"{API}/tasks/{promoted_id}/promote-gold", json={}).status_code == 200
    mgr.post(f"{API}/projects/{p.id}/tasks", json={"items": [{"id": f"b{i}", "width": 100, "height": 100}
                                                              for i in range(8)]})
    before = set(answers)
    _work(two, p.id, set(added) | {promoted_id}, answers)
    assert any(answers[a] for a in set(answers) - before)

    gold_keys = sorted([*added.values(), promoted_key])
    as_gold = sorted(a for a, g in answers.items() if g)
    manifest, data = _export(mgr, p.id)
    assert manifest["gold"] == {"mode": "exclude", "items": gold_keys, "answers": as_gold}
    items = {i["id"] for i in data["items"]}
    assert not items & set(added.values()) and promoted_key in items and len(items) == 12
    exported = {int(a["id"]) for a in data["annotations"]}
    assert exported == {a for a, g in answers.items() if not g}  # the promoted task's original work included

    manifest, data = _export(mgr, p.id, gold="include")
    assert manifest["gold"] == {"mode": "include", "items": gold_keys, "answers": as_gold}
    assert {i["id"] for i in data["items"]} >= set(added.values()) and len(data["items"]) == 14
    assert {int(a["id"]) for a in data["annotations"]} == set(answers)

    bad = mgr.post(f"{API}/projects/{p.id}/exports", json={"format": "native", "gold": "flag"})
    assert bad.status_code == 422
    # exports are for managers only
    assert one.post(f"{API}/projects/{p.id}/exports", json={"format": "native"}).status_code == 403
