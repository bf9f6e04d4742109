"""Drift: test-retest agreement, CUSUM alarms, agreement over time windows."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from labelgate.core.errors import QualityError
from labelgate.quality import Cusum, WindowedAgreement, agreement, cusum, drift


def test_test_retest_is_cohen_kappa_of_the_two_passes() -> None:
    first = {"u1": "a", "u2": "b", "u3": "a", "u4": "b", "u5": "a", "only-first": "a"}
    second = {"u1": "a", "u2": "b", "u3": "b", "u4": "b", "u5": "a", "only-second": "b"}
    result = drift.test_retest(first, second)
    expected = agreement([["a", "a"], ["b", "b"], ["a", "b"], ["b", "b"], ["a", "a"]], "cohen_kappa")
    assert result.value == pytest.approx(expected.value)
    assert result.units == 5
    triples = [(u, first[u], second[u]) for u in ("u1", "u2", "u3", "u4", "u5")]
    assert drift.test_retest(triples).value == pytest.approx(expected.value)
    with pytest.raises(QualityError, match="at least 2"):
        drift.test_retest({"u": "a"}, {"u": "a"})


def test_cusum_alarm_index_by_hand() -> None:
    # target 0.1 + slack 0.1: each error adds 0.8, each success subtracts 0.2 (floored at 0)
    errors = [0, 0, 1, 0, 1, 1, 0, 1]
    result = cusum(errors, target=0.1, slack=0.1, threshold=2.0)
    assert result.statistic.tolist() == pytest.approx([0, 0, 0.8, 0.6, 1.4, 2.2, 2.0, 2.8])
    assert result.alarm == 5


def test_cusum_streams_and_detects_a_shift_but_not_noise() -> None:
    rng = np.random.default_rng(0)
    stable = (rng.random(2000) < 0.05).astype(int)
    assert cusum(stable, target=0.05, slack=0.05, threshold=5.0).alarm is None
    shifted = np.concatenate([stable[:500], (rng.random(500) < 0.3).astype(int)])
    monitor = Cusum(target=0.05, slack=0.05, threshold=5.0)
    for x in shifted[:500]:
        assert monitor.update(int(x)) is None
    alarm = monitor.update(shifted[500:])
    assert alarm is not None and 500 <= alarm < 560
    assert monitor.compute().alarm == alarm
    with pytest.raises(QualityError):
        Cusum(target=1.5, slack=0, threshold=1)
    with pytest.raises(QualityError):
        monitor.update(2)


def test_windowed_agreement() -> None:
    start = datetime(2026, 1, 1, tzinfo=UTC)
    windows = WindowedAgreement(width=timedelta(days=1), metric="percent")
    for u in range(10):  # day 0: raters agree on every unit
        for r in ("a", "b"):
            windows.update(start + timedelta(hours=u), f"d0-{u}", r, "x" if u % 2 else "y")
    for u in range(10):  # day 1: they disagree on every unit
        windows.update(start + timedelta(days=1, hours=u), f"d1-{u}", "a", "x")
        windows.update(start + timedelta(days=1, hours=u, minutes=5), f"d1-{u}", "b", "y")
    windows.update(start + timedelta(days=2), "lonely", "a", "x")  # day 2: nothing pairable
    out = windows.compute()
    assert [w.units for w in out] == [10, 10, 1]
    assert out[0].result is not None and out[0].result.value == 1.0
    assert out[1].result is not None and out[1].result.value == 0.0
    assert out[2].result is None
    assert out[1].start == start.timestamp() + 86400
    with pytest.raises(QualityError):
        WindowedAgreement(width=0)
    with pytest.raises(QualityError, match="neither a number"):
        windows.update("yesterday", "u", "a", "x")
    anchored = WindowedAgreement(width=3600.0, metric="percent", start=start - timedelta(minutes=30))
    anchored.update(start, "u", "a", "x")
    anchored.update(start, "u", "b", "x")
    assert anchored.compute()[0].start == start.timestamp() - 1800


@settings(max_examples=50, deadline=None)
@given(errors=st.lists(st.booleans(), max_size=200), target=st.floats(0, 0.5), slack=st.floats(0, 0.3),
       threshold=st.floats(0.1, 5), chunk=st.integers(1, 50))
def test_cusum_streaming_in_chunks_equals_page_recursion(errors: list[bool], target: float, slack: float, threshold: float,
                                                        chunk: int) -> None:
    s, alarm, path = 0.0, None, []
    for t, x in enumerate(errors):  # Page (1954), written out
        s = max(0.0, s + x - target - slack)
        path.append(s)
        if alarm is None and s > threshold:
            alarm = t
    monitor = Cusum(target=target, slack=slack, threshold=threshold)
    for i in range(0, len(errors), chunk):
        monitor.update(errors[i:i + chunk])
    result = monitor.compute()
    assert result.alarm == alarm
    assert result.statistic.tolist() == pytest.approx(path)
