"""Settings come from LABELGATE_ variables; the shipped migration builds exactly the tables."""

from __future__ import annotations

from pathlib import Path

import pytest

pytest.importorskip("fastapi")

import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory

from labelgate.server.db import Database, upgrade
from labelgate.server.db.migrate import alembic_config
from labelgate.server.db.tables import metadata
from labelgate.server.settings import Settings


def test_settings_read_prefixed_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("LABELGATE_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("LABELGATE_PORT", "9999")
    monkeypatch.setenv("LABELGATE_MAX_UPLOAD_BYTES", "1234")
    s = Settings()
    assert s.port == 9999 and s.max_upload_bytes == 1234
    assert s.url == f"sqlite:///{(tmp_path / 'labelgate.db').resolve()}"
    monkeypatch.setenv("LABELGATE_DATABASE_URL", "postgresql+psycopg://u@h/db")
    assert Settings().url == "postgresql+psycopg://u@h/db"


def test_defaults_are_sqlite_under_labelgate_data() -> None:
    s = Settings(_env_file=None)
    assert s.host == "127.0.0.1" and s.port == 8080
    assert s.url.endswith("labelgate-data/labelgate.db")


def test_migration_matches_tables_and_sqlite_uses_wal(tmp_path: Path) -> None:
    db = Database(Settings(data_dir=tmp_path))
    upgrade(db)
    with db.engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), metadata)
        assert diff == [], diff
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
        head = ScriptDirectory.from_config(alembic_config()).get_current_head()
        assert conn.execute(sa.text("SELECT version_num FROM alembic_version")).scalar() == head
    upgrade(db)  # idempotent
    db.dispose()


def test_bad_schema_name_and_unknown_database_are_refused(tmp_path: Path) -> None:
    from labelgate.core.errors import InvariantError

    with pytest.raises(InvariantError, match="plain identifier"):
        Database(Settings(data_dir=tmp_path, database_url="postgresql+psycopg://x@127.0.0.1/test",
                          database_schema='x"; drop'))
    with pytest.raises(InvariantError, match="unsupported database"):
        Database(Settings(data_dir=tmp_path, database_url="mysql://x@y/z"))
