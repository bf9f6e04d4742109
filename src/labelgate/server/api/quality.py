"""The quality dashboard's data: agreement, scorecards, confused classes, the export gate, task counts."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query

from labelgate.server.api.deps import CurrentUser, RuntimeDep
from labelgate.server.services import quality as svc

router = APIRouter(tags=["quality"])


@router.get("/projects/{project_id}/quality/agreement")
def agreement(project_id: int, user: CurrentUser, rt: RuntimeDep) -> dict[str, Any]:
    return svc.agreement(rt, user, project_id)


@router.get("/projects/{project_id}/quality/annotators")
def scorecards(project_id: int, user: CurrentUser, rt: RuntimeDep) -> list[dict[str, Any]]:
    return svc.scorecards(rt, user, project_id)


@router.get("/projects/{project_id}/quality/confused")
def confused(project_id: int, user: CurrentUser, rt: RuntimeDep,
             top: Annotated[int, Query(ge=1, le=100)] = 10) -> list[dict[str, Any]]:
    return svc.confused(rt, user, project_id, top)


@router.get("/projects/{project_id}/quality/gate")
def gate(project_id: int, user: CurrentUser, rt: RuntimeDep) -> dict[str, Any] | None:
    return svc.gate(rt, user, project_id)


@router.get("/projects/{project_id}/quality/overview")
def overview(project_id: int, user: CurrentUser, rt: RuntimeDep) -> dict[str, Any]:
    return svc.overview(rt, user, project_id)
