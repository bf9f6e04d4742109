"""Quality gates: thresholds on agreement, gold accuracy and review coverage, evaluated purely into
pass or fail with reasons. A failed gate opens only through an override that names who and why."""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

from labelgate.core.errors import InvariantError
from labelgate.workflow.state import TaskStatus, WorkflowState

__all__ = ["Gate", "GateMetrics", "GateResult", "evaluate_gate", "gate_metrics", "override_gate"]


@dataclass(frozen=True)
class Gate:
    min_agreement: float | None = None
    min_gold_accuracy: float | None = None
    min_review_coverage: float | None = None


@dataclass(frozen=True)
class GateMetrics:
    agreement: float | None = None
    gold_accuracy: float | None = None
    review_coverage: float | None = None


@dataclass(frozen=True)
class GateResult:
    passed: bool
    reasons: tuple[str, ...]  # one per failed threshold
    metrics: GateMetrics
    overridden_by: str | None = None
    override_reason: str | None = None

    @property
    def open(self) -> bool:
        return self.passed or self.overridden_by is not None


_CHECKS = (("agreement", "min_agreement", "agreement"), ("gold accuracy", "min_gold_accuracy", "gold_accuracy"),
           ("review coverage", "min_review_coverage", "review_coverage"))


def evaluate_gate(gate: Gate, metrics: GateMetrics) -> GateResult:
    reasons = []
    for label, bar_name, metric_name in _CHECKS:
        bar = getattr(gate, bar_name)
        if bar is None:
            continue
        value = getattr(metrics, metric_name)
        if value is None or math.isnan(value):
            reasons.append(f"{label} is not measured yet (needs >= {bar:g})")
        elif value < bar:
            reasons.append(f"{label} {value:.3f} is below {bar:g}")
    return GateResult(not reasons, tuple(reasons), metrics)


def override_gate(result: GateResult, by: str, reason: str) -> GateResult:
    """Open a failed gate; ``by`` and ``reason`` are kept on the result (store them with the export)."""
    if result.passed:
        raise InvariantError("the gate passed: there is nothing to override")
    if not by or not reason or not reason.strip():
        raise InvariantError("overriding a quality gate needs who overrides it and a reason")
    return replace(result, overridden_by=by, override_reason=reason.strip())


def gate_metrics(state: WorkflowState, agreement: float | None = None) -> GateMetrics:
    """Gold accuracy (pooled over annotators) and review coverage (share of accepted tasks that a
    reviewer looked at) from the state; ``agreement`` from whichever agreement report the caller trusts."""
    graded = correct = 0
    for annotator in state.gold_scores.compute().annotators:
        graded += annotator.n
        correct += annotator.correct
    accepted = reviewed = 0
    for task in state.tasks.values():
        if task.status is TaskStatus.ACCEPTED:
            accepted += 1
            reviewed += bool(task.reviews)
    return GateMetrics(agreement, correct / graded if graded else None, reviewed / accepted if accepted else None)
