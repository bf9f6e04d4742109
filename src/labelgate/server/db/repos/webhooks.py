"""Webhooks and their deliveries (an outbox: rows written in the same transaction as the change)."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from labelgate.server.db.engine import utcnow
from labelgate.server.db.repos._rows import fields
from labelgate.server.db.tables import webhook_deliveries, webhooks

__all__ = ["active_for", "add_deliveries", "create", "deliveries_of", "delete", "delivery", "get", "list_for",
           "update_delivery"]

_HOOK_COLS = ("id", "project_id", "url", "events", "active", "created_at")
_DELIVERY_COLS = ("id", "webhook_id", "event", "payload", "status", "attempts", "last_status", "last_error",
                  "created_at", "delivered_at")
_ACTIVE = sa.select(webhooks.c.id, webhooks.c.events).where(webhooks.c.project_id == sa.bindparam("pid"),
                                                             webhooks.c.active.is_(True))


def create(conn: Connection, project_id: int, url: str, secret: str, events: list[str]) -> dict[str, Any]:
    wid = conn.execute(webhooks.insert().values(project_id=project_id, url=url, secret=secret, events=events, active=True,
                                                created_at=utcnow()).returning(webhooks.c.id)).scalar_one()
    out = get(conn, wid)
    assert out is not None
    return out


def get(conn: Connection, webhook_id: int, with_secret: bool = False) -> dict[str, Any] | None:
    row = conn.execute(sa.select(webhooks).where(webhooks.c.id == webhook_id)).first()
    if row is None:
        return None
    return fields(row, *_HOOK_COLS, *(("secret",) if with_secret else ()))


def list_for(conn: Connection, project_id: int) -> list[dict[str, Any]]:
    rows = conn.execute(sa.select(webhooks).where(webhooks.c.project_id == project_id).order_by(webhooks.c.id))
    return [fields(r, *_HOOK_COLS) for r in rows]


def delete(conn: Connection, webhook_id: int) -> None:
    conn.execute(webhooks.delete().where(webhooks.c.id == webhook_id))


def active_for(conn: Connection, project_id: int, event: str) -> list[int]:
    return [r.id for r in conn.execute(_ACTIVE, {"pid": project_id}) if event in r.events]


def add_deliveries(conn: Connection, webhook_ids: list[int], event: str, payload: dict[str, Any]) -> list[int]:
    now = utcnow()
    return [conn.execute(webhook_deliveries.insert().values(
        webhook_id=w, event=event, payload=payload, status="pending", attempts=0, created_at=now,
    ).returning(webhook_deliveries.c.id)).scalar_one() for w in webhook_ids]


def delivery(conn: Connection, delivery_id: int) -> dict[str, Any] | None:
    row = conn.execute(sa.select(webhook_deliveries).where(webhook_deliveries.c.id == delivery_id)).first()
    return None if row is None else fields(row, *_DELIVERY_COLS)


def deliveries_of(conn: Connection, webhook_id: int) -> list[dict[str, Any]]:
    rows = conn.execute(sa.select(webhook_deliveries).where(webhook_deliveries.c.webhook_id == webhook_id)
                        .order_by(webhook_deliveries.c.id))
    return [fields(r, *_DELIVERY_COLS) for r in rows]


def update_delivery(conn: Connection, delivery_id: int, **values: Any) -> None:
    conn.execute(webhook_deliveries.update().where(webhook_deliveries.c.id == delivery_id).values(**values))
