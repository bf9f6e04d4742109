"""Webhooks: signed with HMAC, sent after commit, retried, every attempt recorded."""

from __future__ import annotations

import hashlib
import hmac
import threading
import time
from http.server import BaseHTTPRequestHandler, HTTPServer

import orjson
import pytest
from fastapi.testclient import TestClient

from tests.integration.conftest import World

BOX = {"geometry": {"type": "box", "x1": 1, "y1": 2, "x2": 30, "y2": 40}, "label": "Product"}
SECRET = "s3cret-s3cret-s3cret"


class Receiver:
    """A local endpoint that fails its first ``fail`` requests with 500, then accepts."""

    def __init__(self, fail: int = 1) -> None:
        self.received: list[tuple[dict[str, str], bytes]] = []
        self.fail = fail
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                outer.received.append(({k.lower(): v for k, v in self.headers.items()}, body))
                status = 500 if outer.fail > 0 else 200
                outer.fail -= 1
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: object) -> None:
                pass

        self.server = HTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/hook"

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver():  # type: ignore[no-untyped-def]
    r = Receiver()
    yield r
    r.close()


def _wait(pred, timeout: float = 20) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while not pred():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.02)


def test_submit_completion_and_export_are_delivered_signed_and_retried(app_client: TestClient, world: World,
                                                                       receiver: Receiver) -> None:
    c, m = app_client, world["manager"].headers
    r = c.post(f"/api/v1/projects/{world.project_id}/webhooks", headers=m, json={"url": receiver.url, "secret": SECRET})
    assert r.status_code == 201 and r.json()["secret"] == SECRET
    hook = r.json()
    assert "secret" not in c.get(f"/api/v1/projects/{world.project_id}/webhooks", headers=m).json()[0]
    (task,) = c.post(f"/api/v1/projects/{world.project_id}/tasks", headers=m, json={"items": [{"id": "w1"}]}).json()
    c.post(f"/api/v1/tasks/{task['id']}/annotations", headers=world["annotator"].headers, json={"regions": [BOX]})
    assert receiver.received == []  # drafts announce nothing
    ann = c.get(f"/api/v1/tasks/{task['id']}", headers=m).json()["annotations"][0]
    c.put(f"/api/v1/annotations/{ann['id']}", headers=world["annotator"].headers, json={"version": 1, "submit": True})
    _wait(lambda: len({h["x-labelgate-delivery"] for h, _ in receiver.received}) >= 2 and receiver.fail < 0)
    started = c.post(f"/api/v1/projects/{world.project_id}/exports", headers=m, json={"format": "native"}).json()
    _wait(lambda: any(h["x-labelgate-event"] == "export.ready" for h, _ in receiver.received))
    events = {}
    for headers, body in receiver.received:
        assert headers["x-labelgate-signature"] == "sha256=" + hmac.new(SECRET.encode(), body, hashlib.sha256).hexdigest()
        doc = orjson.loads(body)
        assert doc["event"] == headers["x-labelgate-event"]
        events[doc["event"]] = doc["payload"]
    assert events["annotation.submitted"]["annotation_id"] == ann["id"]
    assert events["annotation.submitted"]["author"] == world["annotator"].name
    assert events["task.completed"]["task_id"] == task["id"]
    assert events["export.ready"]["export_id"] == started["export"]["id"]
    assert len(events["export.ready"]["content_hash"]) == 64
    _wait(lambda: all(d["status"] == "delivered" for d in c.get(f"/api/v1/webhooks/{hook['id']}/deliveries",
                                                                 headers=m).json()))
    deliveries = c.get(f"/api/v1/webhooks/{hook['id']}/deliveries", headers=m).json()
    assert sorted(d["event"] for d in deliveries) == ["annotation.submitted", "export.ready", "task.completed"]
    assert sorted(d["attempts"] for d in deliveries) == [1, 1, 2]  # the first one was refused once, then retried


def test_unreachable_endpoint_fails_after_the_configured_attempts(app_client: TestClient, world: World) -> None:
    c, m = app_client, world["manager"].headers
    hook = c.post(f"/api/v1/projects/{world.project_id}/webhooks", headers=m,
                  json={"url": "http://127.0.0.1:9/nothing", "events": ["export.ready"]}).json()
    c.post(f"/api/v1/projects/{world.project_id}/exports", headers=m, json={"format": "native"})
    url = f"/api/v1/webhooks/{hook['id']}/deliveries"
    _wait(lambda: [d["status"] for d in c.get(url, headers=m).json()] == ["failed"])
    (d,) = c.get(url, headers=m).json()
    assert d["attempts"] == world.rt.settings.webhook_attempts and d["last_error"]


def test_bad_webhooks_are_refused(app_client: TestClient, world: World) -> None:
    c, m = app_client, world["manager"].headers
    url = f"/api/v1/projects/{world.project_id}/webhooks"
    for body, message in [({"url": "ftp://x"}, "http:// or https://"), ({"url": "http://x", "events": ["nope"]}, "unknown"),
                          ({"url": "http://x", "secret": "short"}, "16 characters")]:
        r = c.post(url, headers=m, json=body)
        assert r.status_code == 422 and message in r.json()["error"]["message"]


def test_restart_fails_orphaned_jobs_and_resends_undelivered_webhooks(tmp_path, receiver: Receiver) -> None:  # type: ignore[no-untyped-def]
    from labelgate.server import Runtime, Settings
    from labelgate.server.db.repos import jobs as jobs_repo
    from labelgate.server.db.repos import webhooks as hooks_repo
    from labelgate.server.domain import ExportFilter
    from labelgate.server.services import auth, jobs, projects, webhooks
    from labelgate.server.services.recovery import recover
    from tests.integration.conftest import FAST_HASH

    rt = Runtime.open(Settings(data_dir=tmp_path, **FAST_HASH))
    try:
        root = auth.create_user(rt, None, "root", "root-password", True)
        p = projects.create_project(rt, root, "restart")
        hook, _ = webhooks.create_webhook(rt, root, p.id, receiver.url, secret=SECRET)
        with rt.db.write() as conn:  # what a killed server leaves behind: recorded, never run or sent
            job_id = jobs.new_job(conn, "export", p.id, root)
            export = jobs_repo.create_export(conn, p.id, "native", ExportFilter.ALL, job_id, root.id)
            (delivery,) = hooks_repo.add_deliveries(conn, [hook["id"]], "task.completed", {"task_id": 1})
        kept = rt.settings.upload_dir / "pending" / job_id
        kept.mkdir(parents=True)
        (kept / "upload.json").write_bytes(b"{}")
        receiver.fail = 0
        assert recover(rt) == {"jobs_failed": 1, "deliveries_resent": 1}
        assert not kept.exists()
        assert rt.queue.join(20)
        with rt.db.read() as conn:
            job = jobs_repo.get_job(conn, job_id)
            assert job is not None and job.status.value == "failed" and "start it again" in (job.error or "")
            assert jobs_repo.export(conn, export.id).status.value == "failed"  # type: ignore[union-attr]
            assert hooks_repo.delivery(conn, delivery)["status"] == "delivered"  # type: ignore[index]
        assert [h["x-labelgate-delivery"] for h, _ in receiver.received] == [str(delivery)]
        assert recover(rt)["jobs_failed"] == 0  # the delivery job itself finished
    finally:
        rt.close()
