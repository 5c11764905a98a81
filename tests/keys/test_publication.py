"""Rotation honours pre-publication; the key cache never makes callers wait on a reload."""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime, timedelta

import pytest

from jwtkit.errors import KeyStateError
from jwtkit.keys import KeyManager, RotationPolicy
from jwtkit.keys._cache import KeyCache, KeyView

T0 = datetime(2030, 1, 1, tzinfo=UTC)


def test_rotate_waits_for_the_publication_delay() -> None:
    policy = RotationPolicy(publication_delay=timedelta(minutes=10))
    with KeyManager.open("memory://", policy=policy) as km:
        first = km.active_key(now=T0)
        with pytest.raises(KeyStateError, match="force the rotation") as info:
            km.rotate(now=T0 + timedelta(minutes=9))
        assert "2030-01-01T00:10:00Z" in str(info.value)
        assert km.active_key().kid == first.kid  # nothing changed
        rotated = km.rotate(now=T0 + timedelta(minutes=10))
        assert rotated.kid != first.kid
        # The next pending key was just created: a second rotation must wait again...
        with pytest.raises(KeyStateError):
            km.rotate(now=T0 + timedelta(minutes=11))
        # ...unless forced, which an operator may do knowingly.
        forced = km.rotate(now=T0 + timedelta(minutes=11), force=True)
        assert forced.kid not in (first.kid, rotated.kid)


def test_an_empty_ring_may_rotate_at_once() -> None:
    with KeyManager.open("memory://") as km:
        assert km.rotate(now=T0).state == "active"


def test_emergency_revocation_of_the_active_key_stays_immediate() -> None:
    with KeyManager.open("memory://") as km:
        active = km.active_key(now=T0)
        km.revoke(active.kid, now=T0 + timedelta(seconds=1))
        assert km.active_key().kid != active.kid
        assert active.kid not in {k["kid"] for k in km.jwks()["keys"]}


def _view(generation: int) -> KeyView:
    from jwtkit import KeySet

    return KeyView(generation, (), {}, KeySet([]))


def test_the_cache_serves_while_one_thread_reloads() -> None:
    entered, release = threading.Event(), threading.Event()
    calls: list[int] = []

    def loader(prev: KeyView | None) -> KeyView:
        calls.append(1)
        if prev is not None:
            entered.set()
            release.wait(10)
        return _view(len(calls))

    cache = KeyCache(loader, refresh_interval=0.0)
    first = cache.current()
    slow = threading.Thread(target=cache.current)
    slow.start()
    assert entered.wait(5)
    started = time.monotonic()
    # Another caller does not queue behind the reload: it gets the current view at once,
    # and so does the JWKS path, which never waits.
    assert cache.current() is first
    assert cache.current(wait=False) is first
    assert time.monotonic() - started < 0.5
    release.set()
    slow.join(5)
    assert cache.current(wait=False).generation >= 2
