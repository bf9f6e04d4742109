"""The retail-shelf scenario at engine level: two annotators with controlled errors, overlap on a
sample, kappa per guideline version, a revision with a fresh round, and the export gate opening only
once kappa crosses 0.6 (the server's end-to-end test drives the same flow through the API)."""

from __future__ import annotations

import random

from labelgate.workflow import (
    Gate,
    OverlapPolicy,
    PublishGuideline,
    TaskSpec,
    WorkflowConfig,
    agreement_by_version,
    evaluate_gate,
    gate_metrics,
)

from ._flow import Flow

CLASSES = ("cereal", "soap", "juice", "rice")


def test_kappa_per_guideline_version_crosses_the_bar_and_opens_the_gate():
    truth = {f"img{i:03d}": CLASSES[i % 4] for i in range(200)}
    f = Flow(WorkflowConfig(overlap=OverlapPolicy(k=2, order="complete")), members={"ann": ["annotator"], "bob": ["annotator"]},
             tasks=[TaskSpec(t, overlap=2 if i < 25 else 1, priority=1 if i < 25 else 0) for i, t in enumerate(truth)])
    rng = random.Random(4)
    noise = {1: 0.45, 2: 0.08}

    def label(task_id: str, version: int) -> str:
        return rng.choice(CLASSES) if rng.random() < noise[version] else truth[task_id]

    def work(version: int, count: int) -> None:
        for member in ("ann", "bob"):
            for _ in range(count):
                a = f.next(member)
                f.submit(member, a.task_id, label(a.task_id, version))

    gate = Gate(min_agreement=0.6)
    f.do(PublishGuideline(1, "# Product boxes\nOne label per image."))
    work(1, 25)
    kappa = agreement_by_version(f.state, "cohen_kappa")
    assert list(kappa) == [1] and kappa[1].units == 25
    closed = evaluate_gate(gate, gate_metrics(f.state, agreement=kappa[1].value))
    assert kappa[1].value < 0.6 and not closed.open

    f.do(PublishGuideline(2, "# Product boxes\nLabel the brand's category, not the shelf's.", round_tasks=25, round_priority=2))
    work(2, 25)
    kappa = agreement_by_version(f.state, "cohen_kappa")
    assert sorted(kappa) == [1, 2] and kappa[2].units == 25
    assert kappa[1].value < 0.6 <= kappa[2].value
    latest = kappa[max(kappa)].value
    assert evaluate_gate(gate, gate_metrics(f.state, agreement=latest)).open
