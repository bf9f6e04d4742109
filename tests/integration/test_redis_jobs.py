"""Jobs on Redis: the API enqueues, a worker process (here: this one, in burst mode) runs them.
Nothing runs without a worker; no fallback to the web process."""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest

from labelgate.core.errors import InvariantError
from labelgate.server import Runtime, Settings, create_app
from labelgate.server.services import auth, projects
from tests.conftest import require_or_skip
from tests.integration.conftest import FAST_HASH, TestClient

REDIS = "redis://127.0.0.1:6379/14"


def _redis_up() -> bool:
    redis = pytest.importorskip("redis")
    try:
        return bool(redis.Redis.from_url(REDIS, socket_connect_timeout=2).ping())
    except redis.exceptions.RedisError:
        return False


def test_export_job_waits_for_a_worker_then_runs_there(tmp_path: Path) -> None:
    require_or_skip(_redis_up(), "Redis is not reachable at 127.0.0.1:6379")
    settings = Settings(data_dir=tmp_path, job_queue="redis", redis_url=REDIS, redis_queue=f"lg-{uuid.uuid4().hex[:8]}",
                        **FAST_HASH)
    rt = Runtime.open(settings)
    try:
        root = auth.create_user(rt, None, "root", "root-password", True)
        h = {"Authorization": f"Token {auth.create_token(rt, root, 't')[1]}"}
        p = projects.create_project(rt, root, "redis", label_schema={"classes": [{"name": "Product"}]})
        with TestClient(create_app(runtime=rt)) as c:
            c.post(f"/api/v1/projects/{p.id}/tasks", headers=h, json={"items": [{"id": "a"}, {"id": "b"}]})
            started = c.post(f"/api/v1/projects/{p.id}/exports", headers=h, json={"format": "native"}).json()
            job_url = f"/api/v1/jobs/{started['job']['id']}"
            assert c.get(job_url, headers=h).json()["status"] == "queued"
            assert not rt.queue.join(timeout=0.3)  # no worker, no progress
            rt.work(burst=True)
            job = c.get(job_url, headers=h).json()
            assert job["status"] == "succeeded", job
            assert c.get(f"/api/v1/exports/{started['export']['id']}", headers=h).json()["manifest"]["items"] == 2
    finally:
        rt.queue.queue.delete(delete_jobs=True)  # type: ignore[attr-defined]
        rt.close()


def test_a_worker_needs_the_redis_queue(tmp_path: Path) -> None:
    rt = Runtime.open(Settings(data_dir=tmp_path, **FAST_HASH))
    try:
        with pytest.raises(InvariantError, match="LABELGATE_JOB_QUEUE=redis"):
            rt.work(burst=True)
    finally:
        rt.close()
