"""Publishing a guideline version through the workflow (optionally opening an agreement round)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from labelgate.server.api.deps import CurrentUser, RuntimeDep
from labelgate.server.schemas.workflow import PublishIn
from labelgate.server.services import workflow as svc

router = APIRouter(tags=["guidelines"])


@router.post("/projects/{project_id}/guidelines/publish", status_code=201)
def publish(project_id: int, body: PublishIn, user: CurrentUser, rt: RuntimeDep) -> dict[str, Any]:
    return svc.publish_guideline(rt, user, project_id, body.text, body.round_tasks, body.round_k, body.round_priority)
