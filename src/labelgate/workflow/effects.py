"""What the engine tells its caller: assignments to hand out and things to act on (notify, enqueue,
store). The records kept on tasks (submissions, reviews, final answers) live here too."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from labelgate.workflow.events import Event, RegionVerdict

__all__ = [
    "AdjudicationNeeded",
    "AgreementRoundOpened",
    "AnnotatorFlagged",
    "Assigned",
    "Assignment",
    "DriftAlarm",
    "Effect",
    "FinalAnswer",
    "GoldGraded",
    "GuidelinePublished",
    "LeaseExpired",
    "NoTask",
    "Record",
    "ReviewRecord",
    "ReworkRequested",
    "Submission",
    "TaskAccepted",
    "TaskMoved",
    "TaskParked",
]


@dataclass(frozen=True)
class Assignment:
    """A task handed to a member. Gold, audit and ordinary tasks give the same shape and values
    (mode ``annotate``, no comments, no sources): the caller cannot tell them apart."""

    task_id: str
    member: str
    mode: str  # annotate | rework | review | adjudicate
    stage: str
    lease_expires: float
    guideline_version: int | None
    comments: tuple[RegionVerdict, ...] = ()  # a rejection's region verdicts (rework)
    note: str | None = None  # a rejection's task-level comment (rework)
    sources: tuple[str, ...] = ()  # annotation ids to show (rework, review, adjudicate)
    proposal: Any = None  # the engine's consensus, offered to the adjudicator


@dataclass(frozen=True)
class Submission:
    annotation_id: str
    task_id: str
    annotator: str
    answer: Any
    guideline_version: int | None
    at: float
    kind: str  # annotate | rework


@dataclass(frozen=True)
class ReviewRecord:
    stage: str
    reviewer: str
    accept: bool
    regions: tuple[RegionVerdict, ...]
    comment: str | None
    at: float


@dataclass(frozen=True)
class FinalAnswer:
    """The accepted answer and what it was built from."""

    task_id: str
    answer: Any
    sources: tuple[str, ...]  # annotation ids
    method: str  # single | consensus method | revision | adjudicator's method
    by: str | None  # the adjudicator, if any
    dropped_regions: tuple[str, ...] = ()  # regions rejected by reviewers who accepted the task


@dataclass(frozen=True)
class Assigned:
    assignment: Assignment


@dataclass(frozen=True)
class NoTask:
    member: str
    stage: str
    reason: str  # empty | paused


@dataclass(frozen=True)
class LeaseExpired:
    task_id: str
    member: str
    mode: str


@dataclass(frozen=True)
class TaskMoved:
    task_id: str
    status: str
    stage: str | None


@dataclass(frozen=True)
class TaskAccepted:
    final: FinalAnswer


@dataclass(frozen=True)
class TaskParked:
    task_id: str
    skips: int


@dataclass(frozen=True)
class ReworkRequested:
    task_id: str
    annotator: str
    stage: str
    comments: tuple[RegionVerdict, ...]
    comment: str | None


@dataclass(frozen=True)
class AdjudicationNeeded:
    task_id: str
    score: float
    annotation_ids: tuple[str, ...]


@dataclass(frozen=True)
class GoldGraded:
    """Internal to the caller's quality records; never to be shown to the annotator."""

    member: str
    task_id: str
    correct: bool


@dataclass(frozen=True)
class AnnotatorFlagged:
    member: str
    actions: tuple[str, ...]
    accuracy: float
    ci: tuple[float, float]
    graded: int


@dataclass(frozen=True)
class DriftAlarm:
    member: str
    index: int  # the gold answer (0-based, in the annotator's gold stream) at which CUSUM crossed


@dataclass(frozen=True)
class GuidelinePublished:
    version: int
    published_at: float


@dataclass(frozen=True)
class AgreementRoundOpened:
    version: int
    task_ids: tuple[str, ...]
    k: int


Effect = (Assigned | NoTask | LeaseExpired | TaskMoved | TaskAccepted | TaskParked | ReworkRequested | AdjudicationNeeded
          | GoldGraded | AnnotatorFlagged | DriftAlarm | GuidelinePublished | AgreementRoundOpened)


@dataclass(frozen=True)
class Record:
    """One line of the append-only log: an accepted event, its time, and what it caused."""

    seq: int
    at: float
    event: Event
    effects: tuple[Effect, ...]
