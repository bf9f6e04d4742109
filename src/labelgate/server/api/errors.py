"""The one place that turns exceptions into ``{"error": {"code", "message", "detail"}}`` bodies."""

from __future__ import annotations

import logging
from http import HTTPStatus
from typing import Any

from fastapi import FastAPI, Request
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from labelgate.core.errors import FormatError, LabelgateError
from labelgate.server.errors import RateLimited, status_of

__all__ = ["error_response", "install"]

log = logging.getLogger(__name__)


def error_response(status: int, code: str, message: str, detail: Any = None,
                   headers: dict[str, str] | None = None) -> JSONResponse:
    body = {"error": {"code": code, "message": message, "detail": jsonable_encoder(detail)}}
    return JSONResponse(body, status_code=status, headers=headers)


def _labelgate(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, LabelgateError)
    status, code = status_of(exc)
    detail = None
    headers = None
    if isinstance(exc, FormatError):
        detail = {"path": exc.path, "where": exc.where}
    if isinstance(exc, RateLimited):
        headers = {"Retry-After": str(int(exc.retry_after) + 1)}
    return error_response(status, code, str(exc), detail, headers)


def _validation(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    errors = [{"loc": list(e.get("loc", ())), "msg": e.get("msg"), "type": e.get("type")} for e in exc.errors()]
    first = errors[0] if errors else {"loc": [], "msg": "invalid request"}
    where = ".".join(str(p) for p in first["loc"])
    return error_response(422, "validation_error", f"{where}: {first['msg']}" if where else str(first["msg"]), errors)


def _http(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    phrase = HTTPStatus(exc.status_code).phrase if exc.status_code in HTTPStatus._value2member_map_ else "error"
    code = phrase.lower().replace(" ", "_").replace("-", "_")
    message = exc.detail if isinstance(exc.detail, str) else phrase
    return error_response(exc.status_code, code, message, None, dict(exc.headers or {}) or None)


def _internal(_: Request, exc: Exception) -> JSONResponse:
    log.exception("unhandled error", exc_info=exc)
    return error_response(500, "internal", "internal server error; the server log has the details")


def install(app: FastAPI) -> None:
    app.add_exception_handler(LabelgateError, _labelgate)
    app.add_exception_handler(RequestValidationError, _validation)
    app.add_exception_handler(StarletteHTTPException, _http)
    app.add_exception_handler(Exception, _internal)
