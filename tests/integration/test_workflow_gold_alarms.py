"""Gold alarms reach the project's webhooks: ``annotator.drift`` when CUSUM on an annotator's gold errors
crosses its threshold, ``annotator.flagged`` when their gold accuracy falls below the bar (with the
actions taken); the scorecard says the same. Annotators see neither."""

from __future__ import annotations

from labelgate.server import create_app
from labelgate.server.domain import Role
from labelgate.server.services import projects
from tests.integration.conftest import TestClient, World

API = "/api/v1"
GOLD_BOX = {"geometry": {"type": "box", "x1": 10, "y1": 10, "x2": 40, "y2": 40}, "label": "Product"}


def test_drift_and_flag_alarms_are_announced(runtime, world: World) -> None:  # type: ignore[no-untyped-def]
    su = world["superuser"].user
    assert su is not None and world["annotator"].user is not None
    p = projects.create_project(runtime, su, f"alarms {world.project_id}", "", {"classes": [{"name": "Product"}]},
                                settings={"blind": True})
    projects.set_member(runtime, su, p.id, world["annotator"].name, Role.ANNOTATOR)
    projects.set_member(runtime, su, p.id, world["manager"].name, Role.MANAGER)
    mgr = TestClient(create_app(runtime=runtime), headers=world["manager"].headers)
    ann = TestClient(create_app(runtime=runtime), headers=world["annotator"].headers)
    hp = {"rate": 0.5, "seed": 0, "min_samples": 3, "threshold": 0.9, "actions": ["pause"],
          "drift": {"target": 0.1, "slack": 0.05, "threshold": 1.0}}
    assert mgr.put(f"{API}/projects/{p.id}/workflow", json={"honeypots": hp}).status_code == 200
    hook = mgr.post(f"{API}/projects/{p.id}/webhooks", json={"url": "http://127.0.0.1:9/alarms",
                                                              "events": ["annotator.drift", "annotator.flagged"]})
    assert hook.status_code == 201, hook.text
    mgr.post(f"{API}/projects/{p.id}/gold", json={"entries": [
        {"item": {"id": f"g{i}", "width": 100, "height": 100}, "regions": [GOLD_BOX]} for i in range(6)]})
    mgr.post(f"{API}/projects/{p.id}/tasks", json={"items": [{"id": f"t{i}", "width": 100, "height": 100}
                                                              for i in range(20)]})
    served = 0
    while (nxt := ann.post(f"{API}/projects/{p.id}/next-task")).status_code == 200:
        served += 1
        assert served <= 26
        r = ann.post(f"{API}/tasks/{nxt.json()['id']}/submit", json={"regions": []})  # every gold answer wrong
        assert r.status_code == 201, r.text
    assert nxt.status_code == 204  # paused

    deliveries = mgr.get(f"{API}/webhooks/{hook.json()['id']}/deliveries").json()
    got = {d["event"]: d["payload"] for d in deliveries}
    assert sorted(d["event"] for d in deliveries) == ["annotator.drift", "annotator.flagged"]
    uid = world["annotator"].user.id
    card = next(c for c in mgr.get(f"{API}/projects/{p.id}/quality/annotators").json()
                if c["member"] == world["annotator"].name)
    assert got["annotator.drift"] == {"project_id": p.id, "user_id": uid, "gold_index": card["drift"]["alarm_at"]}
    flagged = got["annotator.flagged"]
    assert (flagged["user_id"], flagged["actions"], flagged["accuracy"]) == (uid, ["pause"], 0.0)
    assert flagged["graded"] == 3 and card["drift"]["paused"] and card["gold"]["verdict"] == "fail"
    assert flagged["ci"][0] == 0.0 < flagged["ci"][1] < 0.9
    # annotators see neither the hooks nor their deliveries
    assert ann.get(f"{API}/webhooks/{hook.json()['id']}/deliveries").status_code in (403, 404)
    assert ann.get(f"{API}/projects/{p.id}/webhooks").status_code == 403
