"""Adjudication: overlap tasks whose annotations disagree below a threshold wait for an adjudicator,
who starts from the engine's consensus and records which annotations the final answer was built from.

Agreement functions to inject (``AdjudicationPolicy.agreement``), each answers -> score in [0, 1]:
:func:`categorical_agreement` (share of agreeing pairs) and :func:`spatial_f1` (mean pairwise F1 of
matched regions, through :func:`labelgate.quality.spatial.compare`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from itertools import combinations
from typing import Any

from labelgate.core import Region
from labelgate.core.errors import ConflictError, InvariantError, PermissionDenied
from labelgate.quality.spatial import compare
from labelgate.workflow._leases import grant, held, stage_key
from labelgate.workflow.config import ADJUDICATE
from labelgate.workflow.effects import AdjudicationNeeded, Assigned, Assignment, Effect, NoTask, TaskMoved
from labelgate.workflow.events import Adjudicate
from labelgate.workflow.queue import ELIGIBLE, INELIGIBLE
from labelgate.workflow.review import accept, enter_chain
from labelgate.workflow.state import Task, TaskStatus, WorkflowState

__all__ = ["Outcome", "adjudicate", "categorical_agreement", "complete", "outcome", "request_adjudication", "spatial_f1"]


def categorical_agreement(answers: Sequence[Any]) -> float:
    """Share of annotator pairs that gave the same answer (1.0 for fewer than two answers)."""
    pairs = list(combinations(answers, 2))
    if not pairs:
        return 1.0
    return sum(a == b for a, b in pairs) / len(pairs)


def spatial_f1(answers: Sequence[Sequence[Region]], iou_threshold: float = 0.5) -> float:
    """Mean pairwise F1 of matched regions (same label, IoU >= threshold) between annotators' region lists.
    Two empty answers agree (1.0)."""
    scores = []
    for a, b in combinations(answers, 2):
        if not a and not b:
            scores.append(1.0)
            continue
        scores.append(compare({"task": list(a)}, {"task": list(b)}, iou_threshold=iou_threshold).f1)
    return sum(scores) / len(scores) if scores else 1.0


@dataclass(frozen=True)
class Outcome:
    """What completing a task's annotations leads to, computed before the state changes."""

    disagree: bool
    score: float | None
    answer: Any
    method: str


def outcome(state: WorkflowState, task: Task, answers: Sequence[Any]) -> Outcome:
    """Run the injected agreement and consensus functions on the completed set of ``answers``."""
    policy = state.config.adjudication
    if len(answers) < 2 or policy is None:
        return Outcome(False, None, answers[0], "single")
    score = float(policy.agreement(answers))
    proposal = policy.consensus(answers) if policy.consensus is not None else None
    if not score >= policy.threshold:  # NaN disagrees too
        return Outcome(True, score, proposal, policy.method)
    return Outcome(False, score, proposal if policy.consensus is not None else answers[0], policy.method)


def complete(state: WorkflowState, task: Task, result: Outcome) -> list[Effect]:
    """All of a task's annotations are in: to adjudication, or on into the review chain."""
    subs = task.annotate_submissions()
    ids = tuple(s.annotation_id for s in subs)
    task.owner = subs[0].annotator
    task.answer = result.answer
    task.method = result.method
    if result.disagree:
        task.status = TaskStatus.ADJUDICATING
        task.sources = ids
        state.stage_queue(ADJUDICATE).push(task.id, stage_key(task.priority, task.seq))
        return [AdjudicationNeeded(task.id, float(result.score if result.score is not None else 0.0), ids),
                TaskMoved(task.id, task.status.value, ADJUDICATE)]
    task.sources = ids if result.method != "single" else ids[:1]
    return enter_chain(state, task, 0)


def request_adjudication(state: WorkflowState, member_id: str, now: float) -> list[Effect]:
    policy = state.config.adjudication
    if policy is None:
        raise InvariantError("this workflow has no adjudication stage: configure WorkflowConfig.adjudication")
    member = state.member(member_id)
    if not policy.binding.admits(member.roles, member.groups):
        raise PermissionDenied(f"member {member_id!r} may not adjudicate: adjudication is bound to {policy.binding}")
    again = held(state, member_id, ADJUDICATE)
    if again is not None:
        return [Assigned(again)]
    tasks = state.tasks
    task_id = state.stage_queue(ADJUDICATE).take(
        lambda t: INELIGIBLE if any(s.annotator == member_id for s in tasks[t].submissions) else ELIGIBLE)
    if task_id is None:
        return [NoTask(member_id, ADJUDICATE, "empty")]
    task = tasks[task_id]
    assignment = Assignment(task_id, member_id, "adjudicate", ADJUDICATE, now + state.config.lease_seconds,
                            state.guideline_version, sources=task.sources, proposal=task.answer)
    return [Assigned(grant(state, assignment, "adjudicate"))]


def adjudicate(state: WorkflowState, event: Adjudicate, now: float) -> list[Effect]:
    lease = state.leases.get(event.task_id, event.member)
    if lease is None or lease.mode != "adjudicate":
        raise ConflictError(f"member {event.member!r} holds no adjudication of task {event.task_id!r} (never assigned, "
                            "already decided, or the lease expired): request the next adjudication task again")
    task = state.tasks[event.task_id]
    sources = tuple(event.sources)
    known = {s.annotation_id for s in task.annotate_submissions()}
    unknown = [s for s in sources if s not in known]
    if not sources or unknown:
        raise InvariantError(f"adjudication of task {event.task_id!r}: sources must name this task's annotations "
                             f"{sorted(known)}; got unknown {unknown}" if unknown else
                             f"adjudication of task {event.task_id!r}: name the annotations the answer was built from")
    if not event.method or not event.method.strip():
        raise InvariantError(f"adjudication of task {event.task_id!r}: say how the answer was built (method)")
    state.leases.release(event.task_id, event.member)
    state.annotator(event.member).holding.pop(ADJUDICATE, None)
    task.answer = event.answer
    task.sources = sources
    task.method = event.method
    return accept(state, task, by=event.member)
