"""Next-task queue: leases that expire, overlap, never twice, skip policies, priorities, fair spread."""

from __future__ import annotations

import pytest

from labelgate.core.errors import ConflictError, InvariantError, NotFoundError, PermissionDenied
from labelgate.workflow import (
    LeaseExpired,
    OverlapPolicy,
    Release,
    Reopen,
    SetPriority,
    Skip,
    SkipMode,
    SkipPolicy,
    Submit,
    TaskParked,
    TaskSpec,
    Tick,
    WorkflowConfig,
    replay,
)

from ._flow import Flow

TEAM = {"ann": ["annotator"], "bob": ["annotator"], "cy": ["annotator"]}


def test_a_lease_expires_and_the_task_goes_to_someone_else():
    f = Flow(WorkflowConfig(lease_seconds=60), members=TEAM, tasks=["t"])
    a = f.next("ann")
    assert a.lease_expires == f.now + 60
    assert f.next("bob") is None
    f.wait(59)
    assert f.next("ann") == a  # asking again returns the lease held
    f.wait(1)
    effects = f.do(Tick())
    assert effects == [LeaseExpired("t", "ann", "annotate")]
    with pytest.raises(ConflictError, match="lease expired"):
        f.submit("ann", "t")
    assert f.next("ann") is None  # never the same task twice
    assert f.next("bob").task_id == "t"


def test_overlap_k_on_a_seeded_fraction():
    f = Flow(WorkflowConfig(overlap=OverlapPolicy(k=3, fraction=0.25, seed=7)), tasks=[f"t{i}" for i in range(400)])
    ks = [t.overlap for t in f.state.tasks.values()]
    assert set(ks) == {1, 3}
    assert 0.18 < ks.count(3) / 400 < 0.32
    again = Flow(WorkflowConfig(overlap=OverlapPolicy(k=3, fraction=0.25, seed=7)), tasks=[f"t{i}" for i in range(400)])
    assert [t.overlap for t in again.state.tasks.values()] == ks


def test_overlap_tasks_go_to_k_distinct_annotators_and_never_twice_to_one():
    f = Flow(WorkflowConfig(), members=TEAM, tasks=[TaskSpec("x", overlap=3), TaskSpec("y", overlap=2)])
    served = {m: f.annotate_all(m) for m in TEAM}
    assert served == {"ann": ["x", "y"], "bob": ["x", "y"], "cy": ["x"]}
    assert f.status("x") == "accepted" and f.state.tasks["x"].annotations == 3


def test_spread_serves_least_served_first_and_complete_the_opposite():
    def order(mode: str) -> list[str]:
        f = Flow(WorkflowConfig(overlap=OverlapPolicy(order=mode)), members=TEAM,
                 tasks=[TaskSpec("a", overlap=2), TaskSpec("b", overlap=2)])
        first = f.next("ann")
        f.submit("ann", first.task_id)
        return [first.task_id, f.next("bob").task_id]

    assert order("spread") == ["a", "b"]
    assert order("complete") == ["a", "a"]


def test_priorities_come_first_and_can_change():
    f = Flow(WorkflowConfig(), members=TEAM, tasks=["a", TaskSpec("b", priority=5), "c"])
    f.do(SetPriority("c", 9))
    assert [f.next(m).task_id for m in ("ann", "bob", "cy")] == ["c", "b", "a"]


def test_skip_excludes_for_the_skipper_only():
    f = Flow(WorkflowConfig(), members=TEAM, tasks=["a", "b"])
    assert f.next("ann").task_id == "a"
    f.do(Skip("ann", "a"))
    assert f.next("ann").task_id == "b"
    f.submit("ann", "b")
    assert f.next("ann") is None
    assert f.next("bob").task_id == "a"


def test_skip_returns_to_the_pool_and_comes_back_last():
    f = Flow(WorkflowConfig(skip=SkipPolicy(mode=SkipMode.RETURN)), members=TEAM, tasks=["a", "b"])
    f.next("ann")
    f.do(Skip("ann", "a"))
    assert f.next("ann").task_id == "b"
    f.submit("ann", "b")
    assert f.next("ann").task_id == "a"  # nothing else left: the skipped task comes back


def test_skip_needs_a_reason_when_configured_and_parks_after_repeated_skips():
    f = Flow(WorkflowConfig(skip=SkipPolicy(reason_required=True, park_after=2)), members=TEAM, tasks=["a"])
    f.next("ann")
    with pytest.raises(InvariantError, match="needs a reason"):
        f.do(Skip("ann", "a"))
    f.do(Skip("ann", "a", reason="image is black"))
    f.next("bob")
    effects = f.do(Skip("bob", "a", reason="cannot see"))
    assert effects == [TaskParked("a", 2)]
    assert f.status("a") == "parked"
    assert f.next("cy") is None
    f.do(Reopen("a"))
    assert f.next("cy").task_id == "a"


def test_release_gives_the_task_back_and_bad_submits_are_refused():
    f = Flow(WorkflowConfig(), members=TEAM, tasks=["a", "b"])
    f.next("ann")
    f.do(Release("ann", "a"))
    assert f.next("bob").task_id == "a"
    f.do(Submit("bob", "a", "ann-1"))
    f.next("cy")
    with pytest.raises(ConflictError, match="already submitted"):
        f.do(Submit("cy", "b", "ann-1"))
    with pytest.raises(ConflictError, match="holds no annotation lease"):
        f.do(Submit("ann", "b", "ann-2"))
    with pytest.raises(NotFoundError):
        f.next("nobody")


def test_only_the_annotate_binding_may_annotate():
    f = Flow(WorkflowConfig(), members={"rev": ["reviewer"]}, tasks=["a"])
    with pytest.raises(PermissionDenied):
        f.next("rev")


def test_time_never_goes_back_and_refused_events_leave_no_record():
    f = Flow(WorkflowConfig(), members=TEAM, tasks=["a"])
    f.now -= 1
    with pytest.raises(InvariantError, match="backwards"):
        f.next("ann")
    f.now += 1
    before = len(f.state.log)
    with pytest.raises(ConflictError):
        f.submit("ann", "a")
    assert len(f.state.log) == before


def test_replaying_the_log_rebuilds_the_state():
    config = WorkflowConfig(lease_seconds=30, overlap=OverlapPolicy(k=2, fraction=0.5, seed=3))
    f = Flow(config, members=TEAM, tasks=[f"t{i}" for i in range(20)])
    for step in range(30):
        member = list(TEAM)[step % 3]
        a = f.next(member)
        if a is not None and step % 4:
            f.submit(member, a.task_id, step % 2)
        f.wait(11)
    again = replay(config, f.state.log)
    assert {t.id: (t.status, t.annotations, sorted(t.seen)) for t in again.tasks.values()} == \
        {t.id: (t.status, t.annotations, sorted(t.seen)) for t in f.state.tasks.values()}
    assert [r.effects for r in again.log] == [r.effects for r in f.state.log]
