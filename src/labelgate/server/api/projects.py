"""``/projects``: projects, their members and versioned guidelines."""

from __future__ import annotations

from fastapi import APIRouter, Response

from labelgate.server.api.deps import CurrentUser, RuntimeDep
from labelgate.server.schemas.projects import (
    GuidelineIn,
    GuidelineOut,
    MemberIn,
    MemberOut,
    ProjectIn,
    ProjectOut,
    ProjectPatch,
)
from labelgate.server.services import projects as svc

router = APIRouter(prefix="/projects", tags=["projects"])


@router.post("", response_model=ProjectOut, status_code=201)
def create_project(body: ProjectIn, user: CurrentUser, rt: RuntimeDep) -> ProjectOut:
    p = svc.create_project(rt, user, body.name, body.description, body.label_schema, body.settings, body.label_config)
    return ProjectOut.model_validate(p)


@router.get("", response_model=list[ProjectOut])
def list_projects(user: CurrentUser, rt: RuntimeDep) -> list[ProjectOut]:
    return [ProjectOut.model_validate(p) for p in svc.list_projects(rt, user)]


@router.get("/{project_id}", response_model=ProjectOut)
def get_project(project_id: int, user: CurrentUser, rt: RuntimeDep) -> ProjectOut:
    return ProjectOut.model_validate(svc.get_project(rt, user, project_id))


@router.patch("/{project_id}", response_model=ProjectOut)
def update_project(project_id: int, body: ProjectPatch, user: CurrentUser, rt: RuntimeDep) -> ProjectOut:
    p = svc.update_project(rt, user, project_id, body.name, body.description, body.label_schema, body.settings,
                           body.label_config)
    return ProjectOut.model_validate(p)


@router.delete("/{project_id}", status_code=204)
def delete_project(project_id: int, user: CurrentUser, rt: RuntimeDep) -> Response:
    svc.delete_project(rt, user, project_id)
    return Response(status_code=204)


@router.get("/{project_id}/members", response_model=list[MemberOut])
def list_members(project_id: int, user: CurrentUser, rt: RuntimeDep) -> list[MemberOut]:
    return [MemberOut.model_validate(m) for m in svc.list_members(rt, user, project_id)]


@router.put("/{project_id}/members", response_model=MemberOut)
def set_member(project_id: int, body: MemberIn, user: CurrentUser, rt: RuntimeDep) -> MemberOut:
    return MemberOut.model_validate(svc.set_member(rt, user, project_id, body.username, body.role))


@router.delete("/{project_id}/members/{user_id}", status_code=204)
def remove_member(project_id: int, user_id: int, user: CurrentUser, rt: RuntimeDep) -> Response:
    svc.remove_member(rt, user, project_id, user_id)
    return Response(status_code=204)


@router.post("/{project_id}/guidelines", response_model=GuidelineOut, status_code=201)
def add_guideline(project_id: int, body: GuidelineIn, user: CurrentUser, rt: RuntimeDep) -> GuidelineOut:
    return GuidelineOut.model_validate(svc.add_guideline(rt, user, project_id, body.text))


@router.get("/{project_id}/guidelines", response_model=GuidelineOut)
def latest_guideline(project_id: int, user: CurrentUser, rt: RuntimeDep) -> GuidelineOut:
    return GuidelineOut.model_validate(svc.get_guideline(rt, user, project_id))


@router.get("/{project_id}/guidelines/{version}", response_model=GuidelineOut)
def guideline(project_id: int, version: int, user: CurrentUser, rt: RuntimeDep) -> GuidelineOut:
    return GuidelineOut.model_validate(svc.get_guideline(rt, user, project_id, version))
