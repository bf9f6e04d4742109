"""The credential cache: a verified token is trusted for ``ttl`` seconds, never longer."""

from __future__ import annotations

from datetime import UTC, datetime

from labelgate.server.domain import User
from labelgate.server.services.credentials import CredentialCache
from tests.conftest import FakeClock

ANN = User(id=7, username="ann", is_superuser=False, is_active=True, created_at=datetime(2026, 1, 1, tzinfo=UTC))


def test_an_entry_lives_exactly_ttl_seconds() -> None:
    clock = FakeClock(100.0)
    cache = CredentialCache(5.0, clock=clock)
    assert cache.get("t:abc") is None
    cache.put("t:abc", ANN)
    clock.now += 4.999
    assert cache.get("t:abc") == ANN
    clock.now += 0.001
    assert cache.get("t:abc") is None
    assert cache.get("t:abc") is None  # dropped, not revived


def test_clear_forgets_everything_and_ttl_zero_caches_nothing() -> None:
    cache = CredentialCache(60.0)
    cache.put("t:a", ANN)
    cache.put("s:b", ANN)
    cache.clear()
    assert cache.get("t:a") is None and cache.get("s:b") is None
    off = CredentialCache(0.0)
    off.put("t:a", ANN)
    assert off.get("t:a") is None


def test_a_full_cache_starts_over_instead_of_growing() -> None:
    cache = CredentialCache(60.0, capacity=3)
    for k in "abc":
        cache.put(k, ANN)
    cache.put("d", ANN)
    assert [cache.get(k) for k in "abcd"] == [None, None, None, ANN]
