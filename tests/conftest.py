"""Suite-wide fixtures: where the interop fixtures live, and whether missing services may skip."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings

# CI runs the same examples every time (a red CI must be reproducible); locally examples vary.
settings.register_profile(
    "ci", derandomize=True, deadline=None, suppress_health_check=[HealthCheck.too_slow], print_blob=True
)
settings.register_profile("dev", deadline=None, suppress_health_check=[HealthCheck.too_slow], print_blob=True)

ROOT = Path(__file__).resolve().parents[1]
INTEROP = ROOT.parent / "shared" / "data" / "interop"
IN_CI = os.environ.get("CI", "").lower() == "true"
settings.load_profile("ci" if IN_CI else "dev")


def require_or_skip(condition: bool, reason: str) -> None:
    """Skip when ``condition`` is false, except in CI, where the test fails instead."""
    if condition:
        return
    if IN_CI:
        pytest.fail(f"CI=true and {reason}")
    pytest.skip(reason)


@pytest.fixture(scope="session")
def interop() -> Path:
    """``../shared/data/interop`` (fixtures written by Datumaro's tools)."""
    require_or_skip(INTEROP.is_dir(), f"interop fixtures not found at {INTEROP}")
    return INTEROP


class FakeClock:
    """A clock the test moves by hand (``clock.now += 5``), for code that takes ``clock=``."""

    def __init__(self, now: float = 0.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now
