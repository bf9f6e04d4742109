"""What happens to a project: the inputs of :func:`labelgate.workflow.advance`.

Every accepted event is appended to the state's log with its time and effects, so every number the
engine reports can be traced back to the events that made it, and :func:`replay` rebuilds the state.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from labelgate.core.errors import InvariantError
from labelgate.workflow.config import ANNOTATE

__all__ = [
    "AddGold",
    "AddMember",
    "AddTasks",
    "Adjudicate",
    "Event",
    "Flag",
    "PromoteGold",
    "PublishGuideline",
    "RegionVerdict",
    "Release",
    "Reopen",
    "RequestTask",
    "Resume",
    "Review",
    "SetPriority",
    "Skip",
    "Submit",
    "TaskSpec",
    "Tick",
]


@dataclass(frozen=True)
class TaskSpec:
    id: str
    priority: int = 0
    flagged: bool = False
    overlap: int | None = None  # None: the project's overlap policy decides

    def __post_init__(self) -> None:
        if not isinstance(self.id, str) or not self.id:
            raise InvariantError(f"TaskSpec: id must be a non-empty string, got {self.id!r}")
        if self.overlap is not None and self.overlap < 1:
            raise InvariantError(f"TaskSpec {self.id!r}: overlap must be >= 1, got {self.overlap!r}")


@dataclass(frozen=True)
class AddTasks:
    tasks: tuple[TaskSpec, ...]

    def __init__(self, tasks: Sequence[TaskSpec | str]) -> None:
        object.__setattr__(self, "tasks", tuple(t if isinstance(t, TaskSpec) else TaskSpec(t) for t in tasks))


@dataclass(frozen=True)
class AddGold:
    """A gold (honeypot) task with its known answer; it is never completed, only served and graded."""

    task_id: str
    answer: Any


@dataclass(frozen=True)
class PromoteGold:
    """Make an accepted task a gold task too (its final answer, or ``answer`` when given)."""

    task_id: str
    answer: Any = None


@dataclass(frozen=True)
class AddMember:
    member: str
    roles: frozenset[str] = frozenset()
    groups: frozenset[str] = frozenset()

    def __post_init__(self) -> None:
        object.__setattr__(self, "roles", frozenset(self.roles))
        object.__setattr__(self, "groups", frozenset(self.groups))


@dataclass(frozen=True)
class RequestTask:
    """Ask for the member's next task at ``stage`` (``annotate``, a review stage, or ``adjudicate``)."""

    member: str
    stage: str = ANNOTATE


@dataclass(frozen=True)
class Submit:
    """An annotation (or a fix after rejection) for a task the member holds. ``answer`` is opaque to the
    engine except for gold grading, adjudication agreement and audits (the injected functions read it)."""

    member: str
    task_id: str
    annotation_id: str
    answer: Any = None


@dataclass(frozen=True)
class Skip:
    member: str
    task_id: str
    reason: str | None = None


@dataclass(frozen=True)
class Release:
    """The member gives a held task back (as if its lease had expired)."""

    member: str
    task_id: str


@dataclass(frozen=True)
class RegionVerdict:
    region_id: str
    accept: bool
    comment: str | None = None


@dataclass(frozen=True)
class Review:
    """A reviewer's decision at the task's current stage: accept or reject the task, and per region.
    Accepting with rejected regions drops those regions from the final answer; rejecting sends the
    task back to its annotator with the comments (a rejection needs at least one comment)."""

    member: str
    task_id: str
    accept: bool
    regions: tuple[RegionVerdict, ...] = field(default=())
    comment: str | None = None


@dataclass(frozen=True)
class Adjudicate:
    """The adjudicator's final answer, naming the annotations it was built from and how."""

    member: str
    task_id: str
    answer: Any
    sources: tuple[str, ...]
    method: str


@dataclass(frozen=True)
class PublishGuideline:
    """A new guideline version; ``round_tasks`` > 0 opens a fresh agreement round on that many unstarted
    tasks (overlap ``round_k``, default the project's k, at least 2), served first when ``round_priority``
    is given (it replaces their priority)."""

    version: int
    markdown: str
    round_tasks: int = 0
    round_k: int | None = None
    round_priority: int | None = None


@dataclass(frozen=True)
class Resume:
    """Lift the gold actions (pause, extra review) on an annotator; the reason is logged."""

    member: str
    reason: str


@dataclass(frozen=True)
class Reopen:
    """Put a parked task back in the pool."""

    task_id: str


@dataclass(frozen=True)
class SetPriority:
    task_id: str
    priority: int


@dataclass(frozen=True)
class Flag:
    """Flag a task for review stages that sample only flagged tasks."""

    task_id: str


@dataclass(frozen=True)
class Tick:
    """Nothing but the passing of time: expires leases due at ``now``."""


Event = (AddTasks | AddGold | PromoteGold | AddMember | RequestTask | Submit | Skip | Release | Review | Adjudicate
         | PublishGuideline | Resume | Reopen | SetPriority | Flag | Tick)
