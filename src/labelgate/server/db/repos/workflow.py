"""The workflow engine's rows: a project's config, its append-only event log, the guideline version of
each annotation, and the quality gate recorded with each export."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.engine import Connection

from labelgate.server.db.engine import utcnow
from labelgate.server.db.tables import annotations as annotations_t
from labelgate.server.db.tables import (
    guidelines,
    memberships,
    projects,
    tasks,
    users,
    workflow_gates,
    workflow_records,
    workflow_snapshots,
    workflows,
)
from labelgate.server.db.tables import workflow_annotations as wf_annotations

__all__ = [
    "accepted_by", "annotation_versions", "append_records", "config", "gate", "latest_guideline", "lock_project", "log_length",
    "mark_accepted", "members", "new_task_ids", "records", "save_config", "save_gate", "save_snapshot",
    "set_annotation_status", "snapshot", "snapshot_seq", "submitted_on", "tag_annotation",
]


def config(conn: Connection, project_id: int) -> dict[str, Any] | None:
    row = conn.execute(sa.select(workflows.c.config).where(workflows.c.project_id == project_id)).first()
    return None if row is None else dict(row.config)


def save_config(conn: Connection, project_id: int, value: dict[str, Any]) -> None:
    conn.execute(workflows.delete().where(workflows.c.project_id == project_id))
    conn.execute(workflows.insert().values(project_id=project_id, config=value, created_at=utcnow()))


def lock_project(conn: Connection, project_id: int) -> None:
    """Serialise writers of one project's log across processes (SQLite writes are serial already)."""
    if conn.dialect.name == "postgresql":
        conn.execute(sa.select(projects.c.id).where(projects.c.id == project_id).with_for_update())


def records(conn: Connection, project_id: int, from_seq: int = 0) -> list[dict[str, Any]]:
    q = (sa.select(workflow_records.c.seq, workflow_records.c.at, workflow_records.c.event)
         .where(workflow_records.c.project_id == project_id, workflow_records.c.seq >= from_seq)
         .order_by(workflow_records.c.seq))
    return [{"seq": r.seq, "at": r.at, "event": r.event} for r in conn.execute(q)]


def append_records(conn: Connection, project_id: int, rows: Sequence[dict[str, Any]]) -> None:
    if rows:
        conn.execute(workflow_records.insert(), [{"project_id": project_id, **r} for r in rows])


def snapshot(conn: Connection, project_id: int) -> tuple[int, str, bytes] | None:
    """The project's engine snapshot: (log records it covers, fingerprint, data)."""
    row = conn.execute(sa.select(workflow_snapshots.c.seq, workflow_snapshots.c.fingerprint, workflow_snapshots.c.data)
                       .where(workflow_snapshots.c.project_id == project_id)).first()
    return None if row is None else (int(row.seq), str(row.fingerprint), bytes(row.data))


def snapshot_seq(conn: Connection, project_id: int) -> tuple[int, str] | None:
    """The stored snapshot's (log records it covers, fingerprint), without its data."""
    row = conn.execute(sa.select(workflow_snapshots.c.seq, workflow_snapshots.c.fingerprint)
                       .where(workflow_snapshots.c.project_id == project_id)).first()
    return None if row is None else (int(row.seq), str(row.fingerprint))


def save_snapshot(conn: Connection, project_id: int, seq: int, fingerprint: str, data: bytes) -> bool:
    """Store the snapshot unless one covering as many log records or more is stored already (several
    processes may snapshot a project at once, finishing in any order); whether it was stored."""
    insert = pg_insert if conn.dialect.name == "postgresql" else sqlite_insert
    ins = insert(workflow_snapshots).values(project_id=project_id, seq=seq, fingerprint=fingerprint, data=data,
                                            created_at=utcnow())
    stmt = ins.on_conflict_do_update(
        index_elements=[workflow_snapshots.c.project_id],
        set_={c: ins.excluded[c] for c in ("seq", "fingerprint", "data", "created_at")},
        where=workflow_snapshots.c.seq < ins.excluded.seq).returning(workflow_snapshots.c.seq)
    return conn.execute(stmt).first() is not None  # (rowcount is -1 here on psycopg)


def log_length(conn: Connection, project_id: int) -> int:
    """How many records the project's log holds (its records are numbered from 0 without gaps)."""
    n = conn.execute(sa.select(sa.func.max(workflow_records.c.seq)).where(workflow_records.c.project_id == project_id)).scalar()
    return 0 if n is None else int(n) + 1


def new_task_ids(conn: Connection, project_id: int, after: int) -> list[int]:
    q = sa.select(tasks.c.id).where(tasks.c.project_id == project_id, tasks.c.id > after).order_by(tasks.c.id)
    return [int(r.id) for r in conn.execute(q)]


def latest_guideline(conn: Connection, project_id: int) -> tuple[int, str] | None:
    row = conn.execute(sa.select(guidelines.c.version, guidelines.c.text).where(guidelines.c.project_id == project_id)
                       .order_by(guidelines.c.version.desc()).limit(1)).first()
    return None if row is None else (int(row.version), str(row.text))


def members(conn: Connection, project_id: int) -> list[tuple[int, str, str]]:
    """``(user id, username, role)`` of every member."""
    q = (sa.select(users.c.id, users.c.username, memberships.c.role)
         .join(memberships, memberships.c.user_id == users.c.id).where(memberships.c.project_id == project_id))
    return [(int(r.id), str(r.username), str(r.role)) for r in conn.execute(q)]


def tag_annotation(conn: Connection, project_id: int, annotation_id: int, guideline_version: int | None,
                   engine_id: str) -> None:
    conn.execute(wf_annotations.delete().where(wf_annotations.c.annotation_id == annotation_id))
    conn.execute(wf_annotations.insert().values(annotation_id=annotation_id, project_id=project_id,
                                                guideline_version=guideline_version, engine_id=engine_id))


def annotation_versions(conn: Connection, annotation_ids: Iterable[int]) -> dict[int, int | None]:
    ids = list(annotation_ids)
    if not ids:
        return {}
    q = sa.select(wf_annotations.c.annotation_id, wf_annotations.c.guideline_version).where(
        wf_annotations.c.annotation_id.in_(ids))
    return {int(r.annotation_id): r.guideline_version for r in conn.execute(q)}


def set_annotation_status(conn: Connection, annotation_ids: Iterable[int], status: str) -> None:
    ids = list(annotation_ids)
    if ids:
        conn.execute(annotations_t.update().where(annotations_t.c.id.in_(ids)).values(
            status=status, version=annotations_t.c.version + 1, updated_at=utcnow()))


def submitted_on(conn: Connection, project_id: int, task_ids: Iterable[int]) -> list[int]:
    """Ids of the human annotations still ``submitted`` on ``task_ids``."""
    ids = list(task_ids)
    if not ids:
        return []
    q = sa.select(annotations_t.c.id).where(annotations_t.c.project_id == project_id, annotations_t.c.task_id.in_(ids),
                                           annotations_t.c.status == "submitted", annotations_t.c.author_id.is_not(None))
    return [int(r.id) for r in conn.execute(q)]


def accepted_by(conn: Connection, user_id: int, task_ids: Iterable[int]) -> set[int]:
    """Those of ``task_ids`` on which ``user_id``'s annotation is accepted."""
    ids = list(task_ids)
    if not ids:
        return set()
    q = sa.select(annotations_t.c.task_id).where(annotations_t.c.author_id == user_id, annotations_t.c.task_id.in_(ids),
                                                annotations_t.c.status == "accepted")
    return {int(r.task_id) for r in conn.execute(q)}


def mark_accepted(conn: Connection, task_id: int, n_sources: int) -> None:
    conn.execute(tasks.update().where(tasks.c.id == task_id).values(
        n_submitted=n_sources, completed=True, lock_user_id=None, lock_expires_at=None))


def save_gate(conn: Connection, export_id: int, result: dict[str, Any]) -> None:
    conn.execute(workflow_gates.insert().values(export_id=export_id, result=result))


def gate(conn: Connection, export_id: int) -> dict[str, Any] | None:
    row = conn.execute(sa.select(workflow_gates.c.result).where(workflow_gates.c.export_id == export_id)).first()
    return None if row is None else dict(row.result)
