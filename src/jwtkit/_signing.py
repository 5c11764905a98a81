"""The signing side of the compact serialization: algorithm choice and the protected header
(RFC 7515 §5.1), shared by ``jws.sign_compact``, ``jwt.encode`` and ``Signer``."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from jwtkit._b64 import b64encode
from jwtkit._json import dumps
from jwtkit.jwa import Algorithm, get_algorithm
from jwtkit.jwk import Key

__all__ = ["default_header", "header_segment", "signing_algorithm"]

# The default header segment by (alg, kid): it depends on nothing else, so ``encode`` need not
# serialize it per token. Bounded, since kids are as many as the caller's keys.
_DEFAULT_HEADERS: dict[tuple[str, str | None], bytes] = {}
_DEFAULT_HEADERS_SIZE = 256


def signing_algorithm(key: Key, alg: str | None) -> Algorithm:
    """``alg``, or the key's own algorithm when ``alg`` is ``None``.

    Raises:
        UnsupportedAlgorithmError: unknown ``alg``.
        InvalidKeyError: no ``alg`` given and the key is bound to none.
    """
    return get_algorithm(alg) if alg is not None else key._default_alg()


def header_segment(key: Key, alg: Algorithm, headers: Mapping[str, Any] | None) -> bytes:
    """Serialize the protected header: ``alg``, ``kid`` when the key has one, ``typ`` JWT.

    ``headers`` are added; a ``None`` value removes a default member.

    Raises:
        ValueError: ``headers`` sets ``alg``, ``crit`` or ``b64``.
    """
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


def default_header(key: Key, alg: Algorithm) -> bytes:
    """``header_segment(key, alg, None)``, remembered."""
    name = (alg.name, key.kid)
    segment = _DEFAULT_HEADERS.get(name)
    if segment is None:
        if len(_DEFAULT_HEADERS) >= _DEFAULT_HEADERS_SIZE:
            _DEFAULT_HEADERS.clear()
        segment = _DEFAULT_HEADERS[name] = header_segment(key, alg, None)
    return segment
