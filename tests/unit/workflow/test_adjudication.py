"""Adjudication: disagreement beyond the threshold goes to the adjudicator, whose answer records its sources."""

from __future__ import annotations

from collections import Counter

import pytest

from labelgate.core import Box, Region
from labelgate.core.errors import InvariantError, PermissionDenied
from labelgate.workflow import (
    Adjudicate,
    AdjudicationNeeded,
    AdjudicationPolicy,
    Binding,
    TaskAccepted,
    TaskSpec,
    WorkflowConfig,
    categorical_agreement,
    spatial_f1,
)

from ._flow import Flow


def majority(answers):
    return Counter(answers).most_common(1)[0][0]


CONFIG = WorkflowConfig(adjudication=AdjudicationPolicy(Binding(role="lead"), categorical_agreement, threshold=0.99,
                                                        consensus=majority, method="majority"))
TEAM = {"ann": ["annotator"], "bob": ["annotator"], "cy": ["annotator"], "lead": ["lead"]}


def test_disagreement_goes_to_adjudication_and_the_final_answer_names_its_sources():
    f = Flow(CONFIG, members=TEAM, tasks=[TaskSpec("t", overlap=3)])
    effects = []
    for member, answer in (("ann", "cat"), ("bob", "dog"), ("cy", "cat")):
        f.next(member)
        effects = f.submit(member, "t", answer)
    needed = next(e for e in effects if isinstance(e, AdjudicationNeeded))
    assert needed.annotation_ids == ("a1", "a2", "a3") and needed.score == pytest.approx(1 / 3)
    assert f.status("t") == "adjudicating"
    with pytest.raises(PermissionDenied):
        f.next("ann", "adjudicate")
    a = f.next("lead", "adjudicate")
    assert a.mode == "adjudicate" and a.sources == ("a1", "a2", "a3") and a.proposal == "cat"
    with pytest.raises(InvariantError, match="unknown"):
        f.do(Adjudicate("lead", "t", "cat", ("a9",), "chose"))
    effects = f.do(Adjudicate("lead", "t", "cat", ("a1", "a3"), "picked the majority after checking the image"))
    final = next(e.final for e in effects if isinstance(e, TaskAccepted))
    assert (final.answer, final.sources, final.by) == ("cat", ("a1", "a3"), "lead")
    assert final.method == "picked the majority after checking the image"


def test_agreement_above_the_threshold_takes_the_consensus():
    f = Flow(CONFIG, members=TEAM, tasks=[TaskSpec("t", overlap=2)])
    for member in ("ann", "bob"):
        f.next(member)
        effects = f.submit(member, "t", "cat")
    final = next(e.final for e in effects if isinstance(e, TaskAccepted))
    assert (final.answer, final.sources, final.method, final.by) == ("cat", ("a1", "a2"), "majority", None)


def test_an_annotator_does_not_adjudicate_their_own_task():
    f = Flow(CONFIG, members={**TEAM, "ann": ["annotator", "lead"]}, tasks=[TaskSpec("t", overlap=2)])
    for member, answer in (("ann", "cat"), ("bob", "dog")):
        f.next(member)
        f.submit(member, "t", answer)
    assert f.next("ann", "adjudicate") is None
    assert f.next("lead", "adjudicate").task_id == "t"


def test_agreement_functions():
    assert categorical_agreement(["a", "a", "b"]) == pytest.approx(1 / 3)
    assert categorical_agreement(["a"]) == 1.0
    box = Region(Box(0, 0, 10, 10), "product")
    near = Region(Box(1, 0, 11, 10), "product")
    far = Region(Box(50, 50, 60, 60), "product")
    assert spatial_f1([[box], [near]]) == 1.0
    assert spatial_f1([[box], [far]]) == 0.0
    assert spatial_f1([[box, far], [near]]) == pytest.approx(2 / 3)
    assert spatial_f1([[], []]) == 1.0
