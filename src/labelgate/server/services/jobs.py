"""Background jobs: records in the jobs table, run by the configured queue after commit."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable
from typing import Any

from sqlalchemy.engine import Connection

from labelgate.core.errors import LabelgateError, NotFoundError
from labelgate.jobs import JobContext
from labelgate.server.db import utcnow
from labelgate.server.db.repos import jobs as repo
from labelgate.server.domain import Job, JobStatus, Role, User
from labelgate.server.services.access import role_in
from labelgate.server.services.runtime import Runtime

__all__ = ["HANDLERS", "enqueue", "get_job", "new_job", "progress", "run", "wait"]

log = logging.getLogger(__name__)

RUN_TARGET = "labelgate.server.services.jobs:run"
# kind -> "module:function" called as fn(rt, job_id, **kwargs) and returning a JSON-able result.
HANDLERS: dict[str, str] = {
    "export": "labelgate.server.services.exports:build_export",
    "webhook": "labelgate.server.services.webhooks:deliver",
    "import": "labelgate.server.services.imports:run_import",
}


def new_job(conn: Connection, kind: str, project_id: int | None, actor: User | None) -> str:
    """Record a queued job inside the caller's transaction; enqueue it with :func:`enqueue` after commit."""
    if kind not in HANDLERS:
        raise LabelgateError(f"unknown job kind {kind!r}")
    job_id = str(uuid.uuid4())
    repo.create_job(conn, job_id, kind, project_id, None if actor is None else actor.id)
    return job_id


def enqueue(rt: Runtime, job_id: str, kind: str, **kwargs: Any) -> None:
    rt.queue.enqueue(job_id, RUN_TARGET, {"kind": kind, "kwargs": kwargs})


def progress(rt: Runtime, job_id: str, done: int, total: int | None = None) -> None:
    with rt.db.write() as conn:
        values: dict[str, Any] = {"done": done}
        if total is not None:
            values["total"] = total
        repo.update_job(conn, job_id, **values)


def run(ctx: JobContext, kind: str, kwargs: dict[str, Any]) -> None:
    """The queue's entry point: mark running, call the handler, record the result or the error."""
    from labelgate.jobs import resolve_target

    rt: Runtime = ctx.resources["runtime"]
    with rt.db.write() as conn:
        repo.update_job(conn, ctx.job_id, status=JobStatus.RUNNING, started_at=utcnow())
    handler: Callable[..., dict[str, Any]] = resolve_target(HANDLERS[kind])
    try:
        result = handler(rt, ctx.job_id, **kwargs)
    except LabelgateError as e:
        _finish(rt, ctx.job_id, JobStatus.FAILED, error=str(e))
        return
    except Exception as e:
        _finish(rt, ctx.job_id, JobStatus.FAILED, error=f"internal error: {type(e).__name__}: {e}")
        raise
    _finish(rt, ctx.job_id, JobStatus.SUCCEEDED, result=result)


def _finish(rt: Runtime, job_id: str, status: JobStatus, error: str | None = None,
            result: dict[str, Any] | None = None) -> None:
    with rt.db.write() as conn:
        repo.update_job(conn, job_id, status=status, error=error, result=result, finished_at=utcnow())


def get_job(rt: Runtime, actor: User, job_id: str) -> Job:
    with rt.db.read() as conn:
        job = repo.get_job(conn, job_id)
        if job is None:
            raise NotFoundError(f"job {job_id} does not exist or you may not see it")
        if actor.is_superuser or job.created_by == actor.id:
            return job
        role = None if job.project_id is None else role_in(conn, job.project_id, actor)
        if role is None or role.rank < Role.MANAGER.rank:
            raise NotFoundError(f"job {job_id} does not exist or you may not see it")
        return job


def wait(rt: Runtime, timeout: float | None = None) -> bool:
    """Block until queued jobs finish (CLI and tests)."""
    return rt.queue.join(timeout)
