"""The application factory."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import anyio.to_thread
from fastapi import FastAPI
from fastapi.responses import RedirectResponse

from labelgate import __version__
from labelgate.server.api import annotations as annotations_api
from labelgate.server.api import auth, exports, guidelines, imports, jobs, media, meta, projects, quality, review, tasks, users, webhooks
from labelgate.server.api.errors import install
from labelgate.server.schemas.common import ErrorBody
from labelgate.server.services.runtime import Runtime
from labelgate.server.settings import Settings
from labelgate.server.ui import UI_PREFIX
from labelgate.server.ui import router as ui_router

__all__ = ["API_PREFIX", "app_from_env", "create_app"]

API_PREFIX = "/api/v1"


def create_app(settings: Settings | None = None, runtime: Runtime | None = None) -> FastAPI:
    """A ready application. Pass ``runtime`` to share one (tests, the demo); otherwise one is
    opened from ``settings`` (migrating the database) and closed on shutdown."""
    owned = runtime is None
    rt = runtime if runtime is not None else Runtime.open(settings or Settings.from_env())

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        # request handlers are blocking (database) calls run on a thread pool; on a few cores a small
        # pool queues them on the event loop instead of making dozens of threads fight for one GIL
        anyio.to_thread.current_default_thread_limiter().total_tokens = rt.settings.request_threads
        yield
        if owned:
            rt.close()

    app = FastAPI(
        title="Labelgate", version=__version__, lifespan=lifespan,
        openapi_url=f"{API_PREFIX}/openapi.json", docs_url=f"{API_PREFIX}/docs", redoc_url=None,
        responses={400: {"model": ErrorBody}, 401: {"model": ErrorBody}, 403: {"model": ErrorBody},
                   404: {"model": ErrorBody}, 409: {"model": ErrorBody}, 422: {"model": ErrorBody}},
    )
    app.state.runtime = rt
    install(app)

    @app.get("/", include_in_schema=False)
    def root() -> RedirectResponse:
        """People opening the server's address get the annotation UI; the API docs are at /api/v1/docs."""
        return RedirectResponse(f"{UI_PREFIX}/")

    # the annotators' hot paths first: a request is matched against the routes in order
    for module in (tasks, annotations_api, meta, auth, users, projects, media, imports, exports, jobs, webhooks,
                   review, guidelines, quality):
        app.include_router(module.router, prefix=API_PREFIX)
    app.include_router(ui_router)
    return app


def app_from_env() -> FastAPI:
    """The factory uvicorn's worker processes call (``labelgate serve --workers N``)."""
    return create_app(Settings.from_env())
