"""Review stages: the sampled walk through the chain, reviewers' queues, accept / reject per task and
per region, and rework by the annotator (the fix goes back to the stage that rejected it)."""

from __future__ import annotations

from labelgate.core.errors import ConflictError, InvariantError, PermissionDenied
from labelgate.workflow._leases import grant, held, stage_key
from labelgate.workflow.effects import (
    Assigned,
    Assignment,
    Effect,
    FinalAnswer,
    NoTask,
    ReviewRecord,
    ReworkRequested,
    TaskAccepted,
    TaskMoved,
)
from labelgate.workflow.events import Review
from labelgate.workflow.queue import ELIGIBLE, INELIGIBLE
from labelgate.workflow.state import Task, TaskStatus, WorkflowState

__all__ = ["accept", "enter_chain", "request_review", "review"]


def _under_extra_review(state: WorkflowState, task: Task) -> bool:
    for sub in task.submissions:
        annotator = state.annotators.get(sub.annotator)
        if annotator is not None and annotator.extra_review:
            return True
    return False


def enter_chain(state: WorkflowState, task: Task, start: int) -> list[Effect]:
    """Walk ``task`` from review stage ``start``: stop at the first stage that samples it, else accept it."""
    stages = state.config.stages
    forced = _under_extra_review(state, task)
    for index in range(start, len(stages)):
        stage = stages[index]
        if not task.arrived >> index & 1:
            task.arrived |= 1 << index
            state.arrivals[stage.name] = state.arrivals.get(stage.name, 0) + 1
        ordinal = state.arrivals[stage.name]
        if forced or stage.sampling.decide(ordinal=ordinal, stage=stage.name, task_id=task.id, flagged=task.flagged):
            task.status = TaskStatus.IN_REVIEW
            task.stage = index
            state.stage_queue(stage.name).push(task.id, stage_key(task.priority, task.seq))
            return [TaskMoved(task.id, task.status.value, stage.name)]
    return accept(state, task, by=None)


def accept(state: WorkflowState, task: Task, by: str | None) -> list[Effect]:
    final = FinalAnswer(task.id, task.answer, task.sources, task.method, by, task.dropped)
    task.final = final
    task.status = TaskStatus.ACCEPTED
    task.stage = -1
    return [TaskAccepted(final)]


def _authors(task: Task) -> set[str]:
    return {s.annotator for s in task.submissions}


def request_review(state: WorkflowState, member_id: str, stage_name: str, now: float) -> list[Effect]:
    index = state.config.stage_index(stage_name)
    stage = state.config.stages[index]
    member = state.member(member_id)
    if not stage.binding.admits(member.roles, member.groups):
        raise PermissionDenied(f"member {member_id!r} may not review at stage {stage_name!r}: it is bound to {stage.binding}")
    again = held(state, member_id, stage_name)
    if again is not None:
        return [Assigned(again)]
    tasks = state.tasks
    task_id = state.stage_queue(stage_name).take(lambda t: INELIGIBLE if member_id in _authors(tasks[t]) else ELIGIBLE)
    if task_id is None:
        return [NoTask(member_id, stage_name, "empty")]
    task = tasks[task_id]
    assignment = Assignment(task_id, member_id, "review", stage_name, now + state.config.lease_seconds, state.guideline_version,
                            sources=task.sources)
    return [Assigned(grant(state, assignment, "review"))]


def review(state: WorkflowState, event: Review, now: float) -> list[Effect]:
    lease = state.leases.get(event.task_id, event.member)
    if lease is None or lease.mode != "review":
        raise ConflictError(f"member {event.member!r} holds no review of task {event.task_id!r} (never assigned, already "
                            "decided, or the lease expired): request the stage's next task again")
    ids = [r.region_id for r in event.regions]
    if len(set(ids)) != len(ids):
        raise InvariantError(f"review of task {event.task_id!r}: a region has two verdicts ({ids})")
    explained = bool(event.comment and event.comment.strip()) or any(r.comment and r.comment.strip() for r in event.regions)
    if not event.accept and not explained:
        raise InvariantError(f"rejection of task {event.task_id!r} needs a comment on the task or on a region, for the annotator to act on")
    state.leases.release(event.task_id, event.member)
    reviewer = state.annotator(event.member)
    reviewer.holding.pop(lease.stage, None)
    task = state.tasks[event.task_id]
    task.reviews.append(ReviewRecord(lease.stage, event.member, event.accept, event.regions, event.comment, now))
    if event.accept:
        task.dropped += tuple(r.region_id for r in event.regions if not r.accept)
        return enter_chain(state, task, task.stage + 1)
    task.status = TaskStatus.REWORK
    owner = task.owner if task.owner is not None else task.submissions[0].annotator
    state.annotator(owner).rework.append(task.id)
    return [ReworkRequested(task.id, owner, lease.stage, event.regions, event.comment),
            TaskMoved(task.id, task.status.value, lease.stage)]
