"""Every endpoint x (anonymous, member of another project, annotator, reviewer, manager, admin):
the expected status, and nothing of this project in what outsiders get back."""

from __future__ import annotations

import re
import time
import uuid
from collections.abc import Callable
from typing import Any

import orjson
from fastapi.testclient import TestClient

from labelgate.formats.native import dataset_to_dict
from labelgate.samples.shelf import shelf_dataset
from tests.integration.conftest import World
from tests.integration.test_media import png

ROLES = ("anonymous", "outsider", "annotator", "reviewer", "manager", "admin")
PUBLIC = {("GET", "/"), ("GET", "/api/v1/health"), ("GET", "/api/v1/formats"), ("POST", "/api/v1/auth/login"),
          ("POST", "/api/v1/auth/logout")}
SELF = {("GET", "/api/v1/auth/me"), ("POST", "/api/v1/auth/password"), ("POST", "/api/v1/auth/tokens"), ("GET", "/api/v1/auth/tokens"),
        ("DELETE", "/api/v1/auth/tokens/{token_id}")}  # every user manages only their own; see test_api_basics
BOX = {"geometry": {"type": "box", "x1": 1, "y1": 2, "x2": 30, "y2": 40}, "label": "Product"}
PNG = png(2, 2)
SHELF = orjson.dumps(dataset_to_dict(shelf_dataset(2, seed=11)), option=orjson.OPT_SERIALIZE_NUMPY)


def _expect(anon: Any, outsider: Any, annotator: Any, reviewer: Any, manager: Any, admin: Any) -> dict[str, Any]:
    return dict(zip(ROLES, (anon, outsider, annotator, reviewer, manager, admin), strict=True))


def _setup(c: TestClient, w: World) -> dict[str, Any]:
    su = w["superuser"].headers
    p = w.project_id
    tasks = c.post(f"/api/v1/projects/{p}/tasks", headers=su,
                   json={"items": [{"id": f"t{i}", "width": 100, "height": 100, "media": f"https://example.org/t{i}.png"}
                             for i in range(3)]}).json()
    ann = c.post(f"/api/v1/tasks/{tasks[0]['id']}/annotations", headers=w["annotator"].headers,
                 json={"regions": [BOX], "submit": True}).json()
    c.post(f"/api/v1/projects/{p}/guidelines", headers=su, json={"text": "secret guideline"})
    started = c.post(f"/api/v1/projects/{p}/exports", headers=su, json={"format": "native"}).json()
    deadline = time.monotonic() + 30
    while c.get(f"/api/v1/jobs/{started['job']['id']}", headers=su).json()["status"] not in ("succeeded", "failed"):
        assert time.monotonic() < deadline
        time.sleep(0.05)
    hook = c.post(f"/api/v1/projects/{p}/webhooks", headers=su, json={"url": "http://127.0.0.1:9/hook"}).json()
    return {"w": hook["id"], "p": p, "t0": tasks[0]["id"], "t1": tasks[1]["id"], "t2": tasks[2]["id"], "a": ann["id"],
            "e": started["export"]["id"], "j": started["job"]["id"],
            "uid": w["annotator2"].user.id if w["annotator2"].user else 0}


def _version(c: TestClient, w: World, ids: dict[str, Any]) -> dict[str, Any]:
    return {"version": c.get(f"/api/v1/annotations/{ids['a']}", headers=w["superuser"].headers).json()["version"]}


Body = Callable[[TestClient, World, dict[str, Any]], Any]

# (method, path, json body or factory, expected status per role). Order matters: destructive last.
MATRIX: list[tuple[str, str, Any, dict[str, Any]]] = [
    ("GET", "/api/v1/projects", None, _expect(401, 200, 200, 200, 200, 200)),
    ("POST", "/api/v1/projects", lambda c, w, i: {"name": f"p {uuid.uuid4().hex}"}, _expect(401, 403, 403, 403, 403, 403)),
    ("GET", "/api/v1/projects/{p}", None, _expect(401, 404, 200, 200, 200, 200)),
    ("PATCH", "/api/v1/projects/{p}", {"description": "changed"}, _expect(401, 404, 403, 403, 200, 200)),
    ("GET", "/api/v1/projects/{p}/members", None, _expect(401, 404, 403, 403, 200, 200)),
    ("PUT", "/api/v1/projects/{p}/members", lambda c, w, i: {"username": w["annotator2"].name, "role": "annotator"},
     _expect(401, 404, 403, 403, 403, 200)),
    ("POST", "/api/v1/projects/{p}/guidelines", {"text": "v"}, _expect(401, 404, 403, 403, 201, 201)),
    ("GET", "/api/v1/projects/{p}/guidelines", None, _expect(401, 404, 200, 200, 200, 200)),
    ("GET", "/api/v1/projects/{p}/guidelines/1", None, _expect(401, 404, 200, 200, 200, 200)),
    ("GET", "/api/v1/projects/{p}/tasks", None, _expect(401, 404, 200, 200, 200, 200)),
    ("POST", "/api/v1/projects/{p}/tasks", lambda c, w, i: {"items": [{"id": uuid.uuid4().hex}]},
     _expect(401, 404, 403, 403, 201, 201)),
    ("POST", "/api/v1/projects/{p}/next-task", None, _expect(401, 404, {200, 204}, {200, 204}, {200, 204}, {200, 204})),
    ("GET", "/api/v1/tasks/{t0}", None, _expect(401, 404, 200, 200, 200, 200)),
    ("GET", "/api/v1/tasks/{t0}/media", None, _expect(401, 404, 307, 307, 307, 307)),
    ("POST", "/api/v1/projects/{p}/media", "media", _expect(401, 404, 403, 403, 201, 201)),
    ("POST", "/api/v1/projects/{p}/media/scan", None, _expect(401, 404, 403, 403, 422, 422)),  # nothing registered
    ("GET", "/api/v1/tasks/{t0}/events", None, _expect(401, 404, 200, 200, 200, 200)),
    ("POST", "/api/v1/tasks/{t1}/annotations", {"regions": [BOX]}, _expect(401, 404, 201, 201, 201, 201)),
    ("POST", "/api/v1/tasks/{t2}/skip", {"reason": "r"}, _expect(401, 404, 200, 200, 200, 200)),
    ("GET", "/api/v1/annotations/{a}", None, _expect(401, 404, 200, 200, 200, 200)),
    ("PUT", "/api/v1/annotations/{a}", lambda c, w, i: {**_version(c, w, i), "regions": [BOX], "submit": True},
     _expect(401, 404, 200, 403, 403, 403)),
    ("POST", "/api/v1/annotations/{a}/review", lambda c, w, i: {**_version(c, w, i), "accept": True},
     _expect(401, 404, 403, 200, 200, 200)),
    ("GET", "/api/v1/projects/{p}/imports", None, _expect(401, 404, 403, 403, 200, 200)),
    ("POST", "/api/v1/projects/{p}/imports", "upload", _expect(401, 404, 403, 403, 201, 201)),
    ("POST", "/api/v1/projects/{p}/imports/background", "upload", _expect(401, 404, 403, 403, 202, 202)),
    ("GET", "/api/v1/projects/{p}/exports", None, _expect(401, 404, 403, 403, 200, 200)),
    ("POST", "/api/v1/projects/{p}/exports", {"format": "native"}, _expect(401, 404, 403, 403, 202, 202)),
    ("GET", "/api/v1/exports/{e}", None, _expect(401, 404, 403, 403, 200, 200)),
    ("GET", "/api/v1/exports/{e}/files/dataset.json", None, _expect(401, 404, 403, 403, 200, 200)),
    ("GET", "/api/v1/exports/{e}/download", None, _expect(401, 404, 403, 403, 200, 200)),
    ("GET", "/api/v1/jobs/{j}", None, _expect(401, 404, 404, 404, 200, 200)),
    ("POST", "/api/v1/projects/{p}/webhooks", {"url": "http://127.0.0.1:9/x", "events": ["task.completed"]},
     _expect(401, 404, 403, 403, 201, 201)),
    ("GET", "/api/v1/projects/{p}/webhooks", None, _expect(401, 404, 403, 403, 200, 200)),
    ("GET", "/api/v1/webhooks/{w}/deliveries", None, _expect(401, 404, 403, 403, 200, 200)),
    ("GET", "/api/v1/users", None, _expect(401, 403, 403, 403, 403, 403)),
    ("POST", "/api/v1/users", lambda c, w, i: {"username": uuid.uuid4().hex[:10], "password": "long-enough"},
     _expect(401, 403, 403, 403, 403, 403)),
    ("PATCH", "/api/v1/users/{uid}", {"is_active": True}, _expect(401, 403, 403, 403, 403, 403)),
    ("DELETE", "/api/v1/webhooks/{w}", None, _expect(401, 404, 403, 403, 204, 404)),
    ("DELETE", "/api/v1/projects/{p}/members/{uid}", None, _expect(401, 404, 403, 403, 403, 204)),
    ("DELETE", "/api/v1/projects/{p}", None, _expect(401, 404, 403, 403, 403, 204)),
]


NAMES = {"{p}": "{project_id}", "{t0}": "{task_id}", "{t1}": "{task_id}", "{t2}": "{task_id}",
         "{a}": "{annotation_id}", "{e}": "{export_id}", "{j}": "{job_id}", "{w}": "{webhook_id}",
         "{uid}": "{user_id}", "/guidelines/1": "/guidelines/{version}", "/files/dataset.json": "/files/{path}"}
FILL = {"{project_id}": "{p}", "{task_id}": "{t0}", "{annotation_id}": "{a}", "{export_id}": "{e}",
        "{job_id}": "{j}", "{webhook_id}": "{w}", "{user_id}": "{uid}", "{version}": "1", "{path}": "dataset.json"}


def _generic(path: str) -> str:
    for concrete, template in NAMES.items():
        path = path.replace(concrete, template)
    return path


def _api_routes(c: TestClient) -> set[tuple[str, str]]:
    """Every API route, from the OpenAPI document (app.routes nests included routers)."""
    doc = c.get("/api/v1/openapi.json").json()
    return {(m.upper(), path) for path, ops in doc["paths"].items() for m in ops}


def _rest(c: TestClient) -> set[tuple[str, str]]:
    """Routes other routers add, which the role matrix does not list: swept for anonymous and outsiders."""
    covered = {(m, _generic(p)) for m, p, _, _ in MATRIX}
    return _api_routes(c) - covered - PUBLIC - SELF


def test_every_endpoint_is_in_the_matrix_or_the_outsider_sweep(app_client: TestClient) -> None:
    routes = _api_routes(app_client)
    assert len(routes) > 40
    for _, path in _rest(app_client):
        unknown = set(re.findall(r"{[a-z_]+}", path)) - set(FILL)
        assert not unknown, f"{path}: add {unknown} to FILL so the outsider sweep can call it"


def test_outsider_sweep_over_every_other_endpoint(app_client: TestClient, world: World) -> None:
    """Whatever the endpoint, an anonymous caller gets 401 and a member of another project learns
    nothing: 403, 404 or a 422 about the request's own shape, never this project's data."""
    c = app_client
    ids = _setup(c, world)
    project = c.get(f"/api/v1/projects/{ids['p']}", headers=world["superuser"].headers).json()
    secrets = [project["name"], "secret guideline", '"t0"']
    failures = []
    for method, template in sorted(_rest(c)):
        path = template
        for name, value in FILL.items():
            path = path.replace(name, value)
        path = path.format(**ids)
        for role, allowed in (("anonymous", {401}), ("outsider", {403, 404, 422})):
            r = c.request(method, path, headers=world[role].headers, json={}, follow_redirects=False)
            if r.status_code not in allowed:
                failures.append(f"{method} {path} as {role}: {r.status_code} (want {sorted(allowed)}) {r.text[:200]}")
            leaked = [x for x in secrets if x in r.text]
            if leaked:
                failures.append(f"{method} {path} as {role} leaks {leaked}")
    assert not failures, "\n".join(failures)


def test_permission_matrix(app_client: TestClient, world: World) -> None:
    c = app_client
    ids = _setup(c, world)
    project = c.get(f"/api/v1/projects/{ids['p']}", headers=world["superuser"].headers).json()
    secrets = [project["name"], "secret guideline", '"t0"']
    failures = []
    for method, template, body, expected in MATRIX:
        path = template.format(**ids)
        for role in ROLES:
            kwargs: dict[str, Any] = {"headers": world[role].headers}
            if body == "upload":
                kwargs["files"] = {"file": (f"{role}.json", SHELF + b" " * ROLES.index(role), "application/json")}
                kwargs["data"] = {"format": "native"}
            elif body == "media":
                kwargs["files"] = {"file": (f"{role}.png", PNG, "image/png")}
            elif callable(body):
                kwargs["json"] = body(c, world, ids)
            elif body is not None:
                kwargs["json"] = body
            r = c.request(method, path, follow_redirects=False, **kwargs)
            want = expected[role]
            ok = r.status_code in want if isinstance(want, set) else r.status_code == want
            if not ok:
                failures.append(f"{method} {path} as {role}: {r.status_code} (want {want}) {r.text[:200]}")
            if role in ("anonymous", "outsider") and r.status_code >= 400:
                leaked = [s for s in secrets if s in r.text]
                if leaked:
                    failures.append(f"{method} {path} as {role} leaks {leaked}: {r.text[:200]}")
            if r.status_code >= 400:
                assert set(r.json()) == {"error"}, r.text
    assert not failures, "\n".join(failures)


def test_outsiders_lists_hold_nothing_of_the_project(app_client: TestClient, world: World) -> None:
    c = app_client
    mine = c.get("/api/v1/projects", headers=world["outsider"].headers).json()
    assert [p["id"] for p in mine] == [world.other_project_id]
    theirs = c.get("/api/v1/projects", headers=world["annotator"].headers).json()
    assert [p["id"] for p in theirs] == [world.project_id]
    assert theirs[0]["role"] == "annotator"
