"""Consistency audit answers (``audit_answers``): one row per audit served, never an annotation.

A row is ``open`` from the moment the audit is served, ``draft`` once the annotator saved work on it, and
ends ``submitted``, ``skipped`` or ``expired`` (the engine's lease ended unanswered). While a row is open
or draft, the annotator's reads and writes of their annotation on that task are served from it."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from labelgate.server.db.engine import utcnow
from labelgate.server.db.repos._rows import fields
from labelgate.server.db.tables import audit_answers
from labelgate.server.domain import AuditAnswer

__all__ = ["LIVE", "close_others", "live", "live_tasks", "of_project", "start", "update"]

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


def live_tasks(conn: Connection, author_id: int, task_ids: Iterable[int]) -> set[int]:
    """Those of ``task_ids`` that ``author_id`` is answering as an audit."""
    ids = list(task_ids)
    if not ids:
        return set()
    q = sa.select(audit_answers.c.task_id).where(audit_answers.c.author_id == author_id,
                                                 audit_answers.c.task_id.in_(ids), audit_answers.c.status.in_(LIVE))
    return {int(r.task_id) for r in conn.execute(q)}


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
