"""The workflow: its configuration, next task per stage, the caller's assignment, submit, review (per
task and per region), adjudication, gold tasks and resuming flagged annotators."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Body, Query, Response

from labelgate.server.api.deps import CurrentUser, RuntimeDep, etag
from labelgate.server.schemas.tasks import AnnotationOut, TaskOut
from labelgate.server.schemas.workflow import (
    AdjudicateIn,
    GoldIn,
    PromoteIn,
    ResumeIn,
    WorkflowReviewIn,
    WorkflowSubmitIn,
)
from labelgate.server.services import workflow as svc

router = APIRouter(tags=["workflow"])


@router.put("/projects/{project_id}/workflow")
def set_workflow(project_id: int, user: CurrentUser, rt: RuntimeDep,
                 body: Annotated[dict[str, Any], Body()]) -> dict[str, Any]:
    return svc.set_workflow(rt, user, project_id, body)


@router.get("/projects/{project_id}/workflow")
def get_workflow(project_id: int, user: CurrentUser, rt: RuntimeDep) -> dict[str, Any]:
    return svc.get_workflow(rt, user, project_id)


@router.post("/projects/{project_id}/workflow/next", response_model=TaskOut,
             responses={204: {"description": "Nothing for you at this stage now."}})
def next_at_stage(project_id: int, user: CurrentUser, rt: RuntimeDep,
                  stage: Annotated[str, Query()] = "annotate") -> TaskOut | Response:
    task = svc.next_task(rt, user, project_id, stage)
    if task is None:
        return Response(status_code=204)
    return TaskOut.model_validate(task)


@router.get("/tasks/{task_id}/assignment")
def assignment(task_id: int, user: CurrentUser, rt: RuntimeDep) -> dict[str, Any]:
    return svc.assignment(rt, user, task_id)


@router.post("/tasks/{task_id}/submit", response_model=AnnotationOut, status_code=201)
def submit(task_id: int, body: WorkflowSubmitIn, user: CurrentUser, rt: RuntimeDep, response: Response) -> AnnotationOut:
    ann = svc.submit(rt, user, task_id, body.regions, body.lead_time)
    response.headers["ETag"] = etag(ann.version)
    return AnnotationOut.model_validate(ann)


@router.post("/tasks/{task_id}/review")
def review(task_id: int, body: WorkflowReviewIn, user: CurrentUser, rt: RuntimeDep) -> dict[str, Any]:
    return svc.review(rt, user, task_id, body.accept, body.comment, [r.model_dump() for r in body.regions])


@router.post("/tasks/{task_id}/adjudicate", response_model=AnnotationOut, status_code=201)
def adjudicate(task_id: int, body: AdjudicateIn, user: CurrentUser, rt: RuntimeDep) -> AnnotationOut:
    return AnnotationOut.model_validate(svc.adjudicate(rt, user, task_id, body.regions, body.sources, body.method))


@router.post("/projects/{project_id}/gold", response_model=list[TaskOut], status_code=201)
def add_gold(project_id: int, body: GoldIn, user: CurrentUser, rt: RuntimeDep) -> list[TaskOut]:
    return [TaskOut.model_validate(t) for t in svc.add_gold(rt, user, project_id, body.entries)]


@router.post("/tasks/{task_id}/promote-gold")
def promote_gold(task_id: int, body: PromoteIn, user: CurrentUser, rt: RuntimeDep) -> dict[str, Any]:
    return svc.promote_gold(rt, user, task_id, body.regions)


@router.post("/projects/{project_id}/workflow/resume")
def resume(project_id: int, body: ResumeIn, user: CurrentUser, rt: RuntimeDep) -> dict[str, Any]:
    return svc.resume(rt, user, project_id, body.user_id, body.reason)
