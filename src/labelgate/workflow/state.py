"""The engine's state: tasks (each always in one named status), members, annotators' streams, the
queues, leases, gold answers, guidelines and the append-only log.

The state is an in-memory value owned by the caller. :func:`labelgate.workflow.advance` updates it in
place (copying 100k tasks per event would defeat the index structures) and is deterministic in
(state, event, now): replaying the log on a fresh state gives the same state.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field
from enum import Enum
from typing import Any

from labelgate.core.errors import NotFoundError
from labelgate.quality.drift import Cusum
from labelgate.quality.gold import GoldAccumulator
from labelgate.workflow.config import ANNOTATE, WorkflowConfig
from labelgate.workflow.effects import Assignment, FinalAnswer, Record, ReviewRecord, Submission
from labelgate.workflow.queue import IndexedQueue, LeaseBook

__all__ = ["AnnotatorState", "Guideline", "Member", "Task", "TaskStatus", "WorkflowState"]


class TaskStatus(str, Enum):
    ANNOTATING = "annotating"  # waiting for (more) annotations
    IN_REVIEW = "in_review"  # at a review stage (Task.stage)
    REWORK = "rework"  # rejected, back with its annotator
    ADJUDICATING = "adjudicating"  # overlapping annotations disagreed
    ACCEPTED = "accepted"  # done; Task.final says from what
    PARKED = "parked"  # skipped too often; a manager reopens it
    GOLD = "gold"  # a honeypot: served and graded, never completed


@dataclass(slots=True)
class Task:
    id: str
    seq: int
    priority: int
    flagged: bool
    overlap: int
    status: TaskStatus = TaskStatus.ANNOTATING
    stage: int = -1  # index of the review stage while in review or rework
    submissions: list[Submission] = field(default_factory=list)
    annotations: int = 0  # annotate-kind submissions (towards overlap)
    leased: dict[str, None] = field(default_factory=dict)  # members holding an annotate lease
    seen: set[str] = field(default_factory=set)  # members served this task to annotate
    skips: int = 0
    owner: str | None = None  # annotator who reworks a rejection
    answer: Any = None  # the working answer under review
    sources: tuple[str, ...] = ()
    method: str = "single"
    dropped: tuple[str, ...] = ()
    reviews: list[ReviewRecord] = field(default_factory=list)
    arrived: int = 0  # bit i set: counted among the arrivals at review stage i
    final: FinalAnswer | None = None
    round: int | None = None  # guideline version of the agreement round that raised its overlap

    @property
    def load(self) -> int:
        return self.annotations + len(self.leased)

    @property
    def is_open(self) -> bool:
        return self.status is TaskStatus.ANNOTATING and self.load < self.overlap

    def annotate_submissions(self) -> list[Submission]:
        return [s for s in self.submissions if s.kind == ANNOTATE]


@dataclass(frozen=True)
class Member:
    id: str
    roles: frozenset[str]
    groups: frozenset[str]


@dataclass(slots=True)
class AnnotatorState:
    """One annotator's stream: position (annotate-mode tasks served so far), gold and audit records."""

    id: str
    position: int = 0
    paused: bool = False
    extra_review: bool = False
    flagged: bool = False
    gold_correct: int = 0  # since the last Resume (the bar is judged on these)
    gold_graded: int = 0
    gold_seen: set[str] = field(default_factory=set)
    gold_cursor: int = -1
    drift: Cusum | None = None
    drift_alarm: int | None = None
    history: deque[tuple[int, str, Any]] = field(default_factory=deque)  # (position, task, answer): audit candidates
    auditing: dict[str, Any] = field(default_factory=dict)  # task re-served as an audit -> first answer
    retest: dict[str, tuple[Any, Any]] = field(default_factory=dict)  # task -> (first answer, audit answer)
    rework: deque[str] = field(default_factory=deque)
    deferred: set[str] = field(default_factory=set)  # skipped under SkipMode.RETURN
    holding: dict[str, Assignment] = field(default_factory=dict)  # stage -> the assignment held there
    empty_at: int = -1  # the open pool's generation when it last had nothing for this annotator


@dataclass(frozen=True)
class Guideline:
    version: int
    markdown: str
    published_at: float


@dataclass
class WorkflowState:
    config: WorkflowConfig
    tasks: dict[str, Task] = field(default_factory=dict)
    members: dict[str, Member] = field(default_factory=dict)
    annotators: dict[str, AnnotatorState] = field(default_factory=dict)
    open: IndexedQueue = field(default_factory=IndexedQueue)
    stage_queues: dict[str, IndexedQueue] = field(default_factory=dict)
    leases: LeaseBook = field(default_factory=LeaseBook)
    gold: dict[str, Any] = field(default_factory=dict)  # task -> gold answer (insertion order = serving order)
    gold_order: list[str] = field(default_factory=list)
    gold_scores: GoldAccumulator = field(init=False)
    guidelines: list[Guideline] = field(default_factory=list)
    annotation_ids: set[str] = field(default_factory=set)
    arrivals: dict[str, int] = field(default_factory=dict)  # review stage -> tasks counted there
    log: list[Record] = field(default_factory=list)
    now: float = float("-inf")

    def __post_init__(self) -> None:
        hp = self.config.honeypots
        self.gold_scores = GoldAccumulator(threshold=hp.threshold, min_samples=hp.min_samples, confidence=hp.confidence)

    @property
    def guideline_version(self) -> int | None:
        return self.guidelines[-1].version if self.guidelines else None

    def task(self, task_id: str) -> Task:
        try:
            return self.tasks[task_id]
        except KeyError:
            raise NotFoundError(f"no task {task_id!r} in this workflow: add it with AddTasks first") from None

    def member(self, member_id: str) -> Member:
        try:
            return self.members[member_id]
        except KeyError:
            raise NotFoundError(f"no member {member_id!r} in this workflow: add them with AddMember first") from None

    def annotator(self, member_id: str) -> AnnotatorState:
        state = self.annotators.get(member_id)
        if state is None:
            state = self.annotators[member_id] = AnnotatorState(member_id)
            drift = self.config.honeypots.drift
            if drift is not None:
                state.drift = Cusum(target=drift.target, slack=drift.slack, threshold=drift.threshold)
        return state

    def stage_queue(self, stage: str) -> IndexedQueue:
        queue = self.stage_queues.get(stage)
        if queue is None:
            queue = self.stage_queues[stage] = IndexedQueue()
        return queue

    def open_key(self, task: Task) -> tuple[int, ...]:
        load = task.load if self.config.overlap.order == "spread" else -task.load
        return (-task.priority, load, task.seq)

    def requeue(self, task: Task) -> None:
        """Index ``task`` in the open pool if it is open, else take it out."""
        if task.is_open:
            self.open.push(task.id, self.open_key(task))
        else:
            self.open.discard(task.id)

    def counts(self) -> dict[str, int]:
        """Tasks per status (gold tasks included, as ``gold``)."""
        out = {s.value: 0 for s in TaskStatus}
        for task in self.tasks.values():
            out[task.status.value] += 1
        return out
