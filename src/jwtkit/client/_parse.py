"""Turn a JWKS HTTP response into a KeySet (private).

A JWKS is fetched from the network, so each member is judged on its own: a malformed or
unusable member is skipped and logged while the good ones are kept (one broken key must not
take every token down), but a body that is not a JWKS at all is a fetch failure.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from typing import Any

from jwtkit import Key, KeySet
from jwtkit.errors import JWKSFetchError, JWTError

__all__ = ["MAX_KEYS", "keyset_from_document", "parse_cache_control", "parse_jwks"]

logger = logging.getLogger("jwtkit.client")

#: Members beyond this count are ignored: no issuer publishes that many, and each costs a parse.
MAX_KEYS = 100

# JWK members that carry private key material (RFC 7518 §6.2.2, §6.3.2, §6.4; RFC 8037 §2;
# the AKP draft's "priv"/"seed"). A JWKS served to verifiers must never contain them.
_PRIVATE_MEMBERS = frozenset({"d", "p", "q", "dp", "dq", "qi", "oth", "k", "priv", "seed"})


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


def _short(value: object) -> str:
    """Render an issuer-controlled value for a log line, bounded in length."""
    text = repr(value)
    return text if len(text) <= 64 else text[:61] + "..."


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


def parse_jwks(body: bytes) -> KeySet:
    """Parse a JWKS document (RFC 7517 §5) into a KeySet of public verification keys.

    Members that are not objects, symmetric (``kty`` oct), meant for encryption, lacking the
    ``verify`` operation, or that fail to parse are skipped and logged; private members are
    stripped so only public keys remain.

    Raises:
        JWKSFetchError: the body is not JSON, has no ``keys`` array, or has no usable key.
    """
    try:
        document = json.loads(body)
    except (ValueError, RecursionError) as exc:
        raise JWKSFetchError("the JWKS response is not valid JSON") from exc
    return keyset_from_document(document)


def keyset_from_document(document: object) -> KeySet:
    """Apply ``parse_jwks``'s rules to an already decoded JWKS document.

    Raises:
        JWKSFetchError: no ``keys`` array, or no usable key.
    """
    if not isinstance(document, dict) or not isinstance(document.get("keys"), list):
        raise JWKSFetchError('the JWKS response is not a JSON object with a "keys" array')
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
