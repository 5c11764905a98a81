"""LoginLimiter: per-user and per-address sliding windows, safe against parallel guesses."""

from __future__ import annotations

from jwtkit.server.ratelimit import LoginLimiter


def test_attempts_in_flight_count_before_their_outcome() -> None:
    limiter = LoginLimiter(per_user=3, per_address=100, window=60)
    # Three parallel guesses are granted; the fourth is refused before any outcome is known.
    assert [limiter.acquire("alice", "10.0.0.1", now=100.0) for _ in range(3)] == [0, 0, 0]
    assert limiter.acquire("alice", "10.0.0.2", now=100.0) == 60
    assert limiter.acquire("bob", "10.0.0.1", now=100.0) == 0


def test_success_takes_the_attempt_back_and_clears_the_user() -> None:
    limiter = LoginLimiter(per_user=2, per_address=2, window=60)
    assert limiter.acquire("alice", "10.0.0.1", now=1.0) == 0  # a failure
    assert limiter.acquire("alice", "10.0.0.1", now=2.0) == 0  # a success:
    limiter.succeeded("alice", "10.0.0.1", started=2.0)
    # The user's count is cleared; the address keeps only the real failure.
    assert limiter.acquire("alice", "10.0.0.1", now=3.0) == 0
    assert limiter.acquire("carol", "10.0.0.1", now=4.0) == 57  # oldest failure at 1.0 + 60


def test_window_slides() -> None:
    limiter = LoginLimiter(per_user=2, per_address=10, window=10)
    limiter.acquire("alice", None, now=0.0)
    limiter.acquire("alice", None, now=5.0)
    assert limiter.acquire("alice", None, now=6.0) == 4
    assert limiter.acquire("alice", None, now=10.5) == 0
