"""Consistency audits through the API: an annotator's own past tasks re-served unannounced at the
configured rate. The audit is indistinguishable from a fresh task (next-task, assignment, task detail,
drafts, submit and skip answer with the same status, headers, fields and values, and no earlier answer is
offered); its answer is stored apart, so exports hold only first answers and the first annotation never
changes; the scorecard's test-retest kappa equals scikit-learn's on the (first, audit) object pairs."""

from __future__ import annotations

import time
from typing import Any

import orjson
import pytest
from sklearn.metrics import cohen_kappa_score

from labelgate.client import Client
from labelgate.server import create_app
from labelgate.server.db.repos import audits as audits_repo
from labelgate.server.domain import Role
from labelgate.server.services import projects
from labelgate.server.services.workflow_host import Session
from tests.integration.conftest import TestClient, World
from tests.integration.test_workflow_gold import shape

API = "/api/v1"
CLASSES = ("Product", "Price tag", "Empty slot")
VOLATILE = {"date", "content-length", "etag"}
XS = (0, 60, 120)  # one box per column: pairing by column is the oracle's own matching


def box(x: int, label: str) -> dict[str, Any]:
    return {"geometry": {"type": "box", "x1": x, "y1": 0, "x2": x + 50, "y2": 50}, "label": label}


def first_answer(tid: int) -> list[dict[str, Any]]:
    return [box(x, CLASSES[(tid + k) % 3]) for k, x in enumerate(XS)]


def audit_answer(tid: int, n: int) -> list[dict[str, Any]]:
    """The n-th audit's answer: the same, one label changed, a box missed, or an extra-class swap."""
    first = first_answer(tid)
    if n % 4 == 0:
        return first
    if n % 4 == 1:
        return [first[0], box(XS[1], CLASSES[(CLASSES.index(first[1]["label"]) + 1) % 3]), first[2]]
    if n % 4 == 2:
        return first[:2]
    return [box(XS[0], first[1]["label"]), box(XS[1], first[0]["label"]), first[2]]


def by_column(regions: list[dict[str, Any]]) -> dict[int, str]:
    return {int(r["geometry"]["x1"]): r["label"] for r in regions}


def view(resp: Any, *values: str) -> tuple[Any, ...]:
    """What an annotator can compare across tasks: status, header names, body shape and chosen values."""
    body = resp.json() if resp.content else None
    picked = {k: body.get(k) for k in values} if isinstance(body, dict) else None
    return resp.status_code, tuple(sorted(set(resp.headers) - VOLATILE)), orjson.dumps(shape(body)), orjson.dumps(picked)


def _export(mgr: TestClient, pid: int) -> dict[str, Any]:
    started = mgr.post(f"{API}/projects/{pid}/exports", json={"format": "native"})
    assert started.status_code == 202, started.text
    deadline = time.monotonic() + 30
    while (job := mgr.get(f"{API}/jobs/{started.json()['job']['id']}").json())["status"] not in ("succeeded", "failed"):
        assert time.monotonic() < deadline
        time.sleep(0.05)
    assert job["status"] == "succeeded", job
    data: dict[str, Any] = orjson.loads(mgr.get(f"{API}/exports/{started.json()['export']['id']}/files/dataset.json").content)
    return data


def test_audits_are_blind_stored_apart_and_scored(runtime, world: World) -> None:  # type: ignore[no-untyped-def]
    su = world["superuser"].user
    assert su is not None
    p = projects.create_project(runtime, su, f"audits {world.project_id}", "",
                                {"classes": [{"name": c} for c in CLASSES]}, settings={"blind": True})
    projects.set_member(runtime, su, p.id, world["annotator"].name, Role.ANNOTATOR)
    projects.set_member(runtime, su, p.id, world["manager"].name, Role.MANAGER)
    mgr = TestClient(create_app(runtime=runtime), headers=world["manager"].headers)
    ann = TestClient(create_app(runtime=runtime), headers=world["annotator"].headers)
    min_gap = 3
    r = mgr.put(f"{API}/projects/{p.id}/workflow", json={"audits": {"rate": 0.3, "seed": 4, "min_gap": min_gap}})
    assert r.status_code == 200, r.text
    r = mgr.post(f"{API}/projects/{p.id}/tasks", json={"items": [{"id": f"t{i}", "width": 200, "height": 100}
                                                                  for i in range(24)]})
    assert r.status_code == 201, r.text

    served: list[int] = []
    first: dict[int, list[dict[str, Any]]] = {}
    first_ann: dict[int, tuple[int, int]] = {}  # task -> (annotation id, its version once accepted)
    second: dict[int, list[dict[str, Any]]] = {}
    views: dict[tuple[str, bool], set[tuple[Any, ...]]] = {}
    skipped = {False: 0, True: 0}
    while (nxt := ann.post(f"{API}/projects/{p.id}/next-task")).status_code == 200:
        assert len(served) < 60
        tid = nxt.json()["id"]
        is_audit = tid in served  # a repeat: the test counts it as an audit and checks that against the server
        served.append(tid)
        assignment = ann.get(f"{API}/tasks/{tid}/assignment")
        before = ann.get(f"{API}/tasks/{tid}")
        assert before.json()["annotations"] == []  # no earlier answer to start from, audit or not
        listed = [t for t in ann.get(f"{API}/projects/{p.id}/tasks", params={"limit": 1000}).json()["tasks"]
                  if t["id"] == tid]
        history = [e["kind"] for e in ann.get(f"{API}/tasks/{tid}/events").json()]
        seen = [view(nxt, "n_submitted", "completed"), view(before, "n_submitted", "completed", "annotations"),
                view(assignment, "mode", "stage", "comments", "note", "annotations", "proposal", "guideline_version"),
                orjson.dumps([(t["n_submitted"], t["completed"]) for t in listed]), orjson.dumps(history)]
        n_audit = len(second)
        if skipped[is_audit] == 0 and len(served) > 4:  # skip one of each kind
            skipped[is_audit] += 1
            sk = ann.post(f"{API}/tasks/{tid}/skip", json={"reason": "unclear"})
            seen.append(view(sk, "status", "version", "regions", "author_name"))
            views.setdefault(("skip", is_audit), set()).add(tuple(seen))
            continue
        regions = audit_answer(tid, n_audit) if is_audit else first_answer(tid)
        flow = "draft" if len(served) % 2 else "direct"
        if flow == "draft":  # the UI's way: a draft first, then submit it with its version
            draft = ann.post(f"{API}/tasks/{tid}/annotations", json={"regions": regions[:1], "submit": False})
            again = ann.get(f"{API}/annotations/{draft.json()['id']}")
            detail = ann.get(f"{API}/tasks/{tid}")
            assert again.json()["regions"] == draft.json()["regions"] and len(again.json()["regions"]) == 1
            sub = ann.put(f"{API}/annotations/{draft.json()['id']}",
                          json={"regions": regions, "submit": True, "version": draft.json()["version"]})
            seen += [view(draft, "status", "version", "author_name"), view(again, "status", "version"),
                     view(detail, "n_submitted", "completed"), view(sub, "status", "version", "author_name")]
        else:
            sub = ann.post(f"{API}/tasks/{tid}/annotations", json={"regions": regions, "submit": True})
            seen.append(view(sub, "status", "version", "author_name"))
        assert sub.status_code in (200, 201), sub.text
        assert by_column(sub.json()["regions"]) == by_column(regions)
        seen.append(view(ann.post(f"{API}/tasks/{tid}/annotations", json={"regions": [], "submit": True}), "status"))
        views.setdefault((flow, is_audit), set()).add(tuple(seen))
        if is_audit:
            second[tid] = regions
        else:
            first[tid] = regions
            first_ann[tid] = (sub.json()["id"], 3 if flow == "draft" else 2)  # + the acceptance
    assert nxt.status_code == 204

    # audits happened, each once, no sooner than min_gap assignments after the first answer; nothing else repeats
    repeats = [i for i, t in enumerate(served) if t in served[:i]]
    assert len(second) >= 4 and skipped == {False: 1, True: 1}
    assert len(repeats) == len(second) + 1  # + the skipped audit
    assert all(i - served.index(served[i]) >= min_gap for i in repeats)
    assert all(served.count(t) <= 2 for t in served)
    assert set(second) <= set(first)
    # the audit's every response looks like an ordinary task's
    for flow in ("direct", "draft", "skip"):
        assert views.get((flow, True)), f"no audit went through the {flow} flow"
        assert views[(flow, True)] == views[(flow, False)] and len(views[(flow, False)]) == 1, flow

    # test-retest kappa against scikit-learn on the object pairs (the oracle pairs boxes by column)
    y1, y2 = [], []
    for tid, again in second.items():
        a, b = by_column(first[tid]), by_column(again)
        for x in sorted(set(a) | set(b)):
            y1.append(a.get(x, ""))
            y2.append(b.get(x, ""))
    sdk = Client("http://testserver", world["manager"].token, http=TestClient(create_app(runtime=runtime)))
    card = next(c for c in sdk.scorecards(p.id) if c["member"] == world["annotator"].name)
    retest = card["retest"]
    assert retest["audits"] == len(second) and retest["objects"] == len(y1)
    assert retest["kappa"] == pytest.approx(cohen_kappa_score(y1, y2), abs=1e-12)
    assert retest["ci"][0] <= retest["kappa"] <= retest["ci"][1] < 1.0
    assert card["submitted"] == len(first)  # audits are not annotations
    assert ann.get(f"{API}/projects/{p.id}/quality/annotators").status_code == 403

    # the first annotations are untouched; exports hold them and nothing else
    for tid, (aid, version) in first_ann.items():
        got = mgr.get(f"{API}/annotations/{aid}").json()
        assert (got["status"], got["version"], by_column(got["regions"])) == ("accepted", version, by_column(first[tid]))
        assert [a["id"] for a in mgr.get(f"{API}/tasks/{tid}").json()["annotations"]] == [aid]
    data = _export(mgr, p.id)
    exported = {int(a["id"]): a for a in data["annotations"]}
    assert set(exported) == {aid for aid, _ in first_ann.values()}
    assert all(by_column(exported[aid]["regions"]) == by_column(first[tid]) for tid, (aid, _) in first_ann.items())
    with runtime.db.read() as conn:
        stored = audits_repo.of_project(conn, p.id)
    assert sorted(a.task_id for a in stored if a.status == "submitted") == sorted(second)
    assert [a.status for a in stored].count("skipped") == 1 and not [a for a in stored if a.status in audits_repo.LIVE]
    assert all(a.annotation_id == first_ann[a.task_id][0] for a in stored if a.task_id in first_ann)


def test_audit_config_is_validated(runtime, world: World) -> None:  # type: ignore[no-untyped-def]
    mgr = TestClient(create_app(runtime=runtime), headers=world["manager"].headers)
    pid = world.project_id
    r = mgr.put(f"{API}/projects/{pid}/workflow", json={"audits": {"rate": 0.1, "fraction": 0.2}})
    assert r.status_code == 422 and "'audits' has unknown keys ['fraction']" in r.json()["error"]["message"], r.text
    r = mgr.put(f"{API}/projects/{pid}/workflow", json={"audits": {"rate": 1.5}})
    assert r.status_code == 422 and "audits.rate" in r.json()["error"]["message"], r.text
    r = mgr.put(f"{API}/projects/{pid}/workflow", json={"audits": {"rate": 0.1, "min_gap": 0}})
    assert r.status_code == 422 and "audits.min_gap" in r.json()["error"]["message"], r.text
    r = mgr.put(f"{API}/projects/{pid}/workflow", json={"audits": {"rate": 0.1}})
    assert r.status_code == 422 and "blind" in r.json()["error"]["message"], r.text


def test_an_audit_left_unanswered_expires_and_the_first_answer_shows_again(runtime, world: World,  # type: ignore[no-untyped-def]
                                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    clock = [time.time()]
    monkeypatch.setattr(Session, "now", lambda self: max(clock[0], self.engine.state.now))
    su = world["superuser"].user
    assert su is not None
    p = projects.create_project(runtime, su, f"expiry {world.project_id}", "",
                                {"classes": [{"name": c} for c in CLASSES]}, settings={"blind": True})
    projects.set_member(runtime, su, p.id, world["annotator"].name, Role.ANNOTATOR)
    projects.set_member(runtime, su, p.id, world["manager"].name, Role.MANAGER)
    mgr = TestClient(create_app(runtime=runtime), headers=world["manager"].headers)
    ann = TestClient(create_app(runtime=runtime), headers=world["annotator"].headers)
    conf = {"audits": {"rate": 0.5, "seed": 0, "min_gap": 1}, "lease_seconds": 60}
    assert mgr.put(f"{API}/projects/{p.id}/workflow", json=conf).status_code == 200
    mgr.post(f"{API}/projects/{p.id}/tasks", json={"items": [{"id": f"t{i}", "width": 200, "height": 100}
                                                              for i in range(12)]})
    done: dict[int, int] = {}  # task -> first annotation
    audit = None
    while audit is None:
        clock[0] += 1
        tid = ann.post(f"{API}/projects/{p.id}/next-task").json()["id"]
        if tid in done:
            audit = tid
            break
        done[tid] = ann.post(f"{API}/tasks/{tid}/annotations", json={"regions": first_answer(tid), "submit": True}).json()["id"]
        assert len(done) < 12
    assert ann.get(f"{API}/tasks/{audit}").json()["annotations"] == []
    draft = ann.post(f"{API}/tasks/{audit}/annotations", json={"regions": [], "submit": False})
    assert draft.status_code == 201 and draft.json()["status"] == "draft"

    clock[0] += 120  # the audit's lease lapses unanswered
    nxt = ann.post(f"{API}/projects/{p.id}/next-task")
    assert nxt.status_code == 200 and nxt.json()["id"] != audit
    late = ann.post(f"{API}/tasks/{audit}/submit", json={"regions": []})
    assert late.status_code == 409 and "no assignment" in late.json()["error"]["message"]
    detail = ann.get(f"{API}/tasks/{audit}").json()
    assert [a["id"] for a in detail["annotations"]] == [done[audit]] and detail["completed"]
    assert by_column(detail["annotations"][0]["regions"]) == by_column(first_answer(audit))
    with runtime.db.read() as conn:  # (the next task may itself be another audit: slots depend on the user id)
        assert [a.status for a in audits_repo.of_project(conn, p.id) if a.task_id == audit] == ["expired"]
    # the expired audit is not retried, and counts for nothing
    while (nxt := ann.post(f"{API}/projects/{p.id}/next-task")).status_code == 200:
        clock[0] += 1
        tid = nxt.json()["id"]
        assert tid != audit
        if tid in done:
            ann.post(f"{API}/tasks/{tid}/annotations", json={"regions": first_answer(tid), "submit": True})
        else:
            done[tid] = ann.post(f"{API}/tasks/{tid}/annotations", json={"regions": first_answer(tid), "submit": True}).json()["id"]
    card = next(c for c in mgr.get(f"{API}/projects/{p.id}/quality/annotators").json()
                if c["member"] == world["annotator"].name)
    assert audit not in {a.task_id for a in audits_of(runtime, p.id) if a.status == "submitted"}
    assert card["retest"]["audits"] == len([a for a in audits_of(runtime, p.id) if a.status == "submitted"])
    assert card["retest"]["kappa"] in (None, 1.0)  # every audit answered as the first time


def audits_of(runtime, project_id: int) -> list[Any]:  # type: ignore[no-untyped-def]
    with runtime.db.read() as conn:
        return audits_repo.of_project(conn, project_id)
