"""Turn every key form PyJWT accepts into a jwtkit ``Key``, once (private).

PyJWT re-parses its key argument on every call: a PEM string passed to ``decode`` costs an
RSA or EC key load each time. Here each distinct key (by value for text, by identity for key
objects) is converted once and the ``Key`` is kept in a small bounded cache, so the per-call
cost is a dictionary lookup. A secret is read as an HMAC key only for HS* algorithms and as
key text only for the others, so one string can never be both (the algorithm-confusion
attack), and whatever jwtkit refuses (PEM/SSH/JWK text as a secret, RSA under 2048 bits,
curves JOSE does not use) stays refused.
"""

from __future__ import annotations

import json
from collections.abc import Hashable, Mapping
from typing import Any

from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import serialization

from jwtkit import errors as core
from jwtkit._backend import VerifyFn
from jwtkit._pipeline import Resolver
from jwtkit.compat.pyjwt.exceptions import InvalidAlgorithmError, InvalidKeyError
from jwtkit.compat.pyjwt.utils import force_bytes, is_pem_format, is_ssh_key
from jwtkit.compat.pyjwt.warnings import InsecureKeyLengthWarning
from jwtkit.jwa import Algorithm
from jwtkit.jwk import Key, KeySet

__all__ = ["KeyResolver", "check_hmac_secret", "hmac_length_message", "key_for", "load_text_key"]

_MAX_ENTRIES = 256
_by_value: dict[Hashable, Key] = {}
_by_identity: dict[int, tuple[object, Key]] = {}

ASYMMETRIC_MESSAGE = (
    "The specified key is an asymmetric key or x509 certificate and"
    " should not be used as an HMAC secret."
)
JWK_MESSAGE = (
    "The specified key looks like a JWK and should not be used directly as an HMAC "
    "secret. Load it via PyJWK / HMACAlgorithm.from_jwk first."
)


def _remember(cache: dict[Any, Any], name: Any, value: Any) -> None:
    if len(cache) >= _MAX_ENTRIES:
        cache.pop(next(iter(cache)), None)  # the oldest entry; enough for a key cache
    cache[name] = value


def hmac_length_message(secret: bytes, alg: Algorithm) -> str:
    """PyJWT's message for an HMAC secret shorter than the hash output."""
    return (
        f"The HMAC key is {len(secret)} bytes long, which is below the minimum recommended "
        f"length of {alg.min_size} bytes for {(alg.hash or '').upper()}. "
        "See RFC 7518 Section 3.2."
    )


def _is_der_key(raw: bytes) -> bool:
    from cryptography import x509

    loaders: tuple[Any, ...] = (
        serialization.load_der_public_key,
        x509.load_der_x509_certificate,
        lambda data: serialization.load_der_private_key(data, password=None),
    )
    for load in loaders:
        try:
            load(raw)
        except (TypeError, ValueError, UnsupportedAlgorithm):
            continue
        return True
    return False


def _has_kty_member(value: object) -> bool:
    pending = [value]
    while pending:
        item = pending.pop()
        if isinstance(item, dict):
            if "kty" in item:
                return True
            pending.extend(item.values())
        elif isinstance(item, list):
            pending.extend(item)
    return False


def _looks_like_jwk(raw: bytes) -> bool:
    """Whether ``raw`` is JSON (in any UTF encoding) that holds a JWK member ``kty``."""
    try:
        text = raw.decode(json.detect_encoding(raw), errors="surrogatepass")
    except (UnicodeError, LookupError):
        return False
    text = text.lstrip("\ufeff \t\r\n")
    if not text.startswith(("{", "[")):
        return False
    try:
        # parse_int: huge integers would otherwise raise before the walk.
        document = json.loads(text, parse_int=lambda _: 0)
    except RecursionError:
        # Too deep to parse: an object that deep is never a typed secret; an array counts
        # when any member name in it is "kty" (escapes included).
        return text.startswith("{") or _names_kty(text)
    except ValueError:
        return False
    return _has_kty_member(document)


def _names_kty(text: str) -> bool:
    import re

    for match in re.finditer(r'"((?:[^"\\]|\\.)*)"\s*:', text):
        try:
            if json.loads(f'"{match.group(1)}"') == "kty":
                return True
        except ValueError:
            continue
    return False


def check_hmac_secret(key: object) -> bytes:
    """Return ``key`` as secret bytes, refusing what must never be an HMAC secret.

    Raises:
        TypeError: ``key`` is not ``str`` or ``bytes``.
        InvalidKeyError: empty, or PEM, SSH, DER or JWK key material.
    """
    raw = force_bytes(key)  # type: ignore[arg-type]
    if not raw:
        raise InvalidKeyError("HMAC key must not be empty.")
    if is_pem_format(raw) or is_ssh_key(raw) or _is_der_key(raw):
        raise InvalidKeyError(ASYMMETRIC_MESSAGE)
    if _looks_like_jwk(raw):
        raise InvalidKeyError(JWK_MESSAGE)
    return raw


def _hmac_key(material: str | bytes) -> Key:
    name = ("oct", material)
    key = _by_value.get(name)
    if key is None:
        raw = check_hmac_secret(material)
        try:
            key = Key._from_weak_secret(raw, InsecureKeyLengthWarning)
        except core.InvalidKeyError as exc:
            # jwtkit's own rule: text carrying PEM, SSH or JWK markers is never a secret.
            raise InvalidKeyError(ASYMMETRIC_MESSAGE) from exc
        _remember(_by_value, name, key)
    return key


def load_text_key(raw: bytes) -> Any:
    """Load PEM, OpenSSH or DER key bytes into a ``cryptography`` key object.

    Raises:
        InvalidKeyError: the bytes are none of those.
    """
    stripped = raw.strip()
    try:
        if stripped.startswith((b"ssh-", b"ecdsa-sha2-")):
            return serialization.load_ssh_public_key(stripped)
        if b"-----BEGIN" in raw:
            if b"PRIVATE KEY-----" in raw:
                return serialization.load_pem_private_key(raw, password=None)
            if b"-----BEGIN CERTIFICATE-----" in raw:
                from cryptography import x509

                return x509.load_pem_x509_certificate(raw).public_key()
            return serialization.load_pem_public_key(raw)
        try:
            return serialization.load_der_private_key(raw, password=None)
        except (ValueError, TypeError, UnsupportedAlgorithm):
            return serialization.load_der_public_key(raw)
    except (ValueError, TypeError, UnsupportedAlgorithm) as exc:
        raise InvalidKeyError("Could not parse the provided public key.") from exc


def _wrap(obj: Any) -> Key:
    try:
        return Key._from_crypto(obj, alg=None, kid=None)
    except core.InvalidKeyError as exc:
        raise InvalidKeyError(str(exc)) from exc


def _text_key(material: str | bytes) -> Key:
    name = ("asym", material)
    key = _by_value.get(name)
    if key is None:
        key = _wrap(load_text_key(force_bytes(material)))
        _remember(_by_value, name, key)
    return key


def _object_key(material: object) -> Key:
    entry = _by_identity.get(id(material))
    if entry is not None and entry[0] is material:
        return entry[1]
    key = _wrap(material)
    _remember(_by_identity, id(material), (material, key))
    return key


def _jwk_key(material: Mapping[str, Any]) -> Key:
    from jwtkit.compat.pyjwt.api_jwk import PyJWK

    name = ("jwk", json.dumps(material, sort_keys=True, default=str))
    key = _by_value.get(name)
    if key is None:
        key = PyJWK(dict(material))._jwtkit_key()
        if "alg" not in material:
            key = key.with_alg(None)  # a plain dict names no algorithm: fit any of its family
        _remember(_by_value, name, key)
    return key


def key_for(material: object, alg: Algorithm) -> Key:
    """The jwtkit key for ``material`` used with ``alg`` (converted once, then cached).

    ``material`` is what PyJWT takes (a secret, PEM/SSH/DER text, a ``cryptography`` key, a
    ``PyJWK``), a JWK dict, or a jwtkit ``Key``.

    Raises:
        TypeError: an HMAC algorithm with a key that is not text (PyJWT's behaviour).
        InvalidKeyError: the material cannot be a key for ``alg``.
    """
    kind = type(material)
    if kind is str or kind is bytes:  # the common case first
        return _hmac_key(material) if alg.family == "HMAC" else _text_key(material)  # type: ignore[arg-type]
    if isinstance(material, Key):
        return material
    to_key = getattr(material, "_jwtkit_key", None)  # a PyJWK
    if to_key is not None:
        return to_key()  # type: ignore[no-any-return]
    if isinstance(material, Mapping):
        return _jwk_key(material)
    if isinstance(material, str | bytes):
        return _hmac_key(material) if alg.family == "HMAC" else _text_key(material)
    if alg.family == "HMAC":
        raise TypeError("Expected a string or bytes value")
    return _object_key(material)


class KeyResolver(Resolver):
    """The key source the verify pipeline asks, once it knows the token's algorithm.

    The key argument is interpreted for that algorithm's family only (a secret for HS*, key
    text for the rest), and PyJWT's errors are raised for keys that do not fit.
    """

    __slots__ = ("_enforce", "_material")

    def __init__(self, material: object, *, enforce_minimum_key_length: bool) -> None:
        self._material = material
        self._enforce = enforce_minimum_key_length

    def keyset(self, kid: str | None) -> KeySet:
        """Not used: the façade keeps no verified-token cache."""
        raise NotImplementedError

    def resolve(self, kid: str | None, alg: Algorithm) -> tuple[KeySet, tuple[VerifyFn, ...]]:
        """The key for ``alg`` and its prepared verify function."""
        material = self._material
        key = key_for(material, alg)
        fn = key._verifiers.get(alg.name)
        if fn is None or self._enforce:
            pyjwk = hasattr(material, "_jwtkit_key")
            fn = verifier_for(key, alg, enforce=self._enforce, pyjwk=pyjwk)
        return key._as_keyset(), (fn,)


def verifier_for(key: Key, alg: Algorithm, *, enforce: bool, pyjwk: bool = False) -> VerifyFn:
    """``key``'s verify function for ``alg``, with PyJWT's errors for a key that does not fit.

    Raises:
        InvalidAlgorithmError: the key is bound to another algorithm (a ``PyJWK``).
        InvalidKeyError: wrong key type or curve, too short, or weak under ``enforce``.
    """
    check_fit(key, alg, enforce=enforce, pyjwk=pyjwk)
    try:
        return key._verifier(alg)
    except core.InvalidKeyError as exc:
        raise InvalidKeyError(str(exc)) from exc


_OPENSSL_CURVES = {"P-256": "secp256r1", "P-384": "secp384r1", "P-521": "secp521r1"}


def check_fit(key: Key, alg: Algorithm, *, enforce: bool, pyjwk: bool = False) -> None:
    """Raise PyJWT's error when ``key`` (from a ``PyJWK`` if ``pyjwk``) cannot be used with
    ``alg``."""
    if pyjwk and key.alg is not None and key.alg != alg.name:
        raise InvalidAlgorithmError(
            f"Token algorithm {alg.name!r} does not match the key's algorithm {key.alg!r}"
        )
    if key.kty == "EC" and alg.family == "EC" and key.crv != alg.crv:
        have = _OPENSSL_CURVES.get(key.crv or "", key.crv)
        want = _OPENSSL_CURVES.get(alg.crv or "", alg.crv)
        raise InvalidKeyError(
            f"The key's curve '{have}' does not match the expected curve '{want}' for this "
            "algorithm"
        )
    if enforce and alg.family == "HMAC":
        secret = key._secret or b""
        if len(secret) < alg.min_size:
            raise InvalidKeyError(hmac_length_message(secret, alg))
    reason = key._unfit(alg)
    if reason is not None:
        raise InvalidKeyError(reason)
