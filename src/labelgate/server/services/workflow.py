"""The workflow operations: configure, next task (annotate, review stages, adjudication), the caller's
assignment, submit, skip, review (per task and per region), adjudicate, gold tasks and guidelines.

Each runs in one :func:`~labelgate.server.services.workflow_host.session`: the annotation rows and the
engine's records are written in the same transaction; webhooks go out after the commit. Gold tasks
look like any other task to annotators: the same rows, the same responses; their answers live only in
the engine's log, which no annotator-facing endpoint reads. Audits (an annotator's own past task
re-served) look like fresh tasks too; their answers go to ``audit_answers`` (:mod:`.audits`).
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from sqlalchemy.engine import Connection

from labelgate.core import Source
from labelgate.core.errors import ConflictError, InvariantError, NotFoundError
from labelgate.formats.native import item_from_dict, item_to_dict
from labelgate.server.db import utcnow
from labelgate.server.db.repos import audits as audits_repo
from labelgate.server.db.repos import projects as projects_repo
from labelgate.server.db.repos import tasks as tasks_repo
from labelgate.server.db.repos import workflow as repo
from labelgate.server.domain import AnnotationRecord, AnnotationStatus, Project, Role, Task, User
from labelgate.server.services import audits, webhooks
from labelgate.server.services.access import project_for
from labelgate.server.services.projects import parse_schema
from labelgate.server.services.regions import parse_regions
from labelgate.server.services.runtime import Runtime
from labelgate.server.services.workflow_config import check_config
from labelgate.server.services.workflow_host import Session, hub, session
from labelgate.workflow import (
    ANNOTATE,
    AddGold,
    Adjudicate,
    AnnotatorFlagged,
    Assigned,
    DriftAlarm,
    GoldGraded,
    PromoteGold,
    PublishGuideline,
    RegionVerdict,
    RequestTask,
    Resume,
    Review,
    ReworkRequested,
    Skip,
    Submit,
    TaskAccepted,
)

__all__ = [
    "add_gold", "adjudicate", "annotator_view", "assignment", "get_workflow", "next_task", "promote_gold", "publish_guideline",
    "resume", "review", "set_workflow", "skip", "submit",
]


def set_workflow(rt: Runtime, actor: User, project_id: int, conf: Any) -> dict[str, Any]:
    with hub(rt).lock(project_id), rt.db.write() as conn:
        project = project_for(conn, project_id, actor, Role.MANAGER)
        check_config(conf, project.blind)
        if repo.records(conn, project_id, 0)[:1]:
            raise ConflictError(f"project {project_id}'s workflow has started: its configuration is fixed (the log "
                                "replays under it)")
        repo.save_config(conn, project_id, conf)
        hub(rt).drop(project_id)
    return dict(conf)


def get_workflow(rt: Runtime, actor: User, project_id: int) -> dict[str, Any]:
    with rt.db.read() as conn:
        project_for(conn, project_id, actor, Role.MANAGER)
        conf = repo.config(conn, project_id)
    if conf is None:
        raise NotFoundError(f"project {project_id} has no workflow")
    return conf


def _engine_ids_to_db(ids: tuple[str, ...]) -> list[int]:
    return [int(i.split("v", 1)[0]) for i in ids]


def _held_for_review(s: Session, member: str, task_id: str) -> bool:
    """Whether the review chain would hold an ordinary task ``member`` submitted now: each stage's sampling
    as :func:`labelgate.workflow.review.enter_chain` decides it (without counting an arrival)."""
    state = s.state
    stages = state.config.stages
    annotator = state.annotators.get(member)
    if stages and annotator is not None and annotator.extra_review:
        return True
    flagged = state.tasks[task_id].flagged
    return any(st.sampling.decide(ordinal=state.arrivals.get(st.name, 0) + 1, stage=st.name, task_id=task_id,
                                  flagged=flagged) for st in stages)


def _act(s: Session) -> list[int]:
    """Mirror the engine's effects in the server's rows; returns webhook deliveries to send.

    A gold answer evolves, for its annotator, as an ordinary one would: accepted at once when the review
    chain would not hold an ordinary task, else left ``submitted`` until a reviewer next accepts a task
    (its grade stays in the engine). Gold tasks' own rows never change."""
    hooks: list[int] = []
    for effect in s.effects:
        if isinstance(effect, TaskAccepted):
            final = effect.final
            ids = _engine_ids_to_db(final.sources)
            repo.set_annotation_status(s.conn, ids, AnnotationStatus.ACCEPTED.value)
            repo.mark_accepted(s.conn, int(final.task_id), len(ids))
            hooks += webhooks.record(s.conn, s.project.id, "task.completed", {
                "task_id": int(final.task_id), "annotations": ids, "method": final.method})
            if s.state.tasks[final.task_id].reviews:  # a reviewer accepted: gold answers waiting "in review" go too
                pending = repo.submitted_on(s.conn, s.project.id, [int(t) for t in s.state.gold if t.isdigit()])
                repo.set_annotation_status(s.conn, pending, AnnotationStatus.ACCEPTED.value)
        elif isinstance(effect, GoldGraded) and not _held_for_review(s, effect.member, effect.task_id):
            mine = tasks_repo.annotation_by(s.conn, int(effect.task_id), int(effect.member))
            if mine is not None and mine.status is AnnotationStatus.SUBMITTED:
                repo.set_annotation_status(s.conn, [mine.id], AnnotationStatus.ACCEPTED.value)
        elif isinstance(effect, DriftAlarm):
            hooks += webhooks.record(s.conn, s.project.id, "annotator.drift", {
                "user_id": int(effect.member), "gold_index": effect.index})
        elif isinstance(effect, AnnotatorFlagged):
            hooks += webhooks.record(s.conn, s.project.id, "annotator.flagged", {
                "user_id": int(effect.member), "actions": list(effect.actions), "accuracy": effect.accuracy,
                "ci": list(effect.ci), "graded": effect.graded})
        elif isinstance(effect, ReworkRequested):
            task = s.state.tasks[effect.task_id]
            own = [x.annotation_id for x in task.submissions if x.annotator == effect.annotator]
            repo.set_annotation_status(s.conn, _engine_ids_to_db(tuple(own[-1:])), AnnotationStatus.REJECTED.value)
    s.effects.clear()
    return hooks


def _task_of(s: Session, task_id: int) -> Task:
    task = tasks_repo.task(s.conn, task_id)
    if task is None or task.project_id != s.project.id:
        raise NotFoundError(f"task {task_id} does not exist or you are not a member of its project")
    return task


def _project_of_task(rt: Runtime, task_id: int) -> int:
    with rt.db.read() as conn:
        task = tasks_repo.task(conn, task_id)
    if task is None:
        raise NotFoundError(f"task {task_id} does not exist or you are not a member of its project")
    return task.project_id


def next_task(rt: Runtime, actor: User, project_id: int, stage: str = ANNOTATE) -> Task | None:
    with session(rt, project_id, actor) as s:
        assert s.project.role is not None
        me = s.join(actor, s.project.role)
        effects = s.advance(RequestTask(me, stage))
        found = next((e.assignment for e in effects if isinstance(e, Assigned)), None)
        if stage == ANNOTATE:
            lease = None if found is None else s.state.leases.get(found.task_id, me)
            if found is not None and lease is not None and lease.mode == "audit":
                audits.serve(s.conn, s.project.id, int(found.task_id), actor.id)
            else:
                audits_repo.close_others(s.conn, s.project.id, actor.id, keep=None)
        task = None if found is None else annotator_view(s.conn, s.project, actor, [_task_of(s, int(found.task_id))])[0]
        s.effects.clear()
    return task


def annotator_view(conn: Connection, project: Project, actor: User, tasks: list[Task]) -> list[Task]:
    """Tasks as an annotator of a blind workflow project sees them: the progress is their own (one
    submitted and completed once their annotation is accepted, else none), by the same rule for gold and
    ordinary tasks, so a gold task's row (never completed) tells nothing. Reviewers and up see the rows.
    A task the caller is answering as an audit reads as unstarted, whatever their role; one they answered
    as an audit shows their own progress by the audit's outcome (:mod:`.audits`)."""
    assert project.role is not None
    if not project.staged:
        return tasks
    covered = audits.covering_tasks(conn, actor, tasks)
    live = {tid for tid, a in covered.items() if a.status in audits_repo.LIVE}
    tasks = [replace(t, n_submitted=0, completed=False) if t.id in live else t for t in tasks]
    if not project.blind or project.role.rank >= Role.REVIEWER.rank:
        return tasks
    done = repo.accepted_by(conn, actor.id, [t.id for t in tasks]) - {
        tid for tid, a in covered.items() if a.status != "submitted"}
    return [replace(t, n_submitted=int(t.id in done), completed=t.id in done) for t in tasks]


def assignment(rt: Runtime, actor: User, task_id: int) -> dict[str, Any]:
    """What the caller holds on a task: mode (annotate, rework, review, adjudicate), stage, lease end,
    guideline version, a rejection's comments, and the annotations to look at."""
    project_id = _project_of_task(rt, task_id)
    with session(rt, project_id, actor) as s:
        me = str(actor.id)
        mine = s.state.annotators.get(me)
        held = None if mine is None else next((a for a in mine.holding.values() if a.task_id == str(task_id)), None)
        if held is None:
            raise NotFoundError(f"you hold no assignment on task {task_id}: ask for your next task")
        return {"task_id": task_id, "mode": held.mode, "stage": held.stage, "lease_expires": held.lease_expires,
                "guideline_version": held.guideline_version,
                "comments": [{"region_id": c.region_id, "accept": c.accept, "comment": c.comment} for c in held.comments],
                "note": held.note, "annotations": _engine_ids_to_db(held.sources),
                "proposal": held.proposal if held.mode == "adjudicate" else None}


def submit(rt: Runtime, actor: User, task_id: int, regions: Any, lead_time: float | None = None) -> AnnotationRecord:
    project_id = _project_of_task(rt, task_id)
    with session(rt, project_id, actor) as s:
        assert s.project.role is not None
        me = s.join(actor, s.project.role)
        task = _task_of(s, task_id)
        canonical = parse_regions(parse_schema(s.project), regions)
        lease = s.state.leases.get(str(task_id), me)
        if lease is None:
            raise ConflictError(f"you hold no assignment on task {task_id} (never assigned, already submitted, or "
                                "the lease expired): ask for your next task")
        if lease.mode == "audit":
            return _submit_audit(s, actor, task_id, canonical, lead_time)
        now = utcnow()
        mine = tasks_repo.annotation_by(s.conn, task_id, actor.id)
        values = {"regions": canonical, "status": AnnotationStatus.SUBMITTED.value, "submitted_at": now,
                  "lead_time": lead_time}
        if mine is None:
            ann = tasks_repo.insert_annotation(s.conn, {
                "project_id": project_id, "task_id": task_id, "author_id": actor.id, "author_name": actor.username,
                "source": Source.HUMAN.value, **values})
        else:
            updated = tasks_repo.update_annotation_returning(s.conn, mine.id, mine.version, **values)
            assert updated is not None  # the project lock serialises writers of this row
            ann = updated
        version = s.state.guideline_version
        s.advance(Submit(me, str(task_id), f"{ann.id}v{ann.version}", canonical))
        repo.tag_annotation(s.conn, project_id, ann.id, version, f"{ann.id}v{ann.version}")
        tasks_repo.add_event(s.conn, project_id, task_id, "annotation.submitted", actor.id, {"version": ann.version}, ann.id)
        hooks = webhooks.record(s.conn, project_id, "annotation.submitted", {
            "task_id": task_id, "task_key": task.key, "annotation_id": ann.id, "author": ann.author_name,
            "version": ann.version, "regions": len(canonical)})
        hooks += _act(s)
    webhooks.dispatch(rt, hooks, project_id)
    return ann  # as the submit wrote it, before the engine's effects: a gold task answers exactly the same


def _submit_audit(s: Session, actor: User, task_id: int, canonical: list[dict[str, Any]],
                  lead_time: float | None) -> AnnotationRecord:
    """An audit's answer: to ``audit_answers`` and the engine's retest pair; the task and the first
    annotation stay as they were, no webhook or task event tells anyone (the answer is not an annotation)."""
    audit = audits.serve(s.conn, s.project.id, task_id, actor.id)
    version = s.state.guideline_version
    s.advance(Submit(str(actor.id), str(task_id), f"audit-{audit.id}", canonical))
    done = audits.save(s.conn, audit, None, "submitted", **audits.submit_values(canonical, lead_time, version))
    _act(s)
    return audits.as_annotation(done, actor)


def skip(rt: Runtime, actor: User, task_id: int, reason: str = "") -> AnnotationRecord:
    project_id = _project_of_task(rt, task_id)
    with session(rt, project_id, actor) as s:
        me = str(actor.id)
        lease = s.state.leases.get(str(task_id), me)
        s.advance(Skip(me, str(task_id), reason or None))
        if lease is not None and lease.mode == "audit":
            audit = audits.serve(s.conn, s.project.id, task_id, actor.id)
            skipped = audits.save(s.conn, audit, None, "skipped", reason=reason, regions=[])
            _act(s)
            return audits.as_annotation(skipped, actor)
        mine = tasks_repo.annotation_by(s.conn, task_id, actor.id)
        if mine is None:
            mine = tasks_repo.insert_annotation(s.conn, {
                "project_id": project_id, "task_id": task_id, "author_id": actor.id, "author_name": actor.username,
                "source": Source.HUMAN.value, "status": AnnotationStatus.SKIPPED.value, "regions": []})
        elif mine.status is AnnotationStatus.DRAFT:
            mine = tasks_repo.update_annotation_returning(s.conn, mine.id, mine.version,
                                                          status=AnnotationStatus.SKIPPED.value) or mine
        tasks_repo.add_event(s.conn, project_id, task_id, "task.skipped", actor.id, {"reason": reason[:1000]}, mine.id)
        _act(s)
    return mine


def _verdicts(regions: list[dict[str, Any]]) -> tuple[RegionVerdict, ...]:
    try:
        return tuple(RegionVerdict(str(r["region_id"]), bool(r["accept"]), r.get("comment")) for r in regions)
    except (KeyError, TypeError) as exc:
        raise InvariantError(f"region verdicts need region_id and accept: {exc}") from None


def review(rt: Runtime, actor: User, task_id: int, accept: bool, comment: str | None = None,
           regions: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    """Accept or reject the task at the reviewer's stage; ``regions``: ``[{region_id, accept, comment}]``
    where a region id is the region's ``id`` (or its index in the annotation when it has none)."""
    project_id = _project_of_task(rt, task_id)
    with session(rt, project_id, actor, Role.ANNOTATOR) as s:
        me = str(actor.id)
        s.advance(Review(me, str(task_id), bool(accept), _verdicts(regions or []), comment))
        tasks_repo.add_event(s.conn, project_id, task_id, "task.reviewed", actor.id, {
            "accepted": bool(accept), "comment": (comment or "")[:10000], "regions": regions or []})
        hooks = _act(s)
        t = s.state.tasks[str(task_id)]
        out = {"task_id": task_id, "status": t.status.value,
               "stage": s.engine.config.stages[t.stage].name if t.stage >= 0 else None}
    webhooks.dispatch(rt, hooks, project_id)
    return out


def adjudicate(rt: Runtime, actor: User, task_id: int, regions: Any, sources: list[int], method: str) -> AnnotationRecord:
    project_id = _project_of_task(rt, task_id)
    with session(rt, project_id, actor) as s:
        me = str(actor.id)
        canonical = parse_regions(parse_schema(s.project), regions)
        t = s.state.task(str(task_id))
        by_db = {int(x.annotation_id.split("v", 1)[0]): x.annotation_id for x in t.annotate_submissions()}
        unknown = [x for x in sources if x not in by_db]
        if unknown:
            raise InvariantError(f"adjudication of task {task_id}: annotations {unknown} are not among its {sorted(by_db)}")
        s.advance(Adjudicate(me, str(task_id), canonical, tuple(by_db[x] for x in sources), method))  # refuses first
        ann = tasks_repo.insert_annotation(s.conn, {
            "project_id": project_id, "task_id": task_id, "author_id": actor.id, "author_name": actor.username,
            "source": Source.HUMAN.value,
            "status": AnnotationStatus.SUBMITTED.value, "regions": canonical, "submitted_at": utcnow()})
        repo.tag_annotation(s.conn, project_id, ann.id, s.state.guideline_version, f"{ann.id}v{ann.version}")
        repo.set_annotation_status(s.conn, [ann.id], AnnotationStatus.ACCEPTED.value)
        hooks = _act(s)
        out = tasks_repo.annotation(s.conn, ann.id)
    webhooks.dispatch(rt, hooks, project_id)
    assert out is not None
    return out


def add_gold(rt: Runtime, actor: User, project_id: int, entries: list[dict[str, Any]]) -> list[Task]:
    """New gold tasks: ``[{"item": native item, "regions": the gold answer}]``."""
    with session(rt, project_id, actor, Role.MANAGER) as s:
        schema = parse_schema(s.project)
        rows, answers = [], []
        for i, e in enumerate(entries):
            try:
                item = item_to_dict(item_from_dict(e["item"]))
            except (KeyError, TypeError, ValueError) as exc:
                raise InvariantError(f"gold[{i}]: a gold entry needs a native 'item' object: {exc}") from None
            rows.append((str(item["id"]), item))
            answers.append(parse_regions(schema, e.get("regions", [])))
        clash = tasks_repo.existing_keys(s.conn, project_id, [k for k, _ in rows])
        if clash:
            raise ConflictError(f"tasks {sorted(clash)[:5]} already exist in project {project_id}")
        ids = tasks_repo.insert_tasks(s.conn, project_id, rows)
        for (key, _), answer in zip(rows, answers, strict=True):
            s.advance(AddGold(str(ids[key]), answer))
        s.engine.max_task = max([s.engine.max_task, *ids.values()])
        return [_task_of(s, ids[k]) for k, _ in rows]


def promote_gold(rt: Runtime, actor: User, task_id: int, regions: Any = None) -> dict[str, Any]:
    project_id = _project_of_task(rt, task_id)
    with session(rt, project_id, actor, Role.MANAGER) as s:
        answer = None if regions is None else parse_regions(parse_schema(s.project), regions)
        s.advance(PromoteGold(str(task_id), answer))
    return {"task_id": task_id, "gold": True}


def publish_guideline(rt: Runtime, actor: User, project_id: int, text: str, round_tasks: int = 0,
                      round_k: int | None = None, round_priority: int | None = None) -> dict[str, Any]:
    """A new guideline version, optionally opening an agreement round on ``round_tasks`` unstarted tasks."""
    if len(text) > 1_000_000:
        raise InvariantError("guidelines are limited to 1,000,000 characters")
    with session(rt, project_id, actor, Role.MANAGER) as s:
        g = projects_repo.add_guideline(s.conn, project_id, text, actor.id)
        effects = s.advance(PublishGuideline(g.version, text, round_tasks, round_k, round_priority))
        opened = [int(t) for e in effects for t in getattr(e, "task_ids", ())]
    return {"version": g.version, "round_tasks": opened}


def resume(rt: Runtime, actor: User, project_id: int, user_id: int, reason: str) -> dict[str, Any]:
    with session(rt, project_id, actor, Role.MANAGER) as s:
        s.advance(Resume(str(user_id), reason))
    return {"user_id": user_id, "resumed": True}


def enabled_for_task(rt: Runtime, task_id: int) -> bool:
    with rt.db.read() as conn:
        task = tasks_repo.task(conn, task_id)
        return task is not None and repo.config(conn, task.project_id) is not None


def enabled_for_annotation(rt: Runtime, annotation_id: int) -> bool:
    with rt.db.read() as conn:
        ann = tasks_repo.annotation(conn, annotation_id)
        return ann is not None and repo.config(conn, ann.project_id) is not None


def submit_existing(rt: Runtime, actor: User, annotation_id: int, expected_version: int, regions: Any = None,
                    lead_time: float | None = None) -> AnnotationRecord:
    """``PUT /annotations/{id}`` with submit in a workflow project: the same checks, then :func:`submit`."""
    with rt.db.read() as conn:
        ann = tasks_repo.annotation(conn, annotation_id)
        audit = None if ann is None else audits_repo.live(conn, ann.task_id, actor.id)
    if ann is None or ann.author_id != actor.id:
        raise NotFoundError(f"annotation {annotation_id} does not exist or is not yours")
    if audit is not None:  # the annotator is answering this task again as an audit
        if audits.shown_version(audit) != expected_version:
            raise ConflictError(f"annotation {annotation_id} is at version {audits.shown_version(audit)}, not "
                                f"{expected_version}: someone saved it after you loaded it; reload and reapply your change")
        return submit(rt, actor, ann.task_id, (audit.regions or []) if regions is None else regions, lead_time)
    if ann.version != expected_version:
        raise ConflictError(f"annotation {annotation_id} is at version {ann.version}, not {expected_version}: "
                            "someone saved it after you loaded it; reload and reapply your change")
    return submit(rt, actor, ann.task_id, ann.regions if regions is None else regions, lead_time)
