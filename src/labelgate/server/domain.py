"""What services take and return: plain frozen records, independent of tables and API schemas."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import Enum
from typing import Any

__all__ = [
    "AnnotationRecord",
    "AnnotationStatus",
    "AuditAnswer",
    "Event",
    "ExportRecord",
    "ExportFilter",
    "Guideline",
    "ImportRecord",
    "Job",
    "JobStatus",
    "Member",
    "Project",
    "Role",
    "Task",
    "User",
]


class Role(str, Enum):
    """Per-project roles, from least to most powerful (each includes the ones before it)."""

    ANNOTATOR = "annotator"
    REVIEWER = "reviewer"
    MANAGER = "manager"
    ADMIN = "admin"

    @property
    def rank(self) -> int:
        return _RANK[self]


_RANK = {Role.ANNOTATOR: 1, Role.REVIEWER: 2, Role.MANAGER: 3, Role.ADMIN: 4}


class AnnotationStatus(str, Enum):
    DRAFT = "draft"
    SUBMITTED = "submitted"
    SKIPPED = "skipped"
    ACCEPTED = "accepted"
    REJECTED = "rejected"


class JobStatus(str, Enum):
    QUEUED = "queued"
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"


class ExportFilter(str, Enum):
    """Which annotations an export holds: ``accepted`` (reviewed and accepted), ``submitted``
    (every finished human annotation), ``latest`` (the newest finished one per task), ``all``
    (finished human annotations plus model predictions and gold)."""

    ACCEPTED = "accepted"
    SUBMITTED = "submitted"
    LATEST = "latest"
    ALL = "all"


@dataclass(frozen=True)
class User:
    id: int
    username: str
    is_superuser: bool
    is_active: bool
    created_at: datetime


@dataclass(frozen=True)
class Member:
    user_id: int
    username: str
    role: Role


@dataclass(frozen=True)
class Project:
    id: int
    name: str
    description: str
    label_schema: dict[str, Any]
    settings: dict[str, Any]
    created_at: datetime
    updated_at: datetime
    role: Role | None = None  # the caller's role, when known
    staged: bool = False  # a workflow runs the project (known when read with the caller's role)
    hooked: bool = False  # an active webhook listens (known when read with the caller's role)

    @property
    def blind(self) -> bool:
        return bool(self.settings.get("blind", False))

    @property
    def overlap(self) -> int:
        return int(self.settings.get("overlap", 1))


@dataclass(frozen=True)
class Guideline:
    project_id: int
    version: int
    text: str
    created_at: datetime


@dataclass(frozen=True)
class Task:
    id: int
    project_id: int
    key: str
    item: dict[str, Any]
    n_submitted: int
    completed: bool
    created_at: datetime


@dataclass(frozen=True)
class AnnotationRecord:
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


@dataclass(frozen=True)
class AuditAnswer:
    """An annotator's answer to one of their own tasks re-served as a consistency audit (never an
    annotation: exports, progress and agreement do not see it). ``annotation_id``: the first answer."""

    id: int
    project_id: int
    task_id: int
    author_id: int
    annotation_id: int | None
    status: str  # open | draft | submitted | skipped | expired
    regions: list[dict[str, Any]] | None
    version: int
    lead_time: float | None
    guideline_version: int | None
    created_at: datetime
    updated_at: datetime
    submitted_at: datetime | None


@dataclass(frozen=True)
class Event:
    id: int
    project_id: int
    task_id: int | None
    annotation_id: int | None
    actor_id: int | None
    kind: str
    data: dict[str, Any]
    created_at: datetime


@dataclass(frozen=True)
class ImportRecord:
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


@dataclass(frozen=True)
class Job:
    id: str
    project_id: int | None
    kind: str
    status: JobStatus
    done: int
    total: int | None
    error: str | None
    result: dict[str, Any] | None
    created_by: int | None
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None


@dataclass(frozen=True)
class ExportRecord:
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
    extra: dict[str, Any] = field(default_factory=dict)
