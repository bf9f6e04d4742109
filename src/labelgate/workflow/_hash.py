"""Deterministic pseudo-randomness: a seeded hash of names, so sampling never needs a random state."""

from __future__ import annotations

import hashlib

__all__ = ["unit"]

_SCALE = float(2**64)


def unit(*parts: object) -> float:
    """A number in [0, 1) fixed by ``parts`` (e.g. seed, purpose, task id): the same parts give the
    same number on every machine and in every replay."""
    digest = hashlib.blake2b("\x1f".join(map(str, parts)).encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big") / _SCALE
