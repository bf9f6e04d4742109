"""Contract of every job-queue backend (the in-process one today)."""

from __future__ import annotations

import threading
from typing import Any

import pytest

from labelgate.core.errors import LabelgateError
from labelgate.jobs import InProcessQueue, JobContext, JobQueue, resolve_target
from tests.conftest import require_or_skip

RESULTS: dict[str, Any] = {}
LOCK = threading.Lock()


def record(ctx: JobContext, value: int) -> None:
    with LOCK:
        RESULTS[ctx.job_id] = (value, ctx.resources.get("tag"))


def explode(ctx: JobContext) -> None:
    raise RuntimeError(f"boom in {ctx.job_id}")


class BurstRedis(JobQueue):
    """The Redis backend with an rq worker run in this process whenever the test waits."""

    def __init__(self) -> None:
        import uuid

        from labelgate.jobs.redis_queue import RedisQueue, set_resources

        self.inner = RedisQueue("redis://127.0.0.1:6379/15", name=f"lg-test-{uuid.uuid4().hex[:8]}")
        set_resources({"tag": "t"})

    def enqueue(self, job_id: str, target: str, kwargs: dict[str, Any]) -> None:  # type: ignore[override]
        self.inner.enqueue(job_id, target, kwargs)

    def join(self, timeout: float | None = None) -> bool:
        self.inner.work(burst=True)
        return self.inner.join(timeout)

    def close(self) -> None:
        self.inner.queue.delete(delete_jobs=True)
        self.inner.close()


def _redis_up() -> bool:
    import redis

    try:
        return bool(redis.Redis.from_url("redis://127.0.0.1:6379/15", socket_connect_timeout=2).ping())
    except redis.exceptions.RedisError:
        return False


@pytest.fixture(params=["inprocess", "redis"])
def queue(request: pytest.FixtureRequest):  # type: ignore[no-untyped-def]
    if request.param == "redis":
        require_or_skip(_redis_up(), "Redis is not reachable at 127.0.0.1:6379")
        q: JobQueue = BurstRedis()
    else:
        q = InProcessQueue({"tag": "t"}, workers=2)
    yield q
    q.close()


def test_runs_every_job_with_context(queue: JobQueue) -> None:
    for i in range(20):
        queue.enqueue(f"job-{i}", "tests.unit.jobs.test_queue:record", {"value": i})
    assert queue.join(10)
    assert all(RESULTS[f"job-{i}"] == (i, "t") for i in range(20))


def test_failure_does_not_stop_the_queue(queue: JobQueue) -> None:
    queue.enqueue("bad", "tests.unit.jobs.test_queue:explode", {})
    queue.enqueue("good", "tests.unit.jobs.test_queue:record", {"value": 7})
    assert queue.join(10)
    assert RESULTS["good"] == (7, "t")


def test_arguments_must_be_json_and_targets_must_resolve(queue: JobQueue) -> None:
    with pytest.raises(TypeError):
        queue.enqueue("x", "tests.unit.jobs.test_queue:record", {"value": object()})
    with pytest.raises(LabelgateError, match="module:function"):
        resolve_target("no_colon")
    with pytest.raises(LabelgateError, match="not a callable"):
        resolve_target("tests.unit.jobs.test_queue:RESULTS")


def test_closed_queue_refuses() -> None:
    q = InProcessQueue(workers=1)
    q.close()
    with pytest.raises(LabelgateError, match="closed"):
        q.enqueue("late", "tests.unit.jobs.test_queue:record", {"value": 1})
