"""SDK methods for the workflow (stages, review, adjudication, gold, guidelines) and the quality API.
Mixed into :class:`labelgate.client.Client`."""

from __future__ import annotations

from typing import Any, Protocol

__all__ = ["WorkflowMethods"]


class _Json(Protocol):
    def _json(self, method: str, path: str, **kwargs: Any) -> Any: ...


class WorkflowMethods:
    # -- configuration ------------------------------------------------------------------------
    def set_workflow(self: _Json, project_id: int, config: dict[str, Any]) -> dict[str, Any]:
        """Stages, groups, overlap, skips, honeypots, audits, adjudication and the export gate (before work starts)."""
        return self._json("PUT", f"/projects/{project_id}/workflow", json=config)

    def workflow(self: _Json, project_id: int) -> dict[str, Any]:
        return self._json("GET", f"/projects/{project_id}/workflow")

    # -- work ---------------------------------------------------------------------------------
    def next_at(self: _Json, project_id: int, stage: str = "annotate") -> dict[str, Any] | None:
        """Your next task at ``stage`` (``annotate``, a review stage's name, or ``adjudicate``); None if none."""
        return self._json("POST", f"/projects/{project_id}/workflow/next", params={"stage": stage})

    def assignment(self: _Json, task_id: int) -> dict[str, Any]:
        """What you hold on a task: mode, stage, lease end, guideline version, a rejection's comments."""
        return self._json("GET", f"/tasks/{task_id}/assignment")

    def submit(self: _Json, task_id: int, regions: list[dict[str, Any]], lead_time: float | None = None) -> dict[str, Any]:
        return self._json("POST", f"/tasks/{task_id}/submit", json={"regions": regions, "lead_time": lead_time})

    def review_task(self: _Json, task_id: int, accept: bool, comment: str | None = None,
                    regions: list[dict[str, Any]] | None = None) -> dict[str, Any]:
        """Accept or reject the task at your stage; ``regions``: ``[{"region_id", "accept", "comment"}]``."""
        return self._json("POST", f"/tasks/{task_id}/review",
                          json={"accept": accept, "comment": comment, "regions": regions or []})

    def adjudicate(self: _Json, task_id: int, regions: list[dict[str, Any]], sources: list[int],
                   method: str = "adjudicated") -> dict[str, Any]:
        return self._json("POST", f"/tasks/{task_id}/adjudicate",
                          json={"regions": regions, "sources": sources, "method": method})

    def add_gold(self: _Json, project_id: int, entries: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """Gold tasks: ``[{"item": native item, "regions": the gold answer}]``."""
        return self._json("POST", f"/projects/{project_id}/gold", json={"entries": entries})

    def promote_gold(self: _Json, task_id: int, regions: list[dict[str, Any]] | None = None) -> dict[str, Any]:
        return self._json("POST", f"/tasks/{task_id}/promote-gold", json={"regions": regions})

    def publish_guideline(self: _Json, project_id: int, text: str, round_tasks: int = 0, round_k: int | None = None,
                          round_priority: int | None = None) -> dict[str, Any]:
        return self._json("POST", f"/projects/{project_id}/guidelines/publish", json={
            "text": text, "round_tasks": round_tasks, "round_k": round_k, "round_priority": round_priority})

    def resume_annotator(self: _Json, project_id: int, user_id: int, reason: str) -> dict[str, Any]:
        return self._json("POST", f"/projects/{project_id}/workflow/resume", json={"user_id": user_id, "reason": reason})

    # -- quality ------------------------------------------------------------------------------
    def agreement(self: _Json, project_id: int) -> dict[str, Any]:
        return self._json("GET", f"/projects/{project_id}/quality/agreement")

    def scorecards(self: _Json, project_id: int) -> list[dict[str, Any]]:
        """Per annotator: submitted, throughput, rejections, gold accuracy, agreement with peers, test-retest
        agreement on their audits (``retest``: kappa, ci, objects, audits) and drift state."""
        return self._json("GET", f"/projects/{project_id}/quality/annotators")

    def confused_classes(self: _Json, project_id: int, top: int = 10) -> list[dict[str, Any]]:
        return self._json("GET", f"/projects/{project_id}/quality/confused", params={"top": top})

    def quality_gate(self: _Json, project_id: int) -> dict[str, Any] | None:
        return self._json("GET", f"/projects/{project_id}/quality/gate")

    def quality_overview(self: _Json, project_id: int) -> dict[str, Any]:
        return self._json("GET", f"/projects/{project_id}/quality/overview")
