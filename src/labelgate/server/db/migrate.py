"""Run the Alembic migrations shipped in ``labelgate.server.migrations``."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config

from labelgate.server.db.engine import Database

__all__ = ["alembic_config", "downgrade", "upgrade"]

MIGRATIONS = Path(__file__).resolve().parents[1] / "migrations"


def alembic_config() -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    return cfg


def upgrade(db: Database, revision: str = "head") -> None:
    """Bring the database up to ``revision`` (creating the PostgreSQL schema first if named)."""
    db.create_schema()
    cfg = alembic_config()
    with db.write() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, revision)


def downgrade(db: Database, revision: str) -> None:
    """Take the database back to ``revision`` (each migration's ``downgrade`` in turn)."""
    cfg = alembic_config()
    with db.write() as conn:
        cfg.attributes["connection"] = conn
        command.downgrade(cfg, revision)
