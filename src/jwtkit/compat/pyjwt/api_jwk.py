"""PyJWT's ``PyJWK`` and ``PyJWKSet`` (``jwt.api_jwk``).

A ``PyJWK`` keeps PyJWT's attributes (``key`` is the ``cryptography`` key object or the secret
bytes, ``Algorithm`` the algorithm object) and carries the jwtkit ``Key`` it verifies with,
bound to ``algorithm_name``: a token whose header names another algorithm is refused.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from typing import Any

from jwtkit.compat.pyjwt import _keys
from jwtkit.compat.pyjwt.algorithms import core_algorithm, get_default_algorithms
from jwtkit.compat.pyjwt.exceptions import (
    InvalidKeyError,
    MissingCryptographyError,
    PyJWKError,
    PyJWKSetError,
    PyJWTError,
)
from jwtkit.compat.pyjwt.types import JWKDict
from jwtkit.jwa import Algorithm as CoreAlgorithm
from jwtkit.jwk import Key

__all__ = ["PyJWK", "PyJWKSet", "PyJWTSetWithTimestamp"]

_EC_DEFAULTS = {"P-256": "ES256", "P-384": "ES384", "P-521": "ES512", "secp256k1": "ES256K"}


def _default_algorithm(jwk: JWKDict) -> str:
    """PyJWT's algorithm for a JWK that names none, from ``kty`` and ``crv``."""
    kty, crv = jwk.get("kty"), jwk.get("crv")
    if kty == "EC":
        if not crv:
            return "ES256"
        if crv not in _EC_DEFAULTS:
            raise InvalidKeyError(f"Unsupported crv: {crv}")
        return _EC_DEFAULTS[crv]
    if kty == "RSA":
        return "RS256"
    if kty == "oct":
        return "HS256"
    if kty == "OKP":
        if not crv:
            raise InvalidKeyError(f"crv is not found: {jwk}")
        if crv != "Ed25519":
            raise InvalidKeyError(f"Unsupported crv: {crv}")
        return "EdDSA"
    raise InvalidKeyError(f"Unsupported kty: {kty}")


class PyJWK:
    """A JSON Web Key (RFC 7517) with the algorithm it is used with."""

    def __init__(self, jwk_data: JWKDict, algorithm: str | None = None) -> None:
        """Load ``jwk_data``; ``algorithm`` overrides the JWK's ``alg``.

        Raises:
            InvalidKeyError: no or an unsupported ``kty``/``crv``, or a malformed key.
            PyJWKError: no algorithm fits the key.
        """
        self._jwk_data = jwk_data
        self._key: Key | None = None
        kty = jwk_data.get("kty", None)
        if not kty:
            raise InvalidKeyError(f"kty is not found: {jwk_data}")
        if not algorithm and isinstance(jwk_data, dict):
            algorithm = jwk_data.get("alg", None)
        if not algorithm:
            algorithm = _default_algorithm(jwk_data)
        self.algorithm_name: str = algorithm
        try:
            self.Algorithm = get_default_algorithms()[algorithm]
        except (KeyError, TypeError):
            raise PyJWKError(f"Unable to find an algorithm for key: {jwk_data}") from None
        try:
            self.key = self.Algorithm.from_jwk(jwk_data)
        except (TypeError, ValueError) as error:
            raise InvalidKeyError(f"Unable to construct key from JWK: {error}") from error
        except NotImplementedError:
            raise PyJWKError(f"Unable to find an algorithm for key: {jwk_data}") from None

    def _jwtkit_key(self) -> Key:
        """The jwtkit key, bound to ``algorithm_name`` (made on first use).

        Raises:
            InvalidKeyError: the key does not fit its algorithm (curve, size, type).
        """
        if self._key is None:
            self._use(_keys.key_for(self.key, self._core()))
        assert self._key is not None  # noqa: S101 - set by _use
        return self._key

    def _core(self) -> CoreAlgorithm:
        alg = core_algorithm(self.algorithm_name, self.Algorithm)
        if alg is None:
            raise InvalidKeyError(f"jwtkit cannot use a key for {self.algorithm_name!r}")
        return alg

    def _use(self, key: Key) -> None:
        """Verify with ``key`` (bound to ``algorithm_name``) from now on.

        Raises:
            InvalidKeyError: ``key`` does not fit the algorithm.
        """
        alg = self._core()
        try:
            self._key = key.with_alg(alg.name)
        except ValueError as exc:
            raise InvalidKeyError(str(exc)) from exc

    @staticmethod
    def from_dict(obj: JWKDict, algorithm: str | None = None) -> PyJWK:
        """Load a JWK from a dict."""
        return PyJWK(obj, algorithm)

    @staticmethod
    def from_json(data: str, algorithm: str | None = None) -> PyJWK:
        """Load a JWK from JSON text."""
        return PyJWK.from_dict(json.loads(data), algorithm)

    @property
    def key_type(self) -> str | None:
        """The JWK ``kty``."""
        return self._jwk_data.get("kty", None)

    @property
    def key_id(self) -> str | None:
        """The JWK ``kid``."""
        return self._jwk_data.get("kid", None)

    @property
    def public_key_use(self) -> str | None:
        """The JWK ``use``."""
        return self._jwk_data.get("use", None)


class PyJWKSet:
    """A JWK Set: the usable keys of ``keys`` (members that are not JWKs are skipped)."""

    def __init__(self, keys: list[JWKDict]) -> None:
        """Load the members of a JWK Set's ``keys`` list.

        Raises:
            PyJWKSetError: not a non-empty list, or no member is usable.
        """
        self.keys: list[PyJWK] = []
        if not keys:
            raise PyJWKSetError("The JWK Set did not contain any keys")
        if not isinstance(keys, list):
            raise PyJWKSetError("Invalid JWK Set value")
        members: list[Any] = keys
        for key in members:
            if not isinstance(key, dict):
                continue  # a member that is not a JWK object
            try:
                self.keys.append(PyJWK(key))
            except PyJWTError as error:
                if isinstance(error, MissingCryptographyError):
                    raise
                continue
        if not self.keys:
            raise PyJWKSetError("The JWK Set did not contain any usable keys.")

    @staticmethod
    def from_dict(obj: dict[str, Any]) -> PyJWKSet:
        """Load a JWK Set from a dict."""
        return PyJWKSet(obj.get("keys", []))

    @staticmethod
    def from_json(data: str) -> PyJWKSet:
        """Load a JWK Set from JSON text."""
        return PyJWKSet.from_dict(json.loads(data))

    def __getitem__(self, kid: str) -> PyJWK:
        for key in self.keys:
            if key.key_id == kid:
                return key
        raise KeyError(f"keyset has no key for kid: {kid}")

    def __iter__(self) -> Iterator[PyJWK]:
        return iter(self.keys)


class PyJWTSetWithTimestamp:
    """A ``PyJWKSet`` with the monotonic time it was stored."""

    def __init__(self, jwk_set: PyJWKSet) -> None:
        self.jwk_set = jwk_set
        self.timestamp = time.monotonic()

    def get_jwk_set(self) -> PyJWKSet:
        """The stored set."""
        return self.jwk_set

    def get_timestamp(self) -> float:
        """When it was stored (``time.monotonic``)."""
        return self.timestamp
