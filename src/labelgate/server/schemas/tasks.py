"""Tasks, annotations, events, imports, exports and jobs."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import Field

from labelgate.server.domain import AnnotationStatus, ExportFilter, JobStatus
from labelgate.server.schemas.common import Model, Page

__all__ = [
    "AnnotationIn", "AnnotationOut", "AnnotationUpdate", "EventOut", "ExportIn", "ExportOut", "ExportStarted",
    "ImportOut", "JobOut", "ReviewIn", "SkipIn", "TaskDetail", "TaskOut", "TaskPage", "TasksIn",
]


class TaskOut(Model):
    id: int
    project_id: int
    key: str
    item: dict[str, Any]
    n_submitted: int
    completed: bool
    created_at: datetime


class TaskPage(Page):
    tasks: list[TaskOut]


class TasksIn(Model):
    items: list[dict[str, Any]] = Field(description="Labelgate native item objects: {'id': ..., 'media': ...}")


class AnnotationOut(Model):
    id: int
    project_id: int
    task_id: int
    author_id: int | None
    author_name: str | None
    source: str
    model: str | None
    model_version: str | None
    status: AnnotationStatus
    regions: list[dict[str, Any]]
    version: int
    lead_time: float | None
    created_at: datetime
    updated_at: datetime
    submitted_at: datetime | None


class TaskDetail(TaskOut):
    annotations: list[AnnotationOut]


class AnnotationIn(Model):
    regions: list[Any] = Field(default_factory=list, description="Labelgate native region objects.")
    submit: bool = False
    lead_time: float | None = Field(None, ge=0, description="Seconds spent so far.")


class AnnotationUpdate(Model):
    regions: list[Any] | None = None
    submit: bool = False
    lead_time: float | None = Field(None, ge=0)
    version: int | None = Field(None, description="The version you edited; or send If-Match.")


class SkipIn(Model):
    reason: str = ""


class ReviewIn(Model):
    accept: bool
    comment: str = ""
    version: int | None = None


class EventOut(Model):
    id: int
    task_id: int | None
    annotation_id: int | None
    actor_id: int | None
    kind: str
    data: dict[str, Any]
    created_at: datetime


class ImportOut(Model):
    id: int
    project_id: int
    format: str
    filename: str
    content_hash: str
    kind: str
    model: str | None
    model_version: str | None
    n_tasks: int
    n_annotations: int
    created_at: datetime
    reused: bool = False


class JobOut(Model):
    id: str
    project_id: int | None
    kind: str
    status: JobStatus
    done: int
    total: int | None
    error: str | None
    result: dict[str, Any] | None
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None


class ExportIn(Model):
    format: str = "native"
    filter: ExportFilter = ExportFilter.ALL
    override_reason: str | None = Field(default=None, description="A manager's reason to export past a shut quality gate.")
    gold: Literal["exclude", "include"] = Field(
        default="exclude", description="Gold tasks (honeypots) and the answers to them: left out of the snapshot, or kept; "
                                       "either way the manifest's 'gold' names them.")


class ExportOut(Model):
    id: int
    project_id: int
    version: int
    format: str
    filter: ExportFilter
    status: JobStatus
    job_id: str | None
    manifest: dict[str, Any] | None
    content_hash: str | None
    report: dict[str, Any] | None
    created_at: datetime
    finished_at: datetime | None


class ExportStarted(Model):
    export: ExportOut
    job: JobOut
