"""The log survives a trip through JSON, and the public surface is what we meant."""

from __future__ import annotations

import orjson
import pytest

import labelgate.workflow as wf
from labelgate.core.errors import InvariantError
from labelgate.workflow import (
    AddGold,
    Adjudicate,
    AdjudicationPolicy,
    Binding,
    Flag,
    HoneypotPolicy,
    PublishGuideline,
    RegionVerdict,
    Review,
    SetPriority,
    Skip,
    Stage,
    TaskSpec,
    Tick,
    WorkflowConfig,
    categorical_agreement,
    event_from_dict,
    record_from_dict,
    record_to_dict,
    replay,
)

from ._flow import Flow


def test_a_log_with_every_kind_of_event_round_trips_through_json_and_replays():
    config = WorkflowConfig(stages=(Stage("check", Binding(role="reviewer")),), honeypots=HoneypotPolicy(rate=0.3),
                            adjudication=AdjudicationPolicy(Binding(role="lead"), categorical_agreement, 0.9))
    f = Flow(config, members={"a": ["annotator"], "b": ["annotator"], "r": ["reviewer"], "l": ["lead"]},
             groups={"r": ["qe"]}, tasks=[TaskSpec("o", overlap=2, priority=1), "t1", "t2", "t3"])
    f.do(AddGold("g", "p"))
    f.do(PublishGuideline(1, "# v1"))
    f.do(Flag("t3"))
    f.do(SetPriority("t2", 3))
    for m, answer in (("a", "p"), ("b", "q")):
        while (x := f.next(m)) is not None:
            if x.task_id == "t3":
                f.do(Skip(m, "t3", "blurry"))
                continue
            f.submit(m, x.task_id, answer)
    adj = f.next("l", "adjudicate")
    f.do(Adjudicate("l", adj.task_id, "p", adj.sources[:1], "checked the image"))
    x = f.next("r", "check")
    f.do(Review("r", x.task_id, False, (RegionVerdict("r1", False, "too loose"),), "see r1"))
    f.wait(5000)
    f.do(Tick())
    stored = orjson.dumps([record_to_dict(r) for r in f.state.log])
    records = [record_from_dict(d) for d in orjson.loads(stored)]
    assert [r.event for r in records] == [r.event for r in f.state.log]
    again = replay(config, records)
    assert [r.effects for r in again.log] == [r.effects for r in f.state.log]


def test_bad_stored_events_are_refused_with_the_reason():
    with pytest.raises(InvariantError, match="unknown event type 'Explode'"):
        event_from_dict({"type": "Explode"})
    with pytest.raises(InvariantError, match="wrong fields"):
        event_from_dict({"type": "Submit", "member": "a"})


def test_public_surface():
    assert sorted(wf.__all__) == sorted(set(wf.__all__))
    for name in wf.__all__:
        assert getattr(wf, name) is not None
    assert {"advance", "replay", "new_state", "WorkflowConfig", "Assignment", "RequestTask", "Submit", "Review",
            "evaluate_gate", "override_gate"} <= set(wf.__all__)
    assert not [n for n in wf.__all__ if n.startswith("_")]


def test_catch_up_applies_only_what_another_process_appended():
    from labelgate.workflow import AddMember, AddTasks, RequestTask, advance, catch_up, new_state
    config = WorkflowConfig()
    mine = new_state(config)
    theirs = new_state(config)
    for event in (AddMember("a", frozenset({"annotator"})), AddTasks(["t1", "t2"])):
        advance(mine, event, 1.0)
    catch_up(theirs, mine.log)
    advance(mine, RequestTask("a"), 2.0)
    effects = catch_up(theirs, mine.log)  # the first two records are skipped
    assert [type(e).__name__ for e in effects] == ["Assigned"]
    assert theirs.leases.get("t1", "a") is not None and len(theirs.log) == 3
    with pytest.raises(InvariantError, match="jumps"):
        catch_up(new_state(config), mine.log[1:])
