"""Deterministic interleaving of special slots (gold, audits) into an annotator's stream.

Positions are cut into consecutive blocks of about 1/rate (block j holds the positions p with
floor(p * rate) == j, computed exactly on a fraction); each block has one slot at a position drawn by
hashing (seed, purpose, member, j). So the first n positions hold floor(n * rate) or so slots, any
window of w consecutive positions holds fewer than w * rate + 2 of them, and the slots do not fall at
a fixed period an annotator could count.
"""

from __future__ import annotations

from fractions import Fraction

from labelgate.workflow._hash import unit

__all__ = ["in_slot"]


def in_slot(rate: Fraction, seed: int, purpose: str, member: str, position: int) -> bool:
    if rate <= 0:
        return False
    num, den = rate.numerator, rate.denominator
    block = position * num // den
    start = -(-block * den // num)  # ceil(block / rate)
    end = -(-(block + 1) * den // num)
    offset = int(unit(seed, purpose, member, block) * (end - start))
    return position - start == offset
