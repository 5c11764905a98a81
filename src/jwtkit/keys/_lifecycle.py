"""The key lifecycle as pure functions over a ring of records (style guide §5).

A ring is a list of :class:`KeyRecord`. Every function here takes the ring and ``now`` (and
the policy where its periods matter: rotating, maintaining, expiring) and returns a new ring;
none reads the clock or touches storage, so stores can run them inside one transaction and
tests can drive them with a fixed ``now``. New keys come from a ``fresh`` factory so that
generating key material (not pure) stays outside.

Keys form one lineage per signing algorithm (ES256 for access tokens and RS256 for ID tokens,
say): each algorithm has its own active key and pending successor, on the same lifecycle.

States: ``pending`` (published, not signing), ``active`` (one per algorithm; signs), ``retired``
(verifies until retired_at + max_token_lifetime + leeway, then removed), ``revoked`` (never
verifies, never published).

About 430 lines, on purpose: the record, the policy and the transitions over them are one
state machine, and its invariants (``validate``) are checked against all of them here.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, Final, Literal

from jwtkit.errors import CorruptStoreError, KeyStateError
from jwtkit.jwa import ASYMMETRIC_ALGORITHMS

__all__ = [
    "ACTIVE",
    "PENDING",
    "RETIRED",
    "REVOKED",
    "SIGNING_ALGS",
    "STATES",
    "KeyRecord",
    "RotationPolicy",
    "add",
    "ensure",
    "maintain",
    "normalize_now",
    "retire_others",
    "revoke",
    "rotate",
    "usable",
    "validate",
]

KeyState = Literal["pending", "active", "retired", "revoked"]
PENDING: Final = "pending"
ACTIVE: Final = "active"
RETIRED: Final = "retired"
REVOKED: Final = "revoked"
STATES: Final[tuple[str, ...]] = (PENDING, ACTIVE, RETIRED, REVOKED)

# Algorithms a rotating signing key may use: asymmetric only, because the public half is
# published in the JWKS (an HMAC secret can never be published).
SIGNING_ALGS: Final = ASYMMETRIC_ALGORITHMS

# Makes a new pending key of the given algorithm (generating key material is not pure).
Fresh = Callable[[datetime, str], "KeyRecord"]


@dataclass(frozen=True)
class RotationPolicy:
    """How keys are generated and rotated.

    ``rotation_period``: how long a key stays active before :meth:`KeyManager.maintain`
    rotates it. ``publication_delay``: how long a pending key must have been published
    (so verifiers caching the JWKS know it) before it may become active by maintenance.
    ``max_token_lifetime``: the longest lifetime of a token signed by the manager's signers;
    a retired key keeps verifying for that long plus ``leeway`` (which must cover clock skew
    and the signer cache refresh of other instances). ``key_size`` applies to RSA only.

    Example::

        RotationPolicy(alg="EdDSA", rotation_period=timedelta(days=7))
    """

    alg: str = "ES256"
    rotation_period: timedelta = field(default_factory=lambda: timedelta(days=30))
    publication_delay: timedelta = field(default_factory=lambda: timedelta(hours=1))
    max_token_lifetime: timedelta = field(default_factory=lambda: timedelta(hours=1))
    leeway: timedelta = field(default_factory=lambda: timedelta(seconds=60))
    key_size: int | None = None

    def __post_init__(self) -> None:
        if self.alg not in SIGNING_ALGS:
            raise ValueError(
                f"RotationPolicy.alg must be an asymmetric signing algorithm, not {self.alg!r}"
            )
        for name in ("rotation_period", "publication_delay", "max_token_lifetime", "leeway"):
            value = getattr(self, name)
            if not isinstance(value, timedelta):
                raise TypeError(f"RotationPolicy.{name} must be a datetime.timedelta")
            if value < timedelta(0):
                raise ValueError(f"RotationPolicy.{name} must not be negative")
        if self.rotation_period <= timedelta(0) or self.max_token_lifetime <= timedelta(0):
            raise ValueError("rotation_period and max_token_lifetime must be positive")

    @property
    def verification_window(self) -> timedelta:
        """Return how long a retired key keeps verifying: max token lifetime plus leeway."""
        return self.max_token_lifetime + self.leeway


@dataclass(frozen=True)
class KeyRecord:
    """One key's public bookkeeping: no key material, safe to print and log.

    Times are timezone-aware UTC datetimes; ``activated_at``, ``retired_at`` and
    ``revoked_at`` are None until the key reaches that state.
    """

    kid: str
    alg: str
    state: KeyState
    created_at: datetime
    activated_at: datetime | None = None
    retired_at: datetime | None = None
    revoked_at: datetime | None = None

    def __post_init__(self) -> None:
        if self.state not in STATES:
            raise CorruptStoreError(f"key {self.kid!r} has an unknown state {self.state!r}")
        for name in ("created_at", "activated_at", "retired_at", "revoked_at"):
            value = getattr(self, name)
            if value is not None and value.utcoffset() is None:
                raise ValueError(f"KeyRecord.{name} must be timezone-aware")

    def to_json(self) -> dict[str, Any]:
        """Return the record as a JSON object (ISO 8601 UTC times): the one JSON codec."""
        out: dict[str, Any] = {"kid": self.kid, "alg": self.alg, "state": self.state}
        for name in _TIMES:
            value = getattr(self, name)
            out[name] = None if value is None else value.astimezone(UTC).isoformat()
        return out

    @classmethod
    def from_json(cls, item: Any) -> KeyRecord:
        """Parse :meth:`to_json`'s form.

        Raises:
            ValueError: a member is missing or malformed.
            CorruptStoreError: an unknown state.
        """
        try:
            times = {
                name: None if item.get(name) is None else _parse_time(item[name]) for name in _TIMES
            }
            created = times.pop("created_at")
            if created is None:
                raise ValueError("created_at missing")
            return cls(
                kid=str(item["kid"]), alg=str(item["alg"]), state=item["state"],
                created_at=created, **times,
            )  # fmt: skip
        except (AttributeError, KeyError, TypeError) as exc:
            raise ValueError("malformed key record") from exc

    def expires_at(self, policy: RotationPolicy) -> datetime | None:
        """Return when a retired key stops verifying under ``policy`` (None unless retired)."""
        if self.state != RETIRED or self.retired_at is None:
            return None
        return self.retired_at + policy.verification_window


_TIMES: Final = ("created_at", "activated_at", "retired_at", "revoked_at")


def _parse_time(value: Any) -> datetime:
    parsed = datetime.fromisoformat(str(value))
    if parsed.utcoffset() is None:
        raise ValueError("naive timestamp")
    return parsed.astimezone(UTC)


def normalize_now(now: datetime | float | None) -> datetime:
    """Return ``now`` as an aware UTC datetime; None means the current time.

    This is the one place in jwtkit.keys that reads the clock.
    """
    if now is None:
        return datetime.now(UTC)
    if isinstance(now, datetime):
        if now.utcoffset() is None:
            raise ValueError("now must be a timezone-aware datetime")
        return now.astimezone(UTC)
    if isinstance(now, bool) or not isinstance(now, int | float):
        raise TypeError("now must be a datetime, a POSIX timestamp or None")
    return datetime.fromtimestamp(now, UTC)


def validate(ring: Iterable[KeyRecord]) -> None:
    """Check the invariants a stored ring must satisfy.

    Raises:
        CorruptStoreError: duplicate kids, or more than one active key for one algorithm.
    """
    kids: set[str] = set()
    active: dict[str, int] = {}
    for rec in ring:
        if rec.kid in kids:
            raise CorruptStoreError(f"duplicate key id {rec.kid!r} in the store")
        kids.add(rec.kid)
        if rec.state == ACTIVE:
            active[rec.alg] = active.get(rec.alg, 0) + 1
    for alg, count in active.items():
        if count > 1:
            raise CorruptStoreError(
                f"the store holds {count} active {alg} keys; exactly one per algorithm may sign"
            )


def _order(rec: KeyRecord) -> tuple[datetime, str]:
    return (rec.created_at, rec.kid)


def usable(ring: Iterable[KeyRecord], policy: RotationPolicy, now: datetime) -> list[KeyRecord]:
    """Return the keys that may verify at ``now``: pending, active, unexpired retired.

    Pending keys verify too: another instance may already have promoted one.
    """
    out = []
    for rec in ring:
        if rec.state in (PENDING, ACTIVE):
            out.append(rec)
        elif rec.state == RETIRED:
            expires = rec.expires_at(policy)
            if expires is None or now < expires:
                out.append(rec)
    return sorted(out, key=_order)


def _replace(ring: list[KeyRecord], old: KeyRecord, new: KeyRecord) -> None:
    ring[ring.index(old)] = new


def _oldest_pending(ring: Sequence[KeyRecord], alg: str) -> KeyRecord | None:
    pending = [r for r in ring if r.state == PENDING and r.alg == alg]
    return min(pending, key=_order) if pending else None


def _active(ring: Sequence[KeyRecord], alg: str) -> KeyRecord | None:
    return next((r for r in ring if r.state == ACTIVE and r.alg == alg), None)


def _algs(policy: RotationPolicy, algs: Sequence[str] | None) -> tuple[str, ...]:
    """Return the signing algorithms: one lineage (active + pending keys) per algorithm."""
    return (policy.alg,) if not algs else tuple(dict.fromkeys(algs))


def _promote(ring: list[KeyRecord], now: datetime, fresh: Fresh, alg: str) -> KeyRecord:
    """Make the oldest pending ``alg`` key active (creating one if none) and return it."""
    nxt = _oldest_pending(ring, alg)
    if nxt is None:
        nxt = fresh(now, alg)
        ring.append(nxt)
    promoted = dataclasses.replace(nxt, state=ACTIVE, activated_at=now)
    _replace(ring, nxt, promoted)
    return promoted


def _ensure_pending(ring: list[KeyRecord], now: datetime, fresh: Fresh, alg: str) -> None:
    if _oldest_pending(ring, alg) is None:
        ring.append(fresh(now, alg))


def add(
    ring: Sequence[KeyRecord], record: KeyRecord, algs: Sequence[str] | None = None
) -> list[KeyRecord]:
    """Return ``ring`` plus ``record`` (a pending key the user brought).

    With ``algs`` (the store's signing algorithms), the key's algorithm must be one of them:
    a pending key of another algorithm would never be promoted.

    Raises:
        KeyStateError: a key with the same kid is already in the ring, or its algorithm is
            not a signing algorithm of the store.
    """
    if any(r.kid == record.kid for r in ring):
        raise KeyStateError(f"a key with kid {record.kid!r} is already in the store")
    if algs and record.alg not in algs:
        raise KeyStateError(
            f"{record.alg} is not a signing algorithm of this store ({', '.join(algs)}); "
            "add it to the signing algorithms first"
        )
    out = list(ring)
    validate(out)
    out.append(record)
    return out


def ensure(
    ring: Sequence[KeyRecord], now: datetime, fresh: Fresh, algs: Sequence[str]
) -> list[KeyRecord]:
    """Return a ring with exactly one active and at least one pending key per algorithm.

    ``algs`` are the signing algorithms. An algorithm without keys gets one active and one
    pending key; one without an active key (all revoked, say) promotes its oldest pending key.
    A ring that already qualifies is returned unchanged (equal, not the same list). Keys of
    other algorithms are left as they are.
    """
    out = list(ring)
    validate(out)
    for alg in dict.fromkeys(algs):
        if _active(out, alg) is None:
            _promote(out, now, fresh, alg)
        _ensure_pending(out, now, fresh, alg)
    return out


def rotate(
    ring: Sequence[KeyRecord],
    policy: RotationPolicy,
    now: datetime,
    fresh: Fresh,
    *,
    publication_delay: timedelta | None = None,
    algs: Sequence[str] | None = None,
    only: str | None = None,
) -> list[KeyRecord]:
    """For each algorithm (or ``only`` one): promote the oldest pending key, retire the
    active key, pre-publish a fresh pending key.

    An algorithm without keys gets its first keys, which are then rotated, so after
    ``rotate`` every rotated algorithm's active key is a different key than before. With
    ``publication_delay``, nothing changes when a pending key to promote was published for
    less than that (an algorithm that had no keys has published nothing, so it is exempt).

    Raises:
        KeyStateError: a pending key is younger than ``publication_delay``.
    """
    chosen = _algs(policy, algs)
    if only is not None:
        chosen = (only,)
    had = {r.alg for r in ring}
    out = ensure(ring, now, fresh, chosen)
    for alg in chosen:
        pending = _oldest_pending(out, alg)
        assert pending is not None  # noqa: S101 - ensure() guarantees a pending key.
        if publication_delay is not None and alg in had:
            ready = pending.created_at + publication_delay
            if now < ready:
                raise KeyStateError(
                    f"the pending key {pending.kid!r} ({alg}) was published "
                    f"{_ago(now - pending.created_at)} ago and may sign from "
                    f"{ready:%Y-%m-%dT%H:%M:%SZ} (publication_delay {_ago(publication_delay)}), "
                    "when verifiers caching the JWKS know it; force the rotation to promote "
                    "it now"
                )
    for alg in chosen:
        old = _active(out, alg)
        assert old is not None  # noqa: S101 - ensure() guarantees an active key.
        _replace(out, old, dataclasses.replace(old, state=RETIRED, retired_at=now))
        _promote(out, now, fresh, alg)
        out.append(fresh(now, alg))
    return out


def _ago(delta: timedelta) -> str:
    seconds = max(0, int(delta.total_seconds()))
    if seconds < 120:
        return f"{seconds}s"
    if seconds < 7200:
        return f"{seconds // 60}min"
    return f"{seconds // 3600}h"


def revoke(
    ring: Sequence[KeyRecord], kid: str, now: datetime, fresh: Fresh, algs: Sequence[str]
) -> list[KeyRecord]:
    """Revoke ``kid``: it never verifies again and leaves the JWKS.

    Revoking the active key of one of the signing algorithms ``algs`` is an emergency
    rotation: the oldest pending key of that algorithm becomes active at once. Revoking an
    already revoked key changes nothing.

    Raises:
        KeyStateError: no key has this kid.
    """
    out = list(ring)
    validate(out)
    target = next((r for r in out if r.kid == kid), None)
    if target is None:
        raise KeyStateError(f"no key with kid {kid!r} in the store")
    if target.state == REVOKED:
        return out
    _replace(out, target, dataclasses.replace(target, state=REVOKED, revoked_at=now))
    if target.alg in algs:
        if target.state == ACTIVE:
            _promote(out, now, fresh, target.alg)
        _ensure_pending(out, now, fresh, target.alg)
    return out


def retire_others(ring: Sequence[KeyRecord], algs: Sequence[str], now: datetime) -> list[KeyRecord]:
    """Retire the active and pending keys of algorithms that are not among ``algs``."""
    return [
        dataclasses.replace(r, state=RETIRED, retired_at=now)
        if r.state in (ACTIVE, PENDING) and r.alg not in algs
        else r
        for r in ring
    ]


def maintain(
    ring: Sequence[KeyRecord],
    policy: RotationPolicy,
    now: datetime,
    fresh: Fresh,
    algs: Sequence[str] | None = None,
) -> list[KeyRecord]:
    """Advance the lifecycle to ``now``.

    For each algorithm: ensures an active and a pending key, and rotates when the active key
    is older than the rotation period and the oldest pending key has been published for at
    least the publication delay. Active and pending keys of an algorithm no longer among
    ``algs`` are retired. Removes retired keys whose verification window has passed.
    """
    chosen = _algs(policy, algs)
    out = ensure(retire_others(ring, chosen, now), now, fresh, chosen)
    for alg in chosen:
        active = _active(out, alg)
        pending = _oldest_pending(out, alg)
        assert active is not None and pending is not None  # noqa: S101 - see ensure().
        since = active.activated_at or active.created_at
        if now >= since + policy.rotation_period and now >= pending.created_at + (
            policy.publication_delay
        ):
            out = rotate(out, policy, now, fresh, algs=chosen, only=alg)
    return [
        r
        for r in out
        if not (r.state == RETIRED and (exp := r.expires_at(policy)) is not None and now >= exp)
    ]
