"""Limits on failed authentication, for password logins and client secrets alike (issue 10).

The policy is here, in one place; the counters live in the shared store
(:mod:`jwtkit._storage.limits`: the store's ``jwtkit_limits`` table, or Redis), so N instances
give an attacker the budget of one, and a restart gives nothing. For each attempt, keyed by
the presented name (username or client id, whether it exists or not) and the client address
(an IPv6 address counts by its /64, the block one host usually gets):

- **per (name, address): backoff.** ``free`` failures are answered normally; after that each
  failure doubles the wait before the next attempt is allowed (1 s, 2 s, 4 s, ... up to
  ``backoff_max``). A success resets it; it is forgotten a day after the last failure.
- **per address: a bucket** of ``address_burst`` failures refilled over ``address_period``
  (one address spraying many names).
- **per name, logins only: a slowly refilled ceiling** of ``account_burst`` failures per
  ``account_period`` from addresses the user has never logged in from (a distributed guess at
  one account). Addresses where the user logged in within the last 30 days are exempt from
  it, so an attacker elsewhere can slow the owner down at most through the (name, address)
  pairs they share, never lock the owner out.

An attempt is counted as a failure when it is allowed, in the same atomic update as the check,
so parallel guesses cannot all pass before any is counted; a success takes it back. A refused
attempt is answered 429 with ``Retry-After`` without checking the secret, so it costs no
Argon2 work. Keys are salted SHA-256 digests (64 characters whatever the input), so memory and
rows stay bounded however long the names are.
"""

from __future__ import annotations

import hashlib
import ipaddress
import math
import threading
from collections import OrderedDict
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Final

from jwtkit._storage import Counter, LimitStore
from jwtkit.server._settings import Settings

__all__ = ["Attempt", "Limiter", "Policy", "TooManyAttemptsError", "address_key", "policies"]

KNOWN_ADDRESS_LIFETIME: Final = 30 * 86400.0
FORGET_AFTER: Final = 86400.0
_REFUSALS_KEPT: Final = 10_000


@dataclass(frozen=True)
class Policy:
    """The limits of one kind of authentication (see the module docstring)."""

    free: int
    backoff_max: float
    address_burst: int
    address_period: float
    account_burst: int = 0  # 0: no per-name ceiling
    account_period: float = 0.0
    remember_addresses: bool = False


def policies(settings: Settings) -> dict[str, Policy]:
    """Return the login (``"user"``) and client-secret (``"client"``) policies of ``settings``.

    Client ids get no per-name ceiling: client secrets are random (a ceiling would only let an
    attacker lock a machine client out of an instance that has not remembered its secret yet).
    """
    window = float(settings.login_failure_window)
    ceiling = settings.login_account_ceiling
    return {
        "user": Policy(
            free=settings.login_max_failures_per_user,
            backoff_max=float(settings.login_backoff_max),
            address_burst=settings.login_max_failures_per_address,
            address_period=window,
            account_burst=ceiling,
            account_period=float(settings.login_account_period),
            remember_addresses=ceiling > 0,
        ),
        "client": Policy(
            free=settings.client_max_failures,
            backoff_max=float(settings.login_backoff_max),
            address_burst=settings.client_max_failures_per_address,
            address_period=window,
        ),
    }


class TooManyAttemptsError(Exception):
    """The attempt is refused for now; ``retry_after`` is in whole seconds (at least 1)."""

    def __init__(self, retry_after: int) -> None:
        super().__init__(f"retry after {retry_after} s")
        self.retry_after = retry_after


@dataclass(frozen=True)
class Attempt:
    """An allowed attempt: the counters it charged, for :meth:`Limiter.succeeded`."""

    kind: str
    pair: str
    address: str
    account: str
    known: str
    charged_account: bool


class Limiter:
    """Apply the :class:`Policy` of each kind (``"user"``, ``"client"``) over one store."""

    def __init__(self, store: LimitStore, *, salt: bytes, policies: Mapping[str, Policy]):
        self.store = store
        self._salt = salt
        self._policies = dict(policies)
        # Refusals the store gave, per pair or address key, until they end: checked on the
        # event loop before a request is queued for hashing (see :meth:`refused`).
        self._refusals: OrderedDict[str, float] = OrderedDict()
        self._lock = threading.Lock()

    def acquire(self, kind: str, name: str, address: str | None, *, now: float) -> Attempt:
        """Allow and count an attempt, or refuse it.

        Raises:
            TooManyAttemptsError: the attempt must wait; nothing was counted.
            StoreUnavailableError: the counters could not be reached in time.
        """
        policy = self._policies[kind]
        keys = self._keys(kind, name, address)

        def decide(
            cur: Mapping[str, Counter | None],
        ) -> tuple[dict[str, Counter | None], tuple[dict[str, float], bool]]:
            use_account = bool(keys.account) and not (keys.known and cur[keys.known])
            waits = {
                keys.pair: _pair_wait(cur[keys.pair], now),
                keys.address: _bucket_wait(
                    cur[keys.address], now, policy.address_burst, policy.address_period
                ),
            }
            if use_account:
                waits[keys.account] = _bucket_wait(
                    cur[keys.account], now, policy.account_burst, policy.account_period
                )
            if max(waits.values()) > 0:
                return {}, (waits, False)
            changes: dict[str, Counter | None] = {
                keys.pair: _pair_charge(cur[keys.pair], now, policy),
                keys.address: _bucket_charge(
                    cur[keys.address], now, policy.address_burst, policy.address_period
                ),
            }
            if use_account:
                changes[keys.account] = _bucket_charge(
                    cur[keys.account], now, policy.account_burst, policy.account_period
                )
            return changes, ({}, use_account)

        reads = [keys.known] if keys.known else []
        writes = [k for k in (keys.pair, keys.address, keys.account) if k]
        waits, charged = self.store.update(writes, decide, now=now, reads=reads)
        if waits:
            # The (name, address) pair and the address are refused for everyone who asks
            # from there: remember that locally. The per-name ceiling is not remembered, as
            # the owner's known addresses are exempt from it.
            for key in (keys.pair, keys.address):
                if waits[key] > 0:
                    self._remember(key, now + waits[key])
            raise TooManyAttemptsError(max(1, math.ceil(max(waits.values()))))
        return Attempt(kind, keys.pair, keys.address, keys.account, keys.known, charged)

    def refused(self, kind: str, name: str, address: str | None, *, now: float) -> int:
        """Return the Retry-After of a refusal the store gave this pair or address and that
        still holds, else 0; no store access (the event loop asks before queueing).

        It only repeats the store's answer until the wait it gave ends, so it never refuses
        what the store would allow (but for a refund another instance made meanwhile).
        """
        keys = self._keys(kind, name, address)
        with self._lock:
            wait = 0.0
            for key in (keys.pair, keys.address):
                until = self._refusals.get(key)
                if until is None:
                    continue
                if until <= now:
                    del self._refusals[key]
                else:
                    wait = max(wait, until - now)
        return max(1, math.ceil(wait)) if wait > 0 else 0

    def _remember(self, key: str, until: float) -> None:
        with self._lock:
            if until <= self._refusals.get(key, 0.0):
                return
            self._refusals[key] = until
            self._refusals.move_to_end(key)
            while len(self._refusals) > _REFUSALS_KEPT:
                self._refusals.popitem(last=False)

    def _keys(self, kind: str, name: str, address: str | None) -> Attempt:
        policy = self._policies[kind]
        addr = address_key(address)
        return Attempt(
            kind=kind,
            pair=self._key(kind, "pair", name, addr),
            address=self._key(kind, "addr", addr),
            account=self._key(kind, "account", name) if policy.account_burst else "",
            known=self._key(kind, "known", name, addr) if policy.remember_addresses else "",
            charged_account=False,
        )

    def succeeded(self, attempt: Attempt, *, now: float) -> None:
        """Take back an attempt that succeeded: reset its backoff, refund the buckets, and
        remember the address for the name (when the policy does)."""
        policy = self._policies[attempt.kind]

        def undo(cur: Mapping[str, Counter | None]) -> tuple[dict[str, Counter | None], None]:
            changes: dict[str, Counter | None] = {
                attempt.pair: None,
                attempt.address: _bucket_refund(
                    cur[attempt.address], now, policy.address_burst, policy.address_period
                ),
            }
            if attempt.charged_account:
                changes[attempt.account] = _bucket_refund(
                    cur[attempt.account], now, policy.account_burst, policy.account_period
                )
            if attempt.known:
                until = now + KNOWN_ADDRESS_LIFETIME
                changes[attempt.known] = Counter(1, until, until)
            return changes, None

        self.store.update(
            [k for k in (attempt.pair, attempt.address, attempt.account, attempt.known) if k],
            undo,
            now=now,
        )

    def _key(self, kind: str, part: str, *values: str) -> str:
        digest = hashlib.sha256(self._salt)
        for value in (kind, part, *values):
            digest.update(b"\0" + value.encode("utf-8", "surrogatepass"))
        return digest.hexdigest()


def address_key(address: str | None) -> str:
    """Return the address as counted: IPv4 as is, IPv6 by its /64, "-" when unknown."""
    if not address:
        return "-"
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return address[:64]
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped is not None:
            return str(ip.ipv4_mapped)
        return str(ipaddress.IPv6Network((int(ip) >> 64 << 64, 64)))
    return str(ip)


# Backoff per (name, address): ``hits`` failures so far, ``until`` the next allowed attempt.


def _pair_wait(counter: Counter | None, now: float) -> float:
    return 0.0 if counter is None else max(0.0, counter.until - now)


def _pair_charge(counter: Counter | None, now: float, policy: Policy) -> Counter:
    hits = (counter.hits if counter is not None else 0) + 1
    delay = 0.0
    if hits >= policy.free:
        delay = min(policy.backoff_max, 2.0 ** min(hits - policy.free, 64))
    return Counter(hits, now + delay, now + delay + FORGET_AFTER)


# Buckets (GCRA): ``until`` is the theoretical arrival time; ``burst`` failures at once, then
# one per ``period / burst`` seconds.


def _bucket_wait(counter: Counter | None, now: float, burst: int, period: float) -> float:
    interval = period / burst
    tat = max(counter.until, now) if counter is not None else now
    return max(0.0, tat + interval - now - burst * interval)


def _bucket_charge(counter: Counter | None, now: float, burst: int, period: float) -> Counter:
    tat = (max(counter.until, now) if counter is not None else now) + period / burst
    return Counter(0, tat, tat)


def _bucket_refund(
    counter: Counter | None, now: float, burst: int, period: float
) -> Counter | None:
    if counter is None:
        return None
    tat = counter.until - period / burst
    return Counter(0, tat, tat) if tat > now else None
