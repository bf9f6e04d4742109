"""Alembic environment: uses the connection passed in by labelgate.server.db.migrate, or the
configured database when run through the ``alembic`` command."""

from __future__ import annotations

from alembic import context

from labelgate.server.db.tables import metadata


def _run(connection: object) -> None:
    context.configure(
        connection=connection,  # type: ignore[arg-type]
        target_metadata=metadata,
        render_as_batch=getattr(connection, "dialect", None) is not None and connection.dialect.name == "sqlite",  # type: ignore[attr-defined]
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


connection = context.config.attributes.get("connection")
if connection is not None:
    _run(connection)
else:
    from labelgate.server.db.engine import Database
    from labelgate.server.settings import Settings

    db = Database(Settings.from_env())
    db.create_schema()
    with db.write() as conn:
        _run(conn)
