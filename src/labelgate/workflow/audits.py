"""Consistency audits: an annotator's own past tasks re-served unannounced, and their test-retest
agreement (:func:`labelgate.quality.drift.test_retest`).

Audit slots are interleaved like gold slots (own seed purpose); the task re-served is the oldest of
the annotator's own annotations made at least ``min_gap`` assignments ago and not yet audited. The
re-served task looks like any other (mode ``annotate``); the second answer only feeds the retest pair
and never changes the task.
"""

from __future__ import annotations

from typing import Any

from labelgate.core.errors import NotFoundError
from labelgate.quality.agreement import AgreementResult
from labelgate.quality.drift import test_retest
from labelgate.workflow._schedule import in_slot
from labelgate.workflow.state import AnnotatorState, TaskStatus, WorkflowState

__all__ = ["audit_slot", "next_audit", "retest_agreement", "retest_pairs"]


def audit_slot(state: WorkflowState, annotator: AnnotatorState) -> bool:
    policy = state.config.audits
    return in_slot(policy.fraction, policy.seed, "audit", annotator.id, annotator.position)


def next_audit(state: WorkflowState, annotator: AnnotatorState) -> tuple[str, Any] | None:
    """Pop the annotator's next audit candidate: (task id, their first answer)."""
    horizon = annotator.position - state.config.audits.min_gap
    history = annotator.history
    while history and history[0][0] <= horizon:
        _, task_id, answer = history.popleft()
        task = state.tasks[task_id]
        if task.status is TaskStatus.REWORK or task_id in annotator.retest or task_id in annotator.auditing:
            continue
        if state.leases.get(task_id, annotator.id) is not None:
            continue
        return task_id, answer
    return None


def retest_pairs(state: WorkflowState, member: str) -> dict[str, tuple[Any, Any]]:
    """task id -> (first answer, audit answer) for the member's completed audits."""
    annotator = state.annotators.get(member)
    if annotator is None:
        raise NotFoundError(f"no annotator {member!r} has worked in this workflow")
    return dict(annotator.retest)


def retest_agreement(state: WorkflowState, member: str, metric: str = "cohen_kappa") -> AgreementResult:
    """Test-retest agreement of the member with themself (categorical answers; at least 2 audits)."""
    pairs = retest_pairs(state, member)
    return test_retest({t: p[0] for t, p in pairs.items()}, {t: p[1] for t, p in pairs.items()}, metric=metric)
