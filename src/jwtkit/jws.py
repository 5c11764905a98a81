"""Compact JWS: signing, and the one verification pipeline every verify path uses (RFC 7515).

Verification runs in a fixed order, and nothing later runs if something earlier fails: size
limit, split into three segments, strict header decoding, header checks (``crit``, ``b64``,
``kid`` type, ``typ``), ``alg`` present and not ``none``, ``alg`` in the caller's allow-list,
key resolved by ``kid`` (never from ``jwk``, ``jku``, ``x5u`` or ``x5c``), key fits ``alg``,
signature checked. Only then is the payload decoded. Only the compact serialization is
accepted.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from typing import Any, Protocol

from jwtkit._b64 import b64decode, b64encode
from jwtkit._backend import VerifyFn
from jwtkit._compact import DEFAULT_MAX_TOKEN_SIZE, _decode_json, _decode_signature, _split
from jwtkit._json import DEFAULT_MAX_DEPTH, dumps
from jwtkit.errors import (
    AlgorithmNotAllowedError,
    InvalidClaimError,
    InvalidSignatureError,
    MalformedTokenError,
    UnsupportedAlgorithmError,
)
from jwtkit.jwa import Algorithm, get_algorithm
from jwtkit.jwk import Key, KeySet, _short

__all__ = [
    "DEFAULT_MAX_TOKEN_SIZE",
    "KeySource",
    "sign_bytes",
    "sign_compact",
    "verify_bytes",
    "verify_compact",
]


class KeySource(Protocol):
    """Anything that can hand a ``Verifier`` the keys to verify with now.

    ``get_keyset`` is called once per token, so it must be cheap (cache inside the source),
    and should return the same ``KeySet`` object until the keys change, because verifiers
    cache prepared keys by the set's identity. It may refresh, rate-limited, when ``kid`` is
    not in its current set.
    """

    def get_keyset(self, kid: str | None) -> KeySet:
        """Return the keys to verify a token with this ``kid`` (``None``: no ``kid``)."""
        ...


def sign_bytes(alg: str, key: Key, data: bytes) -> bytes:
    """Sign ``data`` with ``key`` under ``alg`` and return the raw JWS signature.

    Raises:
        UnsupportedAlgorithmError: unknown ``alg``.
        InvalidKeyError: the key cannot sign with ``alg`` (type, curve, size, public key).
    """
    return key._signer(get_algorithm(alg))(data)


def verify_bytes(alg: str, key: Key, data: bytes, signature: bytes) -> None:
    """Check a raw JWS signature over ``data``.

    Raises:
        UnsupportedAlgorithmError: unknown ``alg``.
        InvalidKeyError: the key cannot verify ``alg`` signatures.
        InvalidSignatureError: the signature does not verify.
    """
    if not key._verifier(get_algorithm(alg))(data, signature):
        raise InvalidSignatureError("signature verification failed")


def _header_segment(key: Key, alg: Algorithm, headers: Mapping[str, Any] | None) -> bytes:
    """Serialize the protected header: ``alg``, ``kid`` when the key has one, ``typ`` JWT."""
    header: dict[str, Any] = {"alg": alg.name}
    if key.kid is not None:
        header["kid"] = key.kid
    header["typ"] = "JWT"
    if headers:
        if "alg" in headers and headers["alg"] != alg.name:
            raise ValueError("set the algorithm with alg=, not in headers")
        if "crit" in headers or "b64" in headers:
            raise ValueError("jwtkit does not produce tokens with 'crit' or 'b64' headers")
        header.update(headers)
        header = {name: value for name, value in header.items() if value is not None}
    return b64encode(dumps(header))


def _signing_alg(key: Key, alg: str | None) -> Algorithm:
    return get_algorithm(alg) if alg is not None else key._default_alg()


def sign_compact(
    payload: bytes,
    key: Key,
    *,
    alg: str | None = None,
    headers: Mapping[str, Any] | None = None,
) -> str:
    """Sign ``payload`` and return a compact JWS (``alg`` defaults to the key's).

    ``headers`` are added to the protected header; a ``None`` value removes a default member.

    Raises:
        UnsupportedAlgorithmError, InvalidKeyError: see ``sign_bytes``.
    """
    algorithm = _signing_alg(key, alg)
    sign = key._signer(algorithm)
    signing_input = _header_segment(key, algorithm, headers) + b"." + b64encode(payload)
    return (signing_input + b"." + b64encode(sign(signing_input))).decode("ascii")


# -- verification ---------------------------------------------------------------------------


def _normalize_typ(typ: str) -> str:
    """RFC 8725 §3.11 / RFC 7515 §4.1.9: compare case-insensitively, ``application/`` optional."""
    typ = typ.lower()
    return typ[12:] if typ.startswith("application/") else typ


def _check_header(
    header: dict[str, Any], allowed: Mapping[str, Algorithm], typ: str | None
) -> Algorithm:
    """Apply the header rules and return the allowed algorithm the token names."""
    if "crit" in header:
        # RFC 7515 §4.1.11: a recipient must reject critical extensions it does not
        # understand, and jwtkit understands none (it never produces b64=false tokens).
        raise MalformedTokenError("critical header parameters are not supported")
    if "b64" in header and header["b64"] is not True:
        raise MalformedTokenError("unencoded payloads (b64=false) are not supported")
    kid = header.get("kid")
    if type(kid) is not str and (kid is not None or "kid" in header):
        raise MalformedTokenError("header 'kid' must be a string")
    if typ is not None:
        token_typ = header.get("typ")
        if type(token_typ) is not str or _normalize_typ(token_typ) != typ:
            raise InvalidClaimError(
                f"token type {_short(str(token_typ))!r} is not {typ!r}", claim="typ"
            )
    name = header.get("alg")
    if type(name) is not str:
        raise AlgorithmNotAllowedError("header 'alg' is missing or not a string")
    algorithm = allowed.get(name)
    if algorithm is None:
        if name.lower() == "none":
            raise AlgorithmNotAllowedError("unsecured tokens (alg 'none') are never accepted")
        raise AlgorithmNotAllowedError(f"algorithm {_short(name)!r} is not allowed")
    return algorithm


_ALLOWED_CACHE: dict[tuple[str, ...], dict[str, Algorithm]] = {}


def _allowed_algorithms(algorithms: Collection[str]) -> dict[str, Algorithm]:
    """Validate an ``algorithms=`` allow-list (memoized: ``decode`` calls this per token)."""
    if isinstance(algorithms, str) or not isinstance(algorithms, Collection):
        raise TypeError("algorithms must be a list of algorithm names, e.g. ['ES256']")
    names = tuple(algorithms)
    cached = _ALLOWED_CACHE.get(names)
    if cached is not None:
        return cached
    if not algorithms:
        raise ValueError("algorithms must name at least one algorithm")
    allowed: dict[str, Algorithm] = {}
    for name in algorithms:
        if isinstance(name, str) and name.lower() == "none":
            raise UnsupportedAlgorithmError("alg 'none' can never be allowed")
        allowed[name] = get_algorithm(name)
    if len(_ALLOWED_CACHE) < 256:
        _ALLOWED_CACHE[names] = allowed
    return allowed


class _Resolver:
    """Turns (``kid``, ``alg``) into prepared verify functions from a key, set or source."""

    __slots__ = ("_source", "_static")

    def __init__(self, keys: Key | KeySet | KeySource) -> None:
        if isinstance(keys, Key):
            keys = keys._as_keyset()
        elif isinstance(keys, str | bytes):
            raise TypeError("pass a Key or KeySet, not raw key text (see Key.from_pem etc.)")
        elif not callable(getattr(keys, "get_keyset", None)):
            raise TypeError(f"expected a Key, KeySet or KeySource, not {type(keys).__name__}")
        self._source: KeySource = keys
        self._static = keys if isinstance(keys, KeySet) else None

    def keyset(self, kid: str | None) -> KeySet:
        """The key set in force now for a token with this ``kid``."""
        return self._static or self._source.get_keyset(kid)

    def resolve(self, kid: str | None, alg: Algorithm) -> tuple[KeySet, tuple[VerifyFn, ...]]:
        """The key set in force and the verify functions of its keys that fit."""
        keyset = self._static or self._source.get_keyset(kid)
        fns = keyset._table.get((kid, alg.name))
        return keyset, fns if fns is not None else keyset._verifiers_for(kid, alg)


def _verify(
    token: object,
    resolver: _Resolver,
    allowed: Mapping[str, Algorithm],
    *,
    typ: str | None = None,
    max_size: int = DEFAULT_MAX_TOKEN_SIZE,
    max_depth: int = DEFAULT_MAX_DEPTH,
) -> tuple[dict[str, Any], bytes, KeySet]:
    """The verification pipeline (see the module docstring).

    Returns the header, the raw payload and the key set the signature was checked against.
    """
    signing_input, header_segment, payload_segment, signature_segment = _split(token, max_size)
    header = _decode_json(header_segment, "header", max_depth)
    algorithm = _check_header(header, allowed, typ)
    keyset, verifiers = resolver.resolve(header.get("kid"), algorithm)
    signature = _decode_signature(signature_segment)
    try:  # only the encoding is checked before the signature; the JSON is parsed after it
        payload = b64decode(payload_segment)
    except ValueError as exc:
        raise MalformedTokenError(f"payload: {exc}") from None
    for verify in verifiers:
        if verify(signing_input, signature):
            break
    else:
        raise InvalidSignatureError("signature verification failed")
    return header, payload, keyset


def verify_compact(
    token: str,
    keys: Key | KeySet | KeySource,
    *,
    algorithms: Collection[str],
    max_size: int = DEFAULT_MAX_TOKEN_SIZE,
) -> tuple[dict[str, Any], bytes]:
    """Verify a compact JWS and return its header and raw payload (no JWT claim checks).

    Raises:
        InvalidTokenError: a subclass naming why the token is rejected.
    """
    resolver, allowed = _Resolver(keys), _allowed_algorithms(algorithms)
    header, payload, _ = _verify(token, resolver, allowed, max_size=max_size)
    return header, payload
