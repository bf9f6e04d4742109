"""``labelgate serve``, ``labelgate user create``, ``labelgate project create|list|import|export``.

Project commands work on the local store (``--data-dir``, the same database ``serve`` uses) or,
with ``--url``, on a running server through the SDK. Both paths end in the same services.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any

import typer

from labelgate.cli._render import console, emit_json, fail
from labelgate.core import LabelgateError

user_app = typer.Typer(name="user", help="Manage user accounts in the local store.", no_args_is_help=True)
project_app = typer.Typer(name="project", help="Create, list, import into and export projects.", no_args_is_help=True)

DataDir = Annotated[Path | None, typer.Option("--data-dir", help="Local store (default: LABELGATE_DATA_DIR or ./labelgate-data).")]
Url = Annotated[str | None, typer.Option("--url", help="A running server, e.g. http://127.0.0.1:8080.")]
Token = Annotated[str | None, typer.Option("--token", help="API token for --url (default: LABELGATE_TOKEN).")]
AsUser = Annotated[str | None, typer.Option("--user", help="Local store: act as this user (default: the first superuser).")]


def _settings(data_dir: Path | None):  # type: ignore[no-untyped-def]
    from labelgate.server.settings import Settings

    s = Settings.from_env()
    return s if data_dir is None else s.model_copy(update={"data_dir": data_dir})


@contextmanager
def _runtime(data_dir: Path | None) -> Iterator[Any]:
    from labelgate.server.services.runtime import Runtime

    rt = Runtime.open(_settings(data_dir))
    try:
        yield rt
    finally:
        rt.close()


def _actor(rt: Any, username: str | None) -> Any:
    from labelgate.server.db.repos import users

    with rt.db.read() as conn:
        if username:
            user = users.get_by_name(conn, username)
            if user is None:
                fail(f"no user named {username!r} in {rt.settings.data_dir}")
            return user
        first = next((u for u in users.list_all(conn) if u.is_superuser and u.is_active), None)
    if first is None:
        fail(f"no superuser in {rt.settings.data_dir}; create one: labelgate user create NAME --superuser")
    return first


def _client(url: str, token: str | None) -> Any:
    from labelgate.client import Client

    token = token or os.environ.get("LABELGATE_TOKEN")
    if not token:
        fail("--url needs an API token: pass --token or set LABELGATE_TOKEN")
    return Client(url, token)


def serve(
    host: Annotated[str | None, typer.Option(help="Interface to listen on (default 127.0.0.1).")] = None,
    port: Annotated[int | None, typer.Option(help="Port (default 8080).")] = None,
    data_dir: DataDir = None,
    workers: Annotated[int, typer.Option(min=1, max=64, help="Server processes (each with its own threads).")] = 1,
    worker: Annotated[bool, typer.Option("--worker", help="Run background jobs from Redis instead of serving HTTP "
                                                          "(LABELGATE_JOB_QUEUE=redis).")] = False,
) -> None:
    """Run the annotation server (migrating its database first), or with --worker a job worker."""
    import uvicorn

    from labelgate.server import create_app

    settings = _settings(data_dir)
    if worker:
        _work(settings)
        return
    if host is not None:
        settings = settings.model_copy(update={"host": host})
    if port is not None:
        settings = settings.model_copy(update={"port": port})
    console.print(f"Labelgate on http://{settings.host}:{settings.port}  (API docs: /api/v1/docs)")
    from labelgate.server.services.recovery import recover

    if workers == 1:
        try:
            app = create_app(settings)
            recover(app.state.runtime)
        except LabelgateError as e:
            fail(str(e))
        uvicorn.run(app, host=settings.host, port=settings.port, log_level="info", access_log=settings.access_log)
        return
    from labelgate.server.services.runtime import Runtime

    try:
        rt = Runtime.open(settings)  # migrates once, here, so the workers do not race to
    except LabelgateError as e:
        fail(str(e))
    try:
        recover(rt)
        rt.queue.join(60)  # resent webhook deliveries go out before the workers start
    finally:
        rt.close()
    os.environ["LABELGATE_DATA_DIR"] = str(settings.data_dir)
    os.environ["LABELGATE_MIGRATE_ON_START"] = "false"
    os.environ["LABELGATE_SERVER_PROCESSES"] = str(workers)  # the workers read their settings from the environment
    uvicorn.run("labelgate.server.app:app_from_env", factory=True, host=settings.host, port=settings.port,
                workers=workers, log_level="info", access_log=settings.access_log)


def _work(settings: Any) -> None:
    from labelgate.server.services.runtime import Runtime

    try:
        rt = Runtime.open(settings)
    except LabelgateError as e:
        fail(str(e))
    try:
        console.print(f"Labelgate worker on {settings.redis_url}")
        rt.work()
    except LabelgateError as e:
        fail(str(e))
    finally:
        rt.close()


@user_app.command("create")
def user_create(
    username: Annotated[str, typer.Argument(help="Login name.")],
    password: Annotated[str, typer.Option(prompt=True, hide_input=True, confirmation_prompt=True,
                                          envvar="LABELGATE_NEW_PASSWORD", help="Password (prompted when omitted).")],
    superuser: Annotated[bool, typer.Option("--superuser", help="May create projects and users.")] = False,
    token: Annotated[str | None, typer.Option("--token", help="Also create an API token with this name and print it.")] = None,
    data_dir: DataDir = None,
) -> None:
    """Create a user in the local store."""
    from labelgate.server.services import auth

    with _runtime(data_dir) as rt:
        try:
            user = auth.create_user(rt, None, username, password, superuser)
            secret = auth.create_token(rt, user, token)[1] if token else None
        except LabelgateError as e:
            fail(str(e))
    console.print(f"created {'superuser' if superuser else 'user'} {user.username} (id {user.id})")
    if secret:
        console.print(f"API token {token!r}: {secret}", highlight=False)


def _project_dict(p: Any) -> dict[str, Any]:
    if isinstance(p, dict):
        return p
    from labelgate.server.schemas.projects import ProjectOut

    return ProjectOut.model_validate(p).model_dump(mode="json")


@project_app.command("create")
def project_create(
    name: Annotated[str, typer.Argument(help="Project name (unique).")],
    schema: Annotated[Path | None, typer.Option(help="Label schema JSON file ({'classes': [...]}).")] = None,
    labels: Annotated[str | None, typer.Option(help="Comma-separated class names (instead of --schema).")] = None,
    description: Annotated[str, typer.Option(help="Free text.")] = "",
    url: Url = None, token: Token = None, data_dir: DataDir = None, user: AsUser = None,
    json_out: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """Create a project."""
    import orjson

    label_schema: dict[str, Any] | None = None
    if schema is not None:
        try:
            label_schema = orjson.loads(schema.read_bytes())
        except (OSError, orjson.JSONDecodeError) as e:
            fail(f"{schema}: {e}")
    elif labels:
        label_schema = {"classes": [{"name": n.strip()} for n in labels.split(",") if n.strip()]}
    try:
        if url:
            with _client(url, token) as c:
                p = c.create_project(name, description, label_schema)
        else:
            from labelgate.server.services import projects

            with _runtime(data_dir) as rt:
                p = _project_dict(projects.create_project(rt, _actor(rt, user), name, description, label_schema))
    except LabelgateError as e:
        fail(str(e))
    if json_out:
        emit_json(p)
    else:
        console.print(f"created project {p['name']!r} (id {p['id']}) with {len(p['label_schema']['classes'])} classes")


@project_app.command("list")
def project_list(url: Url = None, token: Token = None, data_dir: DataDir = None, user: AsUser = None,
                 json_out: Annotated[bool, typer.Option("--json")] = False) -> None:
    """List the projects you can see."""
    from rich.table import Table

    try:
        if url:
            with _client(url, token) as c:
                rows = c.projects()
        else:
            from labelgate.server.services import projects

            with _runtime(data_dir) as rt:
                rows = [_project_dict(p) for p in projects.list_projects(rt, _actor(rt, user))]
    except LabelgateError as e:
        fail(str(e))
    if json_out:
        emit_json(rows)
        return
    table = Table("id", "name", "classes", "your role")
    for p in rows:
        table.add_row(str(p["id"]), p["name"], str(len(p["label_schema"]["classes"])), str(p.get("role") or ""))
    console.print(table)


def _local_project(rt: Any, actor: Any, project: str) -> int:
    from labelgate.server.services import projects

    return int(projects.find_project(rt, actor, project).id)


def _remote_project(c: Any, project: str) -> int:
    if project.isdigit():
        return int(project)
    ids = {p["name"]: int(p["id"]) for p in c.projects()}
    if project not in ids:
        fail(f"no project named {project!r} that you can see")
    return ids[project]


@project_app.command("import")
def project_import(
    project: Annotated[str, typer.Argument(help="Project id or name.")],
    path: Annotated[Path, typer.Argument(help="Annotation file in any supported format.")],
    fmt: Annotated[str | None, typer.Option("--format", help="Codec name; detected when omitted.")] = None,
    predictions: Annotated[bool, typer.Option("--predictions", help="Import every annotation as a model's prediction.")] = False,
    model: Annotated[str | None, typer.Option(help="Model name (for --predictions).")] = None,
    model_version: Annotated[str | None, typer.Option(help="Model version (for --predictions).")] = None,
    url: Url = None, token: Token = None, data_dir: DataDir = None, user: AsUser = None,
    json_out: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """Import an annotation file: new tasks plus annotations or predictions (all or nothing)."""
    kind = "predictions" if predictions else "annotations"
    try:
        if url:
            with _client(url, token) as c:
                rec = c.import_file(_remote_project(c, project), path, fmt, kind, model, model_version)
        else:
            from labelgate.server.schemas.tasks import ImportOut
            from labelgate.server.services import imports

            with _runtime(data_dir) as rt:
                actor = _actor(rt, user)
                r = imports.import_file(rt, actor, _local_project(rt, actor, project), path, path.name, fmt,
                                        imports.ImportKind(kind), model, model_version)
                rec = ImportOut.model_validate(r).model_dump(mode="json")
    except LabelgateError as e:
        fail(str(e))
    if json_out:
        emit_json(rec)
    elif rec["reused"]:
        console.print(f"{path} was already imported (import {rec['id']}); nothing changed")
    else:
        console.print(f"imported {path} ({rec['format']}): {rec['n_tasks']} new tasks, {rec['n_annotations']} {kind}")


@project_app.command("export")
def project_export(
    project: Annotated[str, typer.Argument(help="Project id or name.")],
    dest: Annotated[Path, typer.Argument(help="Directory to write the snapshot's files into.")],
    fmt: Annotated[str, typer.Option("--format", help="Target format (see `labelgate formats`).")] = "native",
    flt: Annotated[str, typer.Option("--filter", help="accepted | submitted | latest | all")] = "all",
    url: Url = None, token: Token = None, data_dir: DataDir = None, user: AsUser = None,
    json_out: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """Snapshot a project in a format, wait for the job, and write the files to DEST."""
    try:
        if url:
            with _client(url, token) as c:
                record = c.export(_remote_project(c, project), dest, fmt, flt)
        else:
            record = _local_export(project, dest, fmt, flt, data_dir, user)
    except LabelgateError as e:
        fail(str(e))
    if json_out:
        emit_json(record)
    else:
        m = record["manifest"]
        console.print(f"export v{record['version']} ({fmt}, {flt}): {m['items']} items, {m['annotations']} annotations, "
                      f"{m['regions']} regions -> {dest}  sha256 {record['content_hash'][:16]}...")


def _local_export(project: str, dest: Path, fmt: str, flt: str, data_dir: Path | None, user: str | None) -> dict[str, Any]:
    import shutil

    from labelgate.server.domain import ExportFilter
    from labelgate.server.schemas.tasks import ExportOut
    from labelgate.server.services import exports, jobs

    with _runtime(data_dir) as rt:
        actor = _actor(rt, user)
        started, job = exports.start_export(rt, actor, _local_project(rt, actor, project), fmt, ExportFilter(flt))
        jobs.wait(rt)
        done = jobs.get_job(rt, actor, job.id)
        if done.status.value != "succeeded":
            raise LabelgateError(f"export failed: {done.error}")
        record, files = exports.export_files(rt, actor, started.id)
        for name, key in files:
            target = dest / name
            target.parent.mkdir(parents=True, exist_ok=True)
            with rt.storage.open(key) as src, target.open("wb") as out:
                shutil.copyfileobj(src, out)
        return ExportOut.model_validate(record).model_dump(mode="json")
