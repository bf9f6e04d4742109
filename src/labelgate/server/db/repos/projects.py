"""Projects, their members and their versioned guidelines."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from labelgate.server.db.engine import utcnow
from labelgate.server.db.fast import FastStatement
from labelgate.server.db.repos._rows import fields, mapped
from labelgate.server.db.repos.tasks import TASK_COLUMNS, task_of
from labelgate.server.db.tables import guidelines, memberships, projects, tasks, users, webhooks, workflows
from labelgate.server.domain import Guideline, Member, Project, Role, Task

__all__ = [
    "add_guideline", "create", "delete", "get", "get_by_name", "get_with_role", "guideline", "list_for", "members",
    "remove_member", "role_of", "set_member", "task_with_role", "update",
]

_COLS = ("id", "name", "description", "label_schema", "settings", "created_at", "updated_at")


def _project(row: Any, role: str | None = None) -> Project:
    return Project(**fields(row, *_COLS), role=None if role is None else Role(role))


def _in_context(m: dict[str, Any]) -> Project:
    """A project read with :data:`_FLAGS` (without the caller's role)."""
    return Project(**mapped(m, *_COLS), staged=bool(m["staged"]), hooked=bool(m["hooked"]))


def create(conn: Connection, name: str, description: str, label_schema: dict[str, Any], settings: dict[str, Any],
           created_by: int | None) -> int:
    now = utcnow()
    return int(conn.execute(projects.insert().values(
        name=name, description=description, label_schema=label_schema, settings=settings, created_by=created_by,
        created_at=now, updated_at=now).returning(projects.c.id)).scalar_one())


def get(conn: Connection, project_id: int) -> Project | None:
    row = conn.execute(sa.select(projects).where(projects.c.id == project_id)).first()
    return None if row is None else _project(row)


def get_by_name(conn: Connection, name: str) -> Project | None:
    row = conn.execute(sa.select(projects).where(projects.c.name == name)).first()
    return None if row is None else _project(row)


def list_for(conn: Connection, user_id: int | None) -> list[Project]:
    """Every project (``user_id`` None) or those ``user_id`` is a member of, with the role."""
    if user_id is None:
        return [_project(r) for r in conn.execute(sa.select(projects).order_by(projects.c.id))]
    q = (sa.select(projects, memberships.c.role)
         .join(memberships, memberships.c.project_id == projects.c.id)
         .where(memberships.c.user_id == user_id).order_by(projects.c.id))
    return [_project(r, r.role) for r in conn.execute(q)]


def update(conn: Connection, project_id: int, **values: Any) -> None:
    conn.execute(projects.update().where(projects.c.id == project_id).values(**values, updated_at=utcnow()))


def delete(conn: Connection, project_id: int) -> None:
    conn.execute(projects.delete().where(projects.c.id == project_id))


# What every request on a project needs besides the row, read with it: whether a workflow runs it
# (its requests go through the engine) and whether any webhook listens (else nothing is queued).
_FLAGS = (sa.exists(sa.select(workflows.c.project_id).where(workflows.c.project_id == projects.c.id)).label("staged"),
          sa.exists(sa.select(webhooks.c.id).where(webhooks.c.project_id == projects.c.id,
                                                   webhooks.c.active.is_(True))).label("hooked"))
_MEMBER = sa.and_(memberships.c.project_id == projects.c.id, memberships.c.user_id == sa.bindparam("uid"))
_WITH_ROLE = (
    sa.select(projects, memberships.c.role, *_FLAGS)
    .select_from(projects.outerjoin(memberships, _MEMBER))
    .where(projects.c.id == sa.bindparam("pid"))
)
_TASK_WITH_ROLE = (
    sa.select(projects, memberships.c.role, *_FLAGS, *(tasks.c[c].label(f"task_{c}") for c in TASK_COLUMNS))
    .select_from(tasks.join(projects, projects.c.id == tasks.c.project_id).outerjoin(memberships, _MEMBER))
    .where(tasks.c.id == sa.bindparam("tid"))
)
_F_WITH_ROLE = FastStatement(_WITH_ROLE)
_F_TASK_WITH_ROLE = FastStatement(_TASK_WITH_ROLE)


def get_with_role(conn: Connection, project_id: int, user_id: int) -> tuple[Project, Role | None] | None:
    """The project and ``user_id``'s role in it (None: not a member), in one query."""
    m = _F_WITH_ROLE.first_map(conn, {"pid": project_id, "uid": user_id})
    if m is None:
        return None
    return _in_context(m), None if m["role"] is None else Role(m["role"])


def task_with_role(conn: Connection, task_id: int, user_id: int) -> tuple[Task, Project, Role | None] | None:
    """A task, its project and ``user_id``'s role in it (None: not a member), in one query."""
    m = _F_TASK_WITH_ROLE.first_map(conn, {"tid": task_id, "uid": user_id})
    if m is None:
        return None
    task = task_of({c: m[f"task_{c}"] for c in TASK_COLUMNS})
    return task, _in_context(m), None if m["role"] is None else Role(m["role"])


def role_of(conn: Connection, project_id: int, user_id: int) -> Role | None:
    r = conn.execute(sa.select(memberships.c.role).where(
        memberships.c.project_id == project_id, memberships.c.user_id == user_id)).scalar()
    return None if r is None else Role(r)


def set_member(conn: Connection, project_id: int, user_id: int, role: Role) -> None:
    res = conn.execute(memberships.update().where(
        memberships.c.project_id == project_id, memberships.c.user_id == user_id).values(role=role.value))
    if res.rowcount == 0:
        conn.execute(memberships.insert().values(project_id=project_id, user_id=user_id, role=role.value,
                                                 created_at=utcnow()))


def remove_member(conn: Connection, project_id: int, user_id: int) -> bool:
    res = conn.execute(memberships.delete().where(
        memberships.c.project_id == project_id, memberships.c.user_id == user_id))
    return res.rowcount == 1


def members(conn: Connection, project_id: int) -> list[Member]:
    q = (sa.select(memberships.c.user_id, users.c.username, memberships.c.role)
         .join(users, users.c.id == memberships.c.user_id)
         .where(memberships.c.project_id == project_id).order_by(users.c.username))
    return [Member(r.user_id, r.username, Role(r.role)) for r in conn.execute(q)]


def add_guideline(conn: Connection, project_id: int, text: str, created_by: int | None) -> Guideline:
    last = conn.execute(sa.select(sa.func.max(guidelines.c.version)).where(
        guidelines.c.project_id == project_id)).scalar()
    version = (last or 0) + 1
    now = utcnow()
    conn.execute(guidelines.insert().values(project_id=project_id, version=version, text=text,
                                            created_by=created_by, created_at=now))
    return Guideline(project_id, version, text, now)


def guideline(conn: Connection, project_id: int, version: int | None) -> Guideline | None:
    q = sa.select(guidelines).where(guidelines.c.project_id == project_id)
    q = q.where(guidelines.c.version == version) if version is not None else q.order_by(guidelines.c.version.desc())
    row = conn.execute(q.limit(1)).first()
    return None if row is None else Guideline(**fields(row, "project_id", "version", "text", "created_at"))
