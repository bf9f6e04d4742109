"""The quality API: agreement, annotator scorecards, confused classes, gold, and the export gate.

Every number comes from the project's engine and its :class:`QualityBook` (updated on each submit), so
a request costs O(annotator pairs x classes^2), not O(tasks). The gate combines the latest guideline
version's kappa with the engine's gold accuracy and review coverage (:func:`labelgate.workflow.gate_metrics`).
"""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from labelgate.core.errors import ConflictError, PermissionDenied
from labelgate.server.db.repos import workflow as repo
from labelgate.server.domain import Role, User
from labelgate.server.services.runtime import Runtime
from labelgate.server.services.workflow_config import gate_of
from labelgate.server.services.workflow_host import Session, session
from labelgate.workflow import GateResult, evaluate_gate, gate_metrics, override_gate

__all__ = ["agreement", "check_export", "confused", "gate", "overview", "scorecards"]


def _names(s: Session) -> dict[str, str]:
    return {str(uid): name for uid, name, _ in repo.members(s.conn, s.project.id)}


def agreement(rt: Runtime, actor: User, project_id: int) -> dict[str, Any]:
    """Kappa overall and per guideline version, per class and per annotator pair, with intervals."""
    with session(rt, project_id, actor, Role.REVIEWER) as s:
        return s.engine.book.agreement(_names(s))


def scorecards(rt: Runtime, actor: User, project_id: int) -> list[dict[str, Any]]:
    with session(rt, project_id, actor, Role.REVIEWER) as s:
        return s.engine.book.scorecards(s.state, _names(s))


def confused(rt: Runtime, actor: User, project_id: int, top: int = 10) -> list[dict[str, Any]]:
    with session(rt, project_id, actor, Role.REVIEWER) as s:
        overall, _ = s.engine.book._pooled(lambda k: True)
        return s.engine.book.confused(overall, top)


def _gate(s: Session) -> GateResult | None:
    g = gate_of(s.engine.conf)
    if g is None:
        return None
    return evaluate_gate(g, gate_metrics(s.state, s.engine.book.latest_kappa()))


def _gate_dict(result: GateResult) -> dict[str, Any]:
    return {"passed": result.passed, "open": result.open, "reasons": list(result.reasons),
            "metrics": asdict(result.metrics), "overridden_by": result.overridden_by,
            "override_reason": result.override_reason}


def gate(rt: Runtime, actor: User, project_id: int) -> dict[str, Any] | None:
    with session(rt, project_id, actor, Role.REVIEWER) as s:
        result = _gate(s)
    return None if result is None else _gate_dict(result)


def overview(rt: Runtime, actor: User, project_id: int) -> dict[str, Any]:
    """Task counts per engine status, and the guideline version in force."""
    with session(rt, project_id, actor, Role.REVIEWER) as s:
        return {"tasks": s.state.counts(), "guideline_version": s.state.guideline_version,
                "records": len(s.state.log)}


def check_export(rt: Runtime, actor: User, project_id: int, override_reason: str | None) -> dict[str, Any] | None:
    """The gate result to store with a new export (None when the project has no gate), or
    :class:`ConflictError` naming every failed threshold when it is shut and not overridden."""
    if not _has_workflow(rt, project_id):
        return None
    with session(rt, project_id, actor, Role.MANAGER) as s:
        result = _gate(s)
    if result is None:
        return None
    if result.passed:
        return _gate_dict(result)
    if not override_reason or not override_reason.strip():
        raise ConflictError("the export's quality gate is shut: " + "; ".join(result.reasons)
                            + ". A manager may override it with a reason (override_reason), which is stored in the snapshot")
    if actor is None:
        raise PermissionDenied("overriding a quality gate needs a manager")
    return _gate_dict(override_gate(result, actor.username, override_reason))


def _has_workflow(rt: Runtime, project_id: int) -> bool:
    with rt.db.read() as conn:
        return repo.config(conn, project_id) is not None
