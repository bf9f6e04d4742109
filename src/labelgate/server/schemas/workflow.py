"""Workflow, review, gold, guideline publishing and quality request bodies."""

from __future__ import annotations

from typing import Any

from pydantic import Field

from labelgate.server.schemas.common import Model

__all__ = ["AdjudicateIn", "GoldIn", "PromoteIn", "PublishIn", "RegionVerdictIn", "ResumeIn", "WorkflowReviewIn",
           "WorkflowSubmitIn"]


class WorkflowSubmitIn(Model):
    regions: list[Any] = Field(default_factory=list, description="Labelgate native region objects.")
    lead_time: float | None = None


class RegionVerdictIn(Model):
    region_id: str = Field(description="The region's id, or its index in the annotation when it has none.")
    accept: bool
    comment: str | None = None


class WorkflowReviewIn(Model):
    accept: bool
    comment: str | None = None
    regions: list[RegionVerdictIn] = Field(default_factory=list)


class AdjudicateIn(Model):
    regions: list[Any]
    sources: list[int] = Field(description="Ids of the annotations the answer was built from.")
    method: str = "adjudicated"


class GoldIn(Model):
    entries: list[dict[str, Any]] = Field(description="[{'item': native item, 'regions': the gold answer}]")


class PromoteIn(Model):
    regions: list[Any] | None = None


class PublishIn(Model):
    text: str
    round_tasks: int = 0
    round_k: int | None = None
    round_priority: int | None = None


class ResumeIn(Model):
    user_id: int
    reason: str
