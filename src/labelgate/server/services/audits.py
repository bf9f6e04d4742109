"""Consistency audits on the server: an annotator's own past task re-served unannounced.

The engine decides when (``audits`` in the workflow config) and holds the audit lease; the server keeps
the second answer in ``audit_answers``, never in ``annotations`` (one per task and author), so exports,
task progress, review and peer agreement never see it and the first annotation is never touched.

While an audit is live (served, not yet submitted, skipped or expired), what the annotator reads and
writes of "their annotation" on that task is the audit answer, shown as an annotation with the first
annotation's id: the task detail holds no earlier answer to start from, progress reads as unstarted, and
drafts, submit and skip answer with the same status codes, headers and fields as on a fresh task.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from typing import Any

from sqlalchemy.engine import Connection

from labelgate.core import Source
from labelgate.core.errors import ConflictError
from labelgate.server.db import utcnow
from labelgate.server.db.repos import audits as repo
from labelgate.server.db.repos import tasks as tasks_repo
from labelgate.server.domain import AnnotationRecord, AnnotationStatus, AuditAnswer, Task, User

__all__ = ["as_annotation", "hide", "save", "serve", "shown_version", "submit_values", "unstarted"]

_STATUS = {"draft": AnnotationStatus.DRAFT, "submitted": AnnotationStatus.SUBMITTED, "skipped": AnnotationStatus.SKIPPED}


def shown_version(audit: AuditAnswer) -> int:
    """The version the annotator sees: the row starts at 1 with nothing saved, as if no annotation existed."""
    return audit.version - 1


def as_annotation(audit: AuditAnswer, author: User) -> AnnotationRecord:
    """The audit answer as the annotator sees their annotation (status open has none: not shown)."""
    return AnnotationRecord(
        id=audit.annotation_id or 0, project_id=audit.project_id, task_id=audit.task_id, author_id=author.id,
        author_name=author.username, source=Source.HUMAN.value, model=None, model_version=None,
        status=_STATUS.get(audit.status, AnnotationStatus.DRAFT), regions=list(audit.regions or []),
        version=shown_version(audit), lead_time=audit.lead_time, created_at=audit.created_at,
        updated_at=audit.updated_at, submitted_at=audit.submitted_at)


def serve(conn: Connection, project_id: int, task_id: int, author_id: int) -> AuditAnswer:
    """The live audit row for an audit the engine just handed out (created on the first request; a
    repeated request for the same held audit finds it). Other live audits of the author are stale."""
    audit = repo.live(conn, task_id, author_id)
    if audit is None:
        first = tasks_repo.annotation_by(conn, task_id, author_id)
        audit = repo.start(conn, project_id, task_id, author_id, None if first is None else first.id)
    repo.close_others(conn, project_id, author_id, keep=audit.id)
    return audit


def save(conn: Connection, audit: AuditAnswer, expected_version: int | None, status: str, **values: Any) -> AuditAnswer:
    """Write the live audit's answer (compare-and-set on the version the annotator saw, when given)."""
    if expected_version is not None and expected_version != shown_version(audit):
        raise ConflictError(f"annotation {audit.annotation_id} is at version {shown_version(audit)}, not "
                            f"{expected_version}: someone saved it after you loaded it; reload and reapply your change")
    if expected_version is None and status == "draft" and audit.status != "open":
        raise ConflictError(f"you already have annotation {audit.annotation_id} on task {audit.task_id} "
                            f"(version {shown_version(audit)}); update it instead")
    out = repo.update(conn, audit.id, audit.version, status=status, **values)
    if out is None:
        raise ConflictError(f"annotation {audit.annotation_id} changed while saving; reload the task")
    return out


def submit_values(regions: list[dict[str, Any]], lead_time: float | None, guideline_version: int | None,
                  now: datetime | None = None) -> dict[str, Any]:
    return {"regions": regions, "lead_time": lead_time, "guideline_version": guideline_version,
            "submitted_at": now or utcnow()}


def unstarted(conn: Connection, actor: User, tasks: list[Task]) -> list[Task]:
    """Tasks the actor is answering as an audit read as unstarted (as a fresh task does)."""
    live = repo.live_tasks(conn, actor.id, [t.id for t in tasks])
    if not live:
        return tasks
    return [replace(t, n_submitted=0, completed=False) if t.id in live else t for t in tasks]


def hide(conn: Connection, actor: User, task_id: int, anns: list[AnnotationRecord]) -> list[AnnotationRecord]:
    """During a live audit, the actor's first annotation on the task is replaced by the audit answer (once
    something was saved), so nothing offers the earlier answer to start from."""
    audit = repo.live(conn, task_id, actor.id)
    if audit is None:
        return anns
    shown = [a for a in anns if a.author_id != actor.id]
    if audit.status != "open":
        shown.append(as_annotation(audit, actor))
    return shown
