"""Exports: start a snapshot (a job), list them, read one, download its files."""

from __future__ import annotations

import shutil
import tempfile
import zipfile

from fastapi import APIRouter
from fastapi.responses import StreamingResponse

from labelgate.core.errors import NotFoundError
from labelgate.server.api._streams import file_chunks
from labelgate.server.api.deps import CurrentUser, RuntimeDep
from labelgate.server.schemas.tasks import ExportIn, ExportOut, ExportStarted, JobOut
from labelgate.server.services import exports as svc

router = APIRouter(tags=["exports"])


@router.post("/projects/{project_id}/exports", response_model=ExportStarted, status_code=202)
def start_export(project_id: int, body: ExportIn, user: CurrentUser, rt: RuntimeDep) -> ExportStarted:
    record, job = svc.start_export(rt, user, project_id, body.format, body.filter, body.override_reason, body.gold)
    return ExportStarted(export=ExportOut.model_validate(record), job=JobOut.model_validate(job))


@router.get("/projects/{project_id}/exports", response_model=list[ExportOut])
def list_exports(project_id: int, user: CurrentUser, rt: RuntimeDep) -> list[ExportOut]:
    return [ExportOut.model_validate(r) for r in svc.list_exports(rt, user, project_id)]


@router.get("/exports/{export_id}", response_model=ExportOut)
def get_export(export_id: int, user: CurrentUser, rt: RuntimeDep) -> ExportOut:
    return ExportOut.model_validate(svc.get_export(rt, user, export_id))


@router.get("/exports/{export_id}/files/{path:path}", response_class=StreamingResponse)
def export_file(export_id: int, path: str, user: CurrentUser, rt: RuntimeDep) -> StreamingResponse:
    _, files = svc.export_files(rt, user, export_id)
    key = dict(files).get(path)
    if key is None:
        raise NotFoundError(f"export {export_id} has no file {path!r}")
    return StreamingResponse(file_chunks(rt.storage.open(key)), media_type="application/octet-stream")


@router.get("/exports/{export_id}/download", response_class=StreamingResponse)
def download(export_id: int, user: CurrentUser, rt: RuntimeDep) -> StreamingResponse:
    """The whole snapshot as one zip archive (with its manifest.json)."""
    import orjson

    record, files = svc.export_files(rt, user, export_id)
    spool = tempfile.SpooledTemporaryFile(max_size=32 << 20)  # noqa: SIM115 - closed by the response iterator
    with zipfile.ZipFile(spool, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("manifest.json", orjson.dumps(record.manifest, option=orjson.OPT_INDENT_2))
        for name, key in files:
            with rt.storage.open(key) as src, zf.open(name, "w") as dst:
                shutil.copyfileobj(src, dst, 1 << 20)
    spool.seek(0)
    filename = f"project-{record.project_id}-v{record.version}-{record.format}.zip"
    return StreamingResponse(file_chunks(spool), media_type="application/zip",
                             headers={"Content-Disposition": f'attachment; filename="{filename}"'})
