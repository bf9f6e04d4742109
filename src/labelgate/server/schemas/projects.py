"""Projects, members and guidelines."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import Field

from labelgate.server.domain import Role
from labelgate.server.schemas.common import Model

__all__ = ["GuidelineIn", "GuidelineOut", "MemberIn", "MemberOut", "ProjectIn", "ProjectOut", "ProjectPatch"]


class ProjectIn(Model):
    name: str = Field(min_length=1, max_length=200)
    description: str = ""
    label_schema: dict[str, Any] | None = Field(None, description="Labelgate schema JSON: {'classes': [{'name': ...}]}")
    label_config: str | None = Field(None, description="Or a Label Studio labeling config (XML), translated.")
    settings: dict[str, Any] | None = Field(None, description="blind (bool), overlap (int >= 1), media_dir (superusers)")


class ProjectPatch(Model):
    name: str | None = Field(None, min_length=1, max_length=200)
    description: str | None = None
    label_schema: dict[str, Any] | None = None
    label_config: str | None = None
    settings: dict[str, Any] | None = None


class ProjectOut(Model):
    id: int
    name: str
    description: str
    label_schema: dict[str, Any]
    settings: dict[str, Any]
    created_at: datetime
    updated_at: datetime
    role: Role | None = Field(None, description="Your role in the project.")


class MemberIn(Model):
    username: str
    role: Role


class MemberOut(Model):
    user_id: int
    username: str
    role: Role


class GuidelineIn(Model):
    text: str = Field(description="Markdown.")


class GuidelineOut(Model):
    project_id: int
    version: int
    text: str
    created_at: datetime
