"""Consistency audits through the API: an annotator's own past tasks re-served unannounced at the
configured rate. The audit is indistinguishable from a fresh task (next-task, assignment, task detail,
drafts, submit and skip answer with the same status, headers, fields and values, and no earlier answer is
offered); its answer is stored apart, so exports hold only first answers and the first annotation never
changes; the scorecard's test-retest kappa equals scikit-learn's on the (first, audit) object pairs.
Once the audit ended, the annotator keeps seeing it as an ordinary task after the same steps; a member of
reviewer rank answering an audit sees no trace of the work done on the task, and all else as a reviewer."""

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


def test_an_audit_left_unanswered_expires_and_its_draft_stays(runtime, world: World,  # type: ignore[no-untyped-def]
                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    """An audit whose lease runs out ends ``expired``: the annotator keeps seeing the draft they left, as
    on any task whose lease ran out (not the first answer, which would give the audit away); the first
    annotation and the task are unchanged for the manager; the audit is not retried and counts for nothing."""
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
    assert [(a["id"], a["status"], a["regions"]) for a in detail["annotations"]] == [(done[audit], "draft", [])]
    assert not detail["completed"]
    first = mgr.get(f"{API}/tasks/{audit}").json()
    assert [a["id"] for a in first["annotations"]] == [done[audit]] and first["completed"]
    assert by_column(first["annotations"][0]["regions"]) == by_column(first_answer(audit))
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


def _audit_project(runtime, world: World, name: str, conf: dict[str, Any], members: dict[str, Role],  # type: ignore[no-untyped-def]
                   n_tasks: int) -> int:
    su = world["superuser"].user
    assert su is not None
    p = projects.create_project(runtime, su, f"{name} {world.project_id}", "",
                                {"classes": [{"name": c} for c in CLASSES]}, settings={"blind": True})
    for who, role in {**members, "manager": Role.MANAGER}.items():
        projects.set_member(runtime, su, p.id, world[who].name, role)
    mgr = TestClient(create_app(runtime=runtime), headers=world["manager"].headers)
    r = mgr.put(f"{API}/projects/{p.id}/workflow", json=conf)
    assert r.status_code == 200, r.text
    r = mgr.post(f"{API}/projects/{p.id}/tasks", json={"items": [{"id": f"t{i}", "width": 200, "height": 100}
                                                                  for i in range(n_tasks)]})
    assert r.status_code == 201, r.text
    return p.id


def _own_view(c: TestClient, pid: int, tid: int, sent: list[dict[str, Any]]) -> tuple[Any, ...]:
    """Everything the annotator can read of their own work on a task, with ``sent`` (what they last sent)
    in place of the regions themselves: progress in the task, the listing and the annotation, the
    annotation itself (status, version, regions) and the history (kinds, data, which annotation)."""
    detail = c.get(f"{API}/tasks/{tid}").json()
    anns = [(a["status"], a["version"], by_column(a["regions"]) == by_column(sent), a["lead_time"])
            for a in detail["annotations"]]
    by_id = [c.get(f"{API}/annotations/{a['id']}").json() for a in detail["annotations"]]
    listed = [(t["n_submitted"], t["completed"]) for t in c.get(f"{API}/projects/{pid}/tasks", params={"limit": 1000}).json()["tasks"]
              if t["id"] == tid]
    ids = {a["id"] for a in detail["annotations"]}
    history = [(e["kind"], e["data"], e["annotation_id"] in ids) for e in c.get(f"{API}/tasks/{tid}/events").json()]
    return (detail["n_submitted"], detail["completed"], orjson.dumps(anns), orjson.dumps(listed),
            orjson.dumps([(a["status"], a["version"], by_column(a["regions"]) == by_column(sent)) for a in by_id]),
            orjson.dumps(history))


def test_after_an_audit_the_annotator_sees_the_answer_they_gave_last(runtime, world: World) -> None:  # type: ignore[no-untyped-def]
    """Once an audit is submitted or skipped, the annotator's task detail, annotation, listing and history
    of that task read as an ordinary task's after the same steps: their annotation holds the audit answer
    (accepted once the first is), and nothing of the first answer or the first pass shows; a manager
    still reads the first annotation unchanged and the audit's steps as audit.* events."""
    pid = _audit_project(runtime, world, "after", {"audits": {"rate": 0.4, "seed": 1, "min_gap": 2}},
                         {"annotator": Role.ANNOTATOR}, 30)
    ann = TestClient(create_app(runtime=runtime), headers=world["annotator"].headers)
    mgr = TestClient(create_app(runtime=runtime), headers=world["manager"].headers)
    served: list[int] = []
    sent: dict[int, tuple[str, list[dict[str, Any]]]] = {}  # task -> (flow, last regions sent)
    audited: set[int] = set()
    firsts: dict[int, dict[str, Any]] = {}  # task -> its first annotation as the manager reads it
    views: dict[tuple[str, bool], set[tuple[Any, ...]]] = {}
    while (nxt := ann.post(f"{API}/projects/{pid}/next-task")).status_code == 200:
        assert len(served) < 80
        tid = nxt.json()["id"]
        is_audit = tid in served
        served.append(tid)
        regions = audit_answer(tid, len(audited)) if is_audit else first_answer(tid)
        flow = ("direct", "draft", "skip")[len(served) % 3]
        if is_audit:
            audited.add(tid)
        if flow == "skip":
            assert ann.post(f"{API}/tasks/{tid}/skip", json={"reason": "unclear"}).status_code == 200
            regions = []
        elif flow == "draft":
            draft = ann.post(f"{API}/tasks/{tid}/annotations", json={"regions": regions[:1], "submit": False, "lead_time": 2.0})
            r = ann.put(f"{API}/annotations/{draft.json()['id']}",
                        json={"regions": regions, "submit": True, "version": draft.json()["version"]})
            assert r.status_code == 200, r.text
        else:
            r = ann.post(f"{API}/tasks/{tid}/annotations", json={"regions": regions, "submit": True, "lead_time": 3.0})
            assert r.status_code == 201, r.text
        sent[tid] = (flow, regions)
        views.setdefault((flow, is_audit), set()).add(_own_view(ann, pid, tid, regions))
        if not is_audit and flow != "skip":
            firsts[tid] = mgr.get(f"{API}/annotations/{r.json()['id']}").json()
    assert nxt.status_code == 204
    flows = {sent[t][0] for t in audited}
    assert flows == {"direct", "draft", "skip"}, flows
    for flow in flows:  # right after the step, the audit reads as an ordinary task does
        assert views[(flow, True)] == views[(flow, False)] and len(views[(flow, False)]) == 1, flow
    for tid in served:  # and at the end, each task as its last step left it
        flow, regions = sent[tid]
        assert _own_view(ann, pid, tid, regions) in views[(flow, False)], (tid, flow, tid in audited)
    for tid in audited:  # the manager: the first annotation as it was, the audit's steps under their own kinds
        first = mgr.get(f"{API}/annotations/{firsts[tid]['id']}").json()
        assert first == firsts[tid]
        assert by_column(first["regions"]) == by_column(first_answer(tid))
        kinds = [e["kind"] for e in mgr.get(f"{API}/tasks/{tid}/events").json()]
        step = {"direct": ["audit.submitted"], "draft": ["audit.created", "audit.submitted"], "skip": ["audit.skipped"]}
        assert [k for k in kinds if k.startswith("audit.")] == step[sent[tid][0]]
        assert [a["id"] for a in mgr.get(f"{API}/tasks/{tid}").json()["annotations"]] == [first["id"]]


def test_a_reviewer_answering_an_audit_sees_no_trace_of_the_work_done(runtime, world: World) -> None:  # type: ignore[no-untyped-def]
    """A member of reviewer rank who annotates is audited like anyone: while the audit is theirs, the
    task reads as one nobody worked on (unstarted, no one's annotation, the history of a new task), though
    they and a peer both finished it; everywhere else, and on that task once the audit ended, they see the
    true rows, the peer's work and the peer's audits as a reviewer does."""
    pid = _audit_project(runtime, world, "reviewer audits", {"audits": {"rate": 0.3, "seed": 2, "min_gap": 2},
                                                             "overlap": {"k": 2, "fraction": 1.0}},
                         {"annotator": Role.ANNOTATOR, "reviewer": Role.REVIEWER}, 16)
    peer = TestClient(create_app(runtime=runtime), headers=world["annotator"].headers)
    mgr = TestClient(create_app(runtime=runtime), headers=world["manager"].headers)
    rev = TestClient(create_app(runtime=runtime), headers=world["reviewer"].headers)
    peer_audits: set[int] = set()
    seen: list[int] = []
    while (nxt := peer.post(f"{API}/projects/{pid}/next-task")).status_code == 200:  # the peer goes first
        tid = nxt.json()["id"]
        if tid in seen:
            peer_audits.add(tid)
        seen.append(tid)
        assert peer.post(f"{API}/tasks/{tid}/annotations", json={"regions": audit_answer(tid, 2) if tid in peer_audits
                                                                 else first_answer(tid), "submit": True}).status_code == 201
    assert peer_audits
    served: list[int] = []
    audits_seen = 0
    while (nxt := rev.post(f"{API}/projects/{pid}/next-task")).status_code == 200:
        assert len(served) < 40
        tid = nxt.json()["id"]
        is_audit = tid in served
        served.append(tid)
        if is_audit:  # the peer's and their own first answers are accepted, the task completed
            audits_seen += 1
            assert (nxt.json()["n_submitted"], nxt.json()["completed"]) == (0, False)
            detail = rev.get(f"{API}/tasks/{tid}").json()
            assert (detail["n_submitted"], detail["completed"], detail["annotations"]) == (0, False, [])
            listed = {t["id"]: t for t in rev.get(f"{API}/projects/{pid}/tasks", params={"limit": 1000}).json()["tasks"]}
            assert (listed[tid]["n_submitted"], listed[tid]["completed"]) == (0, False)
            assert [e["kind"] for e in rev.get(f"{API}/tasks/{tid}/events").json()] == ["task.created"]
            # as a reviewer, everything else as it is (as the manager reads it): other tasks, the peer's work
            done = [t for t in served[:-1] if t != tid]
            truth = {t["id"]: t for t in mgr.get(f"{API}/projects/{pid}/tasks", params={"limit": 1000}).json()["tasks"]}
            assert truth[tid]["completed"] and done and all(listed[t] == truth[t] and truth[t]["completed"] for t in done)
            for t in done:  # (their own annotation shows what they answered last: an audit's answer where one was)
                got, want = rev.get(f"{API}/tasks/{t}").json(), mgr.get(f"{API}/tasks/{t}").json()
                peers = [a for a in want["annotations"] if a["author_name"] != world["reviewer"].name]
                assert peers and [a for a in got["annotations"] if a["author_name"] != world["reviewer"].name] == peers
                assert {k: v for k, v in got.items() if k != "annotations"} == {k: v for k, v in want.items() if k != "annotations"}
        r = rev.post(f"{API}/tasks/{tid}/annotations", json={"regions": first_answer(tid), "submit": True})
        assert r.status_code == 201, r.text
        if is_audit:  # ended: the true row and the peer's work again; their own annotation as they answered
            detail, truth_of = rev.get(f"{API}/tasks/{tid}").json(), mgr.get(f"{API}/tasks/{tid}").json()
            assert (detail["n_submitted"], detail["completed"]) == (truth_of["n_submitted"], truth_of["completed"])
            theirs = [a for a in truth_of["annotations"] if a["author_name"] != world["reviewer"].name]
            assert theirs and [a for a in detail["annotations"] if a["author_name"] != world["reviewer"].name] == theirs
            assert [(a["id"], a["status"], a["regions"]) for a in detail["annotations"] if a not in theirs] == [
                (a["id"], a["status"], r.json()["regions"]) for a in truth_of["annotations"] if a not in theirs]
    assert audits_seen >= 2
    for tid in peer_audits:  # the peer's audits, as a reviewer reads them: the first answer, the audit's event
        detail = rev.get(f"{API}/tasks/{tid}").json()
        mine = [a for a in detail["annotations"] if a["author_name"] == world["annotator"].name]
        assert [by_column(a["regions"]) for a in mine] == [by_column(first_answer(tid))]
        assert "audit.submitted" in [e["kind"] for e in rev.get(f"{API}/tasks/{tid}/events").json()]


def test_an_audit_answer_follows_the_first_through_review_until_it_is_sent_back(runtime, world: World) -> None:  # type: ignore[no-untyped-def]
    """With a review stage, an audit answered while the first annotation waits for review shows as
    submitted, then accepted when a reviewer accepts the task (as an ordinary answer would); when the
    reviewer sends the first annotation back instead, the annotator sees that one, rejected, to rework."""
    stages = {"stages": [{"name": "technician", "group": "technicians"}], "groups": {"technicians": [world["reviewer"].name]}}
    pid = _audit_project(runtime, world, "review", {**stages, "audits": {"rate": 0.5, "seed": 0, "min_gap": 1}},
                         {"annotator": Role.ANNOTATOR, "reviewer": Role.REVIEWER}, 10)
    ann = TestClient(create_app(runtime=runtime), headers=world["annotator"].headers)
    rev = TestClient(create_app(runtime=runtime), headers=world["reviewer"].headers)
    served: list[int] = []
    audited: dict[int, int] = {}  # task -> the first annotation's id
    while (nxt := ann.post(f"{API}/projects/{pid}/next-task")).status_code == 200:
        tid = nxt.json()["id"]
        again = tid in served
        served.append(tid)
        r = ann.post(f"{API}/tasks/{tid}/annotations", json={"regions": audit_answer(tid, 1) if again else first_answer(tid),
                                                              "submit": True})
        assert r.status_code == 201, r.text
        if again:
            audited[tid] = r.json()["id"]
            mine = ann.get(f"{API}/tasks/{tid}").json()
            assert [(a["status"], a["version"], by_column(a["regions"])) for a in mine["annotations"]] == [
                ("submitted", 1, by_column(audit_answer(tid, 1)))]
    assert len(audited) >= 2
    sent_back, kept = sorted(audited)[:2]
    while (held := rev.post(f"{API}/projects/{pid}/workflow/next", params={"stage": "technician"})).status_code == 200:
        tid = held.json()["id"]
        assert rev.post(f"{API}/tasks/{tid}/review", json={"accept": tid != sent_back, "comment": "look again"}).status_code == 200
    mine = ann.get(f"{API}/tasks/{kept}").json()
    assert (mine["n_submitted"], mine["completed"]) == (1, True)
    assert [(a["id"], a["status"], a["version"], by_column(a["regions"])) for a in mine["annotations"]] == [
        (audited[kept], "accepted", 2, by_column(audit_answer(kept, 1)))]
    mine = ann.get(f"{API}/tasks/{sent_back}").json()
    assert [(a["id"], a["status"], by_column(a["regions"])) for a in mine["annotations"]] == [
        (audited[sent_back], "rejected", by_column(first_answer(sent_back)))]
    assert not [e for e in ann.get(f"{API}/tasks/{sent_back}/events").json() if e["kind"].startswith("audit.")]
    assert ann.post(f"{API}/projects/{pid}/next-task").json()["id"] == sent_back
    assert ann.get(f"{API}/tasks/{sent_back}/assignment").json()["mode"] == "rework"
