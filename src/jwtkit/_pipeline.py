"""The one verification pipeline: from a compact token to a checked header, a key and a
verified signature (RFC 7515 §5.2, RFC 8725 §3.1). The claims are ``_claims``'s.

Every verify path of the package (``Verifier``, ``decode``, ``jws.verify_compact``, the PyJWT
drop-in) runs ``verify`` below, and nothing later runs if something earlier fails. Read it top
to bottom, in the order the steps run:

1. ``split``: size limit, type, three ``.``-separated segments (RFC 7515 §7.1);
2. ``decode_json``: strict base64url and strict JSON for the header;
3. ``check_header``: ``crit``, ``b64``, ``kid`` type, ``typ``, then ``alg`` present, not
   ``none`` and in the caller's allow-list (RFC 8725 §3.1, §3.11);
4. ``Resolver``: the key chosen by ``kid`` from the caller's keys (never from ``jwk``,
   ``jku``, ``x5u`` or ``x5c``), fitting ``alg`` (type, curve, size, ``use``, ``key_ops``);
5. the signature, checked with the prepared verify functions of those keys.

Only then is the payload handed on. Only the compact serialization is accepted.

Importing this module loads no ``cryptography`` (``decode_unverified`` and ``jwtkit inspect``
need none; issue 17), nor ``datetime``, ``weakref`` or the algorithm table: the key classes
are imported where keys are first resolved, the rest where first used.
"""

from __future__ import annotations

from collections.abc import Mapping, MutableMapping
from typing import TYPE_CHECKING, Any, Protocol, cast

from jwtkit._b64 import b64decode
from jwtkit._json import DEFAULT_MAX_DEPTH, loads_object
from jwtkit._text import short
from jwtkit.errors import (
    AlgorithmNotAllowedError,
    InvalidClaimError,
    InvalidKeyError,
    InvalidSignatureError,
    KeyNotFoundError,
    MalformedTokenError,
)

if TYPE_CHECKING:
    import weakref

    from jwtkit._backend import VerifyFn
    from jwtkit.jwa import Algorithm
    from jwtkit.jwk import Key, KeySet

__all__ = [
    "DEFAULT_MAX_TOKEN_SIZE",
    "HEADER_CACHE_SIZE",
    "CheckedHeader",
    "KeySource",
    "Resolver",
    "check_header",
    "checked_header",
    "decode_json",
    "decode_unverified",
    "normalize_typ",
    "remember",
    "split",
    "verify",
]

DEFAULT_MAX_TOKEN_SIZE = 256 * 1024

# The Verifier's cache of checked headers (issue 18): a few entries, since tokens of one
# issuer share one header; only segments this short are kept, so it stays small in memory.
HEADER_CACHE_SIZE = 16
_HEADER_CACHE_MAX_SEGMENT = 1024

# A header that passed ``check_header``: the header, the allowed algorithm it names, its kid.
CheckedHeader = tuple[dict[str, Any], "Algorithm", Any]


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


# -- 1. split ---------------------------------------------------------------------------------


def split(token: object, max_size: int) -> tuple[bytes, bytes, bytes, bytes]:
    """Return signing input, header, payload and signature segments of a compact JWS.

    Raises:
        MalformedTokenError: too long, not text, not ASCII, or not three segments.
    """
    if isinstance(token, str):
        if len(token) > max_size:
            raise MalformedTokenError(f"token is longer than {max_size} characters")
        try:
            raw = token.encode("ascii")
        except UnicodeEncodeError:
            raise MalformedTokenError("token contains non-ASCII characters") from None
    elif isinstance(token, bytes | bytearray):
        if len(token) > max_size:
            raise MalformedTokenError(f"token is longer than {max_size} bytes")
        raw = bytes(token)
    else:
        raise MalformedTokenError(f"token must be a string, not {type(token).__name__}")
    signing_input, _, signature = raw.rpartition(b".")
    header, dot, payload = signing_input.partition(b".")
    if not dot or not header or b"." in payload:
        raise MalformedTokenError("token is not a compact JWS (three '.'-separated segments)")
    return signing_input, header, payload, signature


# -- 2. decode --------------------------------------------------------------------------------


def decode_json(segment: bytes, what: str, max_depth: int) -> dict[str, Any]:
    """Decode a base64url segment holding a JSON object (strict ``_json`` rules).

    Raises:
        MalformedTokenError: naming ``what`` (header, claims) and the reason.
    """
    try:
        return loads_object(b64decode(segment), max_depth=max_depth)
    except ValueError as exc:  # JSONError and base64url errors alike
        raise MalformedTokenError(f"{what}: {exc}") from None


def decode_unverified(token: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """Return the header and claims of ``token`` WITHOUT VERIFYING ANYTHING.

    No signature, algorithm, expiry, issuer or audience check is made: never trust the
    result. Use it to debug a token or to read a ``kid`` before choosing a key.

    Raises:
        MalformedTokenError: the token is not a well-formed compact JWT.
    """
    _, header_segment, payload_segment, _ = split(token, DEFAULT_MAX_TOKEN_SIZE)
    header = decode_json(header_segment, "header", DEFAULT_MAX_DEPTH)
    return header, decode_json(payload_segment, "claims", DEFAULT_MAX_DEPTH)


# -- 3. header rules --------------------------------------------------------------------------


def normalize_typ(typ: str) -> str:
    """RFC 8725 §3.11 / RFC 7515 §4.1.9: compare case-insensitively, ``application/`` optional."""
    typ = typ.lower()
    return typ[12:] if typ.startswith("application/") else typ


def check_header(
    header: dict[str, Any], allowed: Mapping[str, Algorithm], typ: str | None
) -> Algorithm:
    """Apply the header rules and return the allowed algorithm the token names.

    ``typ`` is the expected type, already normalized (``_rules.normalize_typ``).

    Raises:
        MalformedTokenError: ``crit``, ``b64`` other than true, a ``kid`` that is not text.
        InvalidClaimError: ``typ`` is not the expected type.
        AlgorithmNotAllowedError: ``alg`` missing, ``none``, or not in ``allowed``.
    """
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
        if type(token_typ) is not str or normalize_typ(token_typ) != typ:
            raise InvalidClaimError(
                f"token type {short(str(token_typ))!r} is not {typ!r}", claim="typ"
            )
    name = header.get("alg")
    if type(name) is not str:
        raise AlgorithmNotAllowedError("header 'alg' is missing or not a string")
    algorithm = allowed.get(name)
    if algorithm is None:
        if name.lower() == "none":
            raise AlgorithmNotAllowedError("unsecured tokens (alg 'none') are never accepted")
        raise AlgorithmNotAllowedError(f"algorithm {short(name)!r} is not allowed")
    return algorithm


def checked_header(
    segment: bytes,
    allowed: Mapping[str, Algorithm],
    typ: str | None,
    max_depth: int,
    headers: dict[bytes, CheckedHeader] | None,
) -> CheckedHeader:
    """Steps 2 and 3 for one header segment: the header, its algorithm and its ``kid``.

    A header that passes is remembered in ``headers`` (when given) under its exact segment
    text, if short; one that fails raises and is never remembered.

    Raises:
        MalformedTokenError, InvalidClaimError, AlgorithmNotAllowedError: see above.
    """
    header = decode_json(segment, "header", max_depth)
    checked = (header, check_header(header, allowed, typ), header.get("kid"))
    if headers is not None and len(segment) <= _HEADER_CACHE_MAX_SEGMENT:
        if len(headers) >= HEADER_CACHE_SIZE:
            # Full: start over. One clear per 16 misses costs less than evicting on every
            # miss when headers never repeat, and the headers that do repeat come back at once.
            headers.clear()
        headers[segment] = checked
    return checked


# -- 4. key resolution ------------------------------------------------------------------------

# The prepared verify functions of each KeySet, by (kid, alg). A KeySet is immutable, so its
# table never goes stale; it is dropped with the set (the values hold no reference to it).
_Table = dict[tuple[str | None, str], tuple["VerifyFn", ...]]
_TABLES: weakref.WeakKeyDictionary[KeySet, _Table] | None = None


def _table(keyset: KeySet) -> _Table:
    global _TABLES
    if _TABLES is None:
        import weakref

        _TABLES = weakref.WeakKeyDictionary()
    table = _TABLES.get(keyset)
    if table is None:
        table = _TABLES.setdefault(keyset, {})
    return table


def _prepare(
    table: dict[tuple[str | None, str], tuple[VerifyFn, ...]],
    keyset: KeySet,
    kid: str | None,
    alg: Algorithm,
) -> tuple[VerifyFn, ...]:
    """The verify functions of the keys in ``keyset`` that may have signed a token with this
    ``kid`` and ``alg``, remembered for known kids (unknown ones come from tokens and are not).

    A ``kid`` names exactly one key; keys without a ``kid`` may verify any token.

    Raises:
        KeyNotFoundError: no key fits; a weak or mismatched key met while verifying is a
            rejected token, never a configuration error escaping at request time.
    """
    named = keyset.get(kid) if kid is not None and kid in keyset else None
    if named is not None:
        try:
            fns: tuple[VerifyFn, ...] = (named._verifier(alg),)
        except InvalidKeyError as exc:
            raise KeyNotFoundError(
                f"key {short(kid or '')!r} cannot verify {alg.name}: {exc}"
            ) from None
    else:
        pool = [key for key in keyset if key.kid is None] if kid is not None else list(keyset)
        found, reasons = [], set()
        for key in pool:
            try:
                found.append(key._verifier(alg))
            except InvalidKeyError as exc:
                reasons.add(str(exc))
        if not found:
            shown = f"kid {short(kid)!r}" if kid is not None else "no kid"
            why = f": {reasons.pop()}" if len(reasons) == 1 else ""
            raise KeyNotFoundError(f"no usable key for {alg.name} with {shown}{why}")
        fns = tuple(found)
    if named is not None or kid is None:
        table[(kid, alg.name)] = fns
    return fns


_KEY_CLASSES: tuple[type[Key], type[KeySet]] | None = None


def _key_classes() -> tuple[type[Key], type[KeySet]]:
    """``Key`` and ``KeySet``, imported on first use (see the module docstring)."""
    global _KEY_CLASSES
    from jwtkit.jwk import Key, KeySet

    _KEY_CLASSES = (Key, KeySet)
    return _KEY_CLASSES


class Resolver:
    """Turns (``kid``, ``alg``) into prepared verify functions from a key, set or source."""

    __slots__ = ("_fixed", "_last", "_source")

    def __init__(self, keys: Key | KeySet | KeySource) -> None:
        key_class, keyset_class = _KEY_CLASSES or _key_classes()
        if isinstance(keys, key_class):
            source: KeySource = keys._as_keyset()
        elif isinstance(keys, str | bytes):
            raise TypeError("pass a Key or KeySet, not raw key text (see Key.from_pem etc.)")
        elif not callable(getattr(keys, "get_keyset", None)):
            raise TypeError(f"expected a Key, KeySet or KeySource, not {type(keys).__name__}")
        else:
            source = cast("KeySource", keys)
        self._source = source
        self._fixed = isinstance(source, keyset_class)
        # The key set last seen and its table: a source returns one set until its keys change.
        self._last = (source, _table(source)) if isinstance(source, keyset_class) else None

    def keyset(self, kid: str | None) -> KeySet:
        """The key set in force now for a token with this ``kid``."""
        last = self._last
        if self._fixed and last is not None:
            return last[0]
        return self._source.get_keyset(kid)

    def resolve(self, kid: str | None, alg: Algorithm) -> tuple[KeySet, tuple[VerifyFn, ...]]:
        """The key set in force and the verify functions of its keys that fit.

        Raises:
            KeyNotFoundError: no key of the set fits (see ``_prepare``).
        """
        last = self._last
        if not self._fixed or last is None:
            keyset = self._source.get_keyset(kid)
            if last is None or last[0] is not keyset:
                last = self._last = (keyset, _table(keyset))
        keyset, table = last
        fns = table.get((kid, alg.name))
        return keyset, fns if fns is not None else _prepare(table, keyset, kid, alg)


# -- the pipeline -----------------------------------------------------------------------------


def remember(cache: MutableMapping[Any, Any], key: Any, value: Any, limit: int) -> None:
    """Store ``key`` in a bounded cache, evicting the oldest entry when it is full."""
    if len(cache) >= limit:
        try:
            del cache[next(iter(cache))]
        except (KeyError, RuntimeError, StopIteration):  # another thread changed it: start over
            cache.clear()
    cache[key] = value


def verify(
    token: object,
    resolver: Resolver,
    allowed: Mapping[str, Algorithm],
    typ: str | None = None,
    max_size: int = DEFAULT_MAX_TOKEN_SIZE,
    max_depth: int = DEFAULT_MAX_DEPTH,
    headers: dict[bytes, CheckedHeader] | None = None,
) -> tuple[dict[str, Any], bytes, KeySet]:
    """Run the pipeline (see the module docstring) and return the header, the raw payload
    and the key set the signature was checked against.

    ``headers`` is a cache of checked headers by their exact segment (the Verifier's): a
    header found there has passed steps 2 and 3 under the same ``allowed`` and ``typ``; a
    header that fails is never stored, so it is checked, and refused, every time. Every later
    step (key resolution by ``kid``, the signature) runs for every token. The cached header
    dict is shared: a caller that hands it out copies it.

    Raises:
        InvalidTokenError: a subclass naming the step that refused the token.
    """
    signing_input, header_segment, payload_segment, signature_segment = split(token, max_size)
    checked = headers.get(header_segment) if headers is not None else None
    if checked is not None:
        header, algorithm, kid = checked
    else:  # checked_header, written out: a call costs ~2% of an HS256 verify (issue 18)
        header = decode_json(header_segment, "header", max_depth)
        algorithm = check_header(header, allowed, typ)
        kid = header.get("kid")
        if headers is not None and len(header_segment) <= _HEADER_CACHE_MAX_SEGMENT:
            if len(headers) >= HEADER_CACHE_SIZE:
                headers.clear()
            headers[header_segment] = (header, algorithm, kid)
    keyset, verifiers = resolver.resolve(kid, algorithm)
    try:  # only the encoding is checked before the signature; the JSON is parsed after it
        signature = b64decode(signature_segment)
    except ValueError as exc:
        raise MalformedTokenError(f"signature: {exc}") from None
    try:
        payload = b64decode(payload_segment)
    except ValueError as exc:
        raise MalformedTokenError(f"payload: {exc}") from None
    for verify_fn in verifiers:
        if verify_fn(signing_input, signature):
            break
    else:
        raise InvalidSignatureError("signature verification failed")
    return header, payload, keyset
