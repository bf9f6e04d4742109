"""Migrations 0005 (consistency audit answers) and 0006 (engine snapshots) on a database holding data,
on SQLite and PostgreSQL: upgrading keeps every row, the new table takes an audit answer linked to its
first annotation, and downgrading removes only the new tables (annotations, tasks and log stay as they
were)."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from labelgate.server.db import Database, upgrade, utcnow
from labelgate.server.db.migrate import downgrade
from labelgate.server.settings import Settings
from tests.conftest import require_or_skip
from tests.integration.conftest import PG_URL, _postgres_up


@pytest.fixture(params=["sqlite", "postgres"])
def db(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Database]:
    if request.param == "sqlite":
        database = Database(Settings(data_dir=tmp_path))
    else:
        require_or_skip(_postgres_up(), f"PostgreSQL is not reachable at {PG_URL}")
        database = Database(Settings(data_dir=tmp_path, database_url=PG_URL,
                                     database_schema=f"lg_mig_{uuid.uuid4().hex[:12]}"))
    try:
        yield database
    finally:
        if request.param == "postgres":
            with database.engine.begin() as conn:
                conn.exec_driver_sql(f'DROP SCHEMA IF EXISTS "{database.settings.database_schema}" CASCADE')
        database.dispose()


def _tables(conn: sa.Connection) -> set[str]:
    return set(sa.inspect(conn).get_table_names())


def _dump(conn: sa.Connection) -> dict[str, list[Any]]:
    out = {}
    for name in ("users", "projects", "tasks", "annotations", "workflows", "workflow_records", "workflow_annotations"):
        rows = conn.execute(sa.text(f"SELECT * FROM {name} ORDER BY 1")).all()
        out[name] = [tuple(str(v) for v in r) for r in rows]
    return out


def _seed(conn: sa.Connection) -> None:
    now = utcnow()
    run = conn.execute
    run(sa.text("INSERT INTO users (id, username, is_superuser, is_active, created_at) VALUES (7, 'ann', false, true, :t)"),
        {"t": now})
    run(sa.text("INSERT INTO projects (id, name, description, label_schema, settings, created_at, updated_at) "
                "VALUES (3, 'p', '', '{\"classes\": [{\"name\": \"Product\"}]}', '{\"blind\": true}', :t, :t)"), {"t": now})
    run(sa.text("INSERT INTO tasks (id, project_id, key, item, n_submitted, completed, created_at) "
                "VALUES (11, 3, 'a', '{\"id\": \"a\"}', 1, true, :t)"), {"t": now})
    run(sa.text("INSERT INTO annotations (id, project_id, task_id, author_id, author_name, source, status, regions, "
                "version, created_at, updated_at) VALUES (21, 3, 11, 7, 'ann', 'human', 'accepted', "
                "'[{\"geometry\": {\"type\": \"box\", \"x1\": 1, \"y1\": 2, \"x2\": 3, \"y2\": 4}, \"label\": \"Product\"}]', "
                "2, :t, :t)"), {"t": now})
    run(sa.text("INSERT INTO workflows (project_id, config, created_at) VALUES (3, '{\"audits\": {\"rate\": 0.2}}', :t)"),
        {"t": now})
    run(sa.text("INSERT INTO workflow_records (project_id, seq, at, event) VALUES (3, 0, 1.5, '{\"type\": \"Tick\"}')"))
    run(sa.text("INSERT INTO workflow_annotations (annotation_id, project_id, guideline_version, engine_id) "
                "VALUES (21, 3, NULL, '21v1')"))


def test_audit_answers_migration_up_and_down_keeps_data(db: Database) -> None:
    upgrade(db, "0004")
    with db.write() as conn:
        assert "audit_answers" not in _tables(conn)
        _seed(conn)
        before = _dump(conn)
    upgrade(db, "0005")
    now = utcnow()
    with db.write() as conn:
        assert "audit_answers" in _tables(conn) and _dump(conn) == before
        conn.execute(sa.text(
            "INSERT INTO audit_answers (project_id, task_id, author_id, annotation_id, status, regions, version, "
            "created_at, updated_at) VALUES (3, 11, 7, 21, 'submitted', '[]', 2, :t, :t)"), {"t": now})
        row = conn.execute(sa.text("SELECT annotation_id, status FROM audit_answers")).one()
        assert tuple(row) == (21, "submitted")
        indexes = {i["name"] for i in sa.inspect(conn).get_indexes("audit_answers")}
        assert indexes == {"ix_audit_answers_author", "ix_audit_answers_project"}
    downgrade(db, "0004")
    with db.read() as conn:
        assert "audit_answers" not in _tables(conn) and _dump(conn) == before
        assert conn.execute(sa.text("SELECT version_num FROM alembic_version")).scalar() == "0004"
    upgrade(db)  # and up again: the table comes back empty, the data is still there
    with db.read() as conn:
        assert conn.execute(sa.text("SELECT count(*) FROM audit_answers")).scalar() == 0 and _dump(conn) == before
        assert "workflow_snapshots" in _tables(conn)
    downgrade(db, "0005")  # 0006 (engine snapshots) goes back cleanly too
    with db.read() as conn:
        assert "workflow_snapshots" not in _tables(conn) and "audit_answers" in _tables(conn) and _dump(conn) == before
