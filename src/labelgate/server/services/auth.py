"""Users, passwords (argon2), login sessions and personal API tokens (stored as SHA-256 hashes)."""

from __future__ import annotations

import hashlib
import ipaddress
import re
import secrets
from collections.abc import Callable
from datetime import timedelta

from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy.engine import Connection

from labelgate.core.errors import ConflictError, InvariantError, NotFoundError, PermissionDenied
from labelgate.server.db import utcnow
from labelgate.server.db.repos import users as repo
from labelgate.server.domain import User
from labelgate.server.errors import AuthenticationRequired
from labelgate.server.services.runtime import Runtime

__all__ = [
    "TOKEN_PREFIX", "authenticate_session", "authenticate_token", "cached_session_user", "cached_token_user", "client_key",
    "change_password", "create_token", "create_user", "list_tokens", "list_users", "login", "logout", "revoke_token",
    "set_active",
]

TOKEN_PREFIX = "lgt_"
_USERNAME = re.compile(r"^[A-Za-z0-9_.@-]{1,150}$")
MIN_PASSWORD = 8


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def create_user(rt: Runtime, actor: User | None, username: str, password: str | None, superuser: bool = False) -> User:
    """Create a user. ``actor`` None means a local administrator (the CLI); otherwise a superuser."""
    if actor is not None and not actor.is_superuser:
        raise PermissionDenied("only a superuser can create users")
    if not _USERNAME.match(username):
        raise InvariantError(f"username {username!r}: use 1-150 letters, digits and _ . @ -")
    if password is not None and len(password) < MIN_PASSWORD:
        raise InvariantError(f"password for {username!r} is too short: use at least {MIN_PASSWORD} characters")
    hashed = None if password is None else rt.hasher.hash(password)
    with rt.db.write() as conn:
        if repo.get_by_name(conn, username) is not None:
            raise ConflictError(f"user {username!r} already exists")
        return repo.create(conn, username, hashed, superuser)


def list_users(rt: Runtime, actor: User) -> list[User]:
    if not actor.is_superuser:
        raise PermissionDenied("only a superuser can list users")
    with rt.db.read() as conn:
        return repo.list_all(conn)


def client_key(client: str) -> str:
    """The login limit's key for a client address: an IPv6 address by its /64 (one subscriber's network,
    whose 2^64 addresses would otherwise each get a fresh limit), an IPv4-mapped one as IPv4."""
    try:
        ip = ipaddress.ip_address(client)
    except ValueError:
        return f"client:{client}"  # not an address (a test client, a Unix socket's peer)
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped is not None:
            return f"client:{ip.ipv4_mapped}"
        return f"client:{ipaddress.IPv6Network((ip, 64), strict=False)}"
    return f"client:{ip}"


def login(rt: Runtime, username: str, password: str, client: str) -> tuple[User, str]:
    """Check the password; returns the user and a new session token (to put in a cookie)."""
    keys = (f"user:{username}", client_key(client))
    attempt = rt.login_limiter.begin(*keys)  # counts as a failure until it succeeds
    with rt.db.read() as conn:
        found = repo.password_hash(conn, username)
    ok = False
    if found is not None and found[1] is not None:
        try:
            ok = rt.hasher.verify(found[1], password)
        except (VerificationError, InvalidHashError):
            ok = False
    else:
        rt.hasher.hash(password)  # same work whether or not the user exists
    if not ok or found is None:
        raise AuthenticationRequired("wrong username or password")
    rt.login_limiter.succeeded(attempt, keys[0])
    token = secrets.token_urlsafe(32)
    with rt.db.write() as conn:
        repo.add_session(conn, _digest(token), found[0], utcnow() + timedelta(days=rt.settings.session_days))
        user = repo.get(conn, found[0])
    assert user is not None
    return user, token


def logout(rt: Runtime, token: str) -> None:
    with rt.db.write() as conn:
        repo.delete_session(conn, _digest(token))
    rt.credentials.clear()


def cached_session_user(rt: Runtime, token: str) -> User | None:
    """The session's user if this process verified it within ``auth_cache_s``; no database access."""
    return rt.credentials.get("s:" + _digest(token))


def cached_token_user(rt: Runtime, token: str) -> User | None:
    """The API token's user if this process verified it within ``auth_cache_s``; no database access."""
    return rt.credentials.get("t:" + _digest(token)) if token.startswith(TOKEN_PREFIX) else None


def _verified(rt: Runtime, key: str, lookup: Callable[[Connection], User | None]) -> User | None:
    """The cached user for credential ``key``, else ``lookup``'s answer, cached unless the cache was cleared
    (a revocation) while the lookup ran."""
    user = rt.credentials.get(key)
    if user is None:
        generation = rt.credentials.generation()
        with rt.db.read() as conn:
            user = lookup(conn)
        if user is not None:
            rt.credentials.put(key, user, generation)
    return user


def authenticate_session(rt: Runtime, token: str) -> User | None:
    digest = _digest(token)
    return _verified(rt, "s:" + digest, lambda conn: repo.user_by_session(conn, digest, utcnow()))


def authenticate_token(rt: Runtime, token: str) -> User | None:
    if not token.startswith(TOKEN_PREFIX):
        return None
    digest = _digest(token)
    return _verified(rt, "t:" + digest, lambda conn: repo.user_by_token(conn, digest))


def create_token(rt: Runtime, actor: User, name: str) -> tuple[dict[str, object], str]:
    """A new personal API token; the secret is returned only here and stored hashed."""
    if not name or len(name) > 200:
        raise InvariantError("token name must be 1-200 characters")
    secret = TOKEN_PREFIX + secrets.token_urlsafe(32)
    with rt.db.write() as conn:
        info = repo.add_token(conn, actor.id, name, _digest(secret), secret[:12])
    return info, secret


def list_tokens(rt: Runtime, actor: User) -> list[dict[str, object]]:
    with rt.db.read() as conn:
        return repo.list_tokens(conn, actor.id)


def revoke_token(rt: Runtime, actor: User, token_id: int) -> None:
    with rt.db.write() as conn:
        if not repo.revoke_token(conn, actor.id, token_id):
            raise NotFoundError(f"you have no API token with id {token_id}")
    rt.credentials.clear()


def change_password(rt: Runtime, actor: User, current: str, new: str, session: str | None = None) -> None:
    """Replace the caller's password after checking the current one; ends their other sessions."""
    attempt = rt.login_limiter.begin(f"user:{actor.username}")
    with rt.db.read() as conn:
        found = repo.password_hash(conn, actor.username)
    try:
        ok = found is not None and found[1] is not None and rt.hasher.verify(found[1], current)
    except (VerificationError, InvalidHashError):
        ok = False
    if not ok:
        raise PermissionDenied("the current password is wrong")
    rt.login_limiter.succeeded(attempt)
    if len(new) < MIN_PASSWORD:
        raise InvariantError(f"the new password is too short: use at least {MIN_PASSWORD} characters")
    with rt.db.write() as conn:
        repo.set_password(conn, actor.id, rt.hasher.hash(new))
        repo.delete_sessions(conn, actor.id, keep=None if session is None else _digest(session))
    rt.credentials.clear()


def set_active(rt: Runtime, actor: User, user_id: int, active: bool) -> User:
    """Superusers (de)activate accounts; a deactivated user's sessions and tokens stop working."""
    if not actor.is_superuser:
        raise PermissionDenied("only a superuser can activate or deactivate users")
    if user_id == actor.id and not active:
        raise InvariantError("you cannot deactivate yourself")
    with rt.db.write() as conn:
        if not repo.set_active(conn, user_id, active):
            raise NotFoundError(f"no user with id {user_id}")
        if not active:
            repo.delete_sessions(conn, user_id)
        user = repo.get(conn, user_id)
    rt.credentials.clear()
    assert user is not None
    return user
