"""The JWKS client core, without I/O: reading a JWKS, the cache policy, the unknown-kid cooldown.

Every JWKS consumer shares this module, in the manner of h11 and httpx's sans-I/O parts: a
transport (``jwtkit.client``'s httpx clients, sync and async; the PyJWT drop-in's urllib
``PyJWKClient``) does the network, the locking and the total deadline, and asks
:class:`JWKSCache` what to send, whether to fetch, and what an answer means. The cache state is
one immutable snapshot replaced whole, so a reader without the lock never sees new keys with an
old expiry or the reverse. Time is a parameter (``now``, monotonic seconds), so tests drive the
policy with a fake clock.

A JWKS comes from the network, so the document goes through the core's strict JSON parser
(duplicate member names, ``NaN`` and invalid UTF-8 are refused, RFC 8725 §3.13) and then each
member is judged on its own: a malformed or unusable member is skipped and logged while the good
ones are kept (one broken key must not take every token down), but a body that is not a JWKS at
all is a fetch failure.

The "refetch on an unknown ``kid`` only after a cooldown" rule (jose ``src/jwks/remote.ts``) is
:class:`Cooldown`; ``jwtkit.keys``' in-process key cache uses it too.

The module runs past the usual 300-400 lines on purpose: it is the whole JWKS client core, read
top to bottom (the document, its members, the cooldown, the cache policy, the cache), and
splitting it would put one decision in two files again.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Mapping
from dataclasses import dataclass, replace
from functools import cached_property
from typing import Any, Final

from jwtkit._json import JSONError, loads_object
from jwtkit._text import quoted as _short
from jwtkit.errors import JWKSFetchError, JWTError
from jwtkit.jwk import Key, KeySet

__all__ = [
    "ACCEPT",
    "MAX_KEYS",
    "CachePolicy",
    "CacheState",
    "Cooldown",
    "FetchResult",
    "JWKSCache",
    "Response",
    "keyset_from_document",
    "load_jwks",
    "parse_cache_control",
    "parse_jwks",
]

logger = logging.getLogger("jwtkit.client")

#: Members beyond this count are ignored: no issuer publishes that many, and each costs a parse.
MAX_KEYS: Final = 100
#: The Accept header of a JWKS request (RFC 7517 §8.5.1, then plain JSON).
ACCEPT: Final = "application/jwk-set+json, application/json;q=0.9"

# JWK members that carry private key material (RFC 7518 §6.2.2, §6.3.2, §6.4; RFC 8037 §2;
# the AKP draft's "priv"/"seed"). A JWKS served to verifiers must never contain them.
_PRIVATE_MEMBERS = frozenset({"d", "p", "q", "dp", "dq", "qi", "oth", "k", "priv", "seed"})
_NO_KEYS_ARRAY: Final = 'the JWKS response is not a JSON object with a "keys" array'
_NOT_AN_OBJECT: Final = "not a JSON object"  # jwtkit._json's reason for a top-level non-object


def parse_cache_control(value: str | None) -> float | None:
    """Return the lifetime a Cache-Control header grants, in seconds, or None if it sets none.

    ``no-store`` and ``no-cache`` give 0 (the caller then applies its lower bound); an
    unparsable ``max-age`` is ignored rather than trusted.
    """
    if not value:
        return None
    max_age: float | None = None
    for directive in value.split(","):
        name, _, argument = directive.strip().partition("=")
        name = name.strip().lower()
        if name in ("no-store", "no-cache"):
            return 0.0
        if name == "max-age":
            argument = argument.strip().strip('"')
            if argument.isascii() and argument.isdigit() and len(argument) <= 12:
                max_age = float(int(argument))
    return max_age


def _parse_member(index: int, member: object) -> Key | None:
    """Parse one JWKS member into a public verification key, or return None to skip it."""
    if not isinstance(member, Mapping):
        logger.warning("JWKS member %d skipped: not a JSON object", index)
        return None
    kid = member.get("kid")
    kty = member.get("kty")
    if kty == "oct":
        # A symmetric key in a public JWKS is a leaked secret, and accepting it would let anyone
        # who read the JWKS forge HMAC tokens (the HS/RS confusion family of attacks).
        logger.warning(
            "JWKS member %d (kid %s) skipped: symmetric keys are refused", index, _short(kid)
        )
        return None
    use = member.get("use")
    if use is not None and use != "sig":
        logger.info("JWKS member %d (kid %s) skipped: use is not 'sig'", index, _short(kid))
        return None
    key_ops = member.get("key_ops")
    if key_ops is not None and (not isinstance(key_ops, list) or "verify" not in key_ops):
        logger.info("JWKS member %d (kid %s) skipped: key_ops lacks 'verify'", index, _short(kid))
        return None
    public: dict[str, Any] = {
        name: value for name, value in member.items() if name not in _PRIVATE_MEMBERS
    }
    if len(public) != len(member):
        logger.warning(
            "JWKS member %d (kid %s) contains private key material; only its public part is used",
            index,
            _short(kid),
        )
    if key_ops is not None:
        public["key_ops"] = ["verify"]
    try:
        key = Key.from_jwk(public)
        if key.has_private:  # pragma: no cover - defence in depth if jwtkit adds a key type
            key = key.public()
    except (JWTError, ValueError, TypeError, KeyError) as exc:
        logger.warning(
            "JWKS member %d (kid %s) skipped: %s",
            index,
            _short(kid),
            getattr(exc, "code", type(exc).__name__),
        )
        return None
    return key


def load_jwks(body: bytes | str) -> dict[str, Any]:
    """Decode a JWKS response body with the core's strict JSON parser.

    Raises:
        JWKSFetchError: not strict JSON (duplicate member names included) or not an object.
    """
    data = body.encode("utf-8", "surrogatepass") if isinstance(body, str) else body
    try:
        return loads_object(data)
    except JSONError as exc:
        if str(exc) == _NOT_AN_OBJECT:
            raise JWKSFetchError(_NO_KEYS_ARRAY) from exc
        raise JWKSFetchError(f"the JWKS response is not valid JSON ({exc})") from exc


def parse_jwks(body: bytes | str) -> KeySet:
    """Parse a JWKS document (RFC 7517 §5) into a KeySet of public verification keys.

    Members that are not objects, symmetric (``kty`` oct), meant for encryption, lacking the
    ``verify`` operation, or that fail to parse are skipped and logged; private members are
    stripped so only public keys remain.

    Raises:
        JWKSFetchError: the body is not strict JSON (a duplicate member name anywhere refuses
            the whole document), has no ``keys`` array, or has no usable key.
    """
    return keyset_from_document(load_jwks(body))


def keyset_from_document(document: object) -> KeySet:
    """Apply ``parse_jwks``'s rules to an already decoded JWKS document.

    Raises:
        JWKSFetchError: no ``keys`` array, or no usable key.
    """
    if not isinstance(document, dict) or not isinstance(document.get("keys"), list):
        raise JWKSFetchError(_NO_KEYS_ARRAY)
    members: list[object] = document["keys"]
    if len(members) > MAX_KEYS:
        logger.warning(
            "the JWKS has %d members; only the first %d are used", len(members), MAX_KEYS
        )
    keys: list[Key] = []
    seen: set[str] = set()
    for index, member in enumerate(members[:MAX_KEYS]):
        key = _parse_member(index, member)
        if key is None:
            continue
        if key.kid is not None:
            if key.kid in seen:
                # A kid names one key (RFC 7517 §4.5). Keep the first rather than refuse the
                # whole set, which would refuse every token over one publishing mistake.
                logger.warning("JWKS member %d skipped: duplicate kid %s", index, _short(key.kid))
                continue
            seen.add(key.kid)
        keys.append(key)
    if not keys:
        raise JWKSFetchError("the JWKS has no usable verification key")
    # KeySet refuses duplicate kids and HMAC secrets; both were filtered out above.
    return KeySet(keys)


@dataclass(frozen=True)
class Cooldown:
    """Refetch keys for an unknown ``kid`` at most once per ``seconds``.

    A ``kid`` comes from an unverified token header, so anyone can send random ones; without
    a cooldown every such token would cost the issuer a fetch (or the store a query).
    """

    seconds: float

    def ready(self, last: float, now: float) -> bool:
        """Whether ``seconds`` have passed since ``last``, the previous (re)fetch (monotonic)."""
        return now - last >= self.seconds


@dataclass(frozen=True)
class FetchResult:
    """What one successful round trip produced (after 304 Not Modified: the cached keys)."""

    keyset: KeySet
    max_age: float | None
    etag: str | None


@dataclass(frozen=True)
class CacheState:
    """A snapshot of the cache: the keys, until when they are fresh and usable, last attempt."""

    keyset: KeySet | None = None
    fresh_until: float = -math.inf
    stale_until: float = -math.inf
    last_attempt: float = -math.inf
    last_error: JWKSFetchError | None = None
    etag: str | None = None


@dataclass(frozen=True)
class Response:
    """The parts of an HTTP answer the core reads; the transport fills it in.

    ``body`` is the decoded body (read only for 200; empty otherwise).
    """

    status: int
    body: bytes | str = b""
    cache_control: str | None = None
    etag: str | None = None


@dataclass(frozen=True)
class CachePolicy:
    """The time bounds of the cache, in seconds, validated once at construction."""

    cache_ttl: float
    min_refetch_interval: float
    stale_ttl: float
    max_cache_ttl: float

    def __post_init__(self) -> None:
        for name in ("cache_ttl", "min_refetch_interval", "stale_ttl", "max_cache_ttl"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int | float):
                raise TypeError(f"{name} must be a number of seconds")
            if not math.isfinite(value) or value < 0:
                raise ValueError(f"{name} must be a finite number of seconds >= 0")

    @cached_property
    def cooldown(self) -> Cooldown:
        """The unknown-``kid`` (and failed-fetch) cooldown: ``min_refetch_interval``."""
        return Cooldown(self.min_refetch_interval)

    def lifetime(self, max_age: float | None) -> float:
        """Return how long fetched keys stay fresh: max-age if given, bounded to sane limits.

        The lower bound is the refetch cooldown, so an issuer sending ``max-age=0`` cannot turn
        every verification into a fetch; the upper bound keeps a huge max-age from pinning keys.
        """
        ttl = self.cache_ttl if max_age is None else min(max_age, self.max_cache_ttl)
        return max(ttl, self.min_refetch_interval)

    def lookup(self, state: CacheState, kid: str | None, now: float) -> KeySet | None:
        """Return the keys to use now, or None when the caller should fetch.

        Fresh keys that know ``kid`` (or any fresh keys when ``kid`` is None) are served. An
        unknown ``kid`` triggers a fetch only once the cooldown since the last attempt has
        passed, so random kids cannot flood the issuer; meanwhile the fresh keys are served and
        the verifier reports the missing key.

        Raises:
            JWKSFetchError: no usable keys and the cooldown after a failed fetch is running.
        """
        keyset = state.keyset
        if keyset is not None and now < state.fresh_until:
            # Checked first: a known kid (nearly every token) is served without more work.
            if kid is None or kid in keyset or not self.cooldown.ready(state.last_attempt, now):
                return keyset
            return None
        if self.cooldown.ready(state.last_attempt, now):
            return None
        return self._stale_or_raise(state, now, just_failed=False)

    def succeeded(
        self, state: CacheState, result: FetchResult, now: float
    ) -> tuple[CacheState, KeySet]:
        """Record a successful fetch; return the new state and the keys to use.

        The KeySet object stays the same when the fetched keys equal the cached ones.
        """
        keyset = result.keyset
        if (
            state.keyset is not None
            and keyset is not state.keyset
            and keyset.to_jwks() == state.keyset.to_jwks()
        ):
            # The Verifier caches prepared keys by KeySet identity; keep the identity stable.
            keyset = state.keyset
        fresh_until = now + self.lifetime(result.max_age)
        new_state = CacheState(
            keyset=keyset,
            fresh_until=fresh_until,
            stale_until=fresh_until + self.stale_ttl,
            last_attempt=now,
            last_error=None,
            etag=result.etag,
        )
        return new_state, keyset

    def failed(self, state: CacheState, error: JWKSFetchError, now: float) -> CacheState:
        """Return the state after a failed fetch: same keys, attempt time and error recorded."""
        return replace(state, last_attempt=now, last_error=error)

    def after_failure(self, state: CacheState, now: float) -> KeySet:
        """Return the keys to use right after a failed fetch, or raise the fetch error."""
        if state.keyset is not None and now < state.fresh_until:
            # An unknown-kid refetch failed while the cached keys are still fresh.
            logger.warning("JWKS refresh failed (%s); keeping the current keys", state.last_error)
            return state.keyset
        return self._stale_or_raise(state, now, just_failed=True)

    @staticmethod
    def _stale_or_raise(state: CacheState, now: float, *, just_failed: bool) -> KeySet:
        """Serve expired keys within stale_ttl, or raise; the cache is not fresh here."""
        keyset, error = state.keyset, state.last_error
        if keyset is not None and now < state.stale_until:
            if just_failed:
                # Logged once per failed attempt (at most once per cooldown), not per token.
                logger.warning(
                    "JWKS refresh failed (%s); serving the last good keys for up to %.0f s more",
                    error,
                    state.stale_until - now,
                )
            return keyset
        if keyset is not None:
            raise JWKSFetchError(
                "the JWKS could not be refreshed and the last good keys are past stale_ttl"
            ) from error
        if error is not None and just_failed:
            raise error
        raise JWKSFetchError(
            "the JWKS is unavailable; the next fetch waits for min_refetch_interval"
        ) from error


class JWKSCache:
    """The cached keys of one JWKS URL and every decision about them (no I/O, no lock).

    A transport calls :meth:`lookup`; on None it takes its lock, looks up again, sends a GET
    with :meth:`request_headers` and hands the answer to :meth:`received` (or a network
    failure to :meth:`failed`), which return the keys to use or raise ``JWKSFetchError``.
    ``where`` names the endpoint in messages (without a query string, which may hold a secret).
    """

    def __init__(self, policy: CachePolicy, *, where: str = "") -> None:
        self.policy = policy
        self.where = where
        #: The current snapshot; replaced whole, never mutated.
        self.state = CacheState()

    def lookup(self, kid: str | None, now: float) -> KeySet | None:
        """Return the keys to use now, or None when the caller should fetch (see
        :meth:`CachePolicy.lookup`).

        Raises:
            JWKSFetchError: no usable keys and the cooldown after a failed fetch is running.
        """
        return self.policy.lookup(self.state, kid, now)

    def request_headers(self) -> dict[str, str]:
        """The headers of a JWKS GET: what is accepted, and the ETag to revalidate."""
        headers = {"Accept": ACCEPT, "Accept-Encoding": "identity"}
        if self.state.keyset is not None and self.state.etag is not None:
            headers["If-None-Match"] = self.state.etag
        return headers

    def received(self, response: Response, now: float) -> KeySet:
        """Take the endpoint's answer to a GET sent at ``now``; return the keys to use.

        200 is parsed; 304 (after an ``If-None-Match``) keeps the cached keys; anything else,
        or a body that is not a JWKS, is a failed fetch.

        Raises:
            JWKSFetchError: the fetch failed and no fresh or stale keys are cached.
        """
        state = self.state
        max_age = parse_cache_control(response.cache_control)
        etag: str | None
        try:
            if response.status == 304 and state.keyset is not None and state.etag is not None:
                keyset = state.keyset
                etag = response.etag or state.etag
            elif response.status == 200:
                keyset, etag = parse_jwks(response.body), response.etag
            else:
                raise JWKSFetchError(
                    f"the JWKS endpoint {self.where} answered HTTP {response.status}"
                )
        except JWKSFetchError as error:
            return self.failed(error, now)
        return self.store(keyset, now, max_age=max_age, etag=etag)

    def store(
        self, keyset: KeySet, now: float, *, max_age: float | None = None, etag: str | None = None
    ) -> KeySet:
        """Record fetched keys; return the keys to use (the cached object when they are equal)."""
        result = FetchResult(keyset=keyset, max_age=max_age, etag=etag)
        self.state, keyset = self.policy.succeeded(self.state, result, now)
        return keyset

    def failed(self, error: JWKSFetchError, now: float) -> KeySet:
        """Record a fetch that failed at ``now``; return the fresh or stale keys to use.

        Raises:
            JWKSFetchError: no fresh or stale keys are cached (``error`` or a successor).
        """
        self.record_failure(error, now)
        return self.policy.after_failure(self.state, now)

    def record_failure(self, error: JWKSFetchError, now: float) -> None:
        """Record a failed fetch: the cached keys stay and the cooldown starts again."""
        self.state = self.policy.failed(self.state, error, now)
