"""Media: upload images or archives of images; serve a task's media (HTTP range requests)."""

from __future__ import annotations

import mimetypes
from typing import Annotated

from fastapi import APIRouter, File, Request, UploadFile
from fastapi.responses import FileResponse, RedirectResponse, Response, StreamingResponse

from labelgate.server.api._streams import file_chunks
from labelgate.server.api.deps import CurrentUser, RuntimeDep
from labelgate.server.api.uploads import check_length, received
from labelgate.server.schemas.common import Model
from labelgate.server.services import media as svc

router = APIRouter(tags=["media"])


class MediaUploadOut(Model):
    files: int
    new_tasks: int
    skipped: list[str]


@router.post("/projects/{project_id}/media", response_model=MediaUploadOut, status_code=201)
def upload_media(project_id: int, request: Request, user: CurrentUser, rt: RuntimeDep,
                 file: Annotated[UploadFile, File(description="An image, or a zip/tar archive of images.")]
                 ) -> MediaUploadOut:
    check_length(request, rt.settings)
    with received(file, rt.settings) as path:
        up = svc.upload_media(rt, user, project_id, path, file.filename or path.name)
    return MediaUploadOut.model_validate(up)


@router.post("/projects/{project_id}/media/scan", response_model=MediaUploadOut)
def scan_media(project_id: int, user: CurrentUser, rt: RuntimeDep) -> MediaUploadOut:
    """New tasks for images in the project's registered directory or bucket."""
    return MediaUploadOut.model_validate(svc.scan_media(rt, user, project_id))


@router.get("/tasks/{task_id}/media", response_class=Response,
            responses={200: {"content": {"image/*": {}}}, 206: {"description": "Partial content (Range)."},
                       307: {"description": "The media is a URL."}})
def task_media(task_id: int, user: CurrentUser, rt: RuntimeDep) -> Response:
    src = svc.media_source(rt, user, task_id)
    if src.kind == "url":
        return RedirectResponse(src.value, status_code=307)
    media_type = mimetypes.guess_type(src.value)[0] or "application/octet-stream"
    headers = {"Cache-Control": "private, max-age=3600"}
    if src.kind == "file":
        return FileResponse(src.value, media_type=media_type, headers=headers)
    url = rt.storage.url_for(src.value)  # object storage: a short-lived signed URL, which serves ranges itself
    if url is not None:
        return RedirectResponse(url, status_code=307)
    return StreamingResponse(file_chunks(rt.storage.open(src.value)), media_type=media_type, headers=headers)
