"""Gold scoring: accuracy per annotator and class, Wilson intervals, the minimum-sample rule."""

from __future__ import annotations

import math

import orjson
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from labelgate.core.errors import QualityError
from labelgate.quality import GoldAccumulator, score_gold
from labelgate.quality._stats import wilson_interval
from labelgate.quality.gold import verdict


def test_wilson_interval_matches_statsmodels() -> None:
    from statsmodels.stats.proportion import proportion_confint

    for k, n in [(0, 10), (3, 10), (10, 10), (45, 50), (1, 1), (17, 400)]:
        lo, hi = wilson_interval(k, n, 0.95)
        ref = proportion_confint(k, n, alpha=0.05, method="wilson")
        assert (lo, hi) == pytest.approx(ref, abs=1e-12)
    assert wilson_interval(0, 0) == (0.0, 1.0)
    with pytest.raises(QualityError):
        wilson_interval(5, 3)


@settings(max_examples=50, deadline=None)
@given(n=st.integers(1, 500), frac=st.floats(0, 1), conf=st.sampled_from([0.8, 0.9, 0.95, 0.99]))
def test_wilson_interval_contains_the_estimate(n: int, frac: float, conf: float) -> None:
    k = round(frac * n)
    lo, hi = wilson_interval(k, n, conf)
    assert 0.0 <= lo <= k / n <= hi <= 1.0


def test_verdict_needs_enough_samples_and_a_clear_interval() -> None:
    assert verdict(5, 5, threshold=0.9, min_samples=20) == "insufficient data"
    assert verdict(100, 100, threshold=0.9, min_samples=20) == "pass"
    assert verdict(50, 100, threshold=0.9, min_samples=20) == "fail"
    assert verdict(19, 20, threshold=0.9, min_samples=20) == "uncertain"


def test_score_gold_per_annotator_and_class() -> None:
    gold = {f"u{i}": ("cat" if i % 2 else "dog") for i in range(40)}
    answers = [(u, "alice", g) for u, g in gold.items()]
    answers += [(u, "bob", "cat") for u in gold]  # bob always says cat
    answers += [(u, "carol", g) for u, g in list(gold.items())[:5]]
    answers += [("no-gold", "alice", "cat")]
    report = score_gold(answers, gold, threshold=0.9, min_samples=10)
    by = {a.annotator: a for a in report.annotators}
    assert by["alice"].accuracy == 1.0 and by["alice"].verdict == "pass"
    assert by["bob"].accuracy == 0.5 and by["bob"].verdict == "fail"
    bob_classes = {c.label: c for c in by["bob"].per_class}
    assert bob_classes["cat"].accuracy == 1.0 and bob_classes["dog"].accuracy == 0.0
    assert by["bob"].confusions == {("dog", "cat"): 20}
    assert by["carol"].verdict == "insufficient data"
    assert by["carol"].ci == pytest.approx(wilson_interval(5, 5))
    assert report.ungraded == 1
    data = orjson.loads(orjson.dumps(report.to_dict()))
    assert data["annotators"][1]["confusions"] == [{"gold": "dog", "answer": "cat", "count": 20}]


def test_records_as_mappings_and_conflicting_gold() -> None:
    report = score_gold([{"unit": 1, "rater": "a", "label": "x"}], [(1, "x")], min_samples=1)
    assert report.annotators[0].accuracy == 1.0
    with pytest.raises(QualityError, match="two gold labels"):
        score_gold([], [(1, "x"), (1, "y")])
    with pytest.raises(QualityError, match="threshold"):
        GoldAccumulator(threshold=2.0)


def test_accumulator_streams() -> None:
    acc = GoldAccumulator(min_samples=3)
    for answer in ["a", "a", "b"]:
        acc.update("ann", answer, "a")
    report = acc.compute()
    assert report.annotators[0].correct == 2
    assert math.isclose(report.annotators[0].accuracy or 0, 2 / 3)
