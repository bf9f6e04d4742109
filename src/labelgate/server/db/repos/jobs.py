"""Background jobs, imports and export snapshots."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from labelgate.server.db.engine import utcnow
from labelgate.server.db.repos._rows import fields
from labelgate.server.db.tables import exports, imports, jobs
from labelgate.server.domain import ExportFilter, ExportRecord, ImportRecord, Job, JobStatus

__all__ = [
    "create_export", "create_import", "create_job", "export", "find_import", "get_job", "list_exports",
    "list_imports", "update_export", "update_job",
]

_JOB_COLS = ("id", "project_id", "kind", "status", "done", "total", "error", "result", "created_by", "created_at",
             "started_at", "finished_at")
_EXPORT_COLS = ("id", "project_id", "version", "format", "filter", "status", "job_id", "manifest", "content_hash",
                "report", "created_at", "finished_at")
_IMPORT_COLS = ("id", "project_id", "format", "filename", "content_hash", "kind", "model", "model_version",
                "n_tasks", "n_annotations", "created_at")


def create_job(conn: Connection, job_id: str, kind: str, project_id: int | None, created_by: int | None) -> None:
    conn.execute(jobs.insert().values(id=job_id, kind=kind, project_id=project_id, status=JobStatus.QUEUED.value,
                                      done=0, created_by=created_by, created_at=utcnow()))


def get_job(conn: Connection, job_id: str) -> Job | None:
    row = conn.execute(sa.select(jobs).where(jobs.c.id == job_id)).first()
    if row is None:
        return None
    d = fields(row, *_JOB_COLS)
    d["status"] = JobStatus(d["status"])
    return Job(**d)


def update_job(conn: Connection, job_id: str, **values: Any) -> None:
    if "status" in values and isinstance(values["status"], JobStatus):
        values["status"] = values["status"].value
    conn.execute(jobs.update().where(jobs.c.id == job_id).values(**values))


def _export(row: Any) -> ExportRecord:
    d = fields(row, *_EXPORT_COLS)
    d["status"] = JobStatus(d["status"])
    d["filter"] = ExportFilter(d["filter"])
    return ExportRecord(**d)


def create_export(conn: Connection, project_id: int, fmt: str, flt: ExportFilter, job_id: str,
                  created_by: int | None) -> ExportRecord:
    last = conn.execute(sa.select(sa.func.max(exports.c.version)).where(exports.c.project_id == project_id)).scalar()
    eid = conn.execute(exports.insert().values(
        project_id=project_id, version=(last or 0) + 1, format=fmt, filter=flt.value, status=JobStatus.QUEUED.value,
        job_id=job_id, created_by=created_by, created_at=utcnow()).returning(exports.c.id)).scalar_one()
    out = export(conn, eid)
    assert out is not None
    return out


def export(conn: Connection, export_id: int) -> ExportRecord | None:
    row = conn.execute(sa.select(exports).where(exports.c.id == export_id)).first()
    return None if row is None else _export(row)


def list_exports(conn: Connection, project_id: int) -> list[ExportRecord]:
    q = sa.select(exports).where(exports.c.project_id == project_id).order_by(exports.c.version)
    return [_export(r) for r in conn.execute(q)]


def update_export(conn: Connection, export_id: int, **values: Any) -> None:
    if "status" in values and isinstance(values["status"], JobStatus):
        values["status"] = values["status"].value
    conn.execute(exports.update().where(exports.c.id == export_id).values(**values))


def _import(row: Any) -> ImportRecord:
    return ImportRecord(**fields(row, *_IMPORT_COLS))


def find_import(conn: Connection, project_id: int, content_hash: str, kind: str) -> ImportRecord | None:
    row = conn.execute(sa.select(imports).where(imports.c.project_id == project_id,
                                                imports.c.content_hash == content_hash, imports.c.kind == kind)).first()
    return None if row is None else _import(row)


def create_import(conn: Connection, **values: Any) -> int:
    return int(conn.execute(imports.insert().values(**values, created_at=utcnow()).returning(imports.c.id)).scalar_one())


def set_import_counts(conn: Connection, import_id: int, n_tasks: int, n_annotations: int) -> None:
    conn.execute(imports.update().where(imports.c.id == import_id).values(n_tasks=n_tasks, n_annotations=n_annotations))


def list_imports(conn: Connection, project_id: int) -> list[ImportRecord]:
    q = sa.select(imports).where(imports.c.project_id == project_id).order_by(imports.c.id)
    return [_import(r) for r in conn.execute(q)]
