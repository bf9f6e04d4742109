"""The default backend: a thread pool inside the server process."""

from __future__ import annotations

import logging
import threading
from collections.abc import Mapping
from concurrent.futures import Future, ThreadPoolExecutor, wait
from typing import Any

import orjson

from labelgate.core.errors import LabelgateError
from labelgate.jobs.base import JobContext, JobQueue, resolve_target

__all__ = ["InProcessQueue"]

log = logging.getLogger(__name__)


class InProcessQueue(JobQueue):
    """Runs jobs on ``workers`` threads. A job's exception is logged; recording failure is the
    target's own business (the server's job runner stores it in the jobs table)."""

    def __init__(self, resources: Mapping[str, Any] | None = None, workers: int = 2) -> None:
        if workers < 1:
            raise LabelgateError(f"InProcessQueue: workers must be >= 1, got {workers}")
        self.resources: dict[str, Any] = dict(resources or {})
        self._pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="labelgate-job")
        self._futures: set[Future[Any]] = set()
        self._lock = threading.Lock()
        self._closed = False

    def enqueue(self, job_id: str, target: str, kwargs: Mapping[str, Any]) -> None:
        orjson.dumps(dict(kwargs))  # same contract as a remote queue: arguments must be JSON
        fn = resolve_target(target)
        ctx = JobContext(job_id, self.resources)
        with self._lock:
            if self._closed:
                raise LabelgateError(f"job {job_id}: the queue is closed")
            fut = self._pool.submit(self._run, fn, ctx, dict(kwargs))
            self._futures.add(fut)
        fut.add_done_callback(self._forget)

    @staticmethod
    def _run(fn: Any, ctx: JobContext, kwargs: dict[str, Any]) -> None:
        try:
            fn(ctx, **kwargs)
        except BaseException:
            log.exception("job %s failed", ctx.job_id)
            raise

    def _forget(self, fut: Future[Any]) -> None:
        with self._lock:
            self._futures.discard(fut)

    def join(self, timeout: float | None = None) -> bool:
        with self._lock:
            pending = set(self._futures)
        _, not_done = wait(pending, timeout=timeout)
        return not not_done

    def close(self) -> None:
        with self._lock:
            self._closed = True
        self._pool.shutdown(wait=True)
