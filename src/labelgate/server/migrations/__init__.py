"""Alembic migrations, shipped in the package and run by ``labelgate serve`` on start."""
