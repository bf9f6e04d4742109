"""Slot interleaving (honeypots, audits): within the rate over every window, for any rate and seed."""

from __future__ import annotations

from fractions import Fraction

import hypothesis.strategies as st
import numpy as np
from hypothesis import given, settings

from labelgate.workflow._schedule import in_slot

rates = st.fractions(min_value=Fraction(1, 200), max_value=1, max_denominator=200)


@settings(max_examples=50, deadline=None)
@given(rate=rates, seed=st.integers(0, 2**32), member=st.text(min_size=1, max_size=8), n=st.integers(1, 400))
def test_slots_stay_within_the_rate_over_every_window(rate: Fraction, seed: int, member: str, n: int) -> None:
    slots = [in_slot(rate, seed, "gold", member, p) for p in range(n)]
    prefix = np.concatenate([[0], np.cumsum(slots)])
    r = float(rate)
    for w in range(1, n + 1):
        counts = prefix[w:] - prefix[:-w]
        assert np.abs(counts - w * r).max() < 2 - 1e-9, (w, counts.max(), counts.min())
    # one slot per block: every complete block of the stream holds exactly one
    full_blocks = n * rate.numerator // rate.denominator
    assert full_blocks <= sum(slots) <= full_blocks + 1


@settings(max_examples=50, deadline=None)
@given(seed=st.integers(0, 2**32), member=st.text(min_size=1, max_size=8))
def test_rate_one_is_every_position_and_zero_none(seed: int, member: str) -> None:
    assert all(in_slot(Fraction(1), seed, "gold", member, p) for p in range(50))
    assert not any(in_slot(Fraction(0), seed, "gold", member, p) for p in range(50))
