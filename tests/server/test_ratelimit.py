"""The limiter's policy (jwtkit.server._ratelimit) over a real store: backoff per (name,
address), buckets per address and per name, known addresses, bounded keys."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from jwtkit._storage import Database, LimitRows
from jwtkit.server._ratelimit import (
    Limiter,
    Policy,
    TooManyAttemptsError,
    address_key,
)

LOGIN = Policy(
    free=3,
    backoff_max=60.0,
    address_burst=100,
    address_period=300.0,
    account_burst=10,
    account_period=1000.0,
    remember_addresses=True,
)


@pytest.fixture
def db() -> Iterator[Database]:
    database = Database.open("memory://")
    yield database
    database.close()


def limiter(db: Database, policy: Policy = LOGIN) -> Limiter:
    return Limiter(LimitRows(db), salt=b"salt", policies={"user": policy})


def wait_of(lim: Limiter, name: str, address: str | None, now: float) -> int:
    """Return 0 when an attempt is allowed (and counted), else its Retry-After."""
    try:
        lim.acquire("user", name, address, now=now)
    except TooManyAttemptsError as exc:
        return exc.retry_after
    return 0


def test_attempts_in_flight_count_before_their_outcome(db: Database) -> None:
    lim = limiter(db)
    # Three parallel guesses are granted; the fourth is refused before any outcome is known.
    assert [wait_of(lim, "alice", "10.0.0.1", 100.0) for _ in range(3)] == [0, 0, 0]
    assert wait_of(lim, "alice", "10.0.0.1", 100.0) == 1
    # Other pairs are not slowed by it.
    assert wait_of(lim, "alice", "10.0.0.2", 100.0) == 0
    assert wait_of(lim, "bob", "10.0.0.1", 100.0) == 0


def test_backoff_doubles_up_to_the_cap_and_a_success_resets_it(db: Database) -> None:
    lim = limiter(db, Policy(free=3, backoff_max=60.0, address_burst=100, address_period=1.0))
    now = 0.0
    waits = []
    for _ in range(13):
        while (wait := wait_of(lim, "alice", "10.0.0.1", now)) > 0:
            waits.append(wait)
            now += wait
    # Three free failures, then 1 s, 2 s, 4 s, ... capped at backoff_max.
    assert waits == [1, 2, 4, 8, 16, 32, 60, 60, 60, 60]
    attempt = lim.acquire("user", "alice", "10.0.0.1", now=now + 60)
    lim.succeeded(attempt, now=now + 60)
    assert [wait_of(lim, "alice", "10.0.0.1", now + 61) for _ in range(3)] == [0, 0, 0]


def test_an_address_spraying_names_is_refused(db: Database) -> None:
    policy = Policy(free=5, backoff_max=60.0, address_burst=4, address_period=300.0)
    lim = limiter(db, policy)
    assert [wait_of(lim, f"user{i}", "10.0.0.9", 0.0) for i in range(4)] == [0, 0, 0, 0]
    assert wait_of(lim, "user4", "10.0.0.9", 0.0) == 75  # one more every 300 / 4 s
    assert wait_of(lim, "user4", "10.0.0.8", 0.0) == 0
    assert wait_of(lim, "user4", "10.0.0.9", 75.0) == 0


def test_a_success_refunds_the_address_and_the_ceiling(db: Database) -> None:
    policy = Policy(free=5, backoff_max=60.0, address_burst=2, address_period=300.0)
    lim = limiter(db, policy)
    assert wait_of(lim, "u1", "10.0.0.9", 0.0) == 0  # a failure
    lim.succeeded(lim.acquire("user", "alice", "10.0.0.9", now=1.0), now=1.0)
    assert wait_of(lim, "u2", "10.0.0.9", 2.0) == 0  # the success did not use the budget
    assert wait_of(lim, "u3", "10.0.0.9", 2.0) > 0


def test_the_ceiling_slows_a_distributed_guess_but_not_the_owner(db: Database) -> None:
    lim = limiter(db)
    # The owner logged in from home once.
    lim.succeeded(lim.acquire("user", "alice", "192.0.2.7", now=0.0), now=0.0)
    # Ten guesses from ten addresses use the ceiling up; the next one waits.
    assert [wait_of(lim, "alice", f"10.0.1.{i}", 10.0) for i in range(10)] == [0] * 10
    assert wait_of(lim, "alice", "10.0.1.99", 10.0) == 100  # one more per 1000 / 10 s
    # The owner at home is exempt from the ceiling; a new address of theirs waits too.
    assert wait_of(lim, "alice", "192.0.2.7", 10.0) == 0
    assert wait_of(lim, "alice", "198.51.100.1", 10.0) == 100
    # Other accounts are not affected.
    assert wait_of(lim, "bob", "10.0.1.99", 10.0) == 0


def test_ipv6_addresses_count_by_their_64_block() -> None:
    assert address_key("2001:db8:1:2:aaaa::1") == address_key("2001:db8:1:2:bbbb::2")
    assert address_key("2001:db8:1:2:aaaa::1") == "2001:db8:1:2::/64"
    assert address_key("2001:db8:1:3::1") != address_key("2001:db8:1:2::1")
    assert address_key("::ffff:192.0.2.1") == "192.0.2.1"
    assert address_key(None) == "-"
    assert address_key("not an address" * 100) == ("not an address" * 100)[:64]


def test_counters_are_fixed_length_digests_of_names_and_addresses(db: Database) -> None:
    lim = limiter(db)
    long_name = "x" * 60_000
    wait_of(lim, long_name, "10.0.0.1", 0.0)
    keys = db.read(lambda tx: tx.execute("SELECT limit_key FROM jwtkit_limits"))
    assert len(keys) == 3  # pair, address, ceiling
    assert all(len(k) == 64 and "x" * 8 not in k and "10.0.0.1" not in k for (k,) in keys)


def test_expired_counters_are_purged(db: Database) -> None:
    rows = LimitRows(db)
    lim = Limiter(rows, salt=b"", policies={"user": LOGIN})
    for i in range(20):
        wait_of(lim, f"user{i}", f"10.0.2.{i}", 0.0)
    assert rows.count() == 60
    assert rows.purge(now=1.0) == 0
    assert rows.purge(now=10.0) == 20  # the address buckets are empty again after 3 s
    assert rows.purge(now=2 * 86400.0) == 40  # backoffs go a day after, the ceiling too
    assert rows.count() == 0
