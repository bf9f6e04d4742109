"""Tasks (one item each), annotations on them, and the append-only event log."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any, NamedTuple

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.engine import Connection

from labelgate.server.db.engine import utcnow
from labelgate.server.db.fast import FastStatement
from labelgate.server.db.repos._rows import fields, mapped
from labelgate.server.db.repos.bulk import bulk_insert
from labelgate.server.db.tables import annotations as annotations_t
from labelgate.server.db.tables import events, tasks
from labelgate.server.domain import AnnotationRecord, AnnotationStatus, Event, Task

__all__ = [
    "TASK_COLUMNS", "StoredAnnotation", "add_event", "annotation", "annotation_by", "annotations_of", "count_tasks", "existing_keys",
    "insert_annotation", "insert_annotations", "insert_own_annotation", "insert_tasks", "list_events", "list_tasks",
    "refresh_progress", "reserve_next", "refresh_statistics", "stored_annotations", "task", "task_items", "task_of",
    "tasks_by_id",
    "update_annotation", "update_annotation_returning", "user_draft_task",
]

TASK_COLUMNS = ("id", "project_id", "key", "item", "n_submitted", "completed", "created_at")
_ANN_COLS = ("id", "project_id", "task_id", "author_id", "author_name", "source", "model", "model_version",
             "status", "regions", "version", "lead_time", "created_at", "updated_at", "submitted_at")
_FINISHED = (AnnotationStatus.SUBMITTED.value, AnnotationStatus.ACCEPTED.value, AnnotationStatus.REJECTED.value)


def task_of(m: Mapping[str, Any]) -> Task:
    """A task from ``{column: value}`` holding :data:`TASK_COLUMNS` (other keys ignored)."""
    return Task(**mapped(m, *TASK_COLUMNS))


def _task(row: Any) -> Task:
    return task_of(row._mapping)


def _ann(row: Any) -> AnnotationRecord:
    return _ann_of(fields(row, *_ANN_COLS))


def _ann_of(d: dict[str, Any]) -> AnnotationRecord:
    d = mapped(d, *_ANN_COLS)
    d["status"] = AnnotationStatus(d["status"])
    return AnnotationRecord(**d)


def insert_tasks(conn: Connection, project_id: int, items: Sequence[tuple[str, dict[str, Any]]],
                 import_id: int | None = None, submitted: dict[str, int] | None = None,
                 overlap: int = 1) -> dict[str, int]:
    """Insert ``(key, item dict)`` rows; ``submitted`` counts finished work already on each
    (imported with it). Returns key -> task id."""
    if not items:
        return {}
    now = utcnow()
    done = submitted or {}
    rows = [{"project_id": project_id, "key": k, "item": it, "n_submitted": done.get(k, 0),
             "completed": done.get(k, 0) >= overlap, "import_id": import_id, "created_at": now} for k, it in items]
    out: dict[str, int] = {}
    for start in range(0, len(rows), 5000):
        res = conn.execute(tasks.insert().returning(tasks.c.id, tasks.c.key, sort_by_parameter_order=True),
                           rows[start:start + 5000])
        out.update({r.key: r.id for r in res})
    refresh_statistics(conn, len(rows), tasks)
    return out


_BULK_ROWS = 1000


def refresh_statistics(conn: Connection, n_rows: int, table: sa.Table) -> None:
    """After ``n_rows`` >= 1,000 new rows on PostgreSQL, ANALYZE ``table`` (sampled: tens of ms).

    PostgreSQL plans from table statistics, which autovacuum refreshes only on its next round (a minute
    or more later). Until then fresh bulk rows look like an empty table, and next-task's candidate query
    was planned as a nested loop over each annotator's own annotations per open task: 139 ms instead of
    0.4 ms at 5,000 tasks, growing with the work done. It counts this transaction's own rows."""
    if n_rows >= _BULK_ROWS and conn.dialect.name == "postgresql":
        conn.exec_driver_sql(f'ANALYZE "{table.name}"')


_IN_CHUNK = 900  # values per IN (...) list: within SQLite's 999 bound parameters, with room for the others


def existing_keys(conn: Connection, project_id: int, keys: Iterable[str]) -> dict[str, int]:
    out: dict[str, int] = {}
    ks = list(keys)
    if conn.execute(sa.select(tasks.c.id).where(tasks.c.project_id == project_id).limit(1)).first() is None:
        return out  # a project without tasks yet: no key to look up
    for start in range(0, len(ks), _IN_CHUNK):
        q = sa.select(tasks.c.key, tasks.c.id).where(tasks.c.project_id == project_id,
                                                     tasks.c.key.in_(ks[start:start + _IN_CHUNK]))
        out.update({r.key: r.id for r in conn.execute(q)})
    return out


_TASK = sa.select(tasks).where(tasks.c.id == sa.bindparam("id"))
_ANNOTATION = sa.select(annotations_t).where(annotations_t.c.id == sa.bindparam("id"))
_OF_TASK = sa.select(annotations_t).where(annotations_t.c.task_id == sa.bindparam("tid")).order_by(annotations_t.c.id)
_MINE = sa.select(annotations_t).where(annotations_t.c.task_id == sa.bindparam("tid"),
                                       annotations_t.c.author_id == sa.bindparam("uid"))
# the caller's drafts through ix_annotations_author (a person has few), the project checked on the task:
# filtering annotations by project let PostgreSQL, with statistics from before the project had work, scan
# every annotation of the project instead
_DRAFT_TASK = (sa.select(tasks).join(annotations_t, annotations_t.c.task_id == tasks.c.id)
               .where(annotations_t.c.author_id == sa.bindparam("uid"), annotations_t.c.status == AnnotationStatus.DRAFT.value,
                      tasks.c.project_id == sa.bindparam("pid"))
               .order_by(tasks.c.id).limit(1))
_TOUCHED = sa.select(annotations_t.c.id).where(annotations_t.c.task_id == tasks.c.id,
                                               annotations_t.c.author_id == sa.bindparam("uid"))
_FREE = sa.or_(tasks.c.lock_user_id.is_(None), tasks.c.lock_user_id == sa.bindparam("uid"),
               tasks.c.lock_expires_at < sa.bindparam("now"))
_FINISHED_OF_TASK = (sa.select(sa.func.count()).select_from(annotations_t)
                     .where(annotations_t.c.task_id == tasks.c.id, annotations_t.c.source == "human",
                            sa.or_(*(annotations_t.c.status == s for s in _FINISHED))).scalar_subquery())
# FOR NO KEY UPDATE: does not wait on the key-share locks that inserting annotations takes on the task
_LOCK_ROW = sa.select(tasks.c.id).where(tasks.c.id == sa.bindparam("tid")).with_for_update(key_share=True)
_PROGRESS = (tasks.update().where(tasks.c.id == sa.bindparam("tid"))
             .values(n_submitted=_FINISHED_OF_TASK, completed=sa.bindparam("overlap") <= _FINISHED_OF_TASK,
                     lock_user_id=None, lock_expires_at=None)
             .returning(tasks.c.n_submitted, tasks.c.completed))
_NEXT_ID = (sa.select(tasks.c.id)
            .where(tasks.c.project_id == sa.bindparam("pid"), tasks.c.completed.is_(False), ~sa.exists(_TOUCHED), _FREE)
            # the index's own order (project_id and completed are fixed by the filter): PostgreSQL planned a
            # bare "ORDER BY id ... LIMIT 1" as a walk of the primary key past every other project's tasks
            # (10 ms at 20,000 of them instead of 0.6 ms, and growing)
            .order_by(tasks.c.project_id, tasks.c.completed, tasks.c.id).limit(1)
            .with_for_update(skip_locked=True, of=tasks, key_share=True))
_RESERVE_NEXT = (tasks.update().where(tasks.c.id == _NEXT_ID.scalar_subquery())
                 .values(lock_user_id=sa.bindparam("uid"), lock_expires_at=sa.bindparam("until"))
                 .returning(*(tasks.c[c] for c in TASK_COLUMNS)))
_F_RESERVE_NEXT = FastStatement(_RESERVE_NEXT)
_F_DRAFT_TASK = FastStatement(_DRAFT_TASK)
_F_LOCK_ROW = FastStatement(_LOCK_ROW)
_F_PROGRESS = FastStatement(_PROGRESS)


def task(conn: Connection, task_id: int) -> Task | None:
    row = conn.execute(_TASK, {"id": task_id}).first()
    return None if row is None else _task(row)


def tasks_by_id(conn: Connection, task_ids: Sequence[int]) -> list[Task]:
    """The tasks with these ids, in the order given (ids not found are left out)."""
    found: dict[int, Task] = {}
    for start in range(0, len(task_ids), _IN_CHUNK):
        q = sa.select(tasks).where(tasks.c.id.in_(task_ids[start:start + _IN_CHUNK]))
        found.update((t.id, t) for t in map(_task, conn.execute(q)))
    return [found[i] for i in task_ids if i in found]


def list_tasks(conn: Connection, project_id: int, offset: int, limit: int) -> list[Task]:
    q = sa.select(tasks).where(tasks.c.project_id == project_id).order_by(tasks.c.id).offset(offset).limit(limit)
    return [_task(r) for r in conn.execute(q)]


def count_tasks(conn: Connection, project_id: int) -> int:
    return int(conn.execute(sa.select(sa.func.count()).select_from(tasks).where(tasks.c.project_id == project_id)).scalar_one())


def user_draft_task(conn: Connection, project_id: int, user_id: int) -> Task | None:
    """The first task on which ``user_id`` has an unfinished draft."""
    m = _F_DRAFT_TASK.first_map(conn, {"pid": project_id, "uid": user_id})
    return None if m is None else task_of(m)


def reserve_next(conn: Connection, project_id: int, user_id: int, now: datetime, until: datetime) -> Task | None:
    """Reserve the oldest open task ``user_id`` has not touched and nobody else holds, in one statement;
    None when there is none. PostgreSQL skips rows a concurrent reservation has locked and rechecks the
    chosen row after locking it, so two callers never get one task; SQLite's writers are serial."""
    m = _F_RESERVE_NEXT.first_map(conn, {"pid": project_id, "uid": user_id, "now": now, "until": until})
    return None if m is None else task_of(m)


def count_finished(conn: Connection, task_id: int) -> int:
    return int(conn.execute(sa.select(sa.func.count()).select_from(annotations_t).where(
        annotations_t.c.task_id == task_id, annotations_t.c.source == "human",
        annotations_t.c.status.in_(_FINISHED))).scalar_one())


def refresh_progress(conn: Connection, task_id: int, overlap: int) -> tuple[int, bool]:
    """Recount finished human work on a task, mark it completed at ``overlap``, release its
    reservation; returns ``(n_submitted, completed)`` in one statement."""
    # Take the task's row lock first: the count below then runs in a fresh statement snapshot that
    # sees every submit committed before ours (PostgreSQL, READ COMMITTED; SQLite writers are serial).
    if conn.dialect.name == "postgresql":
        _F_LOCK_ROW.all(conn, {"tid": task_id})
    row = _F_PROGRESS.first(conn, {"tid": task_id, "overlap": overlap})
    assert row is not None, f"task {task_id} vanished inside the transaction"
    return int(row[0]), bool(row[1])


def set_task_progress(conn: Connection, task_id: int, n_submitted: int, completed: bool) -> None:
    conn.execute(tasks.update().where(tasks.c.id == task_id).values(
        n_submitted=n_submitted, completed=completed, lock_user_id=None, lock_expires_at=None))


def insert_annotations(conn: Connection, rows: Sequence[dict[str, Any]], returning: bool = True) -> list[int]:
    """Insert annotation rows; their ids in order when ``returning``."""
    if not rows:
        return []
    now = utcnow()
    full = [{"author_id": None, "author_name": None, "model": None, "model_version": None, "lead_time": None,
             "import_id": None, "submitted_at": None, "version": 1, "created_at": now, "updated_at": now, **r}
            for r in rows]
    ids: list[int] = []
    for start in range(0, len(full), 5000):
        chunk = full[start:start + 5000]
        if not returning:
            conn.execute(annotations_t.insert(), chunk)
            continue
        res = conn.execute(annotations_t.insert().returning(annotations_t.c.id, sort_by_parameter_order=True), chunk)
        ids.extend(r.id for r in res)
    return ids


def annotation(conn: Connection, annotation_id: int) -> AnnotationRecord | None:
    row = conn.execute(_ANNOTATION, {"id": annotation_id}).first()
    return None if row is None else _ann(row)


def annotations_of(conn: Connection, task_id: int) -> list[AnnotationRecord]:
    return [_ann(r) for r in conn.execute(_OF_TASK, {"tid": task_id})]


def annotation_by(conn: Connection, task_id: int, user_id: int) -> AnnotationRecord | None:
    """``user_id``'s own annotation on a task, if any."""
    row = conn.execute(_MINE, {"tid": task_id, "uid": user_id}).first()
    return None if row is None else _ann(row)


def _full(row: dict[str, Any]) -> dict[str, Any]:
    now = utcnow()
    return {"author_id": None, "author_name": None, "model": None, "model_version": None, "lead_time": None,
            "import_id": None, "submitted_at": None, "version": 1, "created_at": now, "updated_at": now, **row}


def insert_annotation(conn: Connection, row: dict[str, Any]) -> AnnotationRecord:
    """One annotation, returned as stored."""
    return _ann(conn.execute(_INSERT_ANNOTATION, _full(row)).one())


def insert_own_annotation(conn: Connection, row: dict[str, Any]) -> AnnotationRecord | None:
    """A person's annotation on a task, returned as stored; None (nothing written) when they already
    have one there. One statement: the uniqueness of (task, author) decides, no look-up first."""
    found = _INSERT_OWN[conn.dialect.name].first_map(conn, _full(row))
    return None if found is None else _ann_of(found)


class StoredAnnotation(NamedTuple):
    """An annotation as a snapshot reads it in bulk: regions as the stored JSON text (decoded only
    if chosen), timestamps as the database gives them (naive UTC on SQLite)."""

    id: int
    task_id: int
    author_name: str | None
    source: str
    model: str | None
    model_version: str | None
    status: str
    lead_time: float | None
    created_at: datetime
    updated_at: datetime
    submitted_at: datetime | None
    regions: str


_STORED = sa.select(*(annotations_t.c[f] for f in StoredAnnotation._fields if f != "regions"),
                    sa.cast(annotations_t.c.regions, sa.Text).label("regions"))
_WHO_AND_WHEN = frozenset({"author_name", "model", "model_version", "lead_time", "created_at", "updated_at", "submitted_at"})
# the same columns, those of _WHO_AND_WHEN as NULL: a third less to read and convert (three timestamps a row)
_STORED_BARE = sa.select(*(sa.null().label(f) if f in _WHO_AND_WHEN else annotations_t.c[f]
                           for f in StoredAnnotation._fields if f != "regions"),
                         sa.cast(annotations_t.c.regions, sa.Text).label("regions"))


def stored_annotations(conn: Connection, project_id: int, provenance: bool = True) -> list[StoredAnnotation]:
    """Every annotation of a project, by task then id (see :class:`StoredAnnotation`). Without
    ``provenance`` (for snapshots that drop it) the author, model, lead time and timestamps are not
    read: they are None."""
    q = (_STORED if provenance else _STORED_BARE).where(annotations_t.c.project_id == project_id)
    return list(map(StoredAnnotation._make, conn.execute(q.order_by(annotations_t.c.task_id, annotations_t.c.id))))


def task_items(conn: Connection, project_id: int) -> list[tuple[int, str, dict[str, Any]]]:
    """``(task id, key, item dict)`` of every task in a project, by id."""
    q = sa.select(tasks.c.id, tasks.c.key, tasks.c.item).where(tasks.c.project_id == project_id).order_by(tasks.c.id)
    return [(r[0], r[1], r[2]) for r in conn.execute(q)]


def update_annotation(conn: Connection, annotation_id: int, expected_version: int, **values: Any) -> bool:
    """Compare-and-set: applies only if the stored version is ``expected_version``."""
    return update_annotation_returning(conn, annotation_id, expected_version, **values) is not None


def update_annotation_returning(conn: Connection, annotation_id: int, expected_version: int,
                                **values: Any) -> AnnotationRecord | None:
    """Compare-and-set returning the new row; None when the stored version has moved on."""
    row = conn.execute(annotations_t.update().where(
        annotations_t.c.id == annotation_id, annotations_t.c.version == expected_version,
    ).values(**values, version=expected_version + 1, updated_at=utcnow()).returning(*annotations_t.c)).first()
    return None if row is None else _ann(row)


_INSERT_ANNOTATION = annotations_t.insert().returning(*annotations_t.c)
_OWN_VALUES = {c.name: sa.bindparam(c.name, type_=c.type) for c in annotations_t.c if c.name != "id"}
_INSERT_OWN = {dialect: FastStatement(insert(annotations_t).values(_OWN_VALUES)
                                      .on_conflict_do_nothing(index_elements=["task_id", "author_id"])
                                      .returning(*annotations_t.c))
               for dialect, insert in (("postgresql", pg_insert), ("sqlite", sqlite_insert))}
_INSERT_EVENT = events.insert()


def add_event(conn: Connection, project_id: int, task_id: int | None, kind: str, actor_id: int | None,
              data: dict[str, Any] | None = None, annotation_id: int | None = None) -> None:
    add_events(conn, [{"project_id": project_id, "task_id": task_id, "annotation_id": annotation_id,
                       "actor_id": actor_id, "kind": kind, "data": data or {}}])


def add_events(conn: Connection, rows: Sequence[dict[str, Any]]) -> None:
    """Append events: a handful in one multi-row statement, more with ``executemany``."""
    if not rows:
        return
    now = utcnow()
    full = [{"annotation_id": None, "actor_id": None, "data": {}, "created_at": now, **r} for r in rows]
    if len(full) > _FEW_EVENTS:
        conn.execute(_INSERT_EVENT, full)
        return
    _events_insert(len(full)).rowcount(conn, {f"{k}_{i}": v for i, r in enumerate(full) for k, v in r.items()})


_FEW_EVENTS = 4
_EVENT_COLS = [c for c in events.c if c.name != "id"]
_EVENTS_INSERTS: dict[int, FastStatement] = {}


def _events_insert(n: int) -> FastStatement:
    """``INSERT INTO events ... VALUES (...), ... (n rows)``, binds named ``<column>_<row>``."""
    found = _EVENTS_INSERTS.get(n)
    if found is None:
        found = FastStatement(events.insert().values([{c.name: sa.bindparam(f"{c.name}_{i}", type_=c.type) for c in _EVENT_COLS}
                                                      for i in range(n)]))
        _EVENTS_INSERTS[n] = found
    return found


def list_events(conn: Connection, task_id: int) -> list[Event]:
    q = sa.select(events).where(events.c.task_id == task_id).order_by(events.c.id)
    return [Event(**fields(r, "id", "project_id", "task_id", "annotation_id", "actor_id", "kind", "data", "created_at"))
            for r in conn.execute(q)]


def bulk_import(conn: Connection, project_id: int, import_id: int, keys: Sequence[str], items: Sequence[str],
                submitted: Sequence[int] | None, overlap: int) -> dict[str, int]:
    """Insert new tasks the fast way (``items``: each key's item as JSON text; ``submitted``: finished
    work imported with each, None for none); returns key -> id for them."""
    now = utcnow()
    per: dict[str, Sequence[Any]] = {"key": keys, "item": items}
    same: dict[str, Any] = {"project_id": project_id, "import_id": import_id, "created_at": now}
    if submitted is None:
        same |= {"n_submitted": 0, "completed": overlap <= 0}
    else:
        per |= {"n_submitted": submitted, "completed": [n >= overlap for n in submitted]}
    bulk_insert(conn, tasks, per, same)
    refresh_statistics(conn, len(keys), tasks)
    return _imported_ids(conn, project_id, import_id, keys)


def _imported_ids(conn: Connection, project_id: int, import_id: int, keys: Sequence[str]) -> dict[str, int]:
    """The ids the tasks of ``keys`` (just inserted, in this order) got. Both databases number the
    rows of one insert in increasing order, so when the ids form one unbroken range (no other
    writer took a number in between) they are that range in order; otherwise they are read back."""
    where = (tasks.c.project_id == project_id, tasks.c.import_id == import_id)
    n, lo, hi = conn.execute(sa.select(sa.func.count(), sa.func.min(tasks.c.id), sa.func.max(tasks.c.id)).where(*where)).one()
    if n == len(keys) and (n == 0 or hi - lo + 1 == n):
        return dict(zip(keys, range(lo or 0, (hi or -1) + 1), strict=True))
    return {r.key: r.id for r in conn.execute(sa.select(tasks.c.key, tasks.c.id).where(*where))}


def bulk_annotations(conn: Connection, project_id: int, import_id: int, task_ids: Sequence[int],
                     columns: dict[str, Iterable[Any]], same: dict[str, Any]) -> None:
    """Insert submitted annotations on ``task_ids``: ``columns`` (one value per row; lists, or a lazy
    iterator such as regions still being encoded) and ``same`` (one for all rows) give regions (JSON
    text), author_id, author_name, source, model, model_version, lead_time and submitted_at between them."""
    now = utcnow()
    bulk_insert(conn, annotations_t, {"task_id": task_ids, **columns},
                {"project_id": project_id, "import_id": import_id, "version": 1, "status": AnnotationStatus.SUBMITTED.value,
                 "created_at": now, "updated_at": now, **same})
    refresh_statistics(conn, len(task_ids), annotations_t)


def bulk_events(conn: Connection, project_id: int, kind: str, actor_id: int | None, task_ids: Sequence[int],
                data: Sequence[str] | None = None) -> None:
    """One ``kind`` event per task; ``data``: each one's payload as JSON text (default ``{}``)."""
    per: dict[str, Sequence[Any]] = {"task_id": task_ids}
    same: dict[str, Any] = {"project_id": project_id, "annotation_id": None, "actor_id": actor_id, "kind": kind,
                            "created_at": utcnow()}
    if data is None:
        same["data"] = "{}"
    else:
        per["data"] = data
    bulk_insert(conn, events, per, same)
