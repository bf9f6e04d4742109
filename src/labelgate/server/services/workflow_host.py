"""Holding each project's workflow engine in the server process.

One :class:`ProjectEngine` per project (state + quality accumulators), built by replaying the stored
log on first use and kept up to date with records other processes appended (catch-up) before every
event. :func:`session` is the one way to advance it: under the project's lock it opens the write
transaction, locks the project's log row, catches up, adds tasks and guideline versions the engine has
not seen yet, lets the caller advance, and appends the new records in the same transaction. If
anything fails after the engine moved, the cached engine is dropped and the next use replays the log,
so memory never runs ahead of the database.

Every ``workflow_snapshot_every`` records (or a tenth of the log, if more) the session marks the project
as due for a snapshot (:mod:`.workflow_snapshots`); the process's snapshotter (:mod:`.workflow_snapshotter`)
stores it later, off the request path and without this lock. A process that has no engine for the project
yet loads the snapshot and replays only the records after it.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.engine import Connection

from labelgate.core.errors import InvariantError, NotFoundError
from labelgate.server.db.repos import workflow as repo
from labelgate.server.domain import Project, Role, User
from labelgate.server.services.access import project_for
from labelgate.server.services.quality_book import QualityBook
from labelgate.server.services.runtime import Runtime
from labelgate.server.services.workflow_config import build_config
from labelgate.server.services.workflow_snapshots import due, fingerprint, restore
from labelgate.server.services.workflow_snapshotter import snapshotter
from labelgate.workflow import (
    AddMember,
    AddTasks,
    Effect,
    Member,
    PromoteGold,
    PublishGuideline,
    WorkflowConfig,
    WorkflowState,
    advance,
    new_state,
    record_from_dict,
    record_to_dict,
)
from labelgate.workflow.events import Event

__all__ = ["Hub", "ProjectEngine", "Session", "gold_tasks", "hub", "member_id", "session", "stored_engine"]


def member_id(user: User) -> str:
    return str(user.id)


@dataclass
class ProjectEngine:
    project_id: int
    conf: dict[str, Any]
    config: WorkflowConfig
    state: WorkflowState
    book: QualityBook
    max_task: int = 0
    snapshot_seq: int = 0  # log records covered by the project's stored snapshot (0: none)

    def step(self, event: Event, at: float) -> list[Effect]:
        effects = advance(self.state, event, at)[1]
        self.book.apply(self.state, self.state.log[-1])
        return effects

    def catch_up(self, rows: list[dict[str, Any]]) -> None:
        for row in rows:
            record = record_from_dict(row)
            if record.seq < len(self.state.log):
                continue
            if record.seq != len(self.state.log):
                raise InvariantError(f"project {self.project_id}: workflow log jumps to record {record.seq}")
            self.step(record.event, record.at)
        self.max_task = max([self.max_task, *(int(t) for t in self.state.tasks if t.isdigit())])


class Hub:
    """The engines of one server process, and a lock per project."""

    def __init__(self) -> None:
        self._engines: dict[int, ProjectEngine] = {}
        self._locks: dict[int, threading.RLock] = {}
        self._guard = threading.Lock()

    def lock(self, project_id: int) -> threading.RLock:
        with self._guard:
            return self._locks.setdefault(project_id, threading.RLock())

    def get(self, project_id: int) -> ProjectEngine | None:
        return self._engines.get(project_id)

    def put(self, engine: ProjectEngine) -> None:
        self._engines[engine.project_id] = engine

    def drop(self, project_id: int) -> None:
        self._engines.pop(project_id, None)


def hub(rt: Runtime) -> Hub:
    """The runtime's hub (created on first use; the runtime is shared by all requests of a process)."""
    found = rt.__dict__.get("_workflow_hub")
    if found is None:
        with _HUB_GUARD:
            found = rt.__dict__.setdefault("_workflow_hub", Hub())
    assert isinstance(found, Hub)
    return found


_HUB_GUARD = threading.Lock()


@dataclass
class Session:
    conn: Connection
    project: Project
    engine: ProjectEngine
    effects: list[Effect] = field(default_factory=list)

    @property
    def state(self) -> WorkflowState:
        return self.engine.state

    def now(self) -> float:
        return max(time.time(), self.engine.state.now)

    def advance(self, event: Event) -> list[Effect]:
        effects = self.engine.step(event, self.now())
        self.effects += effects
        return effects

    def join(self, user: User, role: Role) -> str:
        """Make sure the engine knows ``user`` with their current roles and groups; their member id."""
        mid = member_id(user)
        roles = frozenset(r.value for r in Role if r.rank <= role.rank)
        groups = frozenset(g for g, names in (self.engine.conf.get("groups") or {}).items() if user.username in names)
        if self.state.members.get(mid) != Member(mid, roles, groups):
            self.advance(AddMember(mid, roles, groups))
        return mid


def _from_snapshot(conn: Connection, project_id: int, conf: dict[str, Any], config: WorkflowConfig) -> ProjectEngine | None:
    found = repo.snapshot(conn, project_id)
    if found is None or found[1] != fingerprint(conf):
        return None
    got = restore(found[2], found[0], config)
    if got is None:
        return None
    return ProjectEngine(project_id, conf, config, got.state, got.book, got.max_task, snapshot_seq=got.seq)


def _load(conn: Connection, project_id: int, conf: dict[str, Any], cached: ProjectEngine | None) -> ProjectEngine:
    if cached is not None and cached.conf == conf:
        engine = cached
    else:
        config = build_config(conf)
        engine = _from_snapshot(conn, project_id, conf, config) or ProjectEngine(
            project_id, conf, config, new_state(config), QualityBook(iou=float(conf.get("iou", 0.5))))
    engine.catch_up(repo.records(conn, project_id, len(engine.state.log)))
    return engine


def stored_engine(conn: Connection, project_id: int, conf: dict[str, Any]) -> ProjectEngine:
    """The engine as a process without it in memory builds it: the stored snapshot (if it fits) caught up
    with the records after it, up to the last one ``conn`` sees."""
    return _load(conn, project_id, conf, None)


def _sync(s: Session) -> None:
    """Tell the engine about tasks and guideline versions created outside it (imports, the guidelines API)."""
    eng = s.engine
    fresh = [t for t in repo.new_task_ids(s.conn, eng.project_id, eng.max_task) if str(t) not in eng.state.tasks]
    if fresh:
        s.advance(AddTasks([str(t) for t in fresh]))
        eng.max_task = max(fresh)
    latest = repo.latest_guideline(s.conn, eng.project_id)
    current = eng.state.guideline_version
    if latest is not None and (current is None or latest[0] > current):
        s.advance(PublishGuideline(latest[0], latest[1]))


def gold_tasks(rt: Runtime, project_id: int) -> dict[int, float | None]:
    """The project's gold tasks: task id -> when accepted work was promoted to gold (epoch seconds), or
    None for tasks added as gold. Reads the log (catching the cached engine up) without writing."""
    h = hub(rt)
    with h.lock(project_id), rt.db.read() as conn:
        conf = repo.config(conn, project_id)
        if conf is None:
            return {}
        engine = _load(conn, project_id, conf, h.get(project_id))
        h.put(engine)
        promoted = {r.event.task_id: r.at for r in engine.state.log if isinstance(r.event, PromoteGold)}
        return {int(t): promoted.get(t) for t in engine.state.gold if t.isdigit()}


@contextmanager
def session(rt: Runtime, project_id: int, actor: User, minimum: Role = Role.ANNOTATOR) -> Iterator[Session]:
    """A write transaction with the project's engine caught up (see the module docstring)."""
    h = hub(rt)
    with h.lock(project_id):
        start: int | None = None
        try:
            with rt.db.write() as conn:
                project = project_for(conn, project_id, actor, minimum)
                conf = repo.config(conn, project_id)
                if conf is None:
                    raise NotFoundError(f"project {project_id} has no workflow: a manager sets one with "
                                        f"PUT /api/v1/projects/{project_id}/workflow")
                repo.lock_project(conn, project_id)
                engine = _load(conn, project_id, conf, h.get(project_id))
                h.put(engine)
                start = len(engine.state.log)
                s = Session(conn, project, engine)
                _sync(s)
                yield s
                repo.append_records(conn, project_id, [record_to_dict(r) for r in engine.state.log[start:]])
        except BaseException:
            cached = h.get(project_id)
            if cached is not None and start is not None and len(cached.state.log) != start:
                h.drop(project_id)  # memory ran ahead of what was committed: replay next time
            raise
        if len(engine.state.log) != start and due(len(engine.state.log), engine.snapshot_seq,
                                                  rt.settings.workflow_snapshot_every):
            snapshotter(rt).mark(engine)  # stored later by the process's snapshotter, not in this request
