"""Webhooks of a project: register, list, remove, and see each delivery's attempts."""

from __future__ import annotations

from fastapi import APIRouter, Response

from labelgate.server.api.deps import CurrentUser, RuntimeDep
from labelgate.server.schemas.webhooks import DeliveryOut, WebhookCreated, WebhookIn, WebhookOut
from labelgate.server.services import webhooks as svc

router = APIRouter(tags=["webhooks"])


@router.post("/projects/{project_id}/webhooks", response_model=WebhookCreated, status_code=201)
def create_webhook(project_id: int, body: WebhookIn, user: CurrentUser, rt: RuntimeDep) -> WebhookCreated:
    hook, secret = svc.create_webhook(rt, user, project_id, body.url, body.events, body.secret)
    return WebhookCreated(**hook, secret=secret)


@router.get("/projects/{project_id}/webhooks", response_model=list[WebhookOut])
def list_webhooks(project_id: int, user: CurrentUser, rt: RuntimeDep) -> list[WebhookOut]:
    return [WebhookOut(**h) for h in svc.list_webhooks(rt, user, project_id)]


@router.delete("/webhooks/{webhook_id}", status_code=204)
def delete_webhook(webhook_id: int, user: CurrentUser, rt: RuntimeDep) -> Response:
    svc.delete_webhook(rt, user, webhook_id)
    return Response(status_code=204)


@router.get("/webhooks/{webhook_id}/deliveries", response_model=list[DeliveryOut])
def deliveries(webhook_id: int, user: CurrentUser, rt: RuntimeDep) -> list[DeliveryOut]:
    return [DeliveryOut(**d) for d in svc.deliveries(rt, user, webhook_id)]
