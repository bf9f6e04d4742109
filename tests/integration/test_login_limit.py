"""The login limiter keeps its failures in the database: one limit for every server process, on SQLite and
PostgreSQL; parallel guesses cannot slip past it while the password hash runs."""

from __future__ import annotations

import threading
import uuid

import pytest
import sqlalchemy as sa

from labelgate.server.db import Database
from labelgate.server.db.tables import login_failures
from labelgate.server.errors import RateLimited
from labelgate.server.services.ratelimit import Attempt, LoginLimiter
from labelgate.server.services.runtime import Runtime
from tests.conftest import FakeClock


def _key() -> str:
    return f"user:limit_{uuid.uuid4().hex[:8]}"


def _rows(db: Database, key: str) -> int:
    with db.read() as conn:
        return int(conn.execute(sa.select(sa.func.count()).select_from(login_failures)
                                .where(login_failures.c.key == key)).scalar_one())


def test_blocks_after_the_limit_and_recovers_after_the_window(runtime: Runtime) -> None:
    clock = FakeClock(1_800_000_000.0)
    lim = LoginLimiter(runtime.db, 3, 60, clock)
    key, other = _key(), _key()
    for _ in range(3):
        lim.begin(key)  # three wrong guesses: each stays recorded
        clock.now += 1
    with pytest.raises(RateLimited) as e:
        lim.begin(key)
    assert e.value.retry_after == pytest.approx(57.0)  # the first failure (at +0) leaves the window at +60
    assert _rows(runtime.db, key) == 3  # a refused attempt is not recorded
    lim.succeeded(lim.begin(other))  # other keys are unaffected
    assert _rows(runtime.db, other) == 0
    clock.now += 57.5
    lim.begin(key)  # the oldest failure left the window (and was deleted)
    assert _rows(runtime.db, key) == 3


def test_success_takes_the_attempt_back_and_forgets_the_named_keys(runtime: Runtime) -> None:
    clock = FakeClock(1_800_000_000.0)
    lim = LoginLimiter(runtime.db, 5, 60, clock)
    user, client = _key(), _key()
    lim.begin(user, client)
    lim.begin(user, client)
    ok = lim.begin(user, client)
    assert isinstance(ok, Attempt) and _rows(runtime.db, user) == 3
    lim.succeeded(ok, user)
    assert _rows(runtime.db, user) == 0  # a right password clears the user's failures
    assert _rows(runtime.db, client) == 2  # the client's earlier failures stay; this attempt's row went


def test_processes_share_one_limit(runtime: Runtime) -> None:
    """Two limiters on their own engines (as two ``--workers`` processes have) count the same failures."""
    clock = FakeClock(1_800_000_000.0)
    other_db = Database(runtime.settings)
    try:
        a = LoginLimiter(runtime.db, 4, 60, clock)
        b = LoginLimiter(other_db, 4, 60, clock)
        key = _key()
        a.begin(key)
        b.begin(key)
        a.begin(key)
        b.begin(key)
        with pytest.raises(RateLimited):
            a.begin(key)
        with pytest.raises(RateLimited):
            b.begin(key)
        b.reset(key)
        a.begin(key)
    finally:
        other_db.dispose()


def test_parallel_guesses_cannot_pass_together(runtime: Runtime) -> None:
    lim = LoginLimiter(runtime.db, 3, 60)
    key = _key()
    start = threading.Barrier(8)
    passed: list[Attempt] = []
    refused: list[RateLimited] = []

    def guess() -> None:
        start.wait()
        try:
            passed.append(lim.begin(key))
        except RateLimited as e:
            refused.append(e)

    threads = [threading.Thread(target=guess) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert (len(passed), len(refused)) == (3, 5)
    assert _rows(runtime.db, key) == 3


def test_a_very_long_username_is_counted_by_its_digest(runtime: Runtime) -> None:
    lim = LoginLimiter(runtime.db, 1, 60)
    key = "user:" + "x" * 5000 + uuid.uuid4().hex
    lim.begin(key)
    with pytest.raises(RateLimited):
        lim.begin(key)
    with runtime.db.read() as conn:
        stored = conn.execute(sa.select(login_failures.c.key).where(login_failures.c.key.like("sha256:%"))).scalars().all()
    assert stored and all(len(k) == len("sha256:") + 64 for k in stored)


def test_an_ipv6_network_counts_as_one_client(runtime: Runtime, world) -> None:  # type: ignore[no-untyped-def]
    """Failed logins for different users from addresses of one /64 count against one client limit."""
    from labelgate.server.errors import AuthenticationRequired
    from labelgate.server.services import auth

    assert auth.client_key("2001:db8:1:2::1") == auth.client_key("2001:db8:1:2:ffff::9") == "client:2001:db8:1:2::/64"
    assert auth.client_key("2001:db8:1:3::1") != auth.client_key("2001:db8:1:2::1")
    assert auth.client_key("::ffff:192.0.2.7") == auth.client_key("192.0.2.7") == "client:192.0.2.7"
    assert auth.client_key("testclient") == "client:testclient"
    net = f"2001:db8:{uuid.uuid4().int % 0xffff:x}:1"
    limit = runtime.settings.login_attempts
    for i in range(limit):
        with pytest.raises(AuthenticationRequired):
            auth.login(runtime, f"nobody_{uuid.uuid4().hex[:6]}", "wrong-password", f"{net}::{i + 1:x}")
    with pytest.raises(RateLimited):
        auth.login(runtime, world["reviewer"].name, "password-" + world["reviewer"].name, f"{net}:0:0:0:abcd")
    runtime.login_limiter.reset(auth.client_key(f"{net}::1"))
    user, _ = auth.login(runtime, world["reviewer"].name, "password-" + world["reviewer"].name, f"{net}::1")
    assert user.username == world["reviewer"].name
