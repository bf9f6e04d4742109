"""Webhooks: ``annotation.submitted``, ``task.completed``, ``export.ready`` and, in workflow projects,
the gold alarms ``annotator.drift`` (CUSUM on an annotator's gold errors crossed its threshold) and
``annotator.flagged`` (their gold accuracy fell below the bar and the configured actions applied),
signed with HMAC-SHA256 and retried with exponential backoff.

Deliveries are written in the same transaction as the change they announce (so none is lost and
none announces a change that was rolled back) and sent by a background job after the commit.
Each request carries ``X-Labelgate-Event``, ``X-Labelgate-Delivery`` and
``X-Labelgate-Signature: sha256=<hex HMAC of the body with the webhook's secret>``.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time
from typing import Any

import httpx
import orjson
from sqlalchemy.engine import Connection

from labelgate.core.errors import InvariantError, NotFoundError
from labelgate.server.db import utcnow
from labelgate.server.db.repos import webhooks as repo
from labelgate.server.domain import Role, User
from labelgate.server.services import jobs
from labelgate.server.services.access import project_for
from labelgate.server.services.runtime import Runtime

__all__ = ["EVENTS", "create_webhook", "delete_webhook", "deliver", "deliveries", "dispatch", "list_webhooks",
           "record", "sign"]

EVENTS = ("annotation.submitted", "task.completed", "export.ready", "annotator.drift", "annotator.flagged")


def sign(secret: str, body: bytes) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def create_webhook(rt: Runtime, actor: User, project_id: int, url: str, events: list[str] | None = None,
                   secret: str | None = None) -> tuple[dict[str, Any], str]:
    """A new webhook; returns it and its signing secret (shown only here)."""
    if not url.startswith(("http://", "https://")) or len(url) > 2000:
        raise InvariantError(f"webhook url {url!r} must be an http:// or https:// URL")
    chosen = list(events) if events else list(EVENTS)
    unknown = sorted(set(chosen) - set(EVENTS))
    if unknown:
        raise InvariantError(f"unknown webhook events {unknown}; known: {list(EVENTS)}")
    key = secret or secrets.token_urlsafe(32)
    if len(key) < 16:
        raise InvariantError("a webhook secret needs at least 16 characters")
    with rt.db.write() as conn:
        project_for(conn, project_id, actor, Role.MANAGER)
        return repo.create(conn, project_id, url, key, chosen), key


def list_webhooks(rt: Runtime, actor: User, project_id: int) -> list[dict[str, Any]]:
    with rt.db.read() as conn:
        project_for(conn, project_id, actor, Role.MANAGER)
        return repo.list_for(conn, project_id)


def _hook(conn: Connection, actor: User, webhook_id: int) -> dict[str, Any]:
    hook = repo.get(conn, webhook_id)
    missing = NotFoundError(f"webhook {webhook_id} does not exist or you may not see it")
    if hook is None:
        raise missing
    try:
        project_for(conn, hook["project_id"], actor, Role.MANAGER)
    except NotFoundError:
        raise missing from None
    return hook


def delete_webhook(rt: Runtime, actor: User, webhook_id: int) -> None:
    with rt.db.write() as conn:
        _hook(conn, actor, webhook_id)
        repo.delete(conn, webhook_id)


def deliveries(rt: Runtime, actor: User, webhook_id: int) -> list[dict[str, Any]]:
    with rt.db.read() as conn:
        _hook(conn, actor, webhook_id)
        return repo.deliveries_of(conn, webhook_id)


def record(conn: Connection, project_id: int, event: str, payload: dict[str, Any]) -> list[int]:
    """Queue ``event`` for every active webhook of the project, inside the caller's transaction."""
    hooks = repo.active_for(conn, project_id, event)
    if not hooks:
        return []
    return repo.add_deliveries(conn, hooks, event, {"project_id": project_id, **payload})


def dispatch(rt: Runtime, delivery_ids: list[int], project_id: int) -> None:
    """After the commit: a job that sends the recorded deliveries."""
    if not delivery_ids:
        return
    with rt.db.write() as conn:
        job_id = jobs.new_job(conn, "webhook", project_id, None)
    jobs.enqueue(rt, job_id, "webhook", delivery_ids=delivery_ids)


def deliver(rt: Runtime, job_id: str, delivery_ids: list[int]) -> dict[str, Any]:
    """The job: send each delivery, retrying with backoff; records every attempt."""
    s = rt.settings
    done = failed = 0
    with httpx.Client(timeout=s.webhook_timeout_s, follow_redirects=False) as http:
        for i, did in enumerate(delivery_ids):
            with rt.db.read() as conn:
                d = repo.delivery(conn, did)
                hook = None if d is None else repo.get(conn, d["webhook_id"], with_secret=True)
            if d is None or hook is None:
                continue
            body = orjson.dumps({"event": d["event"], "delivery": did, "created_at": d["created_at"].isoformat(),
                                 "payload": d["payload"]})
            headers = {"Content-Type": "application/json", "X-Labelgate-Event": d["event"],
                       "X-Labelgate-Delivery": str(did), "X-Labelgate-Signature": sign(hook["secret"], body)}
            ok = _attempts(rt, http, hook["url"], body, headers, did)
            done, failed = done + ok, failed + (not ok)
            jobs.progress(rt, job_id, i + 1, len(delivery_ids))
    return {"delivered": done, "failed": failed}


def _attempts(rt: Runtime, http: httpx.Client, url: str, body: bytes, headers: dict[str, str], did: int) -> bool:
    s = rt.settings
    for attempt in range(1, s.webhook_attempts + 1):
        status: int | None = None
        error: str | None = None
        try:
            status = http.post(url, content=body, headers=headers).status_code
        except httpx.HTTPError as e:
            error = f"{type(e).__name__}: {e}"
        ok = status is not None and 200 <= status < 300
        if not ok and error is None:
            error = f"HTTP {status}"
        last = ok or attempt == s.webhook_attempts
        with rt.db.write() as conn:
            repo.update_delivery(conn, did, attempts=attempt, last_status=status, last_error=None if ok else error,
                                 status="delivered" if ok else ("failed" if last else "retrying"),
                                 delivered_at=utcnow() if ok else None)
        if ok:
            return True
        if not last:
            time.sleep(s.webhook_backoff_s * 2 ** (attempt - 1))
    return False
