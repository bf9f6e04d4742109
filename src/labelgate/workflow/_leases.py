"""Granting, re-issuing and ending leases, shared by every stage."""

from __future__ import annotations

from labelgate.workflow.config import ADJUDICATE
from labelgate.workflow.effects import Assignment
from labelgate.workflow.queue import Lease
from labelgate.workflow.state import TaskStatus, WorkflowState

__all__ = ["PUBLIC_MODE", "end_lease", "grant", "held", "stage_key"]

# what the caller is told of a lease's mode: gold and audit leases read as ordinary annotation
PUBLIC_MODE = {"annotate": "annotate", "gold": "annotate", "audit": "annotate", "rework": "rework", "review": "review",
               "adjudicate": "adjudicate"}


def stage_key(priority: int, seq: int) -> tuple[int, ...]:
    return (-priority, seq)


def held(state: WorkflowState, member: str, stage: str) -> Assignment | None:
    """The assignment the member already holds at ``stage`` (a repeated request gets it again)."""
    annotator = state.annotators.get(member)
    if annotator is None:
        return None
    assignment = annotator.holding.get(stage)
    if assignment is None:
        return None
    if state.leases.get(assignment.task_id, member) is None:
        del annotator.holding[stage]
        return None
    return assignment


def grant(state: WorkflowState, assignment: Assignment, mode: str) -> Assignment:
    state.leases.grant(assignment.task_id, assignment.member, mode, assignment.stage, assignment.lease_expires)
    state.annotator(assignment.member).holding[assignment.stage] = assignment
    return assignment


def end_lease(state: WorkflowState, lease: Lease) -> None:
    """Undo what a lease held, after it expired or was given back (the lease is already out of the book)."""
    annotator = state.annotator(lease.member)
    current = annotator.holding.get(lease.stage)
    if current is not None and current.task_id == lease.task_id:
        del annotator.holding[lease.stage]
    task = state.tasks[lease.task_id]
    if lease.mode == "annotate":
        task.leased.pop(lease.member, None)
        state.requeue(task)
    elif lease.mode == "audit":
        annotator.auditing.pop(lease.task_id, None)
    elif lease.mode == "rework":
        if task.status is TaskStatus.REWORK and task.owner == lease.member:
            annotator.rework.appendleft(task.id)
    elif lease.mode == "review":
        if task.status is TaskStatus.IN_REVIEW and state.config.stages[task.stage].name == lease.stage:
            state.stage_queue(lease.stage).push(task.id, stage_key(task.priority, task.seq))
    elif lease.mode == "adjudicate" and task.status is TaskStatus.ADJUDICATING:
        state.stage_queue(ADJUDICATE).push(task.id, stage_key(task.priority, task.seq))
    # gold: nothing to undo; the gold task stays seen by this annotator

