"""``/health`` and ``/formats``: what any client may ask without logging in."""

from __future__ import annotations

from fastapi import APIRouter

from labelgate import __version__
from labelgate.server.api.deps import RuntimeDep

router = APIRouter(tags=["meta"])


@router.get("/health")
def health(rt: RuntimeDep) -> dict[str, str]:
    import sqlalchemy as sa

    with rt.db.read() as conn:
        conn.execute(sa.text("SELECT 1"))
    return {"status": "ok", "version": __version__, "database": rt.db.dialect}


@router.get("/formats")
def list_formats() -> list[dict[str, object]]:
    from labelgate import formats

    return [{"name": c.name, "description": c.description, "capabilities": c.capabilities.to_dict()}
            for c in formats.all_codecs()]
