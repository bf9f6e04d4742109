"""Jobs on Redis through rq: the web process enqueues, ``labelgate worker`` processes run them.

Workers register their resources with :func:`set_resources` before working (the server's worker
command passes its runtime), so a job sees the same :class:`JobContext` as in-process.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import Any

import orjson

from labelgate.core.errors import LabelgateError, MissingDependencyError
from labelgate.jobs.base import JobContext, JobQueue, resolve_target

__all__ = ["RedisQueue", "execute", "set_resources"]

_RESOURCES: dict[str, Any] = {}


def set_resources(resources: Mapping[str, Any]) -> None:
    """What jobs run by this process receive in ``ctx.resources``."""
    _RESOURCES.clear()
    _RESOURCES.update(resources)


def execute(job_id: str, target: str, kwargs: dict[str, Any]) -> None:
    """What rq runs: resolve the target and call it with this process's resources."""
    resolve_target(target)(JobContext(job_id, dict(_RESOURCES)), **kwargs)


class RedisQueue(JobQueue):
    """Jobs on the rq queue ``name`` at ``url``. Nothing runs unless a worker is running; there is
    no silent fallback to running jobs in the web process."""

    def __init__(self, url: str = "redis://127.0.0.1:6379/0", name: str = "labelgate", connection: Any = None) -> None:
        try:
            import redis
            import rq
        except ImportError as e:
            raise MissingDependencyError("rq", "redis", "the Redis job queue") from e
        self.connection = connection if connection is not None else redis.Redis.from_url(url)
        self.queue = rq.Queue(name, connection=self.connection)

    def enqueue(self, job_id: str, target: str, kwargs: Mapping[str, Any]) -> None:
        orjson.dumps(dict(kwargs))  # the same contract as every backend: JSON arguments
        resolve_target(target)  # fail here, not in a worker, when the target is wrong
        self.queue.enqueue(execute, job_id, target, dict(kwargs), job_id=f"lg-{job_id}", result_ttl=3600,
                           failure_ttl=7 * 86400)

    def join(self, timeout: float | None = None) -> bool:
        deadline = None if timeout is None else time.monotonic() + timeout
        while self.queue.count or self.queue.started_job_registry.count:
            if deadline is not None and time.monotonic() > deadline:
                return False
            time.sleep(0.05)
        return True

    def close(self) -> None:
        self.connection.close()

    def work(self, burst: bool = False) -> bool:
        """Run jobs in this process until stopped (or, ``burst``, until the queue is empty)."""
        from rq import SimpleWorker

        if not _RESOURCES:
            raise LabelgateError("set_resources() first: jobs need the worker's resources")
        return bool(SimpleWorker([self.queue], connection=self.connection).work(burst=burst))
