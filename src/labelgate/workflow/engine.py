"""The engine's one entry point: ``advance(state, event, now) -> (state, effects)``.

Pure in the sense that matters: no database, no clock (``now`` is passed in, seconds, never going
back), no I/O, no randomness beyond seeded hashes. The state is updated in place and returned; an
event that is refused raises a :mod:`labelgate.core.errors` error (an injected agreement, consensus or
grader function that fails raises its own error) and leaves the state as it was
(apart from leases that had expired by ``now``, which are logged as a :class:`Tick`). Every accepted
event is appended to ``state.log`` with its time and effects, and :func:`replay` folds a log back
into the same state.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from typing import Any

from labelgate.core.errors import InvariantError
from labelgate.workflow import _admin, adjudication, assignment, guidelines, review
from labelgate.workflow._leases import PUBLIC_MODE, end_lease
from labelgate.workflow.config import ADJUDICATE, ANNOTATE, WorkflowConfig
from labelgate.workflow.effects import Effect, LeaseExpired, Record
from labelgate.workflow.events import (
    AddGold,
    AddMember,
    AddTasks,
    Adjudicate,
    Event,
    Flag,
    PromoteGold,
    PublishGuideline,
    Release,
    Reopen,
    RequestTask,
    Resume,
    Review,
    SetPriority,
    Skip,
    Submit,
    Tick,
)
from labelgate.workflow.state import WorkflowState

__all__ = ["advance", "catch_up", "expire", "new_state", "replay"]


def _request(state: WorkflowState, event: RequestTask, now: float) -> list[Effect]:
    if event.stage == ANNOTATE:
        return assignment.request_annotation(state, event.member, now)
    if event.stage == ADJUDICATE:
        return adjudication.request_adjudication(state, event.member, now)
    return review.request_review(state, event.member, event.stage, now)


def _tick(state: WorkflowState, event: Tick, now: float) -> list[Effect]:
    return []


_HANDLERS: dict[type, Callable[[WorkflowState, Any, float], list[Effect]]] = {
    AddTasks: _admin.add_tasks,
    AddGold: _admin.add_gold,
    PromoteGold: _admin.promote_gold,
    AddMember: _admin.add_member,
    Resume: _admin.resume,
    Reopen: _admin.reopen,
    SetPriority: _admin.set_priority,
    Flag: _admin.flag,
    RequestTask: _request,
    Submit: assignment.submit,
    Skip: assignment.skip,
    Release: assignment.release,
    Review: review.review,
    Adjudicate: adjudication.adjudicate,
    PublishGuideline: guidelines.publish,
    Tick: _tick,
}


def new_state(config: WorkflowConfig) -> WorkflowState:
    return WorkflowState(config)


def expire(state: WorkflowState, now: float) -> list[Effect]:
    """End every lease due at ``now``: the work goes back to its queue."""
    effects: list[Effect] = []
    for lease in state.leases.due(now):
        end_lease(state, lease)
        effects.append(LeaseExpired(lease.task_id, lease.member, PUBLIC_MODE[lease.mode]))
    return effects


def advance(state: WorkflowState, event: Event, now: float) -> tuple[WorkflowState, list[Effect]]:
    handler = _HANDLERS.get(type(event))
    if handler is None:
        raise InvariantError(f"advance: {type(event).__name__} is not a workflow event")
    if not isinstance(now, int | float) or math.isnan(now):
        raise InvariantError(f"advance: now must be a number of seconds, got {now!r}")
    if now < state.now:
        raise InvariantError(f"advance: time went backwards ({now!r} < {state.now!r}); pass a monotonic clock")
    state.now = float(now)
    expired = expire(state, now)
    try:
        effects = handler(state, event, now)
    except Exception:  # refused (LabelgateError) or an injected function failed: log the expiries, re-raise
        if expired:
            state.log.append(Record(len(state.log), now, Tick(), tuple(expired)))
        raise
    effects = expired + effects
    state.log.append(Record(len(state.log), now, event, tuple(effects)))
    return state, effects


def replay(config: WorkflowConfig, records: Iterable[Record]) -> WorkflowState:
    """Rebuild a state from its log (the same config must be given)."""
    state = new_state(config)
    for record in records:
        advance(state, record.event, record.at)
    return state


def catch_up(state: WorkflowState, records: Iterable[Record]) -> list[Effect]:
    """Apply the records of a shared log that this state has not seen yet (``seq >= len(state.log)``),
    e.g. those another process appended; records already applied are skipped, a gap is refused."""
    effects: list[Effect] = []
    for record in records:
        if record.seq < len(state.log):
            continue
        if record.seq != len(state.log):
            raise InvariantError(f"catch_up: the log jumps from record {len(state.log) - 1} to {record.seq}; load the missing records")
        effects += advance(state, record.event, record.at)[1]
    return effects
