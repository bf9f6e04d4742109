"""Guideline versions and agreement rounds; consistency audits; quality gates."""

from __future__ import annotations

import pytest

from labelgate.core.errors import ConflictError, InvariantError
from labelgate.workflow import (
    AgreementRoundOpened,
    AuditPolicy,
    Binding,
    Gate,
    GateMetrics,
    OverlapPolicy,
    PublishGuideline,
    Review,
    Sampling,
    Stage,
    TaskSpec,
    WorkflowConfig,
    agreement_by_version,
    evaluate_gate,
    gate_metrics,
    override_gate,
    retest_agreement,
    retest_pairs,
)

from ._flow import Flow


def test_submissions_record_their_guideline_version_and_a_revision_opens_a_round():
    f = Flow(WorkflowConfig(overlap=OverlapPolicy(k=2, order="complete")), members={"ann": ["annotator"], "bob": ["annotator"]},
             tasks=[TaskSpec(f"o{i}", overlap=2) for i in range(6)] + [f"t{i}" for i in range(20)])
    f.do(PublishGuideline(1, "# Product\nBox every product."))
    noisy = {"ann": ["p", "q", "p", "q", "p", "q"], "bob": ["p", "p", "q", "q", "q", "p"]}
    for m in ("ann", "bob"):
        for label in noisy[m]:
            a = f.next(m)
            assert a.task_id.startswith("o") and a.guideline_version == 1
            f.submit(m, a.task_id, label)
    with pytest.raises(ConflictError, match="not newer"):
        f.do(PublishGuideline(1, "again"))
    effects = f.do(PublishGuideline(2, "# Product\nBox every product, including partly hidden ones.", round_tasks=6,
                                        round_priority=1))
    opened = next(e for e in effects if isinstance(e, AgreementRoundOpened))
    assert len(opened.task_ids) == 6 and opened.k == 2 and opened.version == 2
    assert all(f.state.tasks[t].overlap == 2 and f.state.tasks[t].round == 2 for t in opened.task_ids)
    for m in ("ann", "bob"):
        for i, t in enumerate(opened.task_ids):
            a = f.next(m)
            assert a.task_id == t  # the round's priority puts its tasks first
            f.submit(m, t, "p" if i % 2 else "q")
    by_version = agreement_by_version(f.state, "cohen_kappa")
    assert set(by_version) == {1, 2}
    assert by_version[2].value == pytest.approx(1.0)
    assert by_version[1].value < 0.6
    assert f.state.tasks[opened.task_ids[0]].submissions[0].guideline_version == 2


def test_audits_reserve_own_past_tasks_and_measure_test_retest():
    f = Flow(WorkflowConfig(audits=AuditPolicy(rate=0.25, seed=2, min_gap=4)), members={"ann": ["annotator"]},
             tasks=[f"t{i}" for i in range(60)])
    answers = {}
    served = []
    while (a := f.next("ann")) is not None:
        served.append(a.task_id)
        label = answers.setdefault(a.task_id, "p" if int(a.task_id[1:]) % 3 else "q")
        f.submit("ann", a.task_id, label)
    repeats = len(served) - len(set(served))
    pairs = retest_pairs(f.state, "ann")
    assert repeats == len(pairs) >= 10
    assert all(first == second for first, second in pairs.values())
    assert retest_agreement(f.state, "ann").value == pytest.approx(1.0)
    for t in pairs:  # audits never move the task
        assert f.state.tasks[t].annotations == 1
        assert served.index(t) + 4 <= len(served) - 1 - served[::-1].index(t)


def test_gate_pass_fail_and_override():
    gate = Gate(min_agreement=0.6, min_gold_accuracy=0.9, min_review_coverage=0.2)
    ok = evaluate_gate(gate, GateMetrics(agreement=0.71, gold_accuracy=0.95, review_coverage=0.25))
    assert ok.passed and ok.open and ok.reasons == ()
    bad = evaluate_gate(gate, GateMetrics(agreement=0.55, gold_accuracy=None, review_coverage=0.3))
    assert not bad.passed and not bad.open
    assert bad.reasons == ("agreement 0.550 is below 0.6", "gold accuracy is not measured yet (needs >= 0.9)")
    with pytest.raises(InvariantError, match="reason"):
        override_gate(bad, "manager", "  ")
    with pytest.raises(InvariantError, match="nothing to override"):
        override_gate(ok, "manager", "because")
    opened = override_gate(bad, "manager", "pilot export for the model team")
    assert opened.open and not opened.passed and opened.override_reason == "pilot export for the model team"


def test_gate_metrics_from_the_state():
    f = Flow(WorkflowConfig(stages=(Stage("check", Binding(role="reviewer"), Sampling.every_nth(2)),)),
             members={"ann": ["annotator"], "rev": ["reviewer"]}, tasks=[f"t{i}" for i in range(4)])
    f.annotate_all("ann")
    while (a := f.next("rev", "check")) is not None:
        f.do(Review("rev", a.task_id, accept=True))
    m = gate_metrics(f.state, agreement=0.7)
    assert m == GateMetrics(agreement=0.7, gold_accuracy=None, review_coverage=0.5)
