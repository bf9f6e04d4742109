"""``/users``: superusers create and list accounts."""

from __future__ import annotations

from fastapi import APIRouter

from labelgate.server.api.deps import CurrentUser, RuntimeDep
from labelgate.server.schemas.users import UserIn, UserOut, UserPatch
from labelgate.server.services import auth

router = APIRouter(prefix="/users", tags=["users"])


@router.post("", response_model=UserOut, status_code=201)
def create_user(body: UserIn, user: CurrentUser, rt: RuntimeDep) -> UserOut:
    return UserOut.model_validate(auth.create_user(rt, user, body.username, body.password, body.is_superuser))


@router.get("", response_model=list[UserOut])
def list_users(user: CurrentUser, rt: RuntimeDep) -> list[UserOut]:
    return [UserOut.model_validate(u) for u in auth.list_users(rt, user)]


@router.patch("/{user_id}", response_model=UserOut)
def update_user(user_id: int, body: UserPatch, user: CurrentUser, rt: RuntimeDep) -> UserOut:
    """Superusers: activate or deactivate an account."""
    return UserOut.model_validate(auth.set_active(rt, user, user_id, body.is_active))
