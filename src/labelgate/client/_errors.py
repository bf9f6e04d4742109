"""HTTP error bodies turned back into Labelgate exceptions."""

from __future__ import annotations

from typing import Any

from labelgate.core.errors import (
    ConflictError,
    FormatError,
    InvariantError,
    LabelgateError,
    NotFoundError,
    PermissionDenied,
)

__all__ = ["ApiError", "error_for"]


class ApiError(LabelgateError):
    """A request the server refused: ``status`` (HTTP), ``code`` and ``detail`` from its error body."""

    def __init__(self, message: str, status: int, code: str, detail: Any = None) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.detail = detail


class ApiPermissionDenied(ApiError, PermissionDenied):
    pass


class ApiNotFound(ApiError, NotFoundError):
    pass


class ApiConflict(ApiError, ConflictError):
    pass


class ApiInvalid(ApiError, InvariantError):
    pass


class ApiFormatError(ApiError, FormatError):
    def __init__(self, message: str, status: int, code: str, detail: Any = None) -> None:
        ApiError.__init__(self, message, status, code, detail)
        self.path = (detail or {}).get("path") if isinstance(detail, dict) else None
        self.where = (detail or {}).get("where") if isinstance(detail, dict) else None


def error_for(status: int, body: Any, fallback: str) -> ApiError:
    err = body.get("error") if isinstance(body, dict) else None
    if isinstance(err, dict):
        code, message, detail = str(err.get("code")), str(err.get("message")), err.get("detail")
    else:
        code, message, detail = "http_error", fallback, None
    if status in (401, 403):
        return ApiPermissionDenied(message, status, code, detail)
    if status == 404:
        return ApiNotFound(message, status, code, detail)
    if status == 409:
        return ApiConflict(message, status, code, detail)
    if code == "format_error":
        return ApiFormatError(message, status, code, detail)
    if status == 422:
        return ApiInvalid(message, status, code, detail)
    return ApiError(message, status, code, detail)
