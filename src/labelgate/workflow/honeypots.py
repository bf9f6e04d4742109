"""Honeypots: gold tasks mixed into each annotator's stream, graded against their known answers.

The caller cannot tell a gold task from an ordinary one: the assignment has the same shape and values
(mode ``annotate``, same lease length, no gold answer); only the engine knows. Grades feed
:class:`labelgate.quality.gold.GoldAccumulator` (accuracy with Wilson intervals per annotator and class)
and, when configured, a CUSUM drift monitor per annotator. When an annotator's gold verdict since their
last resume is ``fail``, the configured actions apply (extra review of their work, pause) and an
:class:`AnnotatorFlagged` effect says so.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from labelgate.quality.gold import GoldReport, verdict
from labelgate.workflow._hash import unit
from labelgate.workflow._schedule import in_slot
from labelgate.workflow.config import GoldAction
from labelgate.workflow.effects import AnnotatorFlagged, DriftAlarm, Effect, GoldGraded
from labelgate.workflow.state import AnnotatorState, WorkflowState

__all__ = ["Grade", "apply_grade", "gold_report", "gold_slot", "grade", "next_gold"]


def gold_report(state: WorkflowState) -> GoldReport:
    """Gold accuracy per annotator and per gold class, with Wilson intervals and verdicts (all answers
    ever graded, including those before a resume)."""
    return state.gold_scores.compute()


def gold_slot(state: WorkflowState, annotator: AnnotatorState) -> bool:
    hp = state.config.honeypots
    return bool(state.gold_order) and in_slot(hp.fraction, hp.seed, "gold", annotator.id, annotator.position)


def next_gold(state: WorkflowState, annotator: AnnotatorState) -> str | None:
    """The next gold task this annotator has not been served (nor annotated, for promoted gold),
    walking the gold list from a per-annotator seeded start."""
    order = state.gold_order
    n = len(order)
    if len(annotator.gold_seen) >= n:
        return None
    if annotator.gold_cursor < 0:
        annotator.gold_cursor = int(unit(state.config.honeypots.seed, "gold-start", annotator.id) * n)
    for step in range(n):
        index = (annotator.gold_cursor + step) % n
        task_id = order[index]
        if task_id in annotator.gold_seen or annotator.id in state.tasks[task_id].seen:
            continue
        annotator.gold_cursor = index + 1
        return task_id
    return None


@dataclass(frozen=True)
class Grade:
    correct: bool
    answer_key: Any  # what the accumulator records as the answer and the gold label
    gold_key: Any


def _hashable(value: Any) -> bool:
    try:
        hash(value)
    except TypeError:
        return False
    return True


def grade(state: WorkflowState, task_id: str, answer: Any) -> Grade:
    """Grade an answer on a gold task (no state change: computed before anything is applied)."""
    gold = state.gold[task_id]
    grader = state.config.honeypots.grader
    correct = bool(grader(answer, gold)) if grader is not None else bool(answer == gold)
    if grader is None and _hashable(answer) and _hashable(gold):
        return Grade(correct, answer, gold)
    return Grade(correct, correct, True)  # per-class figures collapse to one class when answers are not labels


def apply_grade(state: WorkflowState, member: str, task_id: str, g: Grade) -> list[Effect]:
    hp = state.config.honeypots
    annotator = state.annotator(member)
    state.gold_scores.update(member, g.answer_key, g.gold_key)
    annotator.gold_graded += 1
    annotator.gold_correct += int(g.correct)
    effects: list[Effect] = [GoldGraded(member, task_id, g.correct)]
    if annotator.drift is not None and annotator.drift_alarm is None:
        alarm = annotator.drift.update(0 if g.correct else 1)
        if alarm is not None:
            annotator.drift_alarm = alarm
            effects.append(DriftAlarm(member, alarm))
    if annotator.flagged or not hp.actions:
        return effects
    v = verdict(annotator.gold_correct, annotator.gold_graded, threshold=hp.threshold, min_samples=hp.min_samples,
                confidence=hp.confidence)
    if v != "fail":
        return effects
    annotator.flagged = True
    annotator.extra_review = GoldAction.EXTRA_REVIEW in hp.actions
    annotator.paused = GoldAction.PAUSE in hp.actions
    report = next(a for a in state.gold_scores.compute().annotators if a.annotator == member)
    actions = tuple(sorted(a.value for a in hp.actions))
    effects.append(AnnotatorFlagged(member, actions, annotator.gold_correct / annotator.gold_graded, report.ci,
                                    annotator.gold_graded))
    return effects
