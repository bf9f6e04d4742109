"""A project's workflow configuration: the stage chain and the policies of assignment, overlap, skips,
honeypots, audits and adjudication. Frozen values, checked at construction.

The chain is always ``annotate -> review stages (in order, each sampled) -> accepted``; tasks whose
overlapping annotations disagree below the adjudication threshold take the side road
``annotate -> adjudicate -> accepted``. Each stage is bound to a role or a named group of members.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from enum import Enum
from fractions import Fraction
from functools import cached_property
from typing import Any

from labelgate.core.errors import InvariantError
from labelgate.workflow.sampling import Sampling

__all__ = [
    "ANNOTATE",
    "ADJUDICATE",
    "AdjudicationPolicy",
    "AuditPolicy",
    "Binding",
    "DriftPolicy",
    "GoldAction",
    "HoneypotPolicy",
    "OverlapPolicy",
    "SkipMode",
    "SkipPolicy",
    "Stage",
    "WorkflowConfig",
]

ANNOTATE = "annotate"
ADJUDICATE = "adjudicate"

AgreementFn = Callable[[Sequence[Any]], float]
ConsensusFn = Callable[[Sequence[Any]], Any]
GraderFn = Callable[[Any, Any], bool]


def _rate(value: float, what: str) -> Fraction:
    if not 0.0 <= value <= 1.0:
        raise InvariantError(f"{what} must be a rate in [0, 1], got {value!r}")
    return Fraction(value).limit_denominator(1_000_000)


@dataclass(frozen=True)
class Binding:
    """Who may work a stage: members holding ``role``, or members of ``group`` (exactly one of them)."""

    role: str | None = None
    group: str | None = None

    def __post_init__(self) -> None:
        if (self.role is None) == (self.group is None):
            raise InvariantError(f"Binding: give exactly one of role or group, got role={self.role!r}, group={self.group!r}")

    def admits(self, roles: frozenset[str], groups: frozenset[str]) -> bool:
        return self.role in roles if self.role is not None else self.group in groups

    def __str__(self) -> str:
        return f"role {self.role!r}" if self.role is not None else f"group {self.group!r}"


@dataclass(frozen=True)
class Stage:
    """One review stage: its name, who reviews there, and which tasks it samples."""

    name: str
    binding: Binding
    sampling: Sampling = field(default_factory=Sampling)

    def __post_init__(self) -> None:
        if not self.name or self.name in (ANNOTATE, ADJUDICATE):
            raise InvariantError(f"Stage: name must be non-empty and not {ANNOTATE!r} or {ADJUDICATE!r}, got {self.name!r}")


@dataclass(frozen=True)
class OverlapPolicy:
    """``k`` annotators on a seeded ``fraction`` of tasks (1 on the rest). ``order``: ``spread`` serves the
    least-served open task first (every task gets its first annotation before any gets its second);
    ``complete`` serves the most-served first (finish overlap sets early, for early agreement numbers)."""

    k: int = 1
    fraction: float = 0.0
    seed: int = 0
    order: str = "spread"

    def __post_init__(self) -> None:
        if self.k < 1:
            raise InvariantError(f"OverlapPolicy: k must be >= 1, got {self.k!r}")
        _rate(self.fraction, "OverlapPolicy.fraction")
        if self.order not in ("spread", "complete"):
            raise InvariantError(f"OverlapPolicy: order must be 'spread' or 'complete', got {self.order!r}")


class SkipMode(str, Enum):
    EXCLUDE = "exclude"  # back to the pool for others; never again to the annotator who skipped
    RETURN = "return"  # back to the pool for everyone; the skipper gets it again only when nothing else is left


@dataclass(frozen=True)
class SkipPolicy:
    mode: SkipMode = SkipMode.EXCLUDE
    reason_required: bool = False
    park_after: int | None = None  # park the task (status parked) after this many skips

    def __post_init__(self) -> None:
        if not isinstance(self.mode, SkipMode):
            object.__setattr__(self, "mode", SkipMode(self.mode))
        if self.park_after is not None and self.park_after < 1:
            raise InvariantError(f"SkipPolicy: park_after must be >= 1 or None, got {self.park_after!r}")


class GoldAction(str, Enum):
    EXTRA_REVIEW = "extra_review"  # every review stage samples all of the annotator's work
    PAUSE = "pause"  # no more assignments until a manager resumes the annotator


@dataclass(frozen=True)
class DriftPolicy:
    """CUSUM on each annotator's gold error stream (labelgate.quality.drift.Cusum)."""

    target: float = 0.1
    slack: float = 0.05
    threshold: float = 3.0


@dataclass(frozen=True)
class HoneypotPolicy:
    """Gold tasks mixed into each annotator's stream at ``rate``: one gold slot in every block of about
    1/rate assignments, at a seeded position inside the block, so any window of ``w`` assignments holds
    fewer than ``w * rate + 2`` gold tasks. ``grader(answer, gold) -> bool`` (default ``==``) marks an
    answer correct; below the bar (gold verdict ``fail`` at ``threshold``) the ``actions`` apply."""

    rate: float = 0.0
    seed: int = 0
    threshold: float = 0.9
    min_samples: int = 20
    confidence: float = 0.95
    actions: frozenset[GoldAction] = frozenset()
    grader: GraderFn | None = None
    drift: DriftPolicy | None = None

    def __post_init__(self) -> None:
        _rate(self.rate, "HoneypotPolicy.rate")
        object.__setattr__(self, "actions", frozenset(GoldAction(a) for a in self.actions))

    @cached_property
    def fraction(self) -> Fraction:
        return _rate(self.rate, "HoneypotPolicy.rate")


@dataclass(frozen=True)
class AuditPolicy:
    """Re-serve an annotator's own past tasks at ``rate``, unannounced, no sooner than ``min_gap``
    assignments after they first did them."""

    rate: float = 0.0
    seed: int = 0
    min_gap: int = 20

    def __post_init__(self) -> None:
        _rate(self.rate, "AuditPolicy.rate")
        if self.min_gap < 1:
            raise InvariantError(f"AuditPolicy: min_gap must be >= 1, got {self.min_gap!r}")

    @cached_property
    def fraction(self) -> Fraction:
        return _rate(self.rate, "AuditPolicy.rate")


@dataclass(frozen=True)
class AdjudicationPolicy:
    """Overlap tasks whose ``agreement(answers)`` falls below ``threshold`` go to ``binding``'s queue;
    ``consensus(answers)``, when given, is the starting point offered to the adjudicator and the answer
    of tasks that agree."""

    binding: Binding
    agreement: AgreementFn
    threshold: float
    consensus: ConsensusFn | None = None
    method: str = "consensus"  # recorded on the final answer of tasks that agreed


@dataclass(frozen=True)
class WorkflowConfig:
    stages: tuple[Stage, ...] = ()
    annotate: Binding = field(default_factory=lambda: Binding(role="annotator"))
    lease_seconds: float = 1800.0
    overlap: OverlapPolicy = field(default_factory=OverlapPolicy)
    skip: SkipPolicy = field(default_factory=SkipPolicy)
    honeypots: HoneypotPolicy = field(default_factory=HoneypotPolicy)
    audits: AuditPolicy = field(default_factory=AuditPolicy)
    adjudication: AdjudicationPolicy | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "stages", tuple(self.stages))
        names = [s.name for s in self.stages]
        if len(set(names)) != len(names):
            raise InvariantError(f"WorkflowConfig: stage names must be unique, got {names}")
        if not self.lease_seconds > 0:
            raise InvariantError(f"WorkflowConfig: lease_seconds must be > 0, got {self.lease_seconds!r}")

    def stage_index(self, name: str) -> int:
        for i, stage in enumerate(self.stages):
            if stage.name == name:
                return i
        raise InvariantError(f"no review stage named {name!r}: stages are {[s.name for s in self.stages]}")
