"""``/annotations/{id}``: read, save or submit with optimistic concurrency, review."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Header, Request, Response

from labelgate.server.api.deps import CurrentUser, RuntimeDep, etag, expected_version, short_write
from labelgate.server.schemas.tasks import AnnotationOut, AnnotationUpdate, ReviewIn
from labelgate.server.services import annotations as svc

router = APIRouter(prefix="/annotations", tags=["annotations"])


@router.get("/{annotation_id}", response_model=AnnotationOut)
def get_annotation(annotation_id: int, user: CurrentUser, rt: RuntimeDep, response: Response) -> AnnotationOut:
    ann = svc.get_annotation(rt, user, annotation_id)
    response.headers["ETag"] = etag(ann.version)
    return AnnotationOut.model_validate(ann)


@router.put("/{annotation_id}", response_model=AnnotationOut,
            responses={409: {"description": "Stale version: someone saved after you loaded it."}})
async def update_annotation(annotation_id: int, body: AnnotationUpdate, user: CurrentUser, rt: RuntimeDep,
                            request: Request, response: Response,
                            if_match: Annotated[str | None, Header()] = None) -> AnnotationOut:
    version = expected_version(if_match, body.version)
    ann = await short_write(request, rt, svc.update_annotation, rt, user, annotation_id, version, body.regions,
                            body.submit, body.lead_time)
    response.headers["ETag"] = etag(ann.version)
    return AnnotationOut.model_validate(ann)


@router.post("/{annotation_id}/review", response_model=AnnotationOut)
def review_annotation(annotation_id: int, body: ReviewIn, user: CurrentUser, rt: RuntimeDep, response: Response,
                      if_match: Annotated[str | None, Header()] = None) -> AnnotationOut:
    version = expected_version(if_match, body.version)
    ann = svc.review_annotation(rt, user, annotation_id, version, body.accept, body.comment)
    response.headers["ETag"] = etag(ann.version)
    return AnnotationOut.model_validate(ann)
