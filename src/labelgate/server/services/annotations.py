"""Tasks and annotations: next task, drafts, submit, optimistic updates, skip, review, history."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy.engine import Connection

from labelgate.core import Source
from labelgate.core.errors import ConflictError, InvariantError, NotFoundError, PermissionDenied
from labelgate.server.db import utcnow
from labelgate.server.db.repos import audits as audits_repo
from labelgate.server.db.repos import tasks as repo
from labelgate.server.domain import AnnotationRecord, AnnotationStatus, Event, Project, Role, Task, User
from labelgate.server.services import audits, webhooks, workflow
from labelgate.server.services.access import project_for, task_for
from labelgate.server.services.projects import parse_schema
from labelgate.server.services.regions import parse_regions
from labelgate.server.services.runtime import Runtime

__all__ = [
    "EngineRequired", "create_annotation", "get_annotation", "get_task", "list_tasks", "next_task", "review_annotation", "skip_task",
    "task_events", "update_annotation", "visible",
]

_FINISHED = {AnnotationStatus.SUBMITTED, AnnotationStatus.ACCEPTED, AnnotationStatus.REJECTED}


class EngineRequired(Exception):
    """Raised by an operation called with ``engine=False`` on a project a workflow runs, after its check
    (nothing written): the caller repeats it where the engine may run (a worker thread)."""


def visible(project: Project, user: User, ann: AnnotationRecord) -> bool:
    """Reviewers and above see everything; annotators see their own work, model predictions, and
    (unless the project is blind) other people's finished annotations."""
    assert project.role is not None
    if project.role.rank >= Role.REVIEWER.rank or ann.author_id == user.id:
        return True
    if ann.source == Source.MODEL.value:
        return True
    return not project.blind and ann.status in _FINISHED and ann.source == Source.HUMAN.value


def _task_in(conn: Connection, task_id: int, user: User, minimum: Role = Role.ANNOTATOR) -> tuple[Task, Project]:
    return task_for(conn, task_id, user, minimum)


def _ann_in(conn: Connection, annotation_id: int, user: User) -> tuple[AnnotationRecord, Project]:
    ann = repo.annotation(conn, annotation_id)
    missing = NotFoundError(f"annotation {annotation_id} does not exist or you may not see it")
    if ann is None:
        raise missing
    try:
        project = project_for(conn, ann.project_id, user)
    except NotFoundError:
        raise missing from None
    if not visible(project, user, ann):
        raise missing
    return ann, project


def list_tasks(rt: Runtime, actor: User, project_id: int, offset: int = 0, limit: int = 100) -> tuple[list[Task], int]:
    if offset < 0 or not 1 <= limit <= 1000:
        raise InvariantError("offset must be >= 0 and limit between 1 and 1000")
    with rt.db.read() as conn:
        project = project_for(conn, project_id, actor)
        tasks = workflow.annotator_view(conn, project, actor, repo.list_tasks(conn, project_id, offset, limit))
        return tasks, repo.count_tasks(conn, project_id)


def get_task(rt: Runtime, actor: User, task_id: int) -> tuple[Task, list[AnnotationRecord]]:
    with rt.db.read() as conn:
        task, project = _task_in(conn, task_id, actor)
        anns = [a for a in repo.annotations_of(conn, task_id) if visible(project, actor, a)]
        if project.staged:  # audits need a workflow
            anns = audits.hide(conn, actor, task_id, anns)
        task = workflow.annotator_view(conn, project, actor, [task])[0]
    return task, anns


def next_task(rt: Runtime, actor: User, project_id: int, engine: bool = True) -> Task | None:
    """The caller's unfinished draft if any, else the oldest open task nobody else holds,
    reserved for the caller for ``task_lock_s`` seconds. Projects with a workflow ask its engine
    (``engine=False``: raise :class:`EngineRequired` instead)."""
    with rt.db.write() as conn:
        project = project_for(conn, project_id, actor)
        if not project.staged:
            return _reserve(rt, conn, project_id, actor)
    if not engine:
        raise EngineRequired
    return workflow.next_task(rt, actor, project_id)


def _reserve(rt: Runtime, conn: Connection, project_id: int, actor: User) -> Task | None:
    draft = repo.user_draft_task(conn, project_id, actor.id)
    if draft is not None:
        return draft
    now = utcnow()
    return repo.reserve_next(conn, project_id, actor.id, now, now + timedelta(seconds=rt.settings.task_lock_s))


def get_annotation(rt: Runtime, actor: User, annotation_id: int) -> AnnotationRecord:
    with rt.db.read() as conn:
        ann, project = _ann_in(conn, annotation_id, actor)
        audit = audits.covering(conn, actor, ann.task_id, ann) if project.staged and ann.author_id == actor.id else None
        if audit is None:
            return ann
        mine = audits.own(audit, actor, ann)  # answered again as an audit: the first answer is not offered
        if mine is None:
            raise NotFoundError(f"annotation {annotation_id} does not exist or you may not see it")
        return mine


def _lead_time(value: float | None) -> float | None:
    if value is not None and not (value >= 0 and value < 1e9):
        raise InvariantError(f"lead_time must be a number of seconds >= 0, got {value!r}")
    return value


def _after_submit(conn: Connection, task: Task, project: Project, actor: User, ann: AnnotationRecord,
                  events: list[dict[str, Any]]) -> list[int]:
    """Update the task's progress and record ``events`` (plus task.completed when it is); returns
    webhook deliveries to send."""
    n, done = repo.refresh_progress(conn, task.id, project.overlap)
    out = []
    if project.hooked:
        out += webhooks.record(conn, project.id, "annotation.submitted", {
            "task_id": task.id, "task_key": task.key, "annotation_id": ann.id, "author": ann.author_name,
            "version": ann.version, "regions": len(ann.regions)})
    if done and not task.completed:
        events.append({"project_id": project.id, "task_id": task.id, "kind": "task.completed", "actor_id": actor.id,
                       "data": {"submitted": n}})
        if project.hooked:
            out += webhooks.record(conn, project.id, "task.completed", {"task_id": task.id, "task_key": task.key,
                                                                        "submitted": n})
    repo.add_events(conn, events)
    return out


def create_annotation(rt: Runtime, actor: User, task_id: int, regions: Any, submit: bool = False,
                      lead_time: float | None = None, engine: bool = True) -> AnnotationRecord:
    """The caller's annotation on a task (one per person per task), as a draft or submitted. A submit in
    a workflow project goes through its engine (``engine=False``: raise :class:`EngineRequired`)."""
    lead_time = _lead_time(lead_time)
    with rt.db.write() as conn:
        task, project = _task_in(conn, task_id, actor)
        done = None if submit and project.staged else _create(conn, task, project, actor, regions, submit, lead_time)
    if done is None:  # a workflow project: its engine takes the submit
        if not engine:
            raise EngineRequired
        return workflow.submit(rt, actor, task_id, regions, lead_time)
    webhooks.dispatch(rt, done[1], task.project_id)
    return done[0]


def _create(conn: Connection, task: Task, project: Project, actor: User, regions: Any, submit: bool,
            lead_time: float | None) -> tuple[AnnotationRecord, list[int]]:
    """The new annotation and the webhook deliveries to send once committed."""
    task_id = task.id
    canonical = parse_regions(parse_schema(project), regions)
    audit = audits_repo.live(conn, task_id, actor.id) if project.staged else None  # audits need a workflow
    if audit is not None:  # a draft of an audit answer
        saved = audits.save(conn, audit, None, "draft", regions=canonical, lead_time=lead_time)
        return audits.as_annotation(saved, actor), []
    now = utcnow()
    status = AnnotationStatus.SUBMITTED if submit else AnnotationStatus.DRAFT
    out = repo.insert_own_annotation(conn, {
        "project_id": project.id, "task_id": task_id, "author_id": actor.id, "author_name": actor.username,
        "source": Source.HUMAN.value, "status": status.value, "regions": canonical, "lead_time": lead_time,
        "submitted_at": now if submit else None})
    if out is None:
        existing = repo.annotation_by(conn, task_id, actor.id)
        assert existing is not None
        raise ConflictError(f"you already have annotation {existing.id} on task {task_id} "
                            f"(version {existing.version}); update it instead")
    evs = [{"project_id": project.id, "task_id": task_id, "kind": "annotation.created", "actor_id": actor.id,
            "annotation_id": out.id, "data": {"status": status.value, "regions": len(canonical)}}]
    if submit:
        evs.append({"project_id": project.id, "task_id": task_id, "kind": "annotation.submitted",
                    "actor_id": actor.id, "annotation_id": out.id, "data": {"version": 1}})
    if not submit:
        repo.add_events(conn, evs)
        return out, []
    return out, _after_submit(conn, task, project, actor, out, evs)


def update_annotation(rt: Runtime, actor: User, annotation_id: int, expected_version: int, regions: Any = None,
                      submit: bool = False, lead_time: float | None = None, engine: bool = True) -> AnnotationRecord:
    """Save (draft) or submit new regions, only if ``expected_version`` is still current (else 409). A
    submit in a workflow project goes through its engine (``engine=False``: raise :class:`EngineRequired`)."""
    lead_time = _lead_time(lead_time)
    with rt.db.write() as conn:
        ann, project = _ann_in(conn, annotation_id, actor)
        staged = project.staged
        if not (submit and staged):
            out, hooks = _update(conn, ann, project, actor, expected_version, regions, submit, lead_time)
    if submit and staged:  # a workflow project: its engine takes the submit
        if not engine:
            raise EngineRequired
        return workflow.submit_existing(rt, actor, annotation_id, expected_version, regions, lead_time)
    webhooks.dispatch(rt, hooks, out.project_id)
    return out


def _update(conn: Connection, ann: AnnotationRecord, project: Project, actor: User, expected_version: int,
            regions: Any, submit: bool, lead_time: float | None) -> tuple[AnnotationRecord, list[int]]:
    """The saved annotation and the webhook deliveries to send once committed."""
    annotation_id, staged = ann.id, project.staged
    if ann.author_id != actor.id:
        raise PermissionDenied(f"annotation {annotation_id} belongs to someone else; reviewers use review")
    audit = audits_repo.live(conn, ann.task_id, actor.id) if staged else None  # audits need a workflow
    if audit is not None:  # a draft of an audit answer
        changes: dict[str, Any] = {"regions": (audit.regions or []) if regions is None
                                   else parse_regions(parse_schema(project), regions)}
        if lead_time is not None:
            changes["lead_time"] = lead_time
        return audits.as_annotation(audits.save(conn, audit, expected_version, "draft", **changes), actor), []
    if ann.status is AnnotationStatus.SKIPPED and not submit and regions is None:
        raise InvariantError("nothing to change")
    if staged and ann.status in (AnnotationStatus.SUBMITTED, AnnotationStatus.ACCEPTED):
        raise ConflictError(f"annotation {annotation_id} is {ann.status.value}: in a workflow project submitted work "
                            "changes only when a reviewer sends it back (then fix it and submit it again)")
    values: dict[str, Any] = {}
    if regions is not None:
        values["regions"] = parse_regions(parse_schema(project), regions)
    if lead_time is not None:
        values["lead_time"] = lead_time
    now = utcnow()
    if submit:
        values["status"] = AnnotationStatus.SUBMITTED.value
        values["submitted_at"] = now
        if lead_time is None and ann.lead_time is None:
            values["lead_time"] = (now - ann.created_at).total_seconds()
    elif ann.status is AnnotationStatus.SKIPPED:
        values["status"] = AnnotationStatus.DRAFT.value
    elif regions is not None and not staged and ann.status in (AnnotationStatus.ACCEPTED, AnnotationStatus.REJECTED):
        values["status"] = AnnotationStatus.SUBMITTED.value  # changed after review: to be reviewed again
    out = repo.update_annotation_returning(conn, annotation_id, expected_version, **values)
    if out is None:
        current = repo.annotation(conn, annotation_id)
        have = None if current is None else current.version
        raise ConflictError(f"annotation {annotation_id} is at version {have}, not {expected_version}: "
                            "someone saved it after you loaded it; reload and reapply your change")
    kind = "annotation.submitted" if submit else "annotation.saved"
    evs = [{"project_id": project.id, "task_id": ann.task_id, "kind": kind, "actor_id": actor.id,
            "data": {"version": expected_version + 1}, "annotation_id": annotation_id}]
    if not submit:
        repo.add_events(conn, evs)
        return out, []
    task = repo.task(conn, ann.task_id)
    assert task is not None
    return out, _after_submit(conn, task, project, actor, out, evs)


def skip_task(rt: Runtime, actor: User, task_id: int, reason: str = "") -> AnnotationRecord:
    """Record that the caller skipped a task; next-task will not offer it to them again."""
    if workflow.enabled_for_task(rt, task_id):
        return workflow.skip(rt, actor, task_id, reason)
    with rt.db.write() as conn:
        task, project = _task_in(conn, task_id, actor)
        mine = repo.annotation_by(conn, task_id, actor.id)
        if mine is not None and mine.status is not AnnotationStatus.DRAFT:
            raise ConflictError(f"task {task_id}: your annotation {mine.id} is already {mine.status.value}")
        if mine is not None:
            aid = mine.id
            if not repo.update_annotation(conn, aid, mine.version, status=AnnotationStatus.SKIPPED.value):
                raise ConflictError(f"annotation {aid} changed while skipping; reload")
        else:
            (aid,) = repo.insert_annotations(conn, [{
                "project_id": project.id, "task_id": task_id, "author_id": actor.id, "author_name": actor.username,
                "source": Source.HUMAN.value, "status": AnnotationStatus.SKIPPED.value, "regions": []}])
        repo.set_task_progress(conn, task_id, task.n_submitted, task.completed)
        repo.add_event(conn, project.id, task_id, "task.skipped", actor.id, {"reason": reason[:1000]}, aid)
        out = repo.annotation(conn, aid)
    assert out is not None
    return out


def review_annotation(rt: Runtime, actor: User, annotation_id: int, expected_version: int, accept: bool,
                      comment: str = "") -> AnnotationRecord:
    if workflow.enabled_for_annotation(rt, annotation_id):
        raise ConflictError(f"annotation {annotation_id}'s project reviews through its workflow stages: take the task "
                            "with POST /projects/{id}/workflow/next?stage=<stage> and decide with POST /tasks/{id}/review")
    with rt.db.write() as conn:
        ann, project = _ann_in(conn, annotation_id, actor)
        assert project.role is not None
        if project.role.rank < Role.REVIEWER.rank:
            raise PermissionDenied(f"reviewing needs the reviewer role in project {project.id}")
        if ann.status not in _FINISHED:
            raise ConflictError(f"annotation {annotation_id} is {ann.status.value}; only submitted work is reviewed")
        status = AnnotationStatus.ACCEPTED if accept else AnnotationStatus.REJECTED
        if not repo.update_annotation(conn, annotation_id, expected_version, status=status.value):
            raise ConflictError(f"annotation {annotation_id} is no longer at version {expected_version}; reload")
        repo.add_event(conn, project.id, ann.task_id, "annotation.reviewed", actor.id,
                       {"accepted": accept, "comment": comment[:10000], "version": expected_version + 1}, annotation_id)
        out = repo.annotation(conn, annotation_id)
    assert out is not None
    return out


def task_events(rt: Runtime, actor: User, task_id: int) -> list[Event]:
    """The task's history. Reviewers and above see all of it; an annotator sees their own events,
    the system's, and what others did to the annotator's own annotations (reviews and their
    comments), never other annotators' work."""
    with rt.db.read() as conn:
        _, project = _task_in(conn, task_id, actor)
        evs = repo.list_events(conn, task_id)
        mine = repo.annotation_by(conn, task_id, actor.id)
        audit = audits.covering(conn, actor, task_id, mine) if project.staged else None
    assert project.role is not None
    if project.staged:  # a task answered again as an audit shows nothing of the first pass
        evs = audits.history(evs, actor.id, audit, mine)
        mine = None if audit is not None else mine
    if project.role.rank >= Role.REVIEWER.rank:
        return evs
    own = None if mine is None else mine.id
    return [e for e in evs if e.actor_id == actor.id or e.actor_id is None
            or (own is not None and e.annotation_id == own and e.kind == "annotation.reviewed")]
