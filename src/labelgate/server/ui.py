"""The browser UI: ``/ui/`` serves the single page, ``/ui/...`` its ES modules, styles and icons.

There is no build step: the files under ``static/`` are what the browser runs. Every response
carries an ETag (a hash of the file) and ``Cache-Control: no-cache``, so browsers revalidate with
``If-None-Match`` and get a ``304`` while a file is unchanged; a new release is picked up on the
next load without stale modules mixing with fresh ones.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response

from labelgate.core.errors import NotFoundError

__all__ = ["STATIC_DIR", "router"]

STATIC_DIR = Path(__file__).resolve().parent / "static"
UI_PREFIX = "/ui"

CONTENT_TYPES = {
    ".html": "text/html; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".mjs": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".svg": "image/svg+xml",
    ".png": "image/png",
    ".ico": "image/x-icon",
    ".json": "application/json",
}

# The page loads only its own modules; images come from the API (blob: URLs are not needed).
CSP = ("default-src 'self'; img-src 'self' data: blob: http: https:; style-src 'self' 'unsafe-inline'; "
       "script-src 'self'; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'")


@dataclass(frozen=True)
class _File:
    body: bytes
    etag: str
    content_type: str


_cache: dict[Path, tuple[float, _File]] = {}


def _load(path: Path) -> _File:
    """The file's bytes and ETag, re-read when its modification time changes."""
    mtime = path.stat().st_mtime
    hit = _cache.get(path)
    if hit is not None and hit[0] == mtime:
        return hit[1]
    body = path.read_bytes()
    f = _File(body, '"' + hashlib.sha256(body).hexdigest()[:32] + '"',
              CONTENT_TYPES.get(path.suffix.lower(), "application/octet-stream"))
    _cache[path] = (mtime, f)
    return f


def _resolve(rel: str) -> Path:
    root = STATIC_DIR
    p = (root / rel).resolve()
    if not p.is_relative_to(root) or not p.is_file() or p.suffix.lower() not in CONTENT_TYPES:
        raise NotFoundError(f"the UI has no file {rel!r}")
    return p


def _serve(request: Request, path: Path) -> Response:
    f = _load(path)
    headers = {"ETag": f.etag, "Cache-Control": "no-cache", "X-Content-Type-Options": "nosniff"}
    if path.suffix == ".html":
        headers["Content-Security-Policy"] = CSP
        headers["X-Frame-Options"] = "DENY"
        headers["Referrer-Policy"] = "same-origin"
    inm = request.headers.get("if-none-match")
    if inm and f.etag in {t.strip() for t in inm.split(",")}:
        return Response(status_code=304, headers=headers)
    return Response(f.body, media_type=f.content_type, headers=headers)


router = APIRouter(include_in_schema=False)


@router.get(UI_PREFIX)
def ui_root() -> Response:
    return RedirectResponse(UI_PREFIX + "/", status_code=307)


@router.get(UI_PREFIX + "/{rel:path}")
def static_file(rel: str, request: Request) -> Response:
    """``/ui/`` is the page itself; anything else is a file under ``static/``."""
    if rel in ("", "index.html"):
        return _serve(request, STATIC_DIR / "index.html")
    return _serve(request, _resolve(rel))
