"""Request dependencies: the runtime, the caller, and the version a write is based on."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any, TypeVar

from fastapi import Depends, Request
from starlette.concurrency import run_in_threadpool

from labelgate.core.errors import InvariantError, PermissionDenied
from labelgate.server.domain import User
from labelgate.server.errors import AuthenticationRequired
from labelgate.server.services import auth
from labelgate.server.services.annotations import EngineRequired
from labelgate.server.services.runtime import Runtime
from labelgate.server.settings import origin_of

T = TypeVar("T")

__all__ = ["CurrentUser", "RuntimeDep", "client_address", "etag", "expected_version", "refuse_cross_site", "short_write"]


# Dependencies are ``async def`` on purpose: FastAPI runs a plain ``def`` dependency on the thread pool,
# a thread hop per dependency per request for what is a dictionary lookup when the credential is cached.
async def get_runtime(request: Request) -> Runtime:
    rt: Runtime = request.app.state.runtime
    return rt


RuntimeDep = Annotated[Runtime, Depends(get_runtime)]


async def current_user(request: Request, rt: RuntimeDep) -> User:
    header = request.headers.get("authorization")
    if header:
        scheme, _, credential = header.partition(" ")
        if scheme.lower() not in ("token", "bearer") or not credential.strip():
            raise AuthenticationRequired("Authorization header must be 'Token <your API token>'")
        token = credential.strip()
        user = auth.cached_token_user(rt, token) or await run_in_threadpool(auth.authenticate_token, rt, token)
        if user is None:
            raise AuthenticationRequired("the API token is unknown or revoked")
        return user
    cookie = request.cookies.get(rt.settings.session_cookie)
    if cookie:
        if request.method not in _SAFE_METHODS:
            refuse_cross_site(request, rt)
        user = auth.cached_session_user(rt, cookie) or await run_in_threadpool(auth.authenticate_session, rt, cookie)
        if user is not None:
            return user
        raise AuthenticationRequired("your session has expired; log in again")
    raise AuthenticationRequired("log in (POST /api/v1/auth/login) or send 'Authorization: Token <token>'")


CurrentUser = Annotated[User, Depends(current_user)]

_SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def refuse_cross_site(request: Request, rt: Runtime) -> None:
    """Refuse a browser request that another site's page made (cross-site request forgery): a write carrying
    the session cookie, or a login. Browsers send ``Origin`` on such requests (``Referer`` at least); it must
    be this server (the ``Host`` it was asked for) or one of ``LABELGATE_TRUSTED_ORIGINS``. Requests without
    either header (API clients, curl) are not a browser's and pass; the cookie's SameSite=Lax is the other
    layer."""
    source = request.headers.get("origin") or request.headers.get("referer")
    if source is None:
        return
    origin = origin_of(source)
    if origin is not None:
        # the Host header carries no scheme (a proxy may end TLS): this server's own origin is the page's
        # scheme with the Host asked for, compared as origins (case and the default port ignored)
        scheme = origin.split("://", 1)[0]
        if origin == origin_of(f"{scheme}://{request.headers.get('host', '')}"):
            return
        if origin in {origin_of(o) for o in rt.settings.trusted_origins.split(",") if o.strip()}:
            return
    raise PermissionDenied(f"cross-site request refused: {request.method} {request.url.path} comes from a page at "
                           f"{source.split('?')[0]!r}, not from this server (LABELGATE_TRUSTED_ORIGINS lists other "
                           "origins allowed to use the session cookie)")


_INLINE_BODY = 64 * 1024  # bigger request bodies (thousands of regions to check) go to a worker thread


async def short_write(request: Request, rt: Runtime, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    """Run an annotator's short write (next-task, a save, a submit): on the event loop when the database
    allows it without waiting (:meth:`Database.inline_writer`) and the body is small, else on a worker
    thread. On the loop ``fn`` gets ``engine=False`` and raises :class:`EngineRequired` for a workflow
    project, whose engine (log catch-up, possibly a replay) then runs on a worker thread."""
    if len(await request.body()) <= _INLINE_BODY:  # read already (FastAPI parsed it): the real size, chunked or not
        with rt.db.inline_writer() as free:
            if free:
                try:
                    return fn(*args, engine=False, **kwargs)
                except EngineRequired:
                    pass
    return await run_in_threadpool(fn, *args, **kwargs)


async def client_address(request: Request) -> str:
    return request.client.host if request.client else "unknown"


def etag(version: int) -> str:
    return f'"{version}"'


def expected_version(if_match: str | None, body_version: int | None) -> int:
    """The version a write is based on: the If-Match header (an ETag we sent) or the body's version."""
    if if_match:
        raw = if_match.strip()
        raw = raw.removeprefix("W/").strip('"')
        try:
            v = int(raw)
        except ValueError:
            raise InvariantError(f"If-Match {if_match!r} is not an ETag this server sent (e.g. '\"3\"')") from None
        if body_version is not None and body_version != v:
            raise InvariantError(f"If-Match says version {v} but the body says {body_version}")
        return v
    if body_version is None:
        raise InvariantError("send the version you edited: an If-Match header with the ETag, or 'version' in the body")
    return body_version
