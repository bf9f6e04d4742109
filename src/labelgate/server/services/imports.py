"""Import an annotation file in any registered format: new tasks, plus its annotations as
existing human work or as model predictions. One transaction: a crash leaves all or nothing, and
the same file imported again is recognised by its content hash and not duplicated."""

from __future__ import annotations

import hashlib
import os
import re
from collections import Counter
from collections.abc import Callable
from datetime import UTC, datetime
from enum import Enum
from itertools import chain
from operator import attrgetter
from pathlib import Path
from typing import Any

import orjson

from labelgate import formats
from labelgate.core import Dataset, ItemKind, LabelSchema, Source
from labelgate.core.errors import FormatError, InvariantError, LabelgateError
from labelgate.formats._gc import paused_gc
from labelgate.formats.native import item_to_dict, schema_from_dict, schema_to_dict
from labelgate.server.db.repos import jobs as jobs_repo
from labelgate.server.db.repos import projects as projects_repo
from labelgate.server.db.repos import tasks as tasks_repo
from labelgate.server.domain import ImportRecord, Job, Role, Task, User
from labelgate.server.services.access import project_for
from labelgate.server.services.rows import encoded_region_chunks, labels_in
from labelgate.server.services.runtime import Runtime

__all__ = [
    "ImportKind", "Progress", "create_tasks", "file_hash", "import_dataset", "import_file", "list_imports", "run_import",
    "start_import",
]


Progress = Callable[[int, int], None]


class ImportKind(str, Enum):
    ANNOTATIONS = "annotations"  # keep each annotation's own provenance (human, model, gold)
    PREDICTIONS = "predictions"  # every annotation becomes a model prediction


def file_hash(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def _schema_for(project_schema: dict[str, Any], ds: Dataset) -> tuple[LabelSchema, dict[str, Any] | None]:
    """The schema to check against, and a new schema to store when the project had none."""
    schema = schema_from_dict(project_schema)
    if len(schema) == 0:
        adopted = ds.schema.with_classes(labels_in(ds))
        return adopted, schema_to_dict(adopted)
    return schema, None


def import_file(rt: Runtime, actor: User, project_id: int, path: Path, filename: str, fmt: str | None = None,
                kind: ImportKind = ImportKind.ANNOTATIONS, model: str | None = None,
                model_version: str | None = None, progress: Progress | None = None) -> ImportRecord:
    """Read ``path`` (format detected unless ``fmt``) and import it; see :func:`import_dataset`.
    ``progress(done, total)`` hears of each phase: read, checked, stored."""
    with rt.db.read() as conn:
        project_for(conn, project_id, actor, Role.MANAGER)
        digest = file_hash(path)
        found = jobs_repo.find_import(conn, project_id, digest, ImportKind(kind).value)
    if found is not None:
        return ImportRecord(**{**found.__dict__, "reused": True})
    name = fmt or "format detection"
    try:
        name = fmt or formats.detect(path)
        ds = formats.read(path, name)
    except FormatError as e:
        raise type(e)(_as_sent(e.detail, path, filename), path=filename if e.path is None else _as_sent(e.path, path, filename),
                      where=e.where) from e
    except (KeyError, IndexError, TypeError, ValueError, AttributeError) as e:
        if isinstance(e, LabelgateError):
            raise
        # a reader tripping over a file it does not expect is still bad input, not a server fault
        why = _as_sent(f"({type(e).__name__}: {e})", path, filename)
        raise FormatError(f"the {name} reader could not read this file {why}", path=filename) from e
    if progress is not None:
        progress(1, 3)
    rec = import_dataset(rt, actor, project_id, ds, name, filename, digest, kind, model, model_version)
    if progress is not None:
        progress(3, 3)
    return rec


def _as_sent(text: str, path: Path, filename: str) -> str:
    """``text`` naming the file as its sender called it, not where the server keeps it (an upload's temporary
    path would tell every client the server's directory layout); files beside or inside it (a YOLO
    directory, an unpacked archive) are named relative to it. The path as given and resolved, longest first."""
    for full in sorted({str(path), str(path.resolve())}, key=len, reverse=True):
        text = re.sub(re.escape(full) + r"(?![\w.-])", lambda _: filename, text)
    for folder in sorted({str(path.parent), str(path.resolve().parent)}, key=len, reverse=True):
        text = text.replace(folder + os.sep, "")
    return text


def import_dataset(rt: Runtime, actor: User, project_id: int, ds: Dataset, fmt: str, filename: str,
                   digest: str, kind: ImportKind = ImportKind.ANNOTATIONS, model: str | None = None,
                   model_version: str | None = None) -> ImportRecord:
    kind = ImportKind(kind)
    if kind is ImportKind.PREDICTIONS and not model:
        raise InvariantError("importing predictions needs the model's name (model=...)")
    # millions of acyclic objects (rows, JSON text): the cyclic collector would only walk them over and over
    with paused_gc(), rt.db.write() as conn:
        project = project_for(conn, project_id, actor, Role.MANAGER)
        found = jobs_repo.find_import(conn, project_id, digest, kind.value)
        if found is not None:
            return ImportRecord(**{**found.__dict__, "reused": True})
        schema, adopted = _schema_for(project.label_schema, ds)
        regions = encoded_region_chunks(ds, schema)  # labels checked first; the texts are made as they are stored
        import_id = jobs_repo.create_import(
            conn, project_id=project_id, format=fmt, filename=filename[:500], content_hash=digest, kind=kind.value,
            model=model, model_version=model_version, n_tasks=0, n_annotations=0, created_by=actor.id)
        if adopted is not None:
            projects_repo.update(conn, project_id, label_schema=adopted)
        keys = list(ds.items)
        existing = tasks_repo.existing_keys(conn, project_id, keys)
        new = [k for k in keys if k not in existing] if existing else keys
        item_of = list(map(attrgetter("item_id"), ds.annotations))
        columns, same, human = _provenance_columns(ds, kind, model, model_version)
        ids = {**existing, **tasks_repo.bulk_import(conn, project_id, import_id, new, _item_texts(ds, new),
                                                    [human.get(k, 0) for k in new] if human else None, project.overlap)}
        if human:
            columns["author_id"] = _own_work(conn, project_id, item_of, columns["source"], columns["author_name"], existing)
        tasks_repo.bulk_annotations(conn, project_id, import_id, list(map(ids.__getitem__, item_of)),
                                    {"regions": chain.from_iterable(regions), **columns}, same)
        for key in human:
            if key in existing:  # new tasks got their counts on insert
                total = tasks_repo.count_finished(conn, existing[key])
                tasks_repo.set_task_progress(conn, existing[key], total, total >= project.overlap)
        per_item = Counter(item_of)
        tasks_repo.bulk_events(conn, project_id, "task.imported", actor.id, list(map(ids.__getitem__, keys)), [
            _IMPORTED % (import_id, "false" if k in existing else "true", per_item.get(k, 0)) for k in keys])
        jobs_repo.set_import_counts(conn, import_id, len(new), len(item_of))
        found = jobs_repo.find_import(conn, project_id, digest, kind.value)
    assert found is not None
    return found


# a task.imported event's data as orjson writes {"import": id, "new": bool, "annotations": n}
_IMPORTED = '{"import":%d,"new":%s,"annotations":%d}'


def _provenance_columns(ds: Dataset, kind: ImportKind, model: str | None, model_version: str | None,
                        ) -> tuple[dict[str, list[Any]], dict[str, Any], Counter[str]]:
    """The annotations' provenance as columns: those that vary (one value per annotation) and those
    that do not (one value), and per item the number of human annotations (finished work)."""
    provs = list(map(attrgetter("provenance"), ds.annotations))
    columns: dict[str, list[Any]] = {}
    same: dict[str, Any] = {}
    human: Counter[str] = Counter()
    if kind is ImportKind.PREDICTIONS:
        same |= {"source": Source.MODEL.value, "model": model, "model_version": model_version, "author_name": None,
                 "author_id": None}
    else:
        columns["source"] = [p.source.value for p in provs]
        columns |= {f: list(map(attrgetter(a), provs)) for f, a in
                    (("model", "model"), ("model_version", "model_version"), ("author_name", "author"))}
        human.update(a.item_id for a, s in zip(ds.annotations, columns["source"], strict=True) if s == Source.HUMAN.value)
        if not human:
            same["author_id"] = None
    lead = list(map(attrgetter("lead_time"), provs))
    created = list(map(attrgetter("created_at"), provs))
    if lead.count(None) == len(lead):
        same["lead_time"] = None
    else:
        columns["lead_time"] = lead
    if created.count(None) == len(created):
        same["submitted_at"] = None
    else:
        columns["submitted_at"] = list(map(_utc, created))
    return columns, same, human


def _own_work(conn: Any, project_id: int, item_of: list[str], sources: list[str], authors: list[str | None],
              existing: dict[str, int]) -> list[int | None]:
    """Per annotation, the member whose own work it is (a human annotation by a member's name on a
    new task, the first such per member and task), else None: next-task will not offer the task to
    them again."""
    members = {m.username: m.user_id for m in projects_repo.members(conn, project_id)}
    owned: set[tuple[str, int]] = set()
    out: list[int | None] = []
    for item, source, author in zip(item_of, sources, authors, strict=True):
        uid = members.get(author) if source == Source.HUMAN.value and author is not None else None
        if uid is not None and item not in existing and (item, uid) not in owned:
            owned.add((item, uid))
            out.append(uid)
        else:
            out.append(None)
    return out


def _item_texts(ds: Dataset, keys: list[str]) -> list[str]:
    """Each item of ``keys`` as the JSON text of its native dict; plain images (a media path, size
    and number; no text, video, frame or metadata) through one template."""
    out = []
    for k in keys:
        it = ds.items[k]
        if (it.kind is ItemKind.IMAGE and type(it.media) is str and type(it.width) is int and type(it.height) is int
                and type(it.number) is int and it.text is None and it.video is None and it.frame is None and not it.metadata):
            text = _IMAGE % (_str(it.id), _str(it.media), it.width, it.height, it.number)
            out.append(text + "}" if it.subset is None else f'{text},"subset":{_str(it.subset)}}}')
        else:
            out.append(orjson.dumps(item_to_dict(it), option=orjson.OPT_SERIALIZE_NUMPY).decode())
    return out


# the start of a plain image item's native dict as orjson writes it (keys in item_to_dict's order)
_IMAGE = '{"id":%s,"kind":"image","media":%s,"width":%d,"height":%d,"number":%d'


def _str(s: str) -> str:
    return orjson.dumps(s).decode()


def _utc(dt: datetime | None) -> datetime | None:
    """Timestamps from files: naive ones are taken as UTC, others converted to it."""
    if dt is None:
        return None
    return dt.replace(tzinfo=UTC) if dt.tzinfo is None else dt.astimezone(UTC)


def list_imports(rt: Runtime, actor: User, project_id: int) -> list[ImportRecord]:
    with rt.db.read() as conn:
        project_for(conn, project_id, actor, Role.MANAGER)
        return jobs_repo.list_imports(conn, project_id)


def create_tasks(rt: Runtime, actor: User, project_id: int, items: list[dict[str, Any]]) -> list[Task]:
    """New tasks from native item objects; an id already in the project is a conflict."""
    from labelgate.core.errors import ConflictError
    from labelgate.formats.native import item_from_dict

    parsed = []
    for i, d in enumerate(items):
        try:
            parsed.append(item_from_dict(d))
        except KeyError as e:
            raise InvariantError(f"items[{i}]: missing key {e}") from None
        except (TypeError, ValueError) as e:
            raise InvariantError(f"items[{i}]: {e}") from None
    keys = [it.id for it in parsed]
    if len(set(keys)) != len(keys):
        dup = next(k for k, n in Counter(keys).items() if n > 1)
        raise InvariantError(f"item id {dup!r} appears twice in the request")
    with rt.db.write() as conn:
        project_for(conn, project_id, actor, Role.MANAGER)
        clash = tasks_repo.existing_keys(conn, project_id, keys)
        if clash:
            k = next(iter(clash))
            raise ConflictError(f"project {project_id} already has a task for item {k!r} (task {clash[k]})")
        ids = tasks_repo.insert_tasks(conn, project_id, [(it.id, item_to_dict(it)) for it in parsed])
        tasks_repo.bulk_events(conn, project_id, "task.created", actor.id, [ids[k] for k in keys])
        return tasks_repo.tasks_by_id(conn, [ids[k] for k in keys])


def start_import(rt: Runtime, actor: User, project_id: int, path: Path, filename: str, fmt: str | None = None,
                 kind: ImportKind = ImportKind.ANNOTATIONS, model: str | None = None,
                 model_version: str | None = None) -> Job:
    """Keep the uploaded file and import it in a background job (for files too big to wait for);
    the job's result is the import record, its error the reason a bad file was refused."""
    import shutil

    from labelgate.server.services import jobs

    kind = ImportKind(kind)
    if kind is ImportKind.PREDICTIONS and not model:
        raise InvariantError("importing predictions needs the model's name (model=...)")
    with rt.db.write() as conn:
        project_for(conn, project_id, actor, Role.MANAGER)
        job_id = jobs.new_job(conn, "import", project_id, actor)
        job = jobs_repo.get_job(conn, job_id)
    keep = rt.settings.upload_dir / "pending" / job_id
    keep.mkdir(parents=True, exist_ok=True)
    target = keep / path.name
    shutil.copyfile(path, target)
    jobs.enqueue(rt, job_id, "import", project_id=project_id, user_id=actor.id, path=str(target), filename=filename,
                 fmt=fmt, import_kind=kind.value, model=model, model_version=model_version)
    assert job is not None
    return job


def run_import(rt: Runtime, job_id: str, project_id: int, user_id: int, path: str, filename: str, fmt: str | None,
               import_kind: str, model: str | None, model_version: str | None) -> dict[str, Any]:
    """The job behind :func:`start_import`; the kept upload is removed whatever happens."""
    import shutil

    from labelgate.core.errors import NotFoundError
    from labelgate.server.db.repos import users as users_repo
    from labelgate.server.services import jobs

    try:
        with rt.db.read() as conn:
            actor = users_repo.get(conn, user_id)
        if actor is None:
            raise NotFoundError(f"user {user_id} no longer exists")
        jobs.progress(rt, job_id, 0, 3)
        rec = import_file(rt, actor, project_id, Path(path), filename, fmt, ImportKind(import_kind), model, model_version,
                          progress=lambda done, total: jobs.progress(rt, job_id, done, total))
    finally:
        shutil.rmtree(Path(path).parent, ignore_errors=True)
    return {**{k: v for k, v in rec.__dict__.items() if k != "created_at"}, "created_at": rec.created_at.isoformat()}
