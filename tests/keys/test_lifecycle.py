"""The pure lifecycle functions: (ring, policy, now) -> ring, with a counting key factory."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from jwtkit.errors import CorruptStoreError, KeyStateError
from jwtkit.keys import KeyRecord, RotationPolicy
from jwtkit.keys import _lifecycle as lc

T0 = datetime(2026, 1, 1, tzinfo=UTC)
POLICY = RotationPolicy()
ALGS = (POLICY.alg,)


class Factory:
    """Makes pending records k1, k2, ... and counts them."""

    def __init__(self) -> None:
        self._n = itertools.count(1)
        self.made: list[str] = []

    def __call__(self, now: datetime, alg: str = "ES256") -> KeyRecord:
        kid = f"k{next(self._n)}"
        self.made.append(kid)
        return KeyRecord(kid=kid, alg=alg, state="pending", created_at=now)


def states(ring: list[KeyRecord]) -> dict[str, str]:
    return {r.kid: r.state for r in ring}


def test_ensure_on_empty_ring_creates_one_active_and_one_pending() -> None:
    ring = lc.ensure([], T0, Factory(), ALGS)
    assert states(ring) == {"k1": "active", "k2": "pending"}
    assert ring[0].activated_at == T0


def test_ensure_leaves_a_complete_ring_unchanged() -> None:
    ring = lc.ensure([], T0, Factory(), ALGS)
    fresh = Factory()
    assert lc.ensure(ring, T0 + timedelta(days=1), fresh, ALGS) == ring
    assert fresh.made == []


def test_rotate_promotes_oldest_pending_retires_active_adds_pending() -> None:
    f = Factory()
    ring = lc.ensure([], T0, f, ALGS)
    ring.append(KeyRecord(kid="late", alg="ES256", state="pending", created_at=T0 + timedelta(1)))
    t1 = T0 + timedelta(days=2)
    out = lc.rotate(ring, POLICY, t1, f)
    assert states(out) == {"k1": "retired", "k2": "active", "late": "pending", "k3": "pending"}
    by = {r.kid: r for r in out}
    assert by["k1"].retired_at == t1
    assert by["k2"].activated_at == t1
    assert by["k3"].created_at == t1


def test_rotate_on_empty_ring_changes_the_active_key() -> None:
    out = lc.rotate([], POLICY, T0, Factory())
    assert states(out) == {"k1": "retired", "k2": "active", "k3": "pending"}


def test_revoke_active_is_an_emergency_rotation() -> None:
    f = Factory()
    ring = lc.ensure([], T0, f, ALGS)
    out = lc.revoke(ring, "k1", T0 + timedelta(minutes=1), f, ALGS)
    assert states(out) == {"k1": "revoked", "k2": "active", "k3": "pending"}
    assert out[0].revoked_at == T0 + timedelta(minutes=1)


def test_revoke_pending_keeps_a_pending_successor() -> None:
    f = Factory()
    out = lc.revoke(lc.ensure([], T0, f, ALGS), "k2", T0, f, ALGS)
    assert states(out) == {"k1": "active", "k2": "revoked", "k3": "pending"}


def test_revoke_retired_and_again_is_idempotent() -> None:
    f = Factory()
    ring = lc.rotate([], POLICY, T0, f)
    once = lc.revoke(ring, "k1", T0, f, ALGS)
    assert states(once)["k1"] == "revoked"
    assert lc.revoke(once, "k1", T0 + timedelta(1), f, ALGS) == once


def test_revoke_unknown_kid_raises_key_state_error() -> None:
    with pytest.raises(KeyStateError) as info:
        lc.revoke(lc.ensure([], T0, Factory(), ALGS), "nope", T0, Factory(), ALGS)
    assert info.value.code == "key_state"


def test_maintain_waits_for_rotation_period() -> None:
    f = Factory()
    ring = lc.ensure([], T0, f, ALGS)
    just_before = T0 + POLICY.rotation_period - timedelta(seconds=1)
    assert lc.maintain(ring, POLICY, just_before, f) == ring
    out = lc.maintain(ring, POLICY, T0 + POLICY.rotation_period, f)
    assert states(out) == {"k1": "retired", "k2": "active", "k3": "pending"}


def test_maintain_waits_for_publication_delay_of_pending_key() -> None:
    f = Factory()
    ring = lc.ensure([], T0, f, ALGS)
    late = T0 + POLICY.rotation_period * 2
    # The only pending key was revoked, so a fresh one is published now; it may not sign yet.
    ring = lc.revoke(ring, "k2", late, f, ALGS)
    assert states(lc.maintain(ring, POLICY, late, f))["k1"] == "active"
    later = late + POLICY.publication_delay
    assert states(lc.maintain(ring, POLICY, later, f))["k3"] == "active"


def test_maintain_removes_retired_keys_after_window_only() -> None:
    f = Factory()
    ring = lc.rotate(lc.ensure([], T0, f, ALGS), POLICY, T0, f)
    window = POLICY.max_token_lifetime + POLICY.leeway
    kept = lc.maintain(ring, POLICY, T0 + window - timedelta(seconds=1), f)
    assert "k1" in states(kept)
    gone = lc.maintain(ring, POLICY, T0 + window, f)
    assert "k1" not in states(gone)
    assert ring[0].expires_at(POLICY) == T0 + window


def test_usable_excludes_revoked_and_expired() -> None:
    f = Factory()
    ring = lc.rotate(lc.ensure([], T0, f, ALGS), POLICY, T0, f)
    ring = lc.revoke(ring, "k3", T0, f, ALGS)
    window = POLICY.max_token_lifetime + POLICY.leeway
    assert [r.kid for r in lc.usable(ring, POLICY, T0)] == ["k1", "k2", "k4"]
    assert [r.kid for r in lc.usable(ring, POLICY, T0 + window)] == ["k2", "k4"]


def test_two_active_keys_are_a_corrupt_store() -> None:
    ring = [
        KeyRecord(kid="a", alg="ES256", state="active", created_at=T0),
        KeyRecord(kid="b", alg="ES256", state="active", created_at=T0),
    ]
    with pytest.raises(CorruptStoreError) as info:
        lc.ensure(ring, T0, Factory(), ALGS)
    assert info.value.code == "corrupt_store"


def test_duplicate_kid_is_a_corrupt_store() -> None:
    rec = KeyRecord(kid="a", alg="ES256", state="pending", created_at=T0)
    with pytest.raises(CorruptStoreError):
        lc.validate([rec, rec])


def test_unknown_state_is_a_corrupt_store() -> None:
    with pytest.raises(CorruptStoreError):
        KeyRecord(kid="a", alg="ES256", state="weird", created_at=T0)  # type: ignore[arg-type]


def test_naive_record_times_are_refused() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        KeyRecord(kid="a", alg="ES256", state="pending", created_at=datetime(2026, 1, 1))


@pytest.mark.parametrize("alg", ["HS256", "none", "RSA-OAEP"])
def test_policy_refuses_non_signing_or_symmetric_algorithms(alg: str) -> None:
    with pytest.raises(ValueError, match="asymmetric"):
        RotationPolicy(alg=alg)


def test_policy_refuses_bad_durations() -> None:
    with pytest.raises(ValueError, match="negative"):
        RotationPolicy(leeway=timedelta(seconds=-1))
    with pytest.raises(ValueError, match="positive"):
        RotationPolicy(rotation_period=timedelta(0))
    with pytest.raises(TypeError):
        RotationPolicy(max_token_lifetime=3600)  # type: ignore[arg-type]


def test_policy_defaults() -> None:
    p = RotationPolicy()
    assert (p.alg, p.rotation_period, p.publication_delay, p.max_token_lifetime) == (
        "ES256",
        timedelta(days=30),
        timedelta(hours=1),
        timedelta(hours=1),
    )
    assert p.verification_window == timedelta(hours=1, seconds=60)


def test_normalize_now() -> None:
    assert lc.normalize_now(T0.timestamp()) == T0
    assert lc.normalize_now(T0) == T0
    assert lc.normalize_now(None).tzinfo is not None
    with pytest.raises(ValueError, match="timezone-aware"):
        lc.normalize_now(datetime(2026, 1, 1))
    with pytest.raises(TypeError):
        lc.normalize_now("2026")  # type: ignore[arg-type]


Op = tuple[str, int, int]

ops = st.lists(
    st.tuples(
        st.sampled_from(["ensure", "rotate", "revoke", "maintain"]),
        st.integers(min_value=0, max_value=40),  # hours to advance before the op
        st.integers(min_value=0, max_value=20),  # which key to revoke
    ),
    max_size=25,
)


@settings(max_examples=150, deadline=None)
@given(ops)
def test_lifecycle_invariants_hold_for_any_sequence(sequence: list[Op]) -> None:
    """Whatever happens: at most one active key, and after ensure-type ops exactly one active
    key plus a pending one; no usable key disappears before its verification window ends."""
    policy = RotationPolicy(rotation_period=timedelta(hours=24))
    f = Factory()
    ring: list[KeyRecord] = []
    now = T0
    for op, hours, pick in sequence:
        now += timedelta(hours=hours)
        before = {r.kid: r for r in ring}
        if op == "ensure":
            ring = lc.ensure(ring, now, f, ALGS)
        elif op == "rotate":
            ring = lc.rotate(ring, policy, now, f)
        elif op == "maintain":
            ring = lc.maintain(ring, policy, now, f)
        elif ring:
            ring = lc.revoke(ring, ring[pick % len(ring)].kid, now, f, ALGS)
        lc.validate(ring)
        if ring:
            assert [r.state for r in ring].count("active") == 1
            assert any(r.state == "pending" for r in ring)
        after = {r.kid: r for r in ring}
        for kid, old in before.items():
            if kid in after:
                # States only move forward.
                order = ["pending", "active", "retired", "revoked"]
                assert order.index(after[kid].state) >= order.index(old.state)
            else:
                # Only retired keys past their window are ever removed.
                assert old.state == "retired"
                assert old.retired_at is not None
                assert now >= old.retired_at + policy.verification_window
