"""Handlers for the events that set a project up or steer it: tasks, gold, members, priorities, flags,
reopening parked tasks and resuming flagged annotators."""

from __future__ import annotations

from labelgate.core.errors import ConflictError, InvariantError
from labelgate.quality.drift import Cusum
from labelgate.workflow._hash import unit
from labelgate.workflow._leases import stage_key
from labelgate.workflow.config import ADJUDICATE
from labelgate.workflow.effects import Effect, TaskMoved
from labelgate.workflow.events import AddGold, AddMember, AddTasks, Flag, PromoteGold, Reopen, Resume, SetPriority
from labelgate.workflow.state import Member, Task, TaskStatus, WorkflowState

__all__ = ["add_gold", "add_member", "add_tasks", "flag", "promote_gold", "reopen", "resume", "set_priority"]


def add_tasks(state: WorkflowState, event: AddTasks, now: float) -> list[Effect]:
    ids = [spec.id for spec in event.tasks]
    if len(set(ids)) != len(ids):
        raise ConflictError("AddTasks: a task id appears twice in one batch")
    clash = [i for i in ids if i in state.tasks]
    if clash:
        raise ConflictError(f"AddTasks: tasks {clash[:5]} already exist (ids are unique per project)")
    policy = state.config.overlap
    for spec in event.tasks:
        k = spec.overlap
        if k is None:
            k = policy.k if policy.k > 1 and unit(policy.seed, "overlap", spec.id) < policy.fraction else 1
        task = state.tasks[spec.id] = Task(spec.id, len(state.tasks), spec.priority, spec.flagged, k)
        state.open.push(task.id, state.open_key(task))
    return []


def _register_gold(state: WorkflowState, task_id: str, answer: object) -> None:
    state.gold[task_id] = answer
    state.gold_order.append(task_id)


def add_gold(state: WorkflowState, event: AddGold, now: float) -> list[Effect]:
    if not isinstance(event.task_id, str) or not event.task_id:
        raise InvariantError(f"AddGold: task id must be a non-empty string, got {event.task_id!r}")
    if event.task_id in state.tasks:
        raise ConflictError(f"AddGold: task {event.task_id!r} already exists; promote accepted work with PromoteGold")
    state.tasks[event.task_id] = Task(event.task_id, len(state.tasks), 0, False, 1, status=TaskStatus.GOLD)
    _register_gold(state, event.task_id, event.answer)
    return []


def promote_gold(state: WorkflowState, event: PromoteGold, now: float) -> list[Effect]:
    task = state.task(event.task_id)
    if task.status is not TaskStatus.ACCEPTED or task.final is None:
        raise ConflictError(f"PromoteGold: task {task.id!r} is {task.status.value}; only accepted tasks become gold")
    if task.id in state.gold:
        raise ConflictError(f"PromoteGold: task {task.id!r} is gold already")
    _register_gold(state, task.id, event.answer if event.answer is not None else task.final.answer)
    return []


def add_member(state: WorkflowState, event: AddMember, now: float) -> list[Effect]:
    if not isinstance(event.member, str) or not event.member:
        raise InvariantError(f"AddMember: member id must be a non-empty string, got {event.member!r}")
    state.members[event.member] = Member(event.member, event.roles, event.groups)
    return []


def resume(state: WorkflowState, event: Resume, now: float) -> list[Effect]:
    annotator = state.annotators.get(event.member)
    if annotator is None or not (annotator.flagged or annotator.drift_alarm is not None):
        raise ConflictError(f"Resume: annotator {event.member!r} is neither flagged nor under a drift alarm")
    if not event.reason or not event.reason.strip():
        raise InvariantError("Resume: give the reason the annotator may work again (it is logged)")
    annotator.flagged = annotator.paused = annotator.extra_review = False
    annotator.gold_correct = annotator.gold_graded = 0
    drift = state.config.honeypots.drift
    if drift is not None:  # a fresh CUSUM: the alarm judged the work before the resume
        annotator.drift = Cusum(target=drift.target, slack=drift.slack, threshold=drift.threshold)
        annotator.drift_alarm = None
    return []


def reopen(state: WorkflowState, event: Reopen, now: float) -> list[Effect]:
    task = state.task(event.task_id)
    if task.status is not TaskStatus.PARKED:
        raise ConflictError(f"Reopen: task {task.id!r} is {task.status.value}, not parked")
    task.status = TaskStatus.ANNOTATING
    task.skips = 0
    state.requeue(task)
    return [TaskMoved(task.id, task.status.value, None)]


def set_priority(state: WorkflowState, event: SetPriority, now: float) -> list[Effect]:
    task = state.task(event.task_id)
    task.priority = int(event.priority)
    if task.id in state.open:
        state.requeue(task)
    queue = None
    if task.status is TaskStatus.IN_REVIEW:
        queue = state.stage_queue(state.config.stages[task.stage].name)
    elif task.status is TaskStatus.ADJUDICATING:
        queue = state.stage_queue(ADJUDICATE)
    if queue is not None and task.id in queue:
        queue.push(task.id, stage_key(task.priority, task.seq))
    return []


def flag(state: WorkflowState, event: Flag, now: float) -> list[Effect]:
    state.task(event.task_id).flagged = True
    return []
