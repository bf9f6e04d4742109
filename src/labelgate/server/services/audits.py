"""Consistency audits on the server: an annotator's own past task re-served unannounced.

The engine decides when (``audits`` in the workflow config) and holds the audit lease; the server keeps
the second answer in ``audit_answers``, never in ``annotations`` (one per task and author), so exports,
task progress, review and peer agreement never see it and the first annotation is never touched.

What the audited member sees of that task, whatever their role, is what a fresh task would show:

- while the audit is live (served, not yet submitted, skipped or expired): "their annotation" is the
  audit answer, shown with the first annotation's id (none until something was saved); the task reads as
  unstarted; the task detail holds no other person's annotation (a task served for annotation shows a
  blind annotator none, reviewers included: finished work by others would say the task was done); the
  history is the task's from before they first worked on it and since the audit began. Drafts, submit and
  skip answer with the same status codes, headers and fields as on a fresh task.
- once it ended, the same holds for their own work, for good (it is in force): their annotation is the
  audit's outcome (submitted, then accepted when the first annotation is; skipped; a draft left when the
  lease ran out; nothing if nothing was saved), their own progress follows it, and their history shows
  the audit's steps as annotation events and not the first pass. Other people's work shows again as
  their role allows. Only a reviewer sending the first annotation back ends this (rework shows what was
  rejected).

Managers and reviewers see both answers truthfully: the first annotation as it is, the audit's events
under ``audit.*`` kinds, and the audit answers in the scorecards' test-retest figures.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime
from typing import Any

from sqlalchemy.engine import Connection

from labelgate.core import Source
from labelgate.core.errors import ConflictError
from labelgate.server.db import utcnow
from labelgate.server.db.repos import audits as repo
from labelgate.server.db.repos import tasks as tasks_repo
from labelgate.server.domain import AnnotationRecord, AnnotationStatus, AuditAnswer, Event, Task, User

__all__ = [
    "as_annotation", "covering", "covering_tasks", "hide", "history", "own", "save", "serve", "shown_version",
    "submit_values",
]

_STATUS = {"draft": AnnotationStatus.DRAFT, "submitted": AnnotationStatus.SUBMITTED, "skipped": AnnotationStatus.SKIPPED}
# the audit's events, stored under their own kinds, and the annotation events they read as to its author
_SHOWN_AS = {"audit.created": "annotation.created", "audit.saved": "annotation.saved",
            "audit.submitted": "annotation.submitted", "audit.skipped": "task.skipped"}
_ARRIVAL = ("task.created", "task.imported")  # a task's own events before anybody works on it


def shown_version(audit: AuditAnswer) -> int:
    """The version the annotator sees: the row starts at 1 with nothing saved, as if no annotation existed."""
    return audit.version - 1


def as_annotation(audit: AuditAnswer, author: User) -> AnnotationRecord:
    """The audit answer as the annotator sees their annotation (status open has none: not shown)."""
    return AnnotationRecord(
        id=audit.annotation_id or 0, project_id=audit.project_id, task_id=audit.task_id, author_id=author.id,
        author_name=author.username, source=Source.HUMAN.value, model=None, model_version=None,
        status=_STATUS.get(audit.status, AnnotationStatus.DRAFT), regions=list(audit.regions or []),
        version=shown_version(audit), lead_time=audit.lead_time, created_at=audit.created_at,
        updated_at=audit.updated_at, submitted_at=audit.submitted_at)


def _in_force(audit: AuditAnswer, first: tuple[AnnotationStatus, datetime | None] | None) -> bool:
    """Whether ``audit`` governs its author's view of the task (``first``: the first annotation's status
    and submission time). A live audit always does; an ended one until the first annotation is sent back
    (rejected, or resubmitted after the audit began)."""
    if audit.status in repo.LIVE:
        return True
    if first is None:
        return False
    status, submitted_at = first
    return status is not AnnotationStatus.REJECTED and (submitted_at is None or submitted_at <= audit.created_at)


def covering(conn: Connection, actor: User, task_id: int, first: AnnotationRecord | None) -> AuditAnswer | None:
    """The audit in force over what ``actor`` sees of their own work on the task, if any (``first``: their
    annotation on it)."""
    audit = repo.latest(conn, task_id, actor.id)
    if audit is None:
        return None
    state = None if first is None or first.id != audit.annotation_id else (first.status, first.submitted_at)
    return audit if _in_force(audit, state) else None


def covering_tasks(conn: Connection, actor: User, tasks: Sequence[Task]) -> dict[int, AuditAnswer]:
    """task id -> the audit in force over ``actor``'s own work on it, for those of ``tasks`` that have one."""
    latest = repo.latest_of_tasks(conn, actor.id, [t.id for t in tasks])
    if not latest:
        return latest
    firsts = repo.first_states(conn, [a.annotation_id for a in latest.values()
                                      if a.status not in repo.LIVE and a.annotation_id is not None])
    return {tid: a for tid, a in latest.items()
            if _in_force(a, None if a.annotation_id is None else firsts.get(a.annotation_id))}


def own(audit: AuditAnswer, author: User, first: AnnotationRecord | None) -> AnnotationRecord | None:
    """What ``author`` sees as their annotation under ``audit``: the audit answer as a fresh annotation
    would stand now (accepted with the first annotation, as the engine accepts work at once or after
    review), or None where nothing was saved."""
    if audit.version == 1:  # served, nothing saved (open, or expired so)
        return None
    shown = as_annotation(audit, author)
    if audit.status == "submitted" and first is not None and first.status is AnnotationStatus.ACCEPTED:
        return replace(shown, status=AnnotationStatus.ACCEPTED, version=shown.version + 1)
    return shown


def serve(conn: Connection, project_id: int, task_id: int, author_id: int) -> AuditAnswer:
    """The live audit row for an audit the engine just handed out (created on the first request; a
    repeated request for the same held audit finds it). Other live audits of the author are stale."""
    audit = repo.live(conn, task_id, author_id)
    if audit is None:
        first = tasks_repo.annotation_by(conn, task_id, author_id)
        audit = repo.start(conn, project_id, task_id, author_id, None if first is None else first.id)
    repo.close_others(conn, project_id, author_id, keep=audit.id)
    return audit


def save(conn: Connection, audit: AuditAnswer, expected_version: int | None, status: str, reason: str = "",
         **values: Any) -> AuditAnswer:
    """Write the live audit's answer (compare-and-set on the version the annotator saw, when given) and
    record the step as an ``audit.*`` event (its author reads it as the annotation event it stands for)."""
    if expected_version is not None and expected_version != shown_version(audit):
        raise ConflictError(f"annotation {audit.annotation_id} is at version {shown_version(audit)}, not "
                            f"{expected_version}: someone saved it after you loaded it; reload and reapply your change")
    if expected_version is None and status == "draft" and audit.status != "open":
        raise ConflictError(f"you already have annotation {audit.annotation_id} on task {audit.task_id} "
                            f"(version {shown_version(audit)}); update it instead")
    out = repo.update(conn, audit.id, audit.version, status=status, **values)
    if out is None:
        raise ConflictError(f"annotation {audit.annotation_id} changed while saving; reload the task")
    kind, data = _event(audit, out, reason)
    tasks_repo.add_event(conn, out.project_id, out.task_id, kind, out.author_id, data, out.annotation_id)
    return out


def _event(before: AuditAnswer, after: AuditAnswer, reason: str) -> tuple[str, dict[str, Any]]:
    """The event of one audit step, with the data the matching annotation event carries."""
    if after.status == "skipped":
        return "audit.skipped", {"reason": reason[:1000]}
    if after.status == "draft" and before.status == "open":
        return "audit.created", {"status": "draft", "regions": len(after.regions or [])}
    return f"audit.{'submitted' if after.status == 'submitted' else 'saved'}", {"version": shown_version(after)}


def submit_values(regions: list[dict[str, Any]], lead_time: float | None, guideline_version: int | None,
                  now: datetime | None = None) -> dict[str, Any]:
    return {"regions": regions, "lead_time": lead_time, "guideline_version": guideline_version,
            "submitted_at": now or utcnow()}


def hide(conn: Connection, actor: User, task_id: int, anns: list[AnnotationRecord]) -> list[AnnotationRecord]:
    """The task's annotations as the audited ``actor`` sees them (``anns``: those their role shows): their
    first annotation replaced by what :func:`own` shows, and during the audit nobody else's human work."""
    audit = repo.latest(conn, task_id, actor.id)
    if audit is None:
        return anns
    first = next((a for a in anns if a.id == audit.annotation_id and a.author_id == actor.id), None)
    if not _in_force(audit, None if first is None else (first.status, first.submitted_at)):
        return anns
    shown = [a for a in anns if a is not first]
    if audit.status in repo.LIVE:
        shown = [a for a in shown if a.author_id != actor.id and a.source == Source.MODEL.value]
    mine = own(audit, actor, first)
    return shown if mine is None else [*shown, mine]


def history(events: list[Event], author: int, audit: AuditAnswer | None, first: AnnotationRecord | None) -> list[Event]:
    """The task's events as ``author`` sees them under ``audit`` (the audit in force over their work, if
    any; ``first``: their first annotation), the audit's own read as the annotation events they stand for.
    While the audit is live: the task's arrival, then what happened since the audit began (anybody's
    earlier work would say the task was done). Once it ended: all but the author's first pass (their acts
    before the audit, their first annotation's events). With none in force (never audited, or the first
    annotation sent back since): all, without the author's audit steps."""
    if audit is None:
        return [e for e in events if not (e.kind in _SHOWN_AS and e.actor_id == author)]
    if first is not None and first.id != audit.annotation_id:
        first = None
    start = audit.created_at
    began = start if first is None else min(first.created_at, start)
    live = audit.status in repo.LIVE
    out = []
    for e in events:
        if e.kind in _SHOWN_AS and e.actor_id == author:
            if e.created_at >= start:
                out.append(replace(e, kind=_SHOWN_AS[e.kind]))
            continue
        if first is not None and e.annotation_id == first.id:
            continue
        if e.created_at < start and (e.kind not in _ARRIVAL if live else e.created_at >= began and e.actor_id == author):
            continue
        out.append(e)
    return out
