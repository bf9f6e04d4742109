"""Honeypots: blind to the caller, mixed in within the rate, graded, with actions below the bar."""

from __future__ import annotations

import dataclasses
from fractions import Fraction

import pytest

from labelgate.workflow import (
    AddGold,
    AnnotatorFlagged,
    DriftAlarm,
    DriftPolicy,
    GoldAction,
    GoldGraded,
    HoneypotPolicy,
    Resume,
    Submit,
    WorkflowConfig,
    gold_report,
)
from labelgate.workflow._schedule import in_slot

from ._flow import Flow


def gold_flow(rate: float = 0.2, n_tasks: int = 200, n_gold: int = 40, **policy) -> Flow:
    f = Flow(WorkflowConfig(honeypots=HoneypotPolicy(rate=rate, seed=5, **policy)), members={"ann": ["annotator"]},
             tasks=[f"t{i}" for i in range(n_tasks)])
    for i in range(n_gold):
        f.do(AddGold(f"g{i}", "cat"))
    return f


def test_gold_and_ordinary_assignments_are_indistinguishable():
    f = gold_flow(rate=0.5)
    seen = []
    for _ in range(20):
        a = f.next("ann")
        seen.append(a)
        f.submit("ann", a.task_id, "cat")
    gold = [a for a in seen if a.task_id in f.state.gold]
    plain = [a for a in seen if a.task_id not in f.state.gold]
    assert gold and plain

    def shape(a):
        d = dataclasses.asdict(a)
        d.pop("task_id")
        d.pop("lease_expires")
        return d

    assert {str(shape(a)) for a in gold} == {str(shape(a)) for a in plain}
    assert {a.lease_expires - f.state.config.lease_seconds for a in seen} <= {f.now}
    assert all(type(a) is type(plain[0]) and a.lease_expires == plain[0].lease_expires for a in gold)


def test_slots_stay_within_the_rate_over_every_window():
    rate = Fraction(3, 20)
    slots = [in_slot(rate, 1, "gold", "ann", p) for p in range(600)]
    for w in (1, 5, 7, 20, 33, 100, 600):
        for start in range(0, 600 - w + 1, 3):
            count = sum(slots[start:start + w])
            assert abs(count - w * rate) < 2, (w, start, count)
    assert sum(slots) == 90
    assert slots != [in_slot(rate, 1, "gold", "bob", p) for p in range(600)]  # no common period to count


def test_the_served_gold_rate_follows_the_configuration():
    f = gold_flow(rate=0.1, n_tasks=300, n_gold=50)
    served = f.annotate_all("ann", "cat")
    n_gold = sum(t in f.state.gold for t in served)
    assert abs(n_gold - 0.1 * len(served)) < 2
    assert len(set(served)) == len(served)  # no gold served twice either


def test_gold_answers_are_graded_and_an_annotator_below_the_bar_is_flagged_and_paused():
    f = gold_flow(rate=0.5, threshold=0.9, min_samples=5, actions=frozenset({GoldAction.PAUSE, GoldAction.EXTRA_REVIEW}))
    flagged = []
    graded = []
    while (a := f.next("ann")) is not None:
        effects = f.submit("ann", a.task_id, "dog")  # always wrong on gold
        graded += [e for e in effects if isinstance(e, GoldGraded)]
        flagged += [e for e in effects if isinstance(e, AnnotatorFlagged)]
    assert graded and not any(g.correct for g in graded)
    assert len(flagged) == 1
    flag = flagged[0]
    assert flag.actions == ("extra_review", "pause") and flag.accuracy == 0.0 and flag.graded == 5
    assert flag.ci[1] < 0.9
    assert f.state.annotators["ann"].paused
    assert f.next("ann") is None
    report = f.state.gold_scores.compute()
    assert report.annotators[0].n == 5 and report.annotators[0].confusions == {("cat", "dog"): 5}
    f.do(Resume("ann", reason="retrained on the cat guideline"))
    assert f.next("ann") is not None


def test_a_custom_grader_and_a_drift_alarm():
    f = gold_flow(rate=1.0, n_gold=30, grader=lambda answer, gold: answer.startswith(gold),
                  drift=DriftPolicy(target=0.1, slack=0.05, threshold=2.0))
    alarms = []
    for i in range(12):
        a = f.next("ann")
        effects = f.do(Submit("ann", a.task_id, f"x{i}", "cat (tabby)" if i < 4 else "dog"))
        alarms += [e for e in effects if isinstance(e, DriftAlarm)]
    assert alarms == [DriftAlarm("ann", 6)]  # S: 0,0,0,0,.85,1.7,2.55 > 2


def test_a_task_promoted_to_gold_is_not_served_to_its_own_annotator():
    from labelgate.workflow import PromoteGold
    f = Flow(WorkflowConfig(honeypots=HoneypotPolicy(rate=1.0)), members={"ann": ["annotator"], "bob": ["annotator"]},
             tasks=["t0", "t1", "t2"])
    f.next("ann")
    f.submit("ann", "t0", "cat")
    f.do(PromoteGold("t0"))
    assert f.state.gold == {"t0": "cat"}
    assert f.next("ann").task_id == "t1"  # the gold slot finds nothing unseen
    assert f.next("bob").task_id == "t0"
    f.submit("bob", "t0", "cat")
    assert f.next("bob").task_id == "t2"


def test_no_gold_or_audit_from_an_empty_pool():
    f = Flow(WorkflowConfig(honeypots=HoneypotPolicy(rate=1.0)), members={"ann": ["annotator"]}, tasks=["t0"])
    f.do(AddGold("g", "cat"))
    assert f.next("ann").task_id == "g"
    f.submit("ann", "g", "cat")
    assert f.next("ann").task_id == "t0"  # rate 1 would serve gold, but there is none left for ann
    f.submit("ann", "t0", "cat")
    f.do(AddGold("g2", "cat"))
    assert f.next("ann") is None  # nothing ordinary left: a gold task now would stand out


def test_resume_clears_a_drift_alarm_and_starts_a_fresh_cusum():
    f = gold_flow(rate=1.0, n_gold=30, drift=DriftPolicy(target=0.1, slack=0.05, threshold=1.0))
    for i in range(3):
        a = f.next("ann")
        f.do(Submit("ann", a.task_id, f"x{i}", "dog"))
    assert f.state.annotators["ann"].drift_alarm == 1
    f.do(Resume("ann", reason="guideline clarified"))
    ann = f.state.annotators["ann"]
    assert ann.drift_alarm is None and ann.drift.alarm is None
    assert gold_report(f.state).annotators[0].n == 3  # the report keeps every graded answer


def test_a_failing_grader_leaves_the_state_as_it_was():
    def grader(answer, gold):
        raise ValueError("grader crashed")

    f = gold_flow(rate=1.0, grader=grader)
    a = f.next("ann")
    log = len(f.state.log)
    with pytest.raises(ValueError, match="grader crashed"):
        f.do(Submit("ann", a.task_id, "x1", "cat"))
    assert len(f.state.log) == log
    assert f.state.leases.get(a.task_id, "ann") is not None
    assert "x1" not in f.state.annotation_ids and f.state.annotators["ann"].gold_graded == 0
