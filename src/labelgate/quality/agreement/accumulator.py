"""Streaming agreement: ratings arrive one at a time (each submit), any metric on demand.

A rater who rates the same unit again replaces the earlier rating (the latest submission counts),
so re-submissions and corrections never double-count. ``compute`` builds the table once per call.
"""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from dataclasses import dataclass, field
from typing import Any

from labelgate.quality.agreement.result import AgreementResult

__all__ = ["AgreementAccumulator"]


@dataclass
class AgreementAccumulator:
    """``update(unit, rater, label)`` per rating; ``compute(metric, ...)`` takes :func:`agreement`'s options."""

    categories: Sequence[Any] | None = None
    _ratings: dict[tuple[Hashable, Hashable], Any] = field(default_factory=dict, repr=False)

    def update(self, unit: Hashable, rater: Hashable, label: Any) -> None:
        self._ratings[(unit, rater)] = label

    def remove(self, unit: Hashable, rater: Hashable) -> None:
        """Forget a rating (e.g. a rejected submission); unknown pairs are ignored."""
        self._ratings.pop((unit, rater), None)

    def __len__(self) -> int:
        return len(self._ratings)

    def compute(self, metric: str = "krippendorff_alpha", **options: Any) -> AgreementResult:
        from labelgate.quality.agreement import agreement

        records = [(unit, rater, label) for (unit, rater), label in self._ratings.items()]
        options.setdefault("categories", self.categories)
        return agreement(records, metric, **options)
