"""Projects: create, list, update, delete; label schema; members; versioned guidelines."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from labelgate.core.errors import ConflictError, FormatError, InvariantError, NotFoundError, PermissionDenied
from labelgate.formats.native import schema_from_dict, schema_to_dict
from labelgate.server.db.repos import projects as repo
from labelgate.server.db.repos import users as users_repo
from labelgate.server.domain import Guideline, Member, Project, Role, User
from labelgate.server.services.access import project_for
from labelgate.server.services.runtime import Runtime

__all__ = [
    "DEFAULT_SETTINGS", "add_guideline", "schema_from_label_config", "create_project", "delete_project", "get_guideline", "get_project",
    "list_members", "list_projects", "normalise_schema", "remove_member", "set_member", "update_project",
]

DEFAULT_SETTINGS: dict[str, Any] = {"blind": False, "overlap": 1, "media_dir": None, "media_s3": None}


def normalise_schema(schema: dict[str, Any] | None) -> dict[str, Any]:
    """Parse a Labelgate schema dict strictly and return its canonical form."""
    if schema is None:
        return schema_to_dict(schema_from_dict({}))
    if not isinstance(schema, dict):
        raise InvariantError("label_schema must be a JSON object with 'classes'")
    try:
        return schema_to_dict(schema_from_dict(schema))
    except KeyError as e:
        raise InvariantError(f"label_schema: missing key {e}") from None
    except (TypeError, ValueError) as e:
        raise InvariantError(f"label_schema: {e}") from None


def schema_from_label_config(xml: str) -> dict[str, Any]:
    """A Label Studio labeling config (XML) translated to a Labelgate schema: every ``<Label>``
    and ``<Choice>`` value becomes a class, with its ``background`` as colour. Parsed with
    defusedxml (no entity expansion, no external entities)."""
    import tempfile

    from labelgate.formats.label_studio._config import schema_from_config

    if len(xml) > 1_000_000:
        raise InvariantError("label_config is limited to 1,000,000 characters")
    with tempfile.TemporaryDirectory(prefix="lsconfig-") as tmp:
        path = Path(tmp) / "label_config.xml"
        path.write_text(xml, encoding="utf-8")
        try:
            schema = schema_from_config(path)
        except FormatError as e:
            raise InvariantError(f"label_config: {e.detail}" + (f" ({e.where})" if e.where else "")) from None
    if schema is None or len(schema) == 0:
        raise InvariantError("label_config defines no <Label> or <Choice> values")
    return schema_to_dict(schema)


def _settings(values: dict[str, Any] | None, base: dict[str, Any], actor: User) -> dict[str, Any]:
    out = {**DEFAULT_SETTINGS, **base}
    for k, v in (values or {}).items():
        if k not in DEFAULT_SETTINGS:
            raise InvariantError(f"unknown project setting {k!r}; known: {sorted(DEFAULT_SETTINGS)}")
        out[k] = v
    if not isinstance(out["blind"], bool):
        raise InvariantError("setting 'blind' must be true or false")
    if not isinstance(out["overlap"], int) or isinstance(out["overlap"], bool) or out["overlap"] < 1:
        raise InvariantError("setting 'overlap' must be an integer >= 1")
    if out["media_dir"] != base.get("media_dir"):
        if not actor.is_superuser:
            raise PermissionDenied("only a superuser can register a server directory as media_dir")
        if out["media_dir"] is not None:
            d = Path(str(out["media_dir"]))
            if not d.is_absolute() or not d.is_dir():
                raise InvariantError(f"media_dir {str(d)!r} must be an absolute path to an existing directory")
            out["media_dir"] = str(d.resolve())
    if out["media_s3"] != base.get("media_s3"):
        if not actor.is_superuser:
            raise PermissionDenied("only a superuser can register a bucket as media_s3")
        if out["media_s3"] is not None:
            out["media_s3"] = _bucket(out["media_s3"])
    if out["media_dir"] and out["media_s3"]:
        raise InvariantError("a project takes its media from media_dir or media_s3, not both")
    return out


def _bucket(value: Any) -> dict[str, Any]:
    keys = {"bucket", "prefix", "endpoint_url", "region"}
    if not isinstance(value, dict) or not isinstance(value.get("bucket"), str) or not value["bucket"]:
        raise InvariantError("media_s3 must be {'bucket': NAME, 'prefix'?, 'endpoint_url'?, 'region'?}")
    extra = set(value) - keys
    if extra:
        raise InvariantError(f"media_s3: unknown keys {sorted(extra)}; known: {sorted(keys)}")
    return {"bucket": value["bucket"], "prefix": str(value.get("prefix") or ""),
            "endpoint_url": value.get("endpoint_url"), "region": value.get("region")}


def create_project(rt: Runtime, actor: User, name: str, description: str = "",
                   label_schema: dict[str, Any] | None = None, settings: dict[str, Any] | None = None,
                   label_config: str | None = None) -> Project:
    """A new project; its classes come from ``label_schema`` or a Label Studio ``label_config``."""
    if label_schema is not None and label_config is not None:
        raise InvariantError("give label_schema or label_config, not both")
    if label_config is not None:
        label_schema = schema_from_label_config(label_config)
    if not actor.is_superuser:
        raise PermissionDenied("only a superuser can create projects; ask one to create it and add you")
    if not name.strip() or len(name) > 200:
        raise InvariantError("project name must be 1-200 characters")
    schema = normalise_schema(label_schema)
    conf = _settings(settings, DEFAULT_SETTINGS, actor)
    with rt.db.write() as conn:
        if repo.get_by_name(conn, name) is not None:
            raise ConflictError(f"a project named {name!r} already exists")
        pid = repo.create(conn, name, description, schema, conf, actor.id)
        repo.set_member(conn, pid, actor.id, Role.ADMIN)
        return project_for(conn, pid, actor)


def list_projects(rt: Runtime, actor: User) -> list[Project]:
    with rt.db.read() as conn:
        if actor.is_superuser:
            return [Project(**{**p.__dict__, "role": Role.ADMIN}) for p in repo.list_for(conn, None)]
        return repo.list_for(conn, actor.id)


def get_project(rt: Runtime, actor: User, project_id: int) -> Project:
    with rt.db.read() as conn:
        return project_for(conn, project_id, actor)


def find_project(rt: Runtime, actor: User, name_or_id: str) -> Project:
    """A project by id or by name (for the CLI)."""
    with rt.db.read() as conn:
        if name_or_id.isdigit():
            return project_for(conn, int(name_or_id), actor)
        p = repo.get_by_name(conn, name_or_id)
        if p is None:
            raise NotFoundError(f"no project named {name_or_id!r}")
        return project_for(conn, p.id, actor)


def update_project(rt: Runtime, actor: User, project_id: int, name: str | None = None,
                   description: str | None = None, label_schema: dict[str, Any] | None = None,
                   settings: dict[str, Any] | None = None, label_config: str | None = None) -> Project:
    if label_schema is not None and label_config is not None:
        raise InvariantError("give label_schema or label_config, not both")
    if label_config is not None:
        label_schema = schema_from_label_config(label_config)
    with rt.db.write() as conn:
        project = project_for(conn, project_id, actor, Role.MANAGER)
        values: dict[str, Any] = {}
        if name is not None and name != project.name:
            if not name.strip() or len(name) > 200:
                raise InvariantError("project name must be 1-200 characters")
            if repo.get_by_name(conn, name) is not None:
                raise ConflictError(f"a project named {name!r} already exists")
            values["name"] = name
        if description is not None:
            values["description"] = description
        if label_schema is not None:
            new = normalise_schema(label_schema)
            missing = set(schema_from_dict(project.label_schema).names) - set(schema_from_dict(new).names)
            if missing:
                raise InvariantError(f"the new label schema drops classes still in use: {sorted(missing)}; "
                                     "classes can be added, not removed")
            values["label_schema"] = new
        if settings is not None:
            values["settings"] = _settings(settings, project.settings, actor)
        if values:
            repo.update(conn, project_id, **values)
        return project_for(conn, project_id, actor)


def delete_project(rt: Runtime, actor: User, project_id: int) -> None:
    """Delete the project and everything in it; its stored media and snapshots go after the commit."""
    with rt.db.write() as conn:
        project_for(conn, project_id, actor, Role.ADMIN)
        repo.delete(conn, project_id)
    for prefix in (f"media/{project_id}", f"exports/{project_id}"):
        for key in rt.storage.list(prefix):
            rt.storage.delete(key)


def list_members(rt: Runtime, actor: User, project_id: int) -> list[Member]:
    with rt.db.read() as conn:
        project_for(conn, project_id, actor, Role.MANAGER)
        return repo.members(conn, project_id)


def set_member(rt: Runtime, actor: User, project_id: int, username: str, role: Role) -> Member:
    with rt.db.write() as conn:
        project_for(conn, project_id, actor, Role.ADMIN)
        user = users_repo.get_by_name(conn, username)
        if user is None:
            raise NotFoundError(f"no user named {username!r}")
        repo.set_member(conn, project_id, user.id, Role(role))
        return Member(user.id, user.username, Role(role))


def remove_member(rt: Runtime, actor: User, project_id: int, user_id: int) -> None:
    with rt.db.write() as conn:
        project_for(conn, project_id, actor, Role.ADMIN)
        if not repo.remove_member(conn, project_id, user_id):
            raise NotFoundError(f"user {user_id} is not a member of project {project_id}")


def add_guideline(rt: Runtime, actor: User, project_id: int, text: str) -> Guideline:
    if len(text) > 1_000_000:
        raise InvariantError("guidelines are limited to 1,000,000 characters")
    with rt.db.write() as conn:
        project_for(conn, project_id, actor, Role.MANAGER)
        return repo.add_guideline(conn, project_id, text, actor.id)


def get_guideline(rt: Runtime, actor: User, project_id: int, version: int | None = None) -> Guideline:
    with rt.db.read() as conn:
        project_for(conn, project_id, actor)
        g = repo.guideline(conn, project_id, version)
    if g is None:
        what = "no guidelines yet" if version is None else f"no guideline version {version}"
        raise NotFoundError(f"project {project_id} has {what}")
    return g


def parse_schema(project: Project) -> Any:
    try:
        return schema_from_dict(project.label_schema)
    except (KeyError, TypeError, ValueError) as e:
        raise FormatError(f"project {project.id} has a corrupt label schema: {e}") from None
