"""Tasks of a project: list, create, next task, one task with its visible annotations, skip,
history, and the caller's annotation on a task."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request, Response

from labelgate.server.api.deps import CurrentUser, RuntimeDep, etag, short_write
from labelgate.server.schemas.tasks import (
    AnnotationIn,
    AnnotationOut,
    EventOut,
    SkipIn,
    TaskDetail,
    TaskOut,
    TaskPage,
    TasksIn,
)
from labelgate.server.services import annotations as svc
from labelgate.server.services import imports

router = APIRouter(tags=["tasks"])


@router.get("/projects/{project_id}/tasks", response_model=TaskPage)
def list_tasks(project_id: int, user: CurrentUser, rt: RuntimeDep, offset: Annotated[int, Query(ge=0)] = 0,
               limit: Annotated[int, Query(ge=1, le=1000)] = 100) -> TaskPage:
    tasks, total = svc.list_tasks(rt, user, project_id, offset, limit)
    return TaskPage(total=total, offset=offset, limit=limit, tasks=[TaskOut.model_validate(t) for t in tasks])


@router.post("/projects/{project_id}/tasks", response_model=list[TaskOut], status_code=201)
def create_tasks(project_id: int, body: TasksIn, user: CurrentUser, rt: RuntimeDep) -> list[TaskOut]:
    return [TaskOut.model_validate(t) for t in imports.create_tasks(rt, user, project_id, body.items)]


@router.post("/projects/{project_id}/next-task", response_model=TaskOut,
             responses={204: {"description": "No task left for you."}})
async def next_task(project_id: int, user: CurrentUser, rt: RuntimeDep, request: Request) -> TaskOut | Response:
    task = await short_write(request, rt, svc.next_task, rt, user, project_id)
    if task is None:
        return Response(status_code=204)
    return TaskOut.model_validate(task)


@router.get("/tasks/{task_id}", response_model=TaskDetail)
def get_task(task_id: int, user: CurrentUser, rt: RuntimeDep) -> TaskDetail:
    task, anns = svc.get_task(rt, user, task_id)
    return TaskDetail(**TaskOut.model_validate(task).model_dump(),
                      annotations=[AnnotationOut.model_validate(a) for a in anns])


@router.get("/tasks/{task_id}/events", response_model=list[EventOut])
def task_events(task_id: int, user: CurrentUser, rt: RuntimeDep) -> list[EventOut]:
    return [EventOut.model_validate(e) for e in svc.task_events(rt, user, task_id)]


@router.post("/tasks/{task_id}/skip", response_model=AnnotationOut)
def skip_task(task_id: int, body: SkipIn, user: CurrentUser, rt: RuntimeDep, response: Response) -> AnnotationOut:
    ann = svc.skip_task(rt, user, task_id, body.reason)
    response.headers["ETag"] = etag(ann.version)
    return AnnotationOut.model_validate(ann)


@router.post("/tasks/{task_id}/annotations", response_model=AnnotationOut, status_code=201)
async def create_annotation(task_id: int, body: AnnotationIn, user: CurrentUser, rt: RuntimeDep, request: Request,
                            response: Response) -> AnnotationOut:
    ann = await short_write(request, rt, svc.create_annotation, rt, user, task_id, body.regions, body.submit,
                            body.lead_time)
    response.headers["ETag"] = etag(ann.version)
    return AnnotationOut.model_validate(ann)
