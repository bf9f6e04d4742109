"""``/projects/{id}/imports``: upload an annotation file in any supported format."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, File, Form, Request, UploadFile

from labelgate.server.api.deps import CurrentUser, RuntimeDep
from labelgate.server.api.uploads import check_length, received
from labelgate.server.schemas.tasks import ImportOut, JobOut
from labelgate.server.services import imports as svc

router = APIRouter(tags=["imports"])


@router.post("/projects/{project_id}/imports", response_model=ImportOut, status_code=201)
def import_file(
    project_id: int,
    request: Request,
    user: CurrentUser,
    rt: RuntimeDep,
    file: Annotated[UploadFile, File(description="The annotation file (JSON, XML, ...).")],
    format: Annotated[str | None, Form(description="Codec name; detected when omitted.")] = None,
    kind: Annotated[svc.ImportKind, Form(description="annotations keep provenance; predictions become a model's")]
    = svc.ImportKind.ANNOTATIONS,
    model: Annotated[str | None, Form()] = None,
    model_version: Annotated[str | None, Form()] = None,
) -> ImportOut:
    check_length(request, rt.settings)
    with received(file, rt.settings) as path:
        rec = svc.import_file(rt, user, project_id, path, file.filename or path.name, format or None, kind,
                              model or None, model_version or None)
    return ImportOut.model_validate(rec)


@router.post("/projects/{project_id}/imports/background", response_model=JobOut, status_code=202)
def import_in_background(
    project_id: int,
    request: Request,
    user: CurrentUser,
    rt: RuntimeDep,
    file: Annotated[UploadFile, File(description="The annotation file (JSON, XML, ...).")],
    format: Annotated[str | None, Form(description="Codec name; detected when omitted.")] = None,
    kind: Annotated[svc.ImportKind, Form()] = svc.ImportKind.ANNOTATIONS,
    model: Annotated[str | None, Form()] = None,
    model_version: Annotated[str | None, Form()] = None,
) -> JobOut:
    """Like POST .../imports, but answers at once with a job; poll GET /jobs/{id} (its result is
    the import, its error why the file was refused)."""
    check_length(request, rt.settings)
    with received(file, rt.settings) as path:
        job = svc.start_import(rt, user, project_id, path, file.filename or path.name, format or None, kind,
                               model or None, model_version or None)
    return JobOut.model_validate(job)


@router.get("/projects/{project_id}/imports", response_model=list[ImportOut])
def list_imports(project_id: int, user: CurrentUser, rt: RuntimeDep) -> list[ImportOut]:
    return [ImportOut.model_validate(r) for r in svc.list_imports(rt, user, project_id)]
