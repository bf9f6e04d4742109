"""Users, login and API tokens."""

from __future__ import annotations

from datetime import datetime

from pydantic import Field

from labelgate.server.schemas.common import Model

__all__ = ["LoginIn", "PasswordIn", "TokenIn", "TokenInfo", "TokenOut", "UserIn", "UserOut", "UserPatch"]


class UserOut(Model):
    id: int
    username: str
    is_superuser: bool
    is_active: bool
    created_at: datetime


class UserIn(Model):
    username: str = Field(min_length=1, max_length=150)
    password: str = Field(min_length=1, max_length=1000)
    is_superuser: bool = False


class LoginIn(Model):
    username: str = Field(max_length=150)
    password: str = Field(max_length=1000)


class TokenIn(Model):
    name: str = Field(min_length=1, max_length=200)


class TokenInfo(Model):
    id: int
    name: str
    prefix: str
    created_at: datetime
    last_used_at: datetime | None
    revoked: bool


class TokenOut(TokenInfo):
    token: str = Field(description="The secret; shown only once.")


class PasswordIn(Model):
    current: str = Field(max_length=1000)
    new: str = Field(min_length=1, max_length=1000)


class UserPatch(Model):
    is_active: bool
