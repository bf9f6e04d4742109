"""After a restart with the in-process queue: jobs that were queued or running died with the old
process. Mark them failed (with their exports), so nobody polls forever, and send again the
webhook deliveries that were written but not yet delivered (receivers dedupe on the delivery id)."""

from __future__ import annotations

import shutil
from typing import Any

import sqlalchemy as sa

from labelgate.jobs import InProcessQueue
from labelgate.server.db import utcnow
from labelgate.server.db.tables import exports, jobs, webhook_deliveries, webhooks
from labelgate.server.domain import JobStatus
from labelgate.server.services import webhooks as webhook_service
from labelgate.server.services.runtime import Runtime

__all__ = ["recover"]

_LOST = "the server stopped while this job was queued or running; start it again"


def recover(rt: Runtime) -> dict[str, Any]:
    """Run once when a server starts, before it takes requests (not per worker process)."""
    if not isinstance(rt.queue, InProcessQueue):
        return {"jobs_failed": 0, "deliveries_resent": 0}  # Redis keeps its jobs across restarts
    now = utcnow()
    open_states = (JobStatus.QUEUED.value, JobStatus.RUNNING.value)
    with rt.db.write() as conn:
        lost = [r.id for r in conn.execute(sa.select(jobs.c.id).where(jobs.c.status.in_(open_states)))]
        if lost:
            conn.execute(jobs.update().where(jobs.c.id.in_(lost)).values(
                status=JobStatus.FAILED.value, error=_LOST, finished_at=now))
            conn.execute(exports.update().where(exports.c.job_id.in_(lost), exports.c.status.in_(open_states))
                         .values(status=JobStatus.FAILED.value, finished_at=now))
        pending = conn.execute(
            sa.select(webhook_deliveries.c.id, webhooks.c.project_id)
            .join(webhooks, webhooks.c.id == webhook_deliveries.c.webhook_id)
            .where(webhook_deliveries.c.status.in_(("pending", "retrying")))
            .order_by(webhook_deliveries.c.id)).all()
    for job_id in lost:  # a background import's kept upload
        shutil.rmtree(rt.settings.upload_dir / "pending" / job_id, ignore_errors=True)
    by_project: dict[int, list[int]] = {}
    for did, pid in pending:
        by_project.setdefault(pid, []).append(did)
    for pid, ids in by_project.items():
        webhook_service.dispatch(rt, ids, pid)
    return {"jobs_failed": len(lost), "deliveries_resent": len(pending)}
