"""Persistence: tables, the engine, migrations and repositories (the only code that writes SQL)."""

from labelgate.server.db.engine import Database, utcnow
from labelgate.server.db.migrate import upgrade

__all__ = ["Database", "upgrade", "utcnow"]
