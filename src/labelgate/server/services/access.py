"""Who may see and do what in a project. Non-members get 404, never 403, so project ids leak nothing."""

from __future__ import annotations

from dataclasses import replace

from sqlalchemy.engine import Connection

from labelgate.core.errors import NotFoundError, PermissionDenied
from labelgate.server.db.repos import projects as repo
from labelgate.server.domain import Project, Role, Task, User

__all__ = ["project_for", "role_in", "task_for"]


def role_in(conn: Connection, project_id: int, user: User) -> Role | None:
    if user.is_superuser:
        return Role.ADMIN
    return repo.role_of(conn, project_id, user.id)


def project_for(conn: Connection, project_id: int, user: User, minimum: Role = Role.ANNOTATOR) -> Project:
    """The project, with the caller's role, if the caller holds at least ``minimum`` in it."""
    found = repo.get_with_role(conn, project_id, user.id)
    if found is None:
        raise NotFoundError(f"project {project_id} does not exist or you are not a member of it")
    return _with_role(found[0], found[1], user, minimum,
                      NotFoundError(f"project {project_id} does not exist or you are not a member of it"))


def task_for(conn: Connection, task_id: int, user: User, minimum: Role = Role.ANNOTATOR) -> tuple[Task, Project]:
    """The task and its project, with the caller's role, if the caller holds at least ``minimum`` there;
    one query."""
    missing = NotFoundError(f"task {task_id} does not exist or you are not a member of its project")
    found = repo.task_with_role(conn, task_id, user.id)
    if found is None:
        raise missing
    task, project, role = found
    return task, _with_role(project, role, user, minimum, missing)


def _with_role(project: Project, role: Role | None, user: User, minimum: Role, missing: NotFoundError) -> Project:
    if user.is_superuser:
        role = Role.ADMIN
    if role is None:
        raise missing
    if role.rank < minimum.rank:
        raise PermissionDenied(f"this needs the {minimum.value} role in project {project.id}; you are {role.value}")
    return replace(project, role=role)
