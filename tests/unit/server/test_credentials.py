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
    cache.put("t:abc", ANN, cache.generation())
    clock.now += 4.999
    assert cache.get("t:abc") == ANN
    clock.now += 0.001
    assert cache.get("t:abc") is None
    assert cache.get("t:abc") is None  # dropped, not revived


def test_clear_forgets_everything_and_ttl_zero_caches_nothing() -> None:
    cache = CredentialCache(60.0)
    cache.put("t:a", ANN, cache.generation())
    cache.put("s:b", ANN, cache.generation())
    cache.clear()
    assert cache.get("t:a") is None and cache.get("s:b") is None
    off = CredentialCache(0.0)
    off.put("t:a", ANN, off.generation())
    assert off.get("t:a") is None


def test_a_full_cache_starts_over_instead_of_growing() -> None:
    cache = CredentialCache(60.0, capacity=3)
    for k in "abc":
        cache.put(k, ANN, cache.generation())
    cache.put("d", ANN, cache.generation())
    assert [cache.get(k) for k in "abcd"] == [None, None, None, ANN]


def test_a_lookup_under_way_during_a_clear_is_not_cached() -> None:
    """A revocation that commits and clears the cache while another request's lookup is reading the
    database: that lookup may have read the credential as still valid, and must not put it back."""
    cache = CredentialCache(60.0)
    started = cache.generation()  # a request begins looking "t:a" up
    cache.clear()  # meanwhile: the token is revoked
    cache.put("t:a", ANN, started)  # the lookup ends with what it read
    assert cache.get("t:a") is None
    cache.put("t:a", ANN, cache.generation())  # a lookup begun after the revocation is trusted
    assert cache.get("t:a") == ANN
