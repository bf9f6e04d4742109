"""Which tasks a review stage looks at: all, every Nth, a seeded random fraction, or only flagged ones.

A stage's decision for a task is fixed once the task arrives there: ``every_nth`` counts arrivals at the
stage (the Nth, 2Nth, ... arrival is sampled); ``fraction`` hashes (seed, stage, task id), so the same
task is sampled in every replay; ``flagged`` takes the tasks flagged on import and the work of annotators
put under extra review. Work of an annotator under extra review is sampled at every stage, whatever
the stage's own rule.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

from labelgate.core.errors import InvariantError
from labelgate.workflow._hash import unit

__all__ = ["Sampling", "SamplingKind"]


class SamplingKind(str, Enum):
    ALL = "all"
    EVERY_NTH = "every_nth"
    FRACTION = "fraction"
    FLAGGED = "flagged"


@dataclass(frozen=True)
class Sampling:
    kind: SamplingKind = SamplingKind.ALL
    n: int = 1
    fraction: float = 1.0
    seed: int = 0

    def __post_init__(self) -> None:
        if not isinstance(self.kind, SamplingKind):
            object.__setattr__(self, "kind", SamplingKind(self.kind))
        if self.n < 1:
            raise InvariantError(f"Sampling: every_nth needs n >= 1, got {self.n!r}")
        if not 0.0 <= self.fraction <= 1.0:
            raise InvariantError(f"Sampling: fraction must be in [0, 1], got {self.fraction!r}")

    @classmethod
    def all(cls) -> Sampling:
        return cls(SamplingKind.ALL)

    @classmethod
    def every_nth(cls, n: int) -> Sampling:
        return cls(SamplingKind.EVERY_NTH, n=n)

    @classmethod
    def random_fraction(cls, fraction: float, seed: int = 0) -> Sampling:
        return cls(SamplingKind.FRACTION, fraction=fraction, seed=seed)

    @classmethod
    def flagged(cls) -> Sampling:
        return cls(SamplingKind.FLAGGED)

    def decide(self, *, ordinal: int, stage: str, task_id: str, flagged: bool) -> bool:
        """Whether the task that is the ``ordinal``-th (1-based) arrival at ``stage`` is reviewed there."""
        if self.kind is SamplingKind.ALL:
            return True
        if self.kind is SamplingKind.EVERY_NTH:
            return ordinal % self.n == 0
        if self.kind is SamplingKind.FRACTION:
            return unit(self.seed, "review", stage, task_id) < self.fraction
        return flagged
