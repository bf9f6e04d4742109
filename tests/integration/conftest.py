"""The HTTP integration suite runs once on SQLite and once on the real PostgreSQL.

PostgreSQL (``test`` on 127.0.0.1:5432, or ``LABELGATE_TEST_POSTGRES_URL``) gets a private schema
per test session, dropped at the end. When it is unreachable the PostgreSQL half skips, except
with CI=true, where it fails.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("fastapi")

import warnings

with warnings.catch_warnings():
    # starlette 1.x asks for "httpx2"; the TestClient works the same with httpx.
    warnings.filterwarnings("ignore", message="Using `httpx` with `starlette.testclient`")
    from fastapi.testclient import TestClient

from labelgate.server import Runtime, Settings, create_app
from labelgate.server.domain import Role, User
from labelgate.server.services import auth, projects
from tests.conftest import require_or_skip

PG_URL = os.environ.get("LABELGATE_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
FAST_HASH = {"argon2_time_cost": 1, "argon2_memory_kib": 64, "webhook_attempts": 3, "webhook_backoff_s": 0.01,
             "webhook_timeout_s": 5.0}


def _postgres_up() -> bool:
    import sqlalchemy as sa

    try:
        eng = sa.create_engine(PG_URL, connect_args={"connect_timeout": 3})
        with eng.connect() as conn:
            conn.execute(sa.text("SELECT 1"))
        eng.dispose()
        return True
    except (sa.exc.SQLAlchemyError, OSError):
        return False


@contextmanager
def open_runtime(backend: str, data: Path, **extra: Any) -> Iterator[Runtime]:
    """A runtime on SQLite under ``data``, or on PostgreSQL in a private schema dropped afterwards
    (unreachable PostgreSQL skips, or fails with CI=true); ``extra`` settings on top of FAST_HASH."""
    if backend == "sqlite":
        settings = Settings(data_dir=data, **{**FAST_HASH, **extra})
    else:
        require_or_skip(_postgres_up(), f"PostgreSQL is not reachable at {PG_URL}")
        schema = f"lg_test_{uuid.uuid4().hex[:12]}"
        settings = Settings(data_dir=data, database_url=PG_URL, database_schema=schema, **{**FAST_HASH, **extra})
    rt = Runtime.open(settings)
    try:
        yield rt
    finally:
        rt.close()
        if backend == "postgres":
            import sqlalchemy as sa

            eng = sa.create_engine(PG_URL)
            with eng.begin() as conn:
                conn.execute(sa.text(f'DROP SCHEMA IF EXISTS "{settings.database_schema}" CASCADE'))
            eng.dispose()


@pytest.fixture(scope="session", params=["sqlite", "postgres"])
def runtime(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Runtime]:
    with open_runtime(request.param, tmp_path_factory.mktemp(f"lg-{request.param}")) as rt:
        yield rt


@pytest.fixture(scope="session")
def app_client(runtime: Runtime) -> Iterator[TestClient]:
    with TestClient(create_app(runtime=runtime)) as c:
        yield c


@dataclass
class Actor:
    user: User | None
    token: str | None
    name: str

    @property
    def headers(self) -> dict[str, str]:
        return {} if self.token is None else {"Authorization": f"Token {self.token}"}


def _user(rt: Runtime, name: str, superuser: bool = False) -> Actor:
    user = auth.create_user(rt, None, name, "password-" + name, superuser)
    _, token = auth.create_token(rt, user, "tests")
    return Actor(user, token, name)


@dataclass
class World:
    """One project with a member of every role, plus an outsider who manages another project."""

    rt: Runtime
    project_id: int
    other_project_id: int
    actors: dict[str, Actor]

    def __getitem__(self, role: str) -> Actor:
        return self.actors[role]


SCHEMA = {"classes": [{"name": "Product", "attributes": [{"name": "brand", "type": "select", "values": ["a", "b"]}]},
                      {"name": "Price tag"}, {"name": "Empty slot"}]}


@pytest.fixture
def world(runtime: Runtime) -> World:
    tag = uuid.uuid4().hex[:8]
    su = _user(runtime, f"root_{tag}", superuser=True)
    assert su.user is not None
    p = projects.create_project(runtime, su.user, f"shelves {tag}", "test project", SCHEMA)
    other = projects.create_project(runtime, su.user, f"other {tag}", "", SCHEMA)
    actors = {"superuser": su, "anonymous": Actor(None, None, "anonymous")}
    for role in Role:
        a = _user(runtime, f"{role.value}_{tag}")
        projects.set_member(runtime, su.user, p.id, a.name, role)
        actors[role.value] = a
    a2 = _user(runtime, f"annotator2_{tag}")
    projects.set_member(runtime, su.user, p.id, a2.name, Role.ANNOTATOR)
    actors["annotator2"] = a2
    out = _user(runtime, f"outsider_{tag}")
    projects.set_member(runtime, su.user, other.id, out.name, Role.MANAGER)
    actors["outsider"] = out
    return World(runtime, p.id, other.id, actors)
