"""The annotate stage: next-task selection, submissions, skips and give-backs.

Selection order for an annotator: their rework first; then, if the pool has work for them at all
(gold and audits never come from an empty pool, where they would stand out), at a gold slot of their
stream an unseen gold task, at an audit slot one of their own past tasks, otherwise the best open task
they have not been served: highest priority, then least-served (``spread``) or most-served (``complete``), then
oldest. The open pool is an :class:`~labelgate.workflow.queue.IndexedQueue`, so a call costs
O(log n) plus the open tasks it passes over because this annotator has already seen them.
An annotator holds at most one annotation lease; asking again returns the same assignment.
"""

from __future__ import annotations

from labelgate.core.errors import ConflictError, InvariantError, PermissionDenied
from labelgate.workflow import adjudication, audits, honeypots
from labelgate.workflow._leases import end_lease, grant, held, stage_key
from labelgate.workflow.config import ANNOTATE, SkipMode
from labelgate.workflow.effects import Assigned, Assignment, Effect, NoTask, Submission, TaskMoved, TaskParked
from labelgate.workflow.events import Release, Skip, Submit
from labelgate.workflow.queue import DEFERRED, ELIGIBLE, INELIGIBLE, Lease
from labelgate.workflow.state import AnnotatorState, TaskStatus, WorkflowState

__all__ = ["release", "request_annotation", "skip", "submit"]


def _plain(state: WorkflowState, task_id: str, member: str, now: float) -> Assignment:
    # gold, audit and ordinary tasks all get exactly this
    return Assignment(task_id, member, ANNOTATE, ANNOTATE, now + state.config.lease_seconds, state.guideline_version)


def _rework(state: WorkflowState, annotator: AnnotatorState, now: float) -> Assignment | None:
    while annotator.rework:
        task = state.tasks[annotator.rework.popleft()]
        if task.status is TaskStatus.REWORK and task.owner == annotator.id:
            last = task.reviews[-1]
            assignment = Assignment(task.id, annotator.id, "rework", ANNOTATE, now + state.config.lease_seconds,
                                    state.guideline_version, comments=last.regions, note=last.comment, sources=task.sources)
            return grant(state, assignment, "rework")
    return None


def request_annotation(state: WorkflowState, member_id: str, now: float) -> list[Effect]:
    member = state.member(member_id)
    if not state.config.annotate.admits(member.roles, member.groups):
        raise PermissionDenied(f"member {member_id!r} may not annotate: annotation is bound to {state.config.annotate}")
    again = held(state, member_id, ANNOTATE)
    if again is not None:
        return [Assigned(again)]
    annotator = state.annotator(member_id)
    if annotator.paused:
        return [NoTask(member_id, ANNOTATE, "paused")]
    fix = _rework(state, annotator, now)
    if fix is not None:
        return [Assigned(fix)]
    tasks, deferred = state.tasks, annotator.deferred

    def judge(task_id: str) -> int:
        if member_id in tasks[task_id].seen:
            return INELIGIBLE
        return DEFERRED if task_id in deferred else ELIGIBLE

    if annotator.empty_at == state.open.generation:
        return [NoTask(member_id, ANNOTATE, "empty")]  # nothing was pushed since the last fruitless scan
    gold_due = honeypots.gold_slot(state, annotator)
    audit_due = state.config.audits.rate > 0 and audits.audit_slot(state, annotator)
    if (gold_due or audit_due) and state.open.take(judge, remove=False) is None:
        # gold and audits only ride along ordinary work: a task served from an empty pool would give them away
        annotator.empty_at = state.open.generation
        return [NoTask(member_id, ANNOTATE, "empty")]
    if gold_due:
        gold_id = honeypots.next_gold(state, annotator)
        if gold_id is not None:
            annotator.gold_seen.add(gold_id)
            annotator.position += 1
            return [Assigned(grant(state, _plain(state, gold_id, member_id, now), "gold"))]
    if audit_due:
        pick = audits.next_audit(state, annotator)
        if pick is not None:
            annotator.auditing[pick[0]] = pick[1]
            annotator.position += 1
            return [Assigned(grant(state, _plain(state, pick[0], member_id, now), "audit"))]
    task_id = state.open.take(judge)
    if task_id is None:
        annotator.empty_at = state.open.generation
        return [NoTask(member_id, ANNOTATE, "empty")]
    task = tasks[task_id]
    task.leased[member_id] = None
    task.seen.add(member_id)
    deferred.discard(task_id)
    state.requeue(task)
    annotator.position += 1
    return [Assigned(grant(state, _plain(state, task_id, member_id, now), "annotate"))]


def _lease(state: WorkflowState, task_id: str, member: str, action: str) -> Lease:
    lease = state.leases.get(task_id, member)
    if lease is None or lease.mode not in ("annotate", "gold", "audit", "rework"):
        raise ConflictError(f"cannot {action} task {task_id!r}: member {member!r} holds no annotation lease on it (never "
                            "assigned, already submitted, or the lease expired); request the next task again")
    return lease


def submit(state: WorkflowState, event: Submit, now: float) -> list[Effect]:
    lease = _lease(state, event.task_id, event.member, "submit")
    if not isinstance(event.annotation_id, str) or not event.annotation_id:
        raise InvariantError(f"submit on task {event.task_id!r}: annotation_id must be a non-empty string")
    if event.annotation_id in state.annotation_ids:
        raise ConflictError(f"submit on task {event.task_id!r}: annotation id {event.annotation_id!r} was already submitted")
    task = state.tasks[event.task_id]
    # everything that can fail (injected functions) runs before the state changes
    grade = honeypots.grade(state, task.id, event.answer) if lease.mode == "gold" else None
    completes = lease.mode == "annotate" and task.annotations + 1 >= task.overlap
    result = None
    if completes:
        answers = [s.answer for s in task.annotate_submissions()] + [event.answer]
        result = adjudication.outcome(state, task, answers)
    state.leases.release(task.id, event.member)
    annotator = state.annotator(event.member)
    annotator.holding.pop(ANNOTATE, None)
    state.annotation_ids.add(event.annotation_id)
    if grade is not None:
        return honeypots.apply_grade(state, event.member, task.id, grade)
    if lease.mode == "audit":
        annotator.retest[task.id] = (annotator.auditing.pop(task.id), event.answer)
        return []
    kind = ANNOTATE if lease.mode == "annotate" else "rework"
    sub = Submission(event.annotation_id, task.id, event.member, event.answer, state.guideline_version, now, kind)
    task.submissions.append(sub)
    if lease.mode == "rework":
        task.answer, task.sources, task.method = event.answer, (sub.annotation_id,), "revision"
        task.status = TaskStatus.IN_REVIEW
        stage = state.config.stages[task.stage].name
        state.stage_queue(stage).push(task.id, stage_key(task.priority, task.seq))
        return [TaskMoved(task.id, task.status.value, stage)]
    task.leased.pop(event.member, None)
    task.annotations += 1
    annotator.history.append((annotator.position, task.id, event.answer))
    if result is None:
        return []
    return adjudication.complete(state, task, result)


def skip(state: WorkflowState, event: Skip, now: float) -> list[Effect]:
    lease = _lease(state, event.task_id, event.member, "skip")
    if lease.mode == "rework":
        raise ConflictError(f"task {event.task_id!r} was rejected back to {event.member!r}: fix and submit it, it cannot be skipped")
    policy = state.config.skip
    if policy.reason_required and not (event.reason and event.reason.strip()):
        raise InvariantError(f"skipping task {event.task_id!r} needs a reason in this project")
    state.leases.release(event.task_id, event.member)
    annotator = state.annotator(event.member)
    annotator.holding.pop(ANNOTATE, None)
    if lease.mode != "annotate":
        end_lease(state, lease)  # gold and audit skips leave no trace on the task: same effects as any skip
        return []
    task = state.tasks[event.task_id]
    task.leased.pop(event.member, None)
    task.skips += 1
    if policy.mode is SkipMode.RETURN:
        task.seen.discard(event.member)
        annotator.deferred.add(task.id)
    if policy.park_after is not None and task.skips >= policy.park_after and not task.leased:
        task.status = TaskStatus.PARKED
        state.open.discard(task.id)
        return [TaskParked(task.id, task.skips)]
    state.requeue(task)
    return []


def release(state: WorkflowState, event: Release, now: float) -> list[Effect]:
    lease = state.leases.get(event.task_id, event.member)
    if lease is None:
        raise ConflictError(f"member {event.member!r} holds no lease on task {event.task_id!r} to release")
    state.leases.release(event.task_id, event.member)
    end_lease(state, lease)
    return []
