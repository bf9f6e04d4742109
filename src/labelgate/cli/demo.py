"""``labelgate demo``: build the retail-shelf demo project on the spot and serve it.

The shelves are generated (true positions known): PNG images, two annotators' overlapping
annotations (anna, ben) on most of them, model predictions on all, gold truth kept for quality
work. Then the server starts and the URL and demo logins are printed.
"""

from __future__ import annotations

import hashlib
import tempfile
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from labelgate.cli._render import console, fail
from labelgate.core import LabelgateError

PROJECT = "Retail shelves (demo)"
LOGINS = (  # (username, password, project role or "superuser")
    ("admin", "demo-admin", "superuser"),
    ("maria", "demo-maria", "manager"),
    ("rita", "demo-rita", "reviewer"),
    ("anna", "demo-anna", "annotator"),
    ("ben", "demo-ben", "annotator"),
)
COLORS = {"Product": "#2e86de", "Price tag": "#f6b93b", "Empty slot": "#8395a7"}
GUIDELINES = """# Retail shelves

Draw one **box** per visible object on the shelf.

- **Product**: every facing, from its top edge down to the shelf plank it stands on.
- **Price tag**: the small white label on the plank's front edge, below its product.
- **Empty slot**: a dark gap where a product is missing.

Boxes hug the object's visible pixels. When unsure, skip the task and say why.
"""


def demo(
    data_dir: Annotated[Path, typer.Option(help="Where the demo's database and media live.")] = Path("labelgate-data/demo"),
    images: Annotated[int, typer.Option(min=2, max=5000, help="Number of generated shelf images.")] = 40,
    host: Annotated[str, typer.Option(help="Interface to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port.")] = 8080,
    serve: Annotated[bool, typer.Option("--serve/--no-serve", help="Start the server after building.")] = True,
) -> None:
    """Build the retail-shelf demo project (images, two annotators, model predictions) and serve it."""
    from labelgate.server.services.runtime import Runtime
    from labelgate.server.settings import Settings

    settings = Settings.from_env().model_copy(update={"data_dir": data_dir, "host": host, "port": port})
    try:
        rt = Runtime.open(settings)
        try:
            project_id, built = _build(rt, images)
            _print(rt, project_id, built)
            if serve:
                _serve(rt)
        finally:
            rt.close()
    except LabelgateError as e:
        fail(str(e))


def _build(rt: Any, n_images: int) -> tuple[int, bool]:
    """The demo project's id, and whether it was built now (False: it already existed)."""
    from labelgate.core import Dataset
    from labelgate.formats.native import schema_to_dict
    from labelgate.samples.shelf import shelf_dataset, write_shelf_images
    from labelgate.server.db.repos import projects as projects_repo
    from labelgate.server.db.repos import users as users_repo
    from labelgate.server.domain import Role
    from labelgate.server.services import auth, imports, media, projects

    with rt.db.read() as conn:
        existing = projects_repo.get_by_name(conn, PROJECT)
    if existing is not None:
        return existing.id, False
    users = {}
    for name, password, role in LOGINS:
        with rt.db.read() as conn:
            user = users_repo.get_by_name(conn, name)
        users[name] = user or auth.create_user(rt, None, name, password, superuser=role == "superuser")
    admin = users["admin"]
    ds = shelf_dataset(n_images, seed=0)
    schema = schema_to_dict(ds.schema)
    for c in schema["classes"]:
        c["color"] = COLORS.get(c["name"])
    project = projects.create_project(rt, admin, PROJECT, "Generated retail shelves with known ground truth.", schema,
                                      {"overlap": 2})
    for name, _, role in LOGINS:
        if role != "superuser":
            projects.set_member(rt, admin, project.id, name, Role(role))
    projects.add_guideline(rt, admin, project.id, GUIDELINES)
    with tempfile.TemporaryDirectory(prefix="demo-", dir=rt.settings.data_dir) as tmp:
        truth = Dataset(ds.items.values(), [a for a in ds.annotations if a.provenance.author == "generator"], ds.schema)
        for path in write_shelf_images(truth, Path(tmp)):
            with path.open("rb") as fh:
                rt.storage.put(media.media_key(project.id, path.name), fh)
    # anna and ben annotated the first two thirds; the rest is work left to do. The model saw everything.
    done = set(list(ds.items)[: max(1, (2 * n_images) // 3)])
    keep = [a for a in ds.annotations if a.provenance.source.value != "human" or a.item_id in done]
    ds = Dataset(ds.items.values(), keep, ds.schema, metadata=ds.metadata)
    digest = hashlib.sha256(f"labelgate-demo:{n_images}".encode()).hexdigest()
    imports.import_dataset(rt, admin, project.id, ds, "native", "generated retail shelves", digest)
    return project.id, True


def _print(rt: Any, project_id: int, built: bool) -> None:
    from labelgate.server.db.repos import tasks as tasks_repo

    s = rt.settings
    with rt.db.read() as conn:
        n_tasks = tasks_repo.count_tasks(conn, project_id)
    what = "built" if built else "found"
    console.print(f"{what} project {PROJECT!r} (id {project_id}): {n_tasks} shelf images, "
                  "two annotators' boxes on two thirds of them, model predictions on all, gold truth kept")
    console.print(f"data: {s.data_dir.resolve()}")
    table = Table("login", "password", "role")
    for name, password, role in LOGINS:
        table.add_row(name, password, role)
    console.print(table)
    url = f"http://{s.host}:{s.port}"
    console.print(f"URL: {url}/ui/   API docs: {url}/api/v1/docs   OpenAPI: {url}/api/v1/openapi.json")


def _serve(rt: Any) -> None:
    import uvicorn

    from labelgate.server import create_app

    uvicorn.run(create_app(runtime=rt), host=rt.settings.host, port=rt.settings.port, log_level="info")
