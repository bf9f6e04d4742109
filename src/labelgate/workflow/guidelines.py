"""Versioned guidelines: each submission records the version it was made under, agreement splits by
version, and publishing a revision can open a fresh agreement round on unstarted tasks."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from labelgate.core.errors import ConflictError, InvariantError
from labelgate.quality.agreement import AgreementResult, agreement
from labelgate.workflow._hash import unit
from labelgate.workflow.effects import AgreementRoundOpened, Effect, GuidelinePublished
from labelgate.workflow.events import PublishGuideline
from labelgate.workflow.state import Guideline, TaskStatus, WorkflowState

__all__ = ["agreement_by_version", "publish", "ratings_by_version"]


def publish(state: WorkflowState, event: PublishGuideline, now: float) -> list[Effect]:
    current = state.guideline_version
    if not isinstance(event.version, int) or (current is not None and event.version <= current):
        raise ConflictError(f"guideline version {event.version!r} is not newer than the published version {current}")
    if event.round_tasks < 0:
        raise InvariantError(f"round_tasks must be >= 0, got {event.round_tasks!r}")
    k = event.round_k if event.round_k is not None else max(2, state.config.overlap.k)
    if event.round_tasks and k < 2:
        raise InvariantError(f"an agreement round needs overlap k >= 2, got {k!r}")
    state.guidelines.append(Guideline(event.version, event.markdown, now))
    effects: list[Effect] = [GuidelinePublished(event.version, now)]
    if event.round_tasks:
        seed = state.config.overlap.seed
        fresh = [t for t in state.tasks.values()
                 if t.status is TaskStatus.ANNOTATING and t.load == 0 and t.overlap == 1]
        fresh.sort(key=lambda t: unit(seed, "round", event.version, t.id))
        chosen = sorted(fresh[:event.round_tasks], key=lambda t: t.seq)
        for task in chosen:
            task.overlap = k
            task.round = event.version
            if event.round_priority is not None:
                task.priority = event.round_priority
            state.requeue(task)
        effects.append(AgreementRoundOpened(event.version, tuple(t.id for t in chosen), k))
    return effects


def ratings_by_version(state: WorkflowState) -> dict[int | None, list[tuple[str, str, Any]]]:
    """``(task, annotator, answer)`` records of overlap tasks, grouped by the guideline version their
    annotations were made under. A task whose annotations span versions counts under none."""
    out: dict[int | None, list[tuple[str, str, Any]]] = {}
    for task in state.tasks.values():
        if task.annotations < 2:
            continue
        subs = task.annotate_submissions()
        versions = {s.guideline_version for s in subs}
        if len(versions) != 1:
            continue
        out.setdefault(subs[0].guideline_version, []).extend((task.id, s.annotator, s.answer) for s in subs)
    return out


def agreement_by_version(state: WorkflowState, metric: str = "krippendorff_alpha", *, categories: Iterable[Any] | None = None,
                         ci_method: str = "auto") -> dict[int | None, AgreementResult]:
    """Categorical agreement (any metric of :func:`labelgate.quality.agreement`) per guideline version."""
    cats = list(categories) if categories is not None else None
    return {version: agreement(records, metric, categories=cats, ci_method=ci_method)
            for version, records in ratings_by_version(state).items()}
