"""The review chain: technician then quality engineer, rejection with region comments, fix, acceptance;
per-stage sampling; per-region verdicts."""

from __future__ import annotations

import pytest

from labelgate.core.errors import ConflictError, InvariantError, PermissionDenied
from labelgate.workflow import (
    Binding,
    Flag,
    RegionVerdict,
    Review,
    ReworkRequested,
    Sampling,
    Stage,
    TaskAccepted,
    TaskSpec,
    WorkflowConfig,
)

from ._flow import Flow

DEFECT_CHAIN = WorkflowConfig(stages=(
    Stage("technician", Binding(role="technician")),
    Stage("quality", Binding(group="quality engineers")),
))


def defect_flow(tasks: list[str] | None = None) -> Flow:
    return Flow(DEFECT_CHAIN, members={"ann": ["annotator"], "tech": ["technician"], "qe": ["reviewer"]},
                groups={"qe": ["quality engineers"]}, tasks=tasks or ["weld-1"])


def test_technician_then_quality_engineer_with_rejection_fix_and_acceptance():
    f = defect_flow()
    a = f.next("ann")
    assert (a.task_id, a.mode) == ("weld-1", "annotate")
    f.submit("ann", "weld-1", {"regions": ["r1", "r2"]})
    assert f.status("weld-1") == "in_review"
    assert f.next("qe", "quality") is None  # the technician looks first
    t = f.next("tech", "technician")
    assert t.mode == "review" and t.sources == ("a1",)
    f.do(Review("tech", "weld-1", accept=True))
    q = f.next("qe", "quality")
    assert q.task_id == "weld-1"
    effects = f.do(Review("qe", "weld-1", accept=False, regions=(
        RegionVerdict("r1", accept=True), RegionVerdict("r2", accept=False, comment="crack ends 20 px further right"))))
    rework = [e for e in effects if isinstance(e, ReworkRequested)]
    assert rework and rework[0].annotator == "ann" and rework[0].stage == "quality"
    assert f.status("weld-1") == "rework"
    fix = f.next("ann")
    assert fix.mode == "rework" and fix.task_id == "weld-1"
    assert fix.comments[1] == RegionVerdict("r2", False, "crack ends 20 px further right")
    f.submit("ann", "weld-1", {"regions": ["r1", "r2-fixed"]})
    assert f.next("tech", "technician") is None  # the fix goes back to the stage that rejected it
    assert f.next("qe", "quality").task_id == "weld-1"
    effects = f.do(Review("qe", "weld-1", accept=True))
    final = next(e.final for e in effects if isinstance(e, TaskAccepted))
    assert final.answer == {"regions": ["r1", "r2-fixed"]}
    assert final.sources == ("a2",) and final.method == "revision"
    task = f.state.tasks["weld-1"]
    assert [(r.stage, r.reviewer, r.accept) for r in task.reviews] == [("technician", "tech", True), ("quality", "qe", False),
                                                                      ("quality", "qe", True)]
    assert f.status("weld-1") == "accepted"


def test_a_rejection_needs_a_comment_and_leaves_the_state_alone():
    f = defect_flow()
    f.next("ann")
    f.submit("ann", "weld-1")
    f.next("tech", "technician")
    with pytest.raises(InvariantError, match="needs a comment"):
        f.do(Review("tech", "weld-1", accept=False, regions=(RegionVerdict("r1", accept=False),)))
    assert f.status("weld-1") == "in_review"
    f.do(Review("tech", "weld-1", accept=False, comment="missing the second weld"))
    assert f.status("weld-1") == "rework"


def test_accepting_with_rejected_regions_drops_them_from_the_final_answer():
    f = Flow(WorkflowConfig(stages=(Stage("check", Binding(role="reviewer")),)), members={"ann": ["annotator"], "rev": ["reviewer"]},
             tasks=["t"])
    f.next("ann")
    f.submit("ann", "t")
    f.next("rev", "check")
    effects = f.do(Review("rev", "t", accept=True, regions=(RegionVerdict("box-3", accept=False, comment="duplicate"),)))
    final = next(e.final for e in effects if isinstance(e, TaskAccepted))
    assert final.dropped_regions == ("box-3",)


def test_stage_binding_and_no_self_review():
    f = Flow(WorkflowConfig(stages=(Stage("check", Binding(role="reviewer")),)),
             members={"ann": ["annotator", "reviewer"], "other": ["annotator"]}, tasks=["t"])
    with pytest.raises(PermissionDenied, match="bound to role 'reviewer'"):
        f.next("other", "check")
    f.next("ann")
    f.submit("ann", "t")
    assert f.next("ann", "check") is None  # nobody reviews their own work
    with pytest.raises(ConflictError, match="holds no review"):
        f.do(Review("ann", "t", accept=True))


def test_every_nth_sampling_reviews_exactly_every_nth_arrival():
    f = Flow(WorkflowConfig(stages=(Stage("spot", Binding(role="reviewer"), Sampling.every_nth(3)),)),
             members={"ann": ["annotator"], "rev": ["reviewer"]}, tasks=[f"t{i}" for i in range(10)])
    done = f.annotate_all("ann")
    assert len(done) == 10
    reviewed = [t for t in done if f.status(t) == "in_review"]
    assert reviewed == [done[2], done[5], done[8]]
    assert all(f.status(t) == "accepted" for t in done if t not in reviewed)


def test_random_fraction_sampling_is_seeded_and_near_its_fraction():
    def run(seed: int) -> list[str]:
        f = Flow(WorkflowConfig(stages=(Stage("spot", Binding(role="reviewer"), Sampling.random_fraction(0.3, seed)),)),
                 members={"ann": ["annotator"]}, tasks=[f"t{i}" for i in range(400)])
        f.annotate_all("ann")
        return [t for t in f.state.tasks if f.status(t) == "in_review"]

    first = run(1)
    assert first == run(1)
    assert first != run(2)
    assert 0.22 < len(first) / 400 < 0.38


def test_flagged_sampling_takes_only_flagged_tasks():
    f = Flow(WorkflowConfig(stages=(Stage("spot", Binding(role="reviewer"), Sampling.flagged()),)),
             members={"ann": ["annotator"]}, tasks=[TaskSpec("a", flagged=True), "b", "c"])
    f.do(Flag("c"))
    f.annotate_all("ann")
    assert [f.status(t) for t in "abc"] == ["in_review", "accepted", "in_review"]
