"""Exports: immutable, versioned snapshots of a project in any format, built by a background job.

Each snapshot's files live in storage under ``exports/<project>/<version>/``; its manifest lists
every file with size and SHA-256, and the content hash is the SHA-256 of the manifest's file list,
so two snapshots with the same hash hold the same bytes.

Gold tasks (honeypots) are not work: by default (``gold="exclude"``) a snapshot leaves out the items
added as gold and every annotator's answer to a gold task (on tasks promoted to gold, the answers given
after the promotion; the accepted work they were promoted from stays). ``gold="include"`` keeps them
all. Either way, in a project with gold tasks the manifest's ``gold`` says which: ``{"mode", "items"
(keys of the gold tasks), "answers" (ids of the annotations that answered them as gold)}``.
"""

from __future__ import annotations

import hashlib
import shutil
import tempfile
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from labelgate import formats
from labelgate.core import Annotation, Dataset, Provenance, Source
from labelgate.core.errors import InvariantError, NotFoundError
from labelgate.formats import ConversionReport
from labelgate.formats._gc import paused_gc
from labelgate.formats.native import schema_from_dict
from labelgate.server.db import utcnow
from labelgate.server.db.repos import jobs as repo
from labelgate.server.db.repos import projects as projects_repo
from labelgate.server.db.repos import tasks as tasks_repo
from labelgate.server.db.repos import workflow as workflow_repo
from labelgate.server.db.repos.tasks import StoredAnnotation
from labelgate.server.domain import AnnotationStatus, ExportFilter, ExportRecord, Job, JobStatus, Role, User
from labelgate.server.services import jobs, quality, webhooks
from labelgate.server.services.access import project_for
from labelgate.server.services.rows import items_from_dicts, table_from_texts
from labelgate.server.services.runtime import Runtime
from labelgate.server.services.workflow_host import gold_tasks

__all__ = ["build_export", "export_files", "get_export", "list_exports", "start_export"]

_HUMAN_DONE = (AnnotationStatus.SUBMITTED.value, AnnotationStatus.ACCEPTED.value, AnnotationStatus.REJECTED.value)
GOLD_MODES = ("exclude", "include")


def start_export(rt: Runtime, actor: User, project_id: int, fmt: str, flt: ExportFilter = ExportFilter.ALL,
                 override_reason: str | None = None, gold: str = "exclude") -> tuple[ExportRecord, Job]:
    """Record a new snapshot version and queue the job that builds it. A project whose workflow has a
    quality gate exports only when it passes, or when a manager overrides it with ``override_reason``
    (the gate's result goes into the snapshot's manifest). ``gold``: see the module docstring."""
    if fmt not in formats.names():
        raise InvariantError(f"unknown export format {fmt!r}; known formats: {', '.join(formats.names())}")
    if gold not in GOLD_MODES:
        raise InvariantError(f"gold must be one of {GOLD_MODES} (leave gold tasks out of the snapshot, or keep them "
                             f"flagged in its manifest), got {gold!r}")
    flt = ExportFilter(flt)
    gate = quality.check_export(rt, actor, project_id, override_reason)
    with rt.db.write() as conn:
        project_for(conn, project_id, actor, Role.MANAGER)
        job_id = jobs.new_job(conn, "export", project_id, actor)
        record = repo.create_export(conn, project_id, fmt, flt, job_id, actor.id)
        if gate is not None:
            workflow_repo.save_gate(conn, record.id, gate)
        job = repo.get_job(conn, job_id)
    assert job is not None
    jobs.enqueue(rt, job_id, "export", export_id=record.id, gold=gold)  # after commit, never before
    return record, job


def _select(records: list[StoredAnnotation], flt: ExportFilter) -> list[StoredAnnotation]:
    human = [a for a in records if a.source != Source.MODEL.value and a.status in _HUMAN_DONE]
    if flt is ExportFilter.ACCEPTED:
        return [a for a in human if a.status == AnnotationStatus.ACCEPTED.value]
    if flt is ExportFilter.SUBMITTED:
        return [a for a in human if a.source == Source.HUMAN.value]
    if flt is ExportFilter.LATEST:
        latest: dict[int, StoredAnnotation] = {}
        for a in human:
            if a.source != Source.HUMAN.value:
                continue
            key = _aware(a.submitted_at or a.updated_at)
            cur = latest.get(a.task_id)
            if cur is None or key >= _aware(cur.submitted_at or cur.updated_at):
                latest[a.task_id] = a
        return sorted(latest.values(), key=lambda a: (a.task_id, a.id))
    models = [a for a in records if a.source == Source.MODEL.value and a.status in _HUMAN_DONE]
    return sorted(human + models, key=lambda a: (a.task_id, a.id))


def _aware(t: datetime) -> datetime:
    return t if t.tzinfo is not None else t.replace(tzinfo=UTC)


def _gold_answers(records: list[StoredAnnotation], gold: dict[int, float | None]) -> list[int]:
    """Annotations that answered a gold task as gold: all on tasks added as gold, those made after the
    promotion on promoted ones."""
    return sorted(a.id for a in records if a.task_id in gold
                  and ((at := gold[a.task_id]) is None or _aware(a.created_at).timestamp() >= at))


@paused_gc()  # millions of acyclic objects (rows, region dicts): the cyclic collector would only walk them
def _dataset(rt: Runtime, project_id: int, flt: ExportFilter, fmt: str,
             gold_mode: str = "exclude") -> tuple[Dataset, ConversionReport, dict[str, Any] | None]:
    """The snapshot as one table-backed dataset, already shaped the way ``fmt`` holds annotations
    (one per item, or provenance dropped, recorded in a report), so that writers with columnar
    paths can take them; and the manifest's ``gold`` entry (None in projects without gold tasks).
    Only the chosen annotations' regions are decoded, straight into one columnar table."""
    caps = formats.get_codec(fmt).capabilities
    report = ConversionReport(fmt)
    gold = gold_tasks(rt, project_id)
    with rt.db.snapshot() as conn:  # tasks and annotations from one consistent state
        project = projects_repo.get(conn, project_id)
        if project is None:
            raise NotFoundError(f"project {project_id} was deleted")
        tasks = tasks_repo.task_items(conn, project_id)
        # one item per annotation, without provenance: who and when matter only to the latest filter and gold
        bare = caps.per_item == "one" and not caps.lossless and flt is not ExportFilter.LATEST and not gold
        records = tasks_repo.stored_annotations(conn, project_id, provenance=not bare)
    keys = {tid: key for tid, key, _ in tasks}
    flagged = None
    if gold:
        answers = _gold_answers(records, gold)
        flagged = {"mode": gold_mode, "items": sorted(keys[t] for t in gold if t in keys), "answers": answers}
        if gold_mode == "exclude":
            dropped = set(answers)
            tasks = [t for t in tasks if gold.get(t[0], 0.0) is not None]
            records = [a for a in records if a.id not in dropped]
    items = items_from_dicts([item for _, _, item in tasks])
    chosen = _select(records, flt)
    schema = schema_from_dict(project.label_schema)
    if caps.per_item == "one" and not caps.lossless:
        by_task: dict[int, list[StoredAnnotation]] = {}
        for a in chosen:
            by_task.setdefault(a.task_id, []).append(a)
        groups = [by_task.get(tid, []) for tid, _, _ in tasks]
        _drop_each(report, "annotation.multiple", [key for (_, key, _), g in zip(tasks, groups, strict=True) if len(g) > 1],
                   "merged into one")
        if not caps.provenance:  # stored work always has a source and a time
            _drop_each(report, "annotation.provenance", [key for (_, key, _), g in zip(tasks, groups, strict=True) if g])
        table = table_from_texts([a.regions for group in groups for a in group], list(map(len, groups)))
        bounds = table.offsets.tolist()
        unknown = Provenance()  # one shared value (frozen): a hundred thousand equal ones cost a third of a second
        anns = [Annotation.from_table(key, table, slice(a, b), unknown)
                for (_, key, _), a, b in zip(tasks, bounds[:-1], bounds[1:], strict=True)]
        return Dataset(items, anns, schema), report, flagged
    table = table_from_texts([a.regions for a in chosen])
    anns = []
    for i, a in enumerate(chosen):
        prov = _provenance(a)
        if not caps.provenance and not caps.lossless and prov != Provenance():
            report.drop("annotation.provenance", keys[a.task_id])
            prov = Provenance()
        anns.append(Annotation.from_table(keys[a.task_id], table, table.rows_of(i), prov, str(a.id)))
    return Dataset(items, anns, schema), report, flagged


def _drop_each(report: ConversionReport, field_name: str, where: list[str], action: str = "dropped") -> None:
    """``report.drop(field_name, w, action)`` for each ``w``, in a few calls: the same losses and examples."""
    for w in where[:5]:
        report.drop(field_name, w, action)
    if len(where) > 5:
        report.drop(field_name, where[5], action, count=len(where) - 5)  # five examples kept already


def _provenance(a: StoredAnnotation) -> Provenance:
    return Provenance(Source(a.source), a.author_name, a.model, a.model_version, _aware(a.submitted_at or a.created_at),
                      a.lead_time)


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def build_export(rt: Runtime, job_id: str, export_id: int, gold: str = "exclude") -> dict[str, Any]:
    """The job: build the dataset, write it, store every file, record manifest and hash."""
    with rt.db.read() as conn:
        record = repo.export(conn, export_id)
    if record is None:
        raise NotFoundError(f"export {export_id} does not exist")
    with rt.db.write() as conn:
        repo.update_export(conn, export_id, status=JobStatus.RUNNING)
    try:
        ds, shaped, flagged = _dataset(rt, record.project_id, record.filter, record.format, gold)
        jobs.progress(rt, job_id, 0, len(ds.items))
        rt.settings.data_dir.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryDirectory(prefix="export-", dir=rt.settings.data_dir) as tmp:
            out = Path(tmp) / "snapshot"
            report = formats.write(ds, out, record.format)
            report.merge(shaped)
            jobs.progress(rt, job_id, len(ds.items))
            files: list[dict[str, Any]] = []
            root = out if out.is_dir() else out.parent
            for p in sorted(q for q in root.rglob("*") if q.is_file()):
                rel = p.relative_to(root).as_posix()
                files.append({"path": rel, "size": p.stat().st_size, "sha256": _sha256(p)})
            content_hash = hashlib.sha256("".join(f"{f['path']}\0{f['sha256']}\n" for f in files).encode()).hexdigest()
            prefix = f"exports/{record.project_id}/{record.version}"
            for f in files:
                with (root / f["path"]).open("rb") as fh:
                    rt.storage.put(f"{prefix}/{f['path']}", fh)
            shutil.rmtree(root, ignore_errors=True)
    except BaseException:
        with rt.db.write() as conn:
            repo.update_export(conn, export_id, status=JobStatus.FAILED, finished_at=utcnow())
        raise
    manifest = {
        "project_id": record.project_id, "version": record.version, "format": record.format,
        "filter": record.filter.value, "items": len(ds.items), "annotations": len(ds.annotations),
        "regions": ds.region_count, "files": files, "content_hash": content_hash,
        "created_at": utcnow().isoformat(),
    }
    if flagged is not None:
        manifest["gold"] = flagged
    with rt.db.write() as conn:
        gate = workflow_repo.gate(conn, export_id)
        if gate is not None:
            manifest["quality_gate"] = gate
        repo.update_export(conn, export_id, status=JobStatus.SUCCEEDED, manifest=manifest, content_hash=content_hash,
                           report=report.to_dict(), finished_at=utcnow())
        hooks = webhooks.record(conn, record.project_id, "export.ready", {
            "export_id": export_id, "version": record.version, "format": record.format,
            "filter": record.filter.value, "content_hash": content_hash})
    webhooks.dispatch(rt, hooks, record.project_id)
    return {"export_id": export_id, "version": record.version, "content_hash": content_hash}


def get_export(rt: Runtime, actor: User, export_id: int) -> ExportRecord:
    with rt.db.read() as conn:
        record = repo.export(conn, export_id)
        missing = NotFoundError(f"export {export_id} does not exist or you may not see it")
        if record is None:
            raise missing
        try:
            project_for(conn, record.project_id, actor, Role.MANAGER)
        except NotFoundError:
            raise missing from None
        return record


def list_exports(rt: Runtime, actor: User, project_id: int) -> list[ExportRecord]:
    with rt.db.read() as conn:
        project_for(conn, project_id, actor, Role.MANAGER)
        return repo.list_exports(conn, project_id)


def export_files(rt: Runtime, actor: User, export_id: int) -> tuple[ExportRecord, list[tuple[str, str]]]:
    """The snapshot and its files as ``(path in snapshot, storage key)``; 409 until it is ready."""
    from labelgate.core.errors import ConflictError

    record = get_export(rt, actor, export_id)
    if record.status is not JobStatus.SUCCEEDED or record.manifest is None:
        raise ConflictError(f"export {export_id} is {record.status.value}, not ready; poll its job {record.job_id}")
    prefix = f"exports/{record.project_id}/{record.version}"
    return record, [(f["path"], f"{prefix}/{f['path']}") for f in record.manifest["files"]]
