"""A small driver for engine tests: a state, a clock, and shortcuts for the common events."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from labelgate.workflow import (
    ANNOTATE,
    AddMember,
    AddTasks,
    Assigned,
    Assignment,
    Effect,
    Event,
    NoTask,
    RequestTask,
    Submit,
    TaskSpec,
    WorkflowConfig,
    WorkflowState,
    advance,
    new_state,
)


class Flow:
    def __init__(self, config: WorkflowConfig, *, members: dict[str, Iterable[str]] | None = None,
                 groups: dict[str, Iterable[str]] | None = None, tasks: Iterable[str | TaskSpec] = ()) -> None:
        self.state: WorkflowState = new_state(config)
        self.now = 1000.0
        self._ids = 0
        for name, roles in (members or {}).items():
            self.do(AddMember(name, frozenset(roles), frozenset((groups or {}).get(name, ()))))
        tasks = list(tasks)
        if tasks:
            self.do(AddTasks(tasks))

    def do(self, event: Event) -> list[Effect]:
        _, effects = advance(self.state, event, self.now)
        return effects

    def wait(self, seconds: float) -> None:
        self.now += seconds

    def next(self, member: str, stage: str = ANNOTATE) -> Assignment | None:
        effects = self.do(RequestTask(member, stage))
        got = [e for e in effects if isinstance(e, Assigned | NoTask)]
        assert len(got) == 1, effects
        return got[0].assignment if isinstance(got[0], Assigned) else None

    def submit(self, member: str, task_id: str, answer: Any = "ok") -> list[Effect]:
        self._ids += 1
        return self.do(Submit(member, task_id, f"a{self._ids}", answer))

    def annotate_all(self, member: str, answer: Any = "ok") -> list[str]:
        done = []
        while (a := self.next(member)) is not None:
            self.submit(member, a.task_id, answer)
            done.append(a.task_id)
        return done

    def status(self, task_id: str) -> str:
        return self.state.tasks[task_id].status.value
