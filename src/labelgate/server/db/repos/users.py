"""Users, login sessions and personal API tokens."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from labelgate.server.db.engine import utcnow
from labelgate.server.db.repos._rows import fields
from labelgate.server.db.tables import api_tokens, sessions, users
from labelgate.server.domain import User

__all__ = [
    "add_session", "add_token", "create", "delete_session", "get", "get_by_name", "list_all", "list_tokens",
    "password_hash", "revoke_token", "set_password", "user_by_session", "user_by_token",
]

_USER_COLS = ("id", "username", "is_superuser", "is_active", "created_at")


def _user(row: sa.Row[tuple[object, ...]] | None) -> User | None:
    return None if row is None else User(**fields(row, *_USER_COLS))


def create(conn: Connection, username: str, password_hash: str | None, is_superuser: bool) -> User:
    uid = conn.execute(
        users.insert().values(username=username, password_hash=password_hash, is_superuser=is_superuser,
                              is_active=True, created_at=utcnow()).returning(users.c.id)
    ).scalar_one()
    user = get(conn, uid)
    assert user is not None
    return user


def get(conn: Connection, user_id: int) -> User | None:
    return _user(conn.execute(sa.select(users).where(users.c.id == user_id)).first())


def get_by_name(conn: Connection, username: str) -> User | None:
    return _user(conn.execute(sa.select(users).where(users.c.username == username)).first())


def password_hash(conn: Connection, username: str) -> tuple[int, str | None] | None:
    row = conn.execute(sa.select(users.c.id, users.c.password_hash).where(
        users.c.username == username, users.c.is_active.is_(True))).first()
    return None if row is None else (row.id, row.password_hash)


def set_password(conn: Connection, user_id: int, hashed: str) -> None:
    conn.execute(users.update().where(users.c.id == user_id).values(password_hash=hashed))


def list_all(conn: Connection) -> list[User]:
    return [User(**fields(r, *_USER_COLS)) for r in conn.execute(sa.select(users).order_by(users.c.id))]


def add_session(conn: Connection, token_hash: str, user_id: int, expires_at: datetime) -> None:
    conn.execute(sessions.insert().values(token_hash=token_hash, user_id=user_id, created_at=utcnow(),
                                          expires_at=expires_at))


def delete_session(conn: Connection, token_hash: str) -> None:
    conn.execute(sessions.delete().where(sessions.c.token_hash == token_hash))


def user_by_session(conn: Connection, token_hash: str, now: datetime) -> User | None:
    row = conn.execute(
        sa.select(users).join(sessions, sessions.c.user_id == users.c.id)
        .where(sessions.c.token_hash == token_hash, sessions.c.expires_at > now, users.c.is_active.is_(True))
    ).first()
    return _user(row)


def add_token(conn: Connection, user_id: int, name: str, token_hash: str, prefix: str) -> dict[str, object]:
    tid = conn.execute(api_tokens.insert().values(
        user_id=user_id, name=name, token_hash=token_hash, prefix=prefix, created_at=utcnow(), revoked=False,
    ).returning(api_tokens.c.id)).scalar_one()
    return fields(conn.execute(sa.select(api_tokens).where(api_tokens.c.id == tid)).one(),
                  "id", "name", "prefix", "created_at", "last_used_at", "revoked")


def list_tokens(conn: Connection, user_id: int) -> list[dict[str, object]]:
    rows = conn.execute(sa.select(api_tokens).where(api_tokens.c.user_id == user_id).order_by(api_tokens.c.id))
    return [fields(r, "id", "name", "prefix", "created_at", "last_used_at", "revoked") for r in rows]


def revoke_token(conn: Connection, user_id: int, token_id: int) -> bool:
    res = conn.execute(api_tokens.update().where(api_tokens.c.id == token_id, api_tokens.c.user_id == user_id)
                       .values(revoked=True))
    return res.rowcount == 1


_BY_TOKEN = (sa.select(users).join(api_tokens, api_tokens.c.user_id == users.c.id)
             .where(api_tokens.c.token_hash == sa.bindparam("h"), api_tokens.c.revoked.is_(False),
                    users.c.is_active.is_(True)))


def user_by_token(conn: Connection, token_hash: str) -> User | None:
    return _user(conn.execute(_BY_TOKEN, {"h": token_hash}).first())


def set_active(conn: Connection, user_id: int, active: bool) -> bool:
    return conn.execute(users.update().where(users.c.id == user_id).values(is_active=active)).rowcount == 1


def delete_sessions(conn: Connection, user_id: int, keep: str | None = None) -> None:
    q = sessions.delete().where(sessions.c.user_id == user_id)
    if keep is not None:
        q = q.where(sessions.c.token_hash != keep)
    conn.execute(q)
