"""Hungarian matching: optimality, thresholds, schemes, and clustering of several annotators."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from labelgate.core import QualityError
from labelgate.quality.matching import cluster, match, match_greedy


def test_greedy_strands_an_object_that_hungarian_matches() -> None:
    # a0 overlaps b0 best (0.9) but also b1 (0.6); a1 overlaps only b0 (0.6).
    # Greedy takes (a0, b0) and strands a1; Hungarian takes (a0, b1) and (a1, b0).
    iou = np.array([[0.9, 0.6], [0.6, 0.0]])
    greedy = match_greedy(iou, 0.5)
    assert len(greedy) == 1 and greedy.unmatched_a.tolist() == [1]
    best = match(iou, 0.5)
    assert list(zip(best.a.tolist(), best.b.tolist(), strict=True)) == [(0, 1), (1, 0)]
    assert best.total_iou == pytest.approx(1.2) and len(best.unmatched_a) == 0


def _brute_force(iou: np.ndarray, t: float) -> float:
    n, m = iou.shape
    best = 0.0
    for perm in itertools.permutations(range(max(n, m)), n) if n <= m else []:
        best = max(best, sum(iou[i, j] for i, j in enumerate(perm) if j < m and iou[i, j] >= t and iou[i, j] > 0))
    return best


@settings(max_examples=50, deadline=None)
@given(arrays(np.float64, st.tuples(st.integers(0, 4), st.integers(4, 5)), elements=st.floats(0, 1)),
       st.sampled_from([0.0, 0.3, 0.5]))
def test_hungarian_is_optimal_and_respects_threshold(iou: np.ndarray, t: float) -> None:
    m = match(iou, t)
    assert m.total_iou == pytest.approx(_brute_force(iou, t))
    assert np.all(m.iou >= t) and np.all(m.iou > 0)
    assert len(set(m.a.tolist())) == len(m) and len(set(m.b.tolist())) == len(m)
    assert sorted([*m.a.tolist(), *m.unmatched_a.tolist()]) == list(range(iou.shape[0]))
    assert sorted([*m.b.tolist(), *m.unmatched_b.tolist()]) == list(range(iou.shape[1]))
    t_m = match(iou.T, t)
    assert t_m.total_iou == pytest.approx(m.total_iou)


def test_schemes() -> None:
    iou = np.array([[0.9, 0.7], [0.0, 0.0]])
    la, lb = ["cat", "dog"], ["dog", "cat"]
    assert list(zip(match(iou, 0.5).a.tolist(), match(iou, 0.5).b.tolist(), strict=True)) == [(0, 0)]
    two = match(iou, 0.5, labels_a=la, labels_b=lb, scheme="two_pass")
    assert list(zip(two.a.tolist(), two.b.tolist(), strict=True)) == [(0, 1)]
    iou2 = np.array([[0.9, 0.0], [0.0, 0.8]])
    two = match(iou2, 0.5, labels_a=["cat", "cat"], labels_b=["dog", "cat"], scheme="two_pass")
    assert list(zip(two.a.tolist(), two.b.tolist(), strict=True)) == [(0, 0), (1, 1)]
    lab = match(iou2, 0.5, labels_a=["cat", "cat"], labels_b=["dog", "cat"], scheme="label")
    assert list(zip(lab.a.tolist(), lab.b.tolist(), strict=True)) == [(1, 1)]


def test_bad_input_is_refused() -> None:
    with pytest.raises(QualityError, match="2-D"):
        match(np.zeros(3))
    with pytest.raises(QualityError, match="threshold"):
        match(np.zeros((1, 1)), 1.5)
    with pytest.raises(QualityError, match="needs labels"):
        match(np.zeros((1, 1)), scheme="two_pass")
    with pytest.raises(QualityError, match="unknown matching scheme"):
        match(np.zeros((1, 1)), labels_a=["a"], labels_b=["a"], scheme="nope")  # type: ignore[arg-type]


def test_cluster_chains_three_annotators() -> None:
    # annotator 0: objects p, q; annotator 1: p', r; annotator 2: q'', p''
    ious = {
        (0, 1): np.array([[0.9, 0.0], [0.0, 0.0]]),
        (0, 2): np.array([[0.0, 0.8], [0.7, 0.0]]),
        (1, 2): np.array([[0.0, 0.85], [0.0, 0.0]]),
    }
    cs = cluster([2, 2, 2], ious, 0.5)
    assert {tuple(sorted(c.items())) for c in cs} == {((0, 0), (1, 0), (2, 1)), ((0, 1), (2, 0)), ((1, 1),)}


def test_cluster_with_an_annotator_without_objects() -> None:
    cs = cluster([1, 0, 1], {(0, 1): np.zeros((1, 0)), (0, 2): np.ones((1, 1)), (1, 2): np.zeros((0, 1))}, 0.5)
    assert cs == [{0: 0, 2: 0}]
