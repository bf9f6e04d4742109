"""``/jobs/{id}``: status and progress of a background job."""

from __future__ import annotations

from fastapi import APIRouter

from labelgate.server.api.deps import CurrentUser, RuntimeDep
from labelgate.server.schemas.tasks import JobOut
from labelgate.server.services import jobs as svc

router = APIRouter(prefix="/jobs", tags=["jobs"])


@router.get("/{job_id}", response_model=JobOut)
def get_job(job_id: str, user: CurrentUser, rt: RuntimeDep) -> JobOut:
    return JobOut.model_validate(svc.get_job(rt, user, job_id))
