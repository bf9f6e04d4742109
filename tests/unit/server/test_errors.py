"""The one error-to-status table."""

from __future__ import annotations

import pytest

pytest.importorskip("fastapi")

from labelgate.core.errors import (
    ConflictError,
    FormatError,
    InvariantError,
    LabelgateError,
    NotFoundError,
    PermissionDenied,
)
from labelgate.server.errors import AuthenticationRequired, PayloadTooLarge, RateLimited, status_of


@pytest.mark.parametrize(("exc", "status", "code"), [
    (AuthenticationRequired("x"), 401, "unauthenticated"),
    (PermissionDenied("x"), 403, "forbidden"),
    (NotFoundError("x"), 404, "not_found"),
    (ConflictError("x"), 409, "conflict"),
    (PayloadTooLarge("x"), 413, "payload_too_large"),
    (RateLimited("x", 1), 429, "rate_limited"),
    (FormatError("x", path="a.json"), 422, "format_error"),
    (InvariantError("x"), 422, "invalid"),
    (LabelgateError("x"), 400, "bad_request"),
])
def test_status_mapping(exc: LabelgateError, status: int, code: str) -> None:
    assert status_of(exc) == (status, code)
