"""The annotation server: FastAPI app factory, services, database and migrations.

Nothing in Labelgate imports this package except the CLI (lazily, inside commands).
"""

from labelgate.server.app import API_PREFIX, create_app
from labelgate.server.services.runtime import Runtime
from labelgate.server.settings import Settings

__all__ = ["API_PREFIX", "Runtime", "Settings", "create_app"]
