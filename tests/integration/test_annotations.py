"""Projects, tasks and annotations over HTTP: drafts, submit, optimistic concurrency, skip,
history, lead time, review, and bad input that must store nothing."""

from __future__ import annotations

import threading

from fastapi.testclient import TestClient

from tests.integration.conftest import World

BOX = {"geometry": {"type": "box", "x1": 1, "y1": 2, "x2": 30, "y2": 40}, "label": "Product"}


def _tasks(c: TestClient, w: World, n: int = 3) -> list[dict]:
    items = [{"id": f"img_{i}", "media": f"img_{i}.png", "width": 640, "height": 480} for i in range(n)]
    r = c.post(f"/api/v1/projects/{w.project_id}/tasks", headers=w["manager"].headers, json={"items": items})
    assert r.status_code == 201, r.text
    return r.json()


def test_draft_then_submit_with_etag_and_history(app_client: TestClient, world: World) -> None:
    c, h = app_client, world["annotator"].headers
    t = _tasks(c, world)[0]
    r = c.post(f"/api/v1/tasks/{t['id']}/annotations", headers=h, json={"regions": [BOX]})
    assert r.status_code == 201, r.text
    ann = r.json()
    assert ann["status"] == "draft" and ann["version"] == 1 and r.headers["ETag"] == '"1"'
    # autosave: each save needs the current version
    r = c.put(f"/api/v1/annotations/{ann['id']}", headers={**h, "If-Match": '"1"'}, json={"regions": [BOX, BOX]})
    assert r.status_code == 200 and r.json()["version"] == 2 and len(r.json()["regions"]) == 2
    r = c.put(f"/api/v1/annotations/{ann['id']}", headers=h, json={"version": 2, "submit": True, "lead_time": 12.5})
    assert r.status_code == 200, r.text
    done = r.json()
    assert done["status"] == "submitted" and done["lead_time"] == 12.5 and done["submitted_at"]
    task = c.get(f"/api/v1/tasks/{t['id']}", headers=world["manager"].headers).json()
    assert task["completed"] and task["n_submitted"] == 1
    kinds = [e["kind"] for e in c.get(f"/api/v1/tasks/{t['id']}/events", headers=world["manager"].headers).json()]
    assert kinds == ["task.created", "annotation.created", "annotation.saved", "annotation.submitted", "task.completed"]
    # the same person cannot open a second annotation on the task
    r = c.post(f"/api/v1/tasks/{t['id']}/annotations", headers=h, json={"regions": []})
    assert r.status_code == 409 and f"annotation {ann['id']}" in r.json()["error"]["message"]


def test_stale_write_gets_409_never_overwrites(app_client: TestClient, world: World) -> None:
    c, h = app_client, world["annotator"].headers
    t = _tasks(c, world)[0]
    ann = c.post(f"/api/v1/tasks/{t['id']}/annotations", headers=h, json={"regions": [BOX]}).json()
    assert c.put(f"/api/v1/annotations/{ann['id']}", headers=h, json={"version": 1, "regions": []}).status_code == 200
    r = c.put(f"/api/v1/annotations/{ann['id']}", headers=h, json={"version": 1, "regions": [BOX, BOX, BOX]})
    assert r.status_code == 409
    assert "version 2, not 1" in r.json()["error"]["message"]
    assert c.get(f"/api/v1/annotations/{ann['id']}", headers=h).json()["regions"] == []
    r = c.put(f"/api/v1/annotations/{ann['id']}", headers=h, json={"regions": []})
    assert r.status_code == 422 and "If-Match" in r.json()["error"]["message"]


def test_concurrent_writes_one_success_rest_409(app_client: TestClient, world: World) -> None:
    c, h = app_client, world["annotator"].headers
    t = _tasks(c, world)[0]
    ann = c.post(f"/api/v1/tasks/{t['id']}/annotations", headers=h, json={"regions": []}).json()
    n = 8
    barrier = threading.Barrier(n)
    statuses: list[int] = []
    lock = threading.Lock()

    def write(i: int) -> None:
        body = {"version": 1, "regions": [BOX] * (i + 1)}
        barrier.wait()
        r = c.put(f"/api/v1/annotations/{ann['id']}", headers=h, json=body)
        with lock:
            statuses.append(r.status_code)

    threads = [threading.Thread(target=write, args=(i,)) for i in range(n)]
    for th in threads:
        th.start()
    for th in threads:
        th.join(60)
    assert sorted(statuses) == [200] + [409] * (n - 1)
    final = c.get(f"/api/v1/annotations/{ann['id']}", headers=h).json()
    assert final["version"] == 2 and 1 <= len(final["regions"]) <= n


def test_bad_input_is_refused_and_nothing_is_stored(app_client: TestClient, world: World) -> None:
    c, h = app_client, world["annotator"].headers
    t = _tasks(c, world)[0]
    url = f"/api/v1/tasks/{t['id']}/annotations"
    cases = [
        ({"regions": [{"geometry": {"type": "box", "x1": 5, "y1": 0, "x2": 1, "y2": 1}, "label": "Product"}]},
         "corners inverted"),
        ({"regions": [{**BOX, "label": "Dog"}]}, "label 'Dog' is not in the project's label schema"),
        ({"regions": [{"label": "Product"}]}, "missing key 'geometry'"),
        ({"regions": [{"geometry": {"type": "hexagon"}, "label": "Product"}]}, "unknown geometry type"),
        ({"regions": [{**BOX, "attributes": {"brand": "zzz"}}]}, "'zzz' is not one of"),
        ({"regions": [{**BOX, "attributes": {"colour": "red"}}]}, "attribute 'colour' is not defined"),
        ({"regions": ["not an object"]}, "regions[0]: expected an object"),
    ]
    for body, message in cases:
        r = c.post(url, headers=h, json=body)
        assert r.status_code == 422, (body, r.text)
        assert message in r.json()["error"]["message"], (message, r.json())
    r = c.post(url, headers={**h, "Content-Type": "application/json"}, content=b'{"regions": [')
    assert r.status_code == 422 and r.json()["error"]["code"] == "validation_error"
    events = c.get(f"/api/v1/tasks/{t['id']}/events", headers=world["manager"].headers).json()
    assert [e["kind"] for e in events] == ["task.created"]
    assert c.get(f"/api/v1/tasks/{t['id']}", headers=h).json()["annotations"] == []


def test_next_task_reserves_and_skip(app_client: TestClient, world: World) -> None:
    c = app_client
    tasks = _tasks(c, world, 2)
    a1, a2 = world["annotator"].headers, world["annotator2"].headers
    n1 = c.post(f"/api/v1/projects/{world.project_id}/next-task", headers=a1).json()
    n2 = c.post(f"/api/v1/projects/{world.project_id}/next-task", headers=a2).json()
    assert {n1["id"], n2["id"]} == {t["id"] for t in tasks}  # no two annotators get the same task
    assert c.post(f"/api/v1/projects/{world.project_id}/next-task", headers=a1).json()["id"] == n1["id"]
    skipped = c.post(f"/api/v1/tasks/{n1['id']}/skip", headers=a1, json={"reason": "blurry"}).json()
    assert skipped["status"] == "skipped"
    r = c.post(f"/api/v1/projects/{world.project_id}/next-task", headers=a1)
    assert r.status_code == 204  # the other task is reserved by annotator2, the skipped one is done for a1
    ann = c.post(f"/api/v1/tasks/{n2['id']}/annotations", headers=a2, json={"regions": [BOX], "submit": True}).json()
    assert ann["lead_time"] is None or ann["lead_time"] >= 0
    r = c.post(f"/api/v1/projects/{world.project_id}/next-task", headers=a2)
    assert r.status_code == 200 and r.json()["id"] == n1["id"]  # a1 skipped it; a2 may take it


def test_review_and_blind_projects(app_client: TestClient, world: World) -> None:
    c = app_client
    t = _tasks(c, world, 1)[0]
    a1, a2, rev = world["annotator"].headers, world["annotator2"].headers, world["reviewer"].headers
    ann = c.post(f"/api/v1/tasks/{t['id']}/annotations", headers=a1, json={"regions": [BOX], "submit": True}).json()
    assert len(c.get(f"/api/v1/tasks/{t['id']}", headers=a2).json()["annotations"]) == 1  # not blind
    r = c.patch(f"/api/v1/projects/{world.project_id}", headers=world["manager"].headers,
                json={"settings": {"blind": True}})
    assert r.status_code == 200 and r.json()["settings"]["blind"] is True
    assert c.get(f"/api/v1/tasks/{t['id']}", headers=a2).json()["annotations"] == []
    assert c.get(f"/api/v1/annotations/{ann['id']}", headers=a2).status_code == 404
    assert c.get(f"/api/v1/tasks/{t['id']}/events", headers=a2).json() == [
        e for e in c.get(f"/api/v1/tasks/{t['id']}/events", headers=rev).json() if e["actor_id"] is None]
    r = c.post(f"/api/v1/annotations/{ann['id']}/review", headers=a2, json={"accept": True, "version": 1})
    assert r.status_code == 404
    r = c.post(f"/api/v1/annotations/{ann['id']}/review", headers=rev,
               json={"accept": True, "version": 1, "comment": "tight boxes"})
    assert r.status_code == 200 and r.json()["status"] == "accepted"
    # the author sees the review of their own work; the other annotator still sees nothing of it
    seen = [e for e in c.get(f"/api/v1/tasks/{t['id']}/events", headers=a1).json() if e["kind"] == "annotation.reviewed"]
    assert [e["data"]["comment"] for e in seen] == ["tight boxes"]
    assert all(e["kind"] != "annotation.reviewed" for e in c.get(f"/api/v1/tasks/{t['id']}/events", headers=a2).json())
    r = c.post(f"/api/v1/annotations/{ann['id']}/review", headers=rev, json={"accept": False, "version": 1})
    assert r.status_code == 409
    # an accepted annotation its author changes goes back to review
    r = c.put(f"/api/v1/annotations/{ann['id']}", headers=a1, json={"version": 2, "regions": []})
    assert r.status_code == 200 and r.json()["status"] == "submitted"


def test_guidelines_are_versioned(app_client: TestClient, world: World) -> None:
    c, m = app_client, world["manager"].headers
    url = f"/api/v1/projects/{world.project_id}/guidelines"
    assert c.get(url, headers=m).status_code == 404
    assert c.post(url, headers=m, json={"text": "# v1\nBox every product."}).json()["version"] == 1
    assert c.post(url, headers=m, json={"text": "# v2\nAlso price tags."}).json()["version"] == 2
    assert c.get(url, headers=world["annotator"].headers).json()["text"].startswith("# v2")
    assert c.get(f"{url}/1", headers=m).json()["text"].startswith("# v1")
    assert c.post(url, headers=world["annotator"].headers, json={"text": "x"}).status_code == 403


def test_schema_changes_may_add_but_not_drop_classes(app_client: TestClient, world: World) -> None:
    c, m = app_client, world["manager"].headers
    url = f"/api/v1/projects/{world.project_id}"
    r = c.patch(url, headers=m, json={"label_schema": {"classes": [{"name": "Product"}]}})
    assert r.status_code == 422 and "Empty slot" in r.json()["error"]["message"]
    schema = c.get(url, headers=m).json()["label_schema"]
    schema["classes"].append({"name": "Shelf"})
    r = c.patch(url, headers=m, json={"label_schema": schema})
    assert r.status_code == 200 and "Shelf" in [k["name"] for k in r.json()["label_schema"]["classes"]]


LS_CONFIG = """<View>
  <Image name="image" value="$image"/>
  <RectangleLabels name="label" toName="image">
    <Label value="Product" background="#2e86de"/>
    <Label value="Price tag" background="orange"/>
  </RectangleLabels>
  <Choices name="quality" toName="image"><Choice value="Blurry"/></Choices>
</View>"""


def test_label_studio_config_is_translated_and_hostile_xml_refused(app_client: TestClient, world: World) -> None:
    c, su = app_client, world["superuser"].headers
    r = c.post("/api/v1/projects", headers=su, json={"name": f"ls {world.project_id}", "label_config": LS_CONFIG})
    assert r.status_code == 201, r.text
    classes = r.json()["label_schema"]["classes"]
    assert [(k["name"], k["color"]) for k in classes] == [("Product", "#2e86de"), ("Price tag", "orange"), ("Blurry", None)]
    bomb = ('<?xml version="1.0"?><!DOCTYPE l [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;">]>'
            '<View><Labels name="x"><Label value="&b;"/></Labels></View>')
    for xml, message in [(bomb, "label_config"), ("<View><Label", "label_config"), ("<View/>", "no <Label>")]:
        r = c.post("/api/v1/projects", headers=su, json={"name": f"bad {len(xml)} {world.project_id}", "label_config": xml})
        assert r.status_code == 422, r.text
        assert message in r.json()["error"]["message"]
    names = [p["name"] for p in c.get("/api/v1/projects", headers=su).json()]
    assert not any(n.startswith("bad ") for n in names)


def test_concurrent_submits_on_one_task_count_every_one(app_client: TestClient, world: World) -> None:
    """Overlap 2, two annotators submitting at the same moment: the task ends with both counted."""
    c, m = app_client, world["manager"].headers
    assert c.patch(f"/api/v1/projects/{world.project_id}", headers=m, json={"settings": {"overlap": 2}}).status_code == 200
    for round_ in range(3):
        (t,) = c.post(f"/api/v1/projects/{world.project_id}/tasks", headers=m,
                      json={"items": [{"id": f"race{round_}"}]}).json()
        barrier = threading.Barrier(2)
        codes: list[int] = []

        def submit(role: str, task_id: int = t["id"], gate: threading.Barrier = barrier,
                   out: list[int] = codes) -> None:
            gate.wait()
            out.append(c.post(f"/api/v1/tasks/{task_id}/annotations", headers=world[role].headers,
                                json={"regions": [BOX], "submit": True}).status_code)

        threads = [threading.Thread(target=submit, args=(r,)) for r in ("annotator", "annotator2")]
        for th in threads:
            th.start()
        for th in threads:
            th.join(60)
        assert codes == [201, 201]
        task = c.get(f"/api/v1/tasks/{t['id']}", headers=m).json()
        assert task["n_submitted"] == 2 and task["completed"], task


def test_simultaneous_next_task_calls_never_hand_out_one_task_twice(app_client: TestClient, world: World, runtime) -> None:
    from labelgate.server.services import auth, projects

    c, m = app_client, world["manager"].headers
    c.post(f"/api/v1/projects/{world.project_id}/tasks", headers=m, json={"items": [{"id": f"n{i}"} for i in range(12)]})
    root = world["superuser"].user
    headers = []
    for i in range(8):
        u = auth.create_user(runtime, None, f"{world['annotator'].name}_p{i}", "password-x1")
        projects.set_member(runtime, root, world.project_id, u.username, projects.Role.ANNOTATOR)
        headers.append({"Authorization": f"Token {auth.create_token(runtime, u, 't')[1]}"})
    barrier = threading.Barrier(len(headers))
    got: list[int] = []
    lock = threading.Lock()

    def take(h: dict[str, str]) -> None:
        barrier.wait()
        r = c.post(f"/api/v1/projects/{world.project_id}/next-task", headers=h)
        assert r.status_code == 200, r.text
        with lock:
            got.append(r.json()["id"])

    threads = [threading.Thread(target=take, args=(h,)) for h in headers]
    for th in threads:
        th.start()
    for th in threads:
        th.join(60)
    assert len(got) == len(headers) and len(set(got)) == len(got)
