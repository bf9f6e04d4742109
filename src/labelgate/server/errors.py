"""Server-only errors, each a subclass of the core hierarchy, and their HTTP status codes.

::

    PermissionDenied (core)  403
     +-- AuthenticationRequired  401  no valid session cookie or token
    LabelgateError (core)
     +-- RateLimited             429  too many failed logins; ``retry_after`` seconds
     +-- PayloadTooLarge         413  an upload over the configured limit

The mapping from every error class to a status and a machine-readable code lives in
:data:`STATUS`, used by the one exception handler in ``api/errors.py``.
"""

from __future__ import annotations

from labelgate.core.errors import (
    ConflictError,
    FormatError,
    InvariantError,
    LabelgateError,
    MissingDependencyError,
    NotFoundError,
    PermissionDenied,
    QualityError,
)

__all__ = ["STATUS", "AuthenticationRequired", "PayloadTooLarge", "RateLimited", "status_of"]


class AuthenticationRequired(PermissionDenied):
    """No valid session or API token was presented."""


class RateLimited(LabelgateError):
    def __init__(self, message: str, retry_after: float) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class PayloadTooLarge(LabelgateError):
    """An upload exceeded ``LABELGATE_MAX_UPLOAD_BYTES``."""


# Most specific first: the first class an error is an instance of decides.
STATUS: tuple[tuple[type[LabelgateError], int, str], ...] = (
    (AuthenticationRequired, 401, "unauthenticated"),
    (PermissionDenied, 403, "forbidden"),
    (NotFoundError, 404, "not_found"),
    (ConflictError, 409, "conflict"),
    (PayloadTooLarge, 413, "payload_too_large"),
    (RateLimited, 429, "rate_limited"),
    (FormatError, 422, "format_error"),
    (InvariantError, 422, "invalid"),
    (QualityError, 422, "invalid"),
    (MissingDependencyError, 501, "missing_dependency"),
    (LabelgateError, 400, "bad_request"),
)


def status_of(exc: LabelgateError) -> tuple[int, str]:
    for cls, status, code in STATUS:
        if isinstance(exc, cls):
            return status, code
    return 400, "bad_request"
