"""Webhooks and their deliveries."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import Field

from labelgate.server.schemas.common import Model

__all__ = ["DeliveryOut", "WebhookCreated", "WebhookIn", "WebhookOut"]


class WebhookIn(Model):
    url: str = Field(description="http(s) URL that receives POSTed JSON.")
    events: list[str] | None = Field(None, description="annotation.submitted, task.completed, export.ready, "
                                                   "annotator.drift, annotator.flagged (default: all)")
    secret: str | None = Field(None, description="HMAC key (at least 16 characters); generated when omitted.")


class WebhookOut(Model):
    id: int
    project_id: int
    url: str
    events: list[str]
    active: bool
    created_at: datetime


class WebhookCreated(WebhookOut):
    secret: str = Field(description="The signing secret; shown only once.")


class DeliveryOut(Model):
    id: int
    webhook_id: int
    event: str
    payload: dict[str, Any]
    status: str
    attempts: int
    last_status: int | None
    last_error: str | None
    created_at: datetime
    delivered_at: datetime | None
