"""Who may see and do what in a project. Non-members get 404, never 403, so project ids leak nothing."""

from __future__ import annotations

from sqlalchemy.engine import Connection

from labelgate.core.errors import NotFoundError, PermissionDenied
from labelgate.server.db.repos import projects as repo
from labelgate.server.domain import Project, Role, User

__all__ = ["project_for", "role_in"]


def role_in(conn: Connection, project_id: int, user: User) -> Role | None:
    if user.is_superuser:
        return Role.ADMIN
    return repo.role_of(conn, project_id, user.id)


def project_for(conn: Connection, project_id: int, user: User, minimum: Role = Role.ANNOTATOR) -> Project:
    """The project, with the caller's role, if the caller holds at least ``minimum`` in it."""
    found = repo.get_with_role(conn, project_id, user.id)
    project, role = (None, None) if found is None else found
    if project is not None and user.is_superuser:
        role = Role.ADMIN
    if project is None or role is None:
        raise NotFoundError(f"project {project_id} does not exist or you are not a member of it")
    if role.rank < minimum.rank:
        raise PermissionDenied(f"this needs the {minimum.value} role in project {project_id}; you are {role.value}")
    return Project(**{**project.__dict__, "role": role})
