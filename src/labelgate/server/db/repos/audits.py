"""Consistency audit answers (``audit_answers``): one row per audit served, never an annotation.

A row is ``open`` from the moment the audit is served, ``draft`` once the annotator saved work on it, and
ends ``submitted``, ``skipped`` or ``expired`` (the engine's lease ended unanswered). While a row is open
or draft, the annotator's reads and writes of their annotation on that task are served from it; once it
ended, their reads still are (the newest row of a task and author: :func:`latest`)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from labelgate.server.db.engine import utcnow
from labelgate.server.db.repos._rows import aware, fields
from labelgate.server.db.tables import annotations as annotations_t
from labelgate.server.db.tables import audit_answers
from labelgate.server.domain import AnnotationStatus, AuditAnswer

__all__ = ["LIVE", "close_others", "first_states", "latest", "latest_of_tasks", "live", "of_project", "start", "update"]

LIVE = ("open", "draft")  # the audit is being answered


def _row(row: Any) -> AuditAnswer:
    return AuditAnswer(**fields(row))


def start(conn: Connection, project_id: int, task_id: int, author_id: int, annotation_id: int | None) -> AuditAnswer:
    now = utcnow()
    row = conn.execute(audit_answers.insert().returning(*audit_answers.c), {
        "project_id": project_id, "task_id": task_id, "author_id": author_id, "annotation_id": annotation_id,
        "status": "open", "regions": None, "version": 1, "lead_time": None, "guideline_version": None,
        "created_at": now, "updated_at": now, "submitted_at": None}).one()
    return _row(row)


def live(conn: Connection, task_id: int, author_id: int) -> AuditAnswer | None:
    """The audit ``author_id`` is answering on ``task_id``, if any."""
    row = conn.execute(sa.select(audit_answers).where(
        audit_answers.c.author_id == author_id, audit_answers.c.task_id == task_id,
        audit_answers.c.status.in_(LIVE)).order_by(audit_answers.c.id.desc()).limit(1)).first()
    return None if row is None else _row(row)


def latest(conn: Connection, task_id: int, author_id: int) -> AuditAnswer | None:
    """The newest audit of ``author_id`` on ``task_id``, live or ended, if any."""
    row = conn.execute(sa.select(audit_answers).where(
        audit_answers.c.author_id == author_id, audit_answers.c.task_id == task_id,
    ).order_by(audit_answers.c.id.desc()).limit(1)).first()
    return None if row is None else _row(row)


def latest_of_tasks(conn: Connection, author_id: int, task_ids: Iterable[int]) -> dict[int, AuditAnswer]:
    """task id -> the newest audit of ``author_id`` on it, for those of ``task_ids`` that have one."""
    ids = list(task_ids)
    if not ids:
        return {}
    q = sa.select(audit_answers).where(audit_answers.c.author_id == author_id, audit_answers.c.task_id.in_(ids))
    return {a.task_id: a for a in map(_row, conn.execute(q.order_by(audit_answers.c.id)))}


def first_states(conn: Connection, annotation_ids: Iterable[int]) -> dict[int, tuple[AnnotationStatus, datetime | None]]:
    """annotation id -> (status, submitted_at) of the audited first annotations among ``annotation_ids``."""
    ids = list(annotation_ids)
    if not ids:
        return {}
    q = sa.select(annotations_t.c.id, annotations_t.c.status, annotations_t.c.submitted_at).where(annotations_t.c.id.in_(ids))
    return {int(r.id): (AnnotationStatus(r.status), aware(r.submitted_at)) for r in conn.execute(q)}


def close_others(conn: Connection, project_id: int, author_id: int, keep: int | None) -> None:
    """Mark ``expired`` the author's live audits in the project other than ``keep`` (the engine no longer
    holds their leases: an annotator holds one annotation lease at a time)."""
    q = audit_answers.update().where(audit_answers.c.project_id == project_id, audit_answers.c.author_id == author_id,
                                     audit_answers.c.status.in_(LIVE))
    if keep is not None:
        q = q.where(audit_answers.c.id != keep)
    conn.execute(q.values(status="expired", updated_at=utcnow()))


def update(conn: Connection, audit_id: int, expected_version: int, **values: Any) -> AuditAnswer | None:
    """Compare-and-set on the row's version; None when it moved on."""
    row = conn.execute(audit_answers.update().where(
        audit_answers.c.id == audit_id, audit_answers.c.version == expected_version,
    ).values(**values, version=expected_version + 1, updated_at=utcnow()).returning(*audit_answers.c)).first()
    return None if row is None else _row(row)


def of_project(conn: Connection, project_id: int, statuses: Iterable[str] | None = None) -> list[AuditAnswer]:
    q = sa.select(audit_answers).where(audit_answers.c.project_id == project_id)
    if statuses is not None:
        q = q.where(audit_answers.c.status.in_(list(statuses)))
    return [_row(r) for r in conn.execute(q.order_by(audit_answers.c.id))]
