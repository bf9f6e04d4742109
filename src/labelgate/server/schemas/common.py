"""Shapes shared by every resource."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict

__all__ = ["ErrorBody", "ErrorInfo", "Model", "Page"]


class Model(BaseModel):
    model_config = ConfigDict(from_attributes=True, extra="forbid")


class ErrorInfo(BaseModel):
    code: str
    message: str
    detail: Any = None


class ErrorBody(BaseModel):
    """Every error response: ``{"error": {"code", "message", "detail"}}``."""

    error: ErrorInfo


class Page(Model):
    total: int
    offset: int
    limit: int
