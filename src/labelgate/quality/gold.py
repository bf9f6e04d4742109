"""Annotator accuracy against gold answers, per annotator and per gold class, with Wilson intervals.

No verdict is given on too little evidence: below ``min_samples`` graded answers the verdict is
``"insufficient data"``. Above it, with a target accuracy ``threshold``:

- ``"pass"`` when the Wilson lower bound reaches the threshold,
- ``"fail"`` when the Wilson upper bound stays below it,
- ``"uncertain"`` otherwise (the interval straddles the threshold: collect more gold).

:class:`GoldAccumulator` takes answers one at a time (``update``) and reports with ``compute``;
:func:`score_gold` is the one-shot form over records.
"""

from __future__ import annotations

from collections.abc import Hashable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from labelgate.core.errors import QualityError
from labelgate.quality._stats import check_confidence, wilson_interval

__all__ = ["AnnotatorGold", "ClassAccuracy", "GoldAccumulator", "GoldReport", "score_gold", "verdict"]

INSUFFICIENT = "insufficient data"


def verdict(correct: int, n: int, *, threshold: float, min_samples: int, confidence: float = 0.95) -> str:
    """The verdict rule of the module docstring for ``correct`` out of ``n``."""
    if n < min_samples or n == 0:
        return INSUFFICIENT
    lo, hi = wilson_interval(correct, n, confidence)
    if lo >= threshold:
        return "pass"
    if hi < threshold:
        return "fail"
    return "uncertain"


@dataclass(frozen=True)
class ClassAccuracy:
    """Accuracy on the gold items of one class (the annotator's recall of that class)."""

    label: Any
    n: int
    correct: int
    accuracy: float | None
    ci: tuple[float, float]
    verdict: str


@dataclass(frozen=True)
class AnnotatorGold:
    annotator: Any
    n: int
    correct: int
    accuracy: float | None
    ci: tuple[float, float]
    verdict: str
    per_class: tuple[ClassAccuracy, ...]
    confusions: dict[tuple[Any, Any], int]  # (gold, answered) -> count, mistakes only


@dataclass(frozen=True)
class GoldReport:
    annotators: tuple[AnnotatorGold, ...]
    threshold: float
    min_samples: int
    confidence: float
    ungraded: int  # answers on units without gold

    def to_dict(self) -> dict[str, Any]:
        return {
            "threshold": self.threshold, "min_samples": self.min_samples, "confidence": self.confidence,
            "ungraded": self.ungraded,
            "annotators": [
                {"annotator": a.annotator, "n": a.n, "correct": a.correct, "accuracy": a.accuracy, "ci": list(a.ci),
                 "verdict": a.verdict,
                 "per_class": [{"label": c.label, "n": c.n, "correct": c.correct, "accuracy": c.accuracy, "ci": list(c.ci),
                                "verdict": c.verdict} for c in a.per_class],
                 "confusions": [{"gold": g, "answer": ans, "count": k} for (g, ans), k in sorted(a.confusions.items(), key=str)]}
                for a in self.annotators
            ],
        }


@dataclass
class GoldAccumulator:
    """Streaming gold scoring: ``update(annotator, answer, gold)`` per graded answer, then ``compute()``."""

    threshold: float = 0.9
    min_samples: int = 20
    confidence: float = 0.95
    _counts: dict[Hashable, dict[Hashable, list[int]]] = field(default_factory=dict, repr=False)
    _mistakes: dict[Hashable, dict[tuple[Any, Any], int]] = field(default_factory=dict, repr=False)
    ungraded: int = 0

    def __post_init__(self) -> None:
        check_confidence(self.confidence)
        if not 0.0 <= self.threshold <= 1.0:
            raise QualityError(f"threshold is an accuracy in [0, 1], got {self.threshold!r}")
        if self.min_samples < 1:
            raise QualityError(f"min_samples must be at least 1, got {self.min_samples!r}")

    def update(self, annotator: Hashable, answer: Any, gold: Any) -> None:
        per_class = self._counts.setdefault(annotator, {})
        tally = per_class.setdefault(gold, [0, 0])
        tally[1] += 1
        if answer == gold:
            tally[0] += 1
        else:
            mistakes = self._mistakes.setdefault(annotator, {})
            mistakes[(gold, answer)] = mistakes.get((gold, answer), 0) + 1

    def _entry(self, correct: int, n: int) -> tuple[float | None, tuple[float, float], str]:
        accuracy = correct / n if n else None
        ci = wilson_interval(correct, n, self.confidence)
        return accuracy, ci, verdict(correct, n, threshold=self.threshold, min_samples=self.min_samples, confidence=self.confidence)

    def compute(self) -> GoldReport:
        out = []
        for annotator, per_class in self._counts.items():
            classes = []
            for label in _sorted(per_class):
                correct, n = per_class[label]
                acc, ci, v = self._entry(correct, n)
                classes.append(ClassAccuracy(label, n, correct, acc, ci, v))
            correct = sum(c.correct for c in classes)
            n = sum(c.n for c in classes)
            acc, ci, v = self._entry(correct, n)
            out.append(AnnotatorGold(annotator, n, correct, acc, ci, v, tuple(classes), dict(self._mistakes.get(annotator, {}))))
        out.sort(key=lambda a: str(a.annotator))
        return GoldReport(tuple(out), self.threshold, self.min_samples, self.confidence, self.ungraded)


def _sorted(keys: Iterable[Any]) -> list[Any]:
    keys = list(keys)
    try:
        return sorted(keys)
    except TypeError:
        return sorted(keys, key=str)


def _gold_map(gold: Mapping[Any, Any] | Iterable[Any]) -> dict[Any, Any]:
    if isinstance(gold, Mapping):
        return dict(gold)
    out: dict[Any, Any] = {}
    for index, rec in enumerate(gold):
        unit, label = (rec["unit"], rec["label"]) if isinstance(rec, Mapping) else rec
        if unit in out and out[unit] != label:
            raise QualityError(f"gold record {index}: unit {unit!r} has two gold labels ({out[unit]!r}, {label!r})")
        out[unit] = label
    return out


def score_gold(
    annotations: Iterable[Any],
    gold: Mapping[Any, Any] | Iterable[Any],
    *,
    threshold: float = 0.9,
    min_samples: int = 20,
    confidence: float = 0.95,
) -> GoldReport:
    """Score ``(unit, annotator, label)`` records (tuples or mappings) against ``gold``
    (a unit -> label mapping, or ``(unit, label)`` records). Answers on units without gold are
    counted in ``ungraded`` and otherwise ignored."""
    truth = _gold_map(gold)
    acc = GoldAccumulator(threshold=threshold, min_samples=min_samples, confidence=confidence)
    for index, rec in enumerate(annotations):
        if isinstance(rec, Mapping):
            try:
                unit, label = rec["unit"], rec["label"]
                annotator = rec["annotator"] if "annotator" in rec else rec["rater"]
            except KeyError as exc:
                raise QualityError(f"annotation record {index}: needs unit, annotator (or rater), label; missing {exc}") from None
        else:
            unit, annotator, label = rec
        if unit not in truth:
            acc.ungraded += 1
            continue
        acc.update(annotator, label, truth[unit])
    return acc.compute()
