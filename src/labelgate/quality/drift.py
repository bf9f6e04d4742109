"""Consistency and drift: test-retest agreement, a CUSUM alarm on gold errors, agreement over time.

- :func:`test_retest`: one annotator labelled the same items twice (items re-served later); the
  two passes are treated as two raters and compared with any two-rater metric (Cohen's kappa by
  default), so self-consistency reads on the same scale as inter-rater agreement.
- :class:`Cusum`: Page's (1954) one-sided tabular CUSUM on a 0/1 gold error stream,
  ``S_t = max(0, S_{t-1} + x_t - (target + slack))``; the alarm is the first t with ``S_t > threshold``.
  ``target`` is the acceptable error rate, ``slack`` the allowance k (half the shift worth detecting is
  the usual choice), ``threshold`` the decision interval h.
- :class:`WindowedAgreement`: agreement per time window. A unit belongs to the window of its first
  rating; windows are ``[start + i*width, start + (i+1)*width)``.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt

from labelgate.core.errors import QualityError
from labelgate.quality.agreement import AgreementResult, agreement

__all__ = ["Cusum", "CusumResult", "WindowResult", "WindowedAgreement", "cusum", "test_retest"]


def test_retest(
    first: Mapping[Any, Any] | Iterable[tuple[Any, Any, Any]],
    second: Mapping[Any, Any] | None = None,
    *,
    metric: str = "cohen_kappa",
    weights: Any = None,
    categories: Any = None,
) -> AgreementResult:
    """Agreement of one annotator with themself on re-served items.

    Either two mappings ``unit -> label`` (first pass, second pass; units in both are compared) or
    one iterable of ``(unit, label_first, label_second)`` triples.
    """
    if second is not None:
        if not isinstance(first, Mapping):
            raise QualityError("test_retest: pass two unit -> label mappings, or one iterable of (unit, first, second)")
        shared = [u for u in first if u in second]
        rows = [[first[u], second[u]] for u in shared]
    else:
        rows = [[a, b] for _, a, b in first]
    if len(rows) < 2:
        raise QualityError(f"test_retest needs at least 2 re-served items, got {len(rows)}")
    return agreement(rows, metric, weights=weights, categories=categories)


test_retest.__test__ = False  # type: ignore[attr-defined]  # not a pytest test despite its name


@dataclass(frozen=True)
class CusumResult:
    alarm: int | None  # index of the first observation at which S_t exceeded the threshold
    statistic: npt.NDArray[np.float64]  # S_t after each observation
    target: float
    slack: float
    threshold: float


def cusum(errors: Iterable[bool | int | float], *, target: float, slack: float, threshold: float) -> CusumResult:
    """One-shot CUSUM over a whole error stream (see :class:`Cusum`)."""
    monitor = Cusum(target=target, slack=slack, threshold=threshold)
    monitor.update(errors)
    return monitor.compute()


@dataclass
class Cusum:
    """Streaming one-sided CUSUM on a 0/1 (or [0, 1]) gold error stream."""

    target: float
    slack: float
    threshold: float
    reset_on_alarm: bool = False
    _s: float = 0.0
    _t: int = 0
    _alarm: int | None = None
    _history: list[float] = field(default_factory=list, repr=False)

    def __post_init__(self) -> None:
        if not 0.0 <= self.target <= 1.0:
            raise QualityError(f"target is an error rate in [0, 1], got {self.target!r}")
        if self.slack < 0 or self.threshold <= 0:
            raise QualityError(f"slack must be >= 0 and threshold > 0, got slack={self.slack!r}, threshold={self.threshold!r}")

    def update(self, errors: bool | int | float | Iterable[bool | int | float]) -> int | None:
        """Feed one observation or many; returns the alarm index once raised (else None)."""
        values = np.atleast_1d(np.asarray(errors, dtype=np.float64))
        if ((values < 0) | (values > 1) | np.isnan(values)).any():
            raise QualityError("gold error observations must be 0/1 (or rates in [0, 1])")
        allowance = self.target + self.slack
        for x in values.tolist():
            self._s = max(0.0, self._s + x - allowance)
            if self._s > self.threshold and (self._alarm is None or self.reset_on_alarm):
                if self._alarm is None:
                    self._alarm = self._t
                if self.reset_on_alarm:
                    self._s = 0.0
            self._history.append(self._s)
            self._t += 1
        return self._alarm

    @property
    def alarm(self) -> int | None:
        return self._alarm

    def compute(self) -> CusumResult:
        return CusumResult(self._alarm, np.asarray(self._history, dtype=np.float64), self.target, self.slack, self.threshold)


def _seconds(value: Any, what: str) -> float:
    try:
        t = float(value.timestamp()) if hasattr(value, "timestamp") else float(value)
    except (TypeError, ValueError):
        raise QualityError(f"{what} {value!r} is neither a number of seconds nor a datetime") from None
    if not math.isfinite(t):
        raise QualityError(f"{what} {value!r} is not a finite number")
    return t


@dataclass(frozen=True)
class WindowResult:
    start: float
    end: float
    units: int
    result: AgreementResult | None  # None when the window has no pairable unit


@dataclass
class WindowedAgreement:
    """Agreement per time window over ``(time, unit, rater, label)`` records.

    Times are numbers (e.g. POSIX seconds) or anything with ``.timestamp()`` (datetime); ``width``
    is in the same seconds, or a ``timedelta``; ``start`` (default: the earliest first rating) likewise.
    """

    width: Any
    metric: str = "krippendorff_alpha"
    level: str | None = None
    start: Any = None
    categories: Any = None
    _first: dict[Any, float] = field(default_factory=dict, repr=False)
    _records: list[tuple[Any, Any, Any]] = field(default_factory=list, repr=False)

    def __post_init__(self) -> None:
        if hasattr(self.width, "total_seconds"):
            self.width = self.width.total_seconds()
        if self.start is not None:
            self.start = _seconds(self.start, "start")
        if not isinstance(self.width, int | float) or not self.width > 0:
            raise QualityError(f"window width must be a positive number of seconds or a timedelta, got {self.width!r}")

    def update(self, time: Any, unit: Any, rater: Any, label: Any) -> None:
        t = _seconds(time, f"record for unit {unit!r}: time")
        if unit not in self._first or t < self._first[unit]:
            self._first[unit] = t
        self._records.append((unit, rater, label))

    def compute(self) -> list[WindowResult]:
        if not self._first:
            return []
        origin = self.start if self.start is not None else min(self._first.values())
        window_of = {u: math.floor((t - origin) / self.width) for u, t in self._first.items()}
        grouped: dict[int, list[tuple[Any, Any, Any]]] = {}
        for rec in self._records:
            grouped.setdefault(window_of[rec[0]], []).append(rec)
        out = []
        for w in sorted(grouped):
            recs = grouped[w]
            per_unit: dict[Any, int] = {}
            for rec in recs:
                per_unit[rec[0]] = per_unit.get(rec[0], 0) + 1
            pairable = any(k >= 2 for k in per_unit.values())
            result = agreement(recs, self.metric, level=self.level, categories=self.categories) if pairable else None
            units = len(per_unit)
            out.append(WindowResult(origin + w * self.width, origin + (w + 1) * self.width, units, result))
        return out
