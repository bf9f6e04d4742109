"""``/auth``: login with a password (session cookie), logout, who am I, personal API tokens."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request, Response

from labelgate.server.api.deps import CurrentUser, RuntimeDep, client_address, refuse_cross_site
from labelgate.server.schemas.common import Model
from labelgate.server.schemas.users import LoginIn, PasswordIn, TokenIn, TokenInfo, TokenOut, UserOut
from labelgate.server.services import auth

router = APIRouter(prefix="/auth", tags=["auth"])


class Ok(Model):
    ok: bool = True


@router.post("/login", response_model=UserOut)
def login(body: LoginIn, request: Request, response: Response, rt: RuntimeDep,
          client: Annotated[str, Depends(client_address)]) -> UserOut:
    refuse_cross_site(request, rt)  # another site logging the browser in to an account of its choosing
    user, token = auth.login(rt, body.username, body.password, client)
    response.set_cookie(rt.settings.session_cookie, token, max_age=int(rt.settings.session_days * 86400),
                        httponly=True, samesite="lax", secure=rt.settings.secure_cookies, path="/")
    return UserOut.model_validate(user)


@router.post("/logout", response_model=Ok)
def logout(request: Request, response: Response, rt: RuntimeDep) -> Ok:
    refuse_cross_site(request, rt)  # another site's page ending the session
    token = request.cookies.get(rt.settings.session_cookie)
    if token:
        auth.logout(rt, token)
    response.delete_cookie(rt.settings.session_cookie, path="/")
    return Ok()


@router.get("/me", response_model=UserOut)
def me(user: CurrentUser) -> UserOut:
    return UserOut.model_validate(user)


@router.post("/password", response_model=Ok)
def change_password(body: PasswordIn, request: Request, user: CurrentUser, rt: RuntimeDep) -> Ok:
    """Change your password; your other login sessions end (API tokens stay)."""
    auth.change_password(rt, user, body.current, body.new, request.cookies.get(rt.settings.session_cookie))
    return Ok()


@router.post("/tokens", response_model=TokenOut, status_code=201)
def create_token(body: TokenIn, user: CurrentUser, rt: RuntimeDep) -> TokenOut:
    info, secret = auth.create_token(rt, user, body.name)
    return TokenOut(**info, token=secret)  # type: ignore[arg-type]


@router.get("/tokens", response_model=list[TokenInfo])
def list_tokens(user: CurrentUser, rt: RuntimeDep) -> list[TokenInfo]:
    return [TokenInfo(**t) for t in auth.list_tokens(rt, user)]  # type: ignore[arg-type]


@router.delete("/tokens/{token_id}", status_code=204)
def revoke_token(token_id: int, user: CurrentUser, rt: RuntimeDep) -> Response:
    auth.revoke_token(rt, user, token_id)
    return Response(status_code=204)
