"""The client: one method per API operation, plain dicts in and out."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx

from labelgate.client._errors import error_for
from labelgate.client._workflow import WorkflowMethods
from labelgate.core.errors import LabelgateError

__all__ = ["Client"]

API = "/api/v1"


class Client(WorkflowMethods):
    """``Client(url, token)``. Pass ``http`` to reuse an ``httpx.Client`` (e.g. FastAPI's TestClient)."""

    def __init__(self, url: str = "http://127.0.0.1:8080", token: str | None = None, *, timeout: float = 60.0,
                 http: httpx.Client | None = None) -> None:
        self.url = url.rstrip("/")
        headers = {"Authorization": f"Token {token}"} if token else {}
        if http is None:
            self._http = httpx.Client(base_url=self.url, timeout=timeout, headers=headers)
            self._owned = True
        else:
            self._http = http
            self._http.headers.update(headers)
            self._owned = False

    def close(self) -> None:
        if self._owned:
            self._http.close()

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- plumbing -----------------------------------------------------------------------------
    def _request(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        r = self._http.request(method, API + path, **kwargs)
        if r.status_code >= 400:
            try:
                body = r.json()
            except ValueError:
                body = None
            raise error_for(r.status_code, body, f"{method} {path}: HTTP {r.status_code}")
        return r

    def _json(self, method: str, path: str, **kwargs: Any) -> Any:
        r = self._request(method, path, **kwargs)
        return None if r.status_code == 204 or not r.content else r.json()

    # -- meta and auth ------------------------------------------------------------------------
    def health(self) -> dict[str, Any]:
        return self._json("GET", "/health")

    def formats(self) -> list[dict[str, Any]]:
        return self._json("GET", "/formats")

    def login(self, username: str, password: str) -> dict[str, Any]:
        """Password login; the session cookie is kept for later calls."""
        return self._json("POST", "/auth/login", json={"username": username, "password": password})

    def logout(self) -> None:
        self._json("POST", "/auth/logout")

    def me(self) -> dict[str, Any]:
        return self._json("GET", "/auth/me")

    def create_token(self, name: str) -> dict[str, Any]:
        return self._json("POST", "/auth/tokens", json={"name": name})

    def tokens(self) -> list[dict[str, Any]]:
        return self._json("GET", "/auth/tokens")

    def revoke_token(self, token_id: int) -> None:
        self._json("DELETE", f"/auth/tokens/{token_id}")

    def create_user(self, username: str, password: str, superuser: bool = False) -> dict[str, Any]:
        body = {"username": username, "password": password, "is_superuser": superuser}
        return self._json("POST", "/users", json=body)

    def users(self) -> list[dict[str, Any]]:
        return self._json("GET", "/users")

    def set_user_active(self, user_id: int, active: bool) -> dict[str, Any]:
        """Superusers: deactivate (sessions and tokens stop working) or reactivate an account."""
        return self._json("PATCH", f"/users/{user_id}", json={"is_active": active})

    def change_password(self, current: str, new: str) -> None:
        self._json("POST", "/auth/password", json={"current": current, "new": new})

    # -- projects -----------------------------------------------------------------------------
    def create_project(self, name: str, description: str = "", label_schema: dict[str, Any] | None = None,
                       settings: dict[str, Any] | None = None) -> dict[str, Any]:
        body = {"name": name, "description": description, "label_schema": label_schema, "settings": settings}
        return self._json("POST", "/projects", json=body)

    def projects(self) -> list[dict[str, Any]]:
        return self._json("GET", "/projects")

    def project(self, project_id: int) -> dict[str, Any]:
        return self._json("GET", f"/projects/{project_id}")

    def update_project(self, project_id: int, **changes: Any) -> dict[str, Any]:
        return self._json("PATCH", f"/projects/{project_id}", json=changes)

    def delete_project(self, project_id: int) -> None:
        self._json("DELETE", f"/projects/{project_id}")

    def members(self, project_id: int) -> list[dict[str, Any]]:
        return self._json("GET", f"/projects/{project_id}/members")

    def set_member(self, project_id: int, username: str, role: str) -> dict[str, Any]:
        return self._json("PUT", f"/projects/{project_id}/members", json={"username": username, "role": role})

    def remove_member(self, project_id: int, user_id: int) -> None:
        self._json("DELETE", f"/projects/{project_id}/members/{user_id}")

    def add_guidelines(self, project_id: int, text: str) -> dict[str, Any]:
        return self._json("POST", f"/projects/{project_id}/guidelines", json={"text": text})

    def guidelines(self, project_id: int, version: int | None = None) -> dict[str, Any]:
        suffix = "" if version is None else f"/{version}"
        return self._json("GET", f"/projects/{project_id}/guidelines{suffix}")

    # -- tasks and annotations ----------------------------------------------------------------
    def tasks(self, project_id: int, offset: int = 0, limit: int = 100) -> dict[str, Any]:
        return self._json("GET", f"/projects/{project_id}/tasks", params={"offset": offset, "limit": limit})

    def iter_tasks(self, project_id: int, page: int = 500) -> Iterator[dict[str, Any]]:
        offset = 0
        while True:
            chunk = self.tasks(project_id, offset, page)
            yield from chunk["tasks"]
            offset += len(chunk["tasks"])
            if not chunk["tasks"] or offset >= chunk["total"]:
                return

    def create_tasks(self, project_id: int, items: list[dict[str, Any]]) -> list[dict[str, Any]]:
        return self._json("POST", f"/projects/{project_id}/tasks", json={"items": items})

    def next_task(self, project_id: int) -> dict[str, Any] | None:
        """The next task for you, or None when there is none left."""
        return self._json("POST", f"/projects/{project_id}/next-task")

    def task(self, task_id: int) -> dict[str, Any]:
        return self._json("GET", f"/tasks/{task_id}")

    def task_events(self, task_id: int) -> list[dict[str, Any]]:
        return self._json("GET", f"/tasks/{task_id}/events")

    def skip(self, task_id: int, reason: str = "") -> dict[str, Any]:
        return self._json("POST", f"/tasks/{task_id}/skip", json={"reason": reason})

    def create_annotation(self, task_id: int, regions: list[dict[str, Any]], submit: bool = False,
                          lead_time: float | None = None) -> dict[str, Any]:
        body = {"regions": regions, "submit": submit, "lead_time": lead_time}
        return self._json("POST", f"/tasks/{task_id}/annotations", json=body)

    def annotation(self, annotation_id: int) -> dict[str, Any]:
        return self._json("GET", f"/annotations/{annotation_id}")

    def update_annotation(self, annotation_id: int, version: int, regions: list[dict[str, Any]] | None = None,
                          submit: bool = False, lead_time: float | None = None) -> dict[str, Any]:
        """Save or submit; raises ``ConflictError`` if someone saved after ``version``."""
        body = {"regions": regions, "submit": submit, "lead_time": lead_time}
        return self._json("PUT", f"/annotations/{annotation_id}", json=body, headers={"If-Match": f'"{version}"'})

    def review(self, annotation_id: int, version: int, accept: bool, comment: str = "") -> dict[str, Any]:
        body = {"accept": accept, "comment": comment}
        return self._json("POST", f"/annotations/{annotation_id}/review", json=body,
                          headers={"If-Match": f'"{version}"'})

    # -- media --------------------------------------------------------------------------------
    def upload_media(self, project_id: int, path: str | Path) -> dict[str, Any]:
        """An image, a zip/tar archive of images, or a text file of URLs; new images become tasks."""
        p = Path(path)
        with p.open("rb") as fh:
            return self._json("POST", f"/projects/{project_id}/media", files={"file": (p.name, fh)})

    def scan_media(self, project_id: int) -> dict[str, Any]:
        """Tasks for new images in the project's registered directory or bucket."""
        return self._json("POST", f"/projects/{project_id}/media/scan")

    def task_media(self, task_id: int) -> bytes:
        """The task's image bytes (following a redirect to a URL or signed bucket URL)."""
        r = self._http.get(f"{API}/tasks/{task_id}/media", follow_redirects=True)
        if r.status_code >= 400:
            raise error_for(r.status_code, r.json() if r.headers.get("content-type", "").startswith("application/json")
                            else None, f"media of task {task_id}: HTTP {r.status_code}")
        return r.content

    # -- webhooks -----------------------------------------------------------------------------
    def create_webhook(self, project_id: int, url: str, events: list[str] | None = None,
                       secret: str | None = None) -> dict[str, Any]:
        """Returns the webhook with its signing ``secret`` (shown only here)."""
        return self._json("POST", f"/projects/{project_id}/webhooks", json={"url": url, "events": events, "secret": secret})

    def webhooks(self, project_id: int) -> list[dict[str, Any]]:
        return self._json("GET", f"/projects/{project_id}/webhooks")

    def delete_webhook(self, webhook_id: int) -> None:
        self._json("DELETE", f"/webhooks/{webhook_id}")

    def webhook_deliveries(self, webhook_id: int) -> list[dict[str, Any]]:
        return self._json("GET", f"/webhooks/{webhook_id}/deliveries")

    # -- import, export, jobs -----------------------------------------------------------------
    def import_file(self, project_id: int, path: str | Path, format: str | None = None, kind: str = "annotations",
                    model: str | None = None, model_version: str | None = None, background: bool = False,
                    timeout: float = 3600.0) -> dict[str, Any]:
        """Import an annotation file; returns the import record. ``background=True`` lets the
        server answer at once and run the import as a job, which this call then waits for."""
        p = Path(path)
        if not p.is_file():
            raise LabelgateError(f"{p}: not a file; upload a single annotation file")
        form = {k: v for k, v in {"format": format, "kind": kind, "model": model, "model_version": model_version}.items()
                if v is not None}
        route = f"/projects/{project_id}/imports" + ("/background" if background else "")
        with p.open("rb") as fh:
            out = self._json("POST", route, files={"file": (p.name, fh)}, data=form)
        if not background:
            return out
        return self.wait_job(out["id"], timeout)["result"]

    def imports(self, project_id: int) -> list[dict[str, Any]]:
        return self._json("GET", f"/projects/{project_id}/imports")

    def start_export(self, project_id: int, format: str = "native", filter: str = "all",
                     override_reason: str | None = None, gold: str = "exclude") -> dict[str, Any]:
        """Queue a snapshot; returns ``{"export": ..., "job": ...}``. ``override_reason``: a manager's reason to
        export past a shut quality gate (kept in the snapshot's manifest). ``gold``: ``exclude`` leaves gold
        tasks and the answers to them out, ``include`` keeps them (the manifest's ``gold`` names them)."""
        body = {"format": format, "filter": filter, "override_reason": override_reason, "gold": gold}
        return self._json("POST", f"/projects/{project_id}/exports", json=body)

    def exports(self, project_id: int) -> list[dict[str, Any]]:
        return self._json("GET", f"/projects/{project_id}/exports")

    def get_export(self, export_id: int) -> dict[str, Any]:
        return self._json("GET", f"/exports/{export_id}")

    def job(self, job_id: str) -> dict[str, Any]:
        return self._json("GET", f"/jobs/{job_id}")

    def wait_job(self, job_id: str, timeout: float = 600.0, poll: float = 0.2) -> dict[str, Any]:
        """Poll until the job has finished; raises if it failed or ``timeout`` ran out."""
        deadline = time.monotonic() + timeout
        while True:
            job = self.job(job_id)
            if job["status"] == "succeeded":
                return job
            if job["status"] == "failed":
                raise LabelgateError(f"job {job_id} failed: {job['error']}")
            if time.monotonic() > deadline:
                raise LabelgateError(f"job {job_id} still {job['status']} after {timeout} s")
            time.sleep(poll)

    def export(self, project_id: int, dest: str | Path, format: str = "native", filter: str = "all",
               timeout: float = 600.0) -> dict[str, Any]:
        """Snapshot, wait, and download the snapshot's files into directory ``dest``."""
        started = self.start_export(project_id, format, filter)
        self.wait_job(started["job"]["id"], timeout)
        record = self.get_export(started["export"]["id"])
        self.download_export(record, dest)
        return record

    def download_export(self, record: dict[str, Any], dest: str | Path) -> list[Path]:
        out = []
        root = Path(dest)
        for f in record["manifest"]["files"]:
            target = root / f["path"]
            if not target.resolve().is_relative_to(root.resolve()):
                raise LabelgateError(f"export file {f['path']!r} would land outside {root}")
            target.parent.mkdir(parents=True, exist_ok=True)
            with self._http.stream("GET", f"{API}/exports/{record['id']}/files/{f['path']}") as r:
                if r.status_code >= 400:
                    r.read()
                    raise error_for(r.status_code, r.json(), f"download of {f['path']} failed")
                with target.open("wb") as fh:
                    for chunk in r.iter_bytes():
                        fh.write(chunk)
            out.append(target)
        return out
