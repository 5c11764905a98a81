"""PyJWT's ``PyJWS`` (``jwt.api_jws``): compact JWS over jwtkit's verify pipeline.

``decode`` hands the token to jwtkit's one pipeline (strict split and base64url, strict header
JSON, ``crit``/``b64``/``kid`` rules, the ``algorithms`` allow-list, key fit, signature); the
key argument is turned into a jwtkit ``Key`` once per distinct key and then cached. Rejections
are reported with PyJWT's exception classes and messages (see ``_explain``). ``encode``
serializes exactly as PyJWT does, so tokens are byte-for-byte PyJWT's, and signs with jwtkit.
"""

from __future__ import annotations

import json
import warnings
from collections.abc import Collection, Sequence
from typing import TYPE_CHECKING, Any

from jwtkit import _pipeline
from jwtkit import errors as core
from jwtkit._b64 import b64decode, b64encode
from jwtkit._json import DEFAULT_MAX_DEPTH
from jwtkit._pipeline import decode_json, split
from jwtkit._rules import DEFAULT_MAX_TOKEN_SIZE
from jwtkit.compat.pyjwt import _explain, _keys
from jwtkit.compat.pyjwt.algorithms import Algorithm, core_algorithm, get_default_algorithms
from jwtkit.compat.pyjwt.api_jwk import PyJWK
from jwtkit.compat.pyjwt.exceptions import DecodeError, InvalidKeyError, InvalidTokenError
from jwtkit.compat.pyjwt.warnings import RemovedInPyjwt3Warning
from jwtkit.jwa import Algorithm as CoreAlgorithm

if TYPE_CHECKING:
    from jwtkit.compat.pyjwt.types import SigOptions

__all__ = [
    "PyJWS",
    "decode",
    "decode_complete",
    "encode",
    "get_algorithm_by_name",
    "get_unverified_header",
    "register_algorithm",
    "unregister_algorithm",
]

_ALGORITHM_UNSET: Any = object()
# Header values of these types are immutable, so a header made of them can be cached.
_PLAIN = frozenset({str, int, bool, type(None)})
_ALGORITHMS_REQUIRED = (
    'It is required that you pass in a value for the "algorithms" argument when calling decode().'
)


def _kwargs_warning(function: str, kwargs: dict[str, Any]) -> None:
    warnings.warn(
        f"passing additional kwargs to {function}() is deprecated and will be removed in "
        f"pyjwt version 3. Unsupported kwargs: {tuple(kwargs)}",
        RemovedInPyjwt3Warning,
        stacklevel=3,
    )


class PyJWS:
    """Sign and verify compact JWS with PyJWT's API."""

    header_typ = "JWT"

    def __init__(
        self, algorithms: Sequence[str] | None = None, options: SigOptions | None = None
    ) -> None:
        """Allow ``algorithms`` (default: all of PyJWT's); ``options`` as PyJWT's ``SigOptions``.

        Raises:
            TypeError: ``options`` is not a mapping.
        """
        self._algorithms = get_default_algorithms()
        self._valid_algs = set(algorithms) if algorithms is not None else set(self._algorithms)
        for name in list(self._algorithms):
            if name not in self._valid_algs:
                del self._algorithms[name]
        self.options: SigOptions = {"verify_signature": True, "enforce_minimum_key_length": False}
        if options is not None:
            self.options = {**self.options, **options}
        self._allowed_cache: dict[tuple[str, ...], dict[str, CoreAlgorithm]] = {}
        self._header_cache: dict[tuple[Any, ...], bytes] = {}

    @staticmethod
    def _get_default_options() -> SigOptions:
        return {"verify_signature": True, "enforce_minimum_key_length": False}

    def register_algorithm(self, alg_id: str, alg_obj: Algorithm) -> None:
        """Make ``alg_obj`` available as ``alg_id``.

        Only jwtkit's own algorithm classes sign and verify: a custom ``Algorithm`` can be
        registered but using it raises ``NotImplementedError``.

        Raises:
            ValueError: ``alg_id`` is taken.
            TypeError: ``alg_obj`` is not an ``Algorithm``.
        """
        if alg_id in self._algorithms:
            raise ValueError("Algorithm already has a handler.")
        if not isinstance(alg_obj, Algorithm):
            raise TypeError("Object is not of type `Algorithm`")
        self._algorithms[alg_id] = alg_obj
        self._valid_algs.add(alg_id)
        self._allowed_cache.clear()

    def unregister_algorithm(self, alg_id: str) -> None:
        """Remove ``alg_id``.

        Raises:
            KeyError: it is not registered.
        """
        if alg_id not in self._algorithms:
            raise KeyError(
                "The specified algorithm could not be removed because it is not registered."
            )
        del self._algorithms[alg_id]
        self._valid_algs.remove(alg_id)
        self._allowed_cache.clear()

    def get_algorithms(self) -> list[str]:
        """The registered algorithm names."""
        return list(self._valid_algs)

    def get_algorithm_by_name(self, alg_name: str) -> Algorithm:
        """The algorithm object registered as ``alg_name``.

        Raises:
            NotImplementedError: none is.
        """
        try:
            return self._algorithms[alg_name]
        except KeyError as e:
            raise NotImplementedError("Algorithm not supported") from e

    def _core_algorithm(self, name: str) -> CoreAlgorithm:
        """The jwtkit algorithm that signs as ``name``.

        Raises:
            NotImplementedError: ``name`` is not registered, or is a custom ``Algorithm``.
        """
        alg = core_algorithm(name, self.get_algorithm_by_name(name))
        if alg is None:
            raise NotImplementedError(
                f"jwtkit.compat.pyjwt signs and verifies only with jwtkit's algorithms, not "
                f"{name!r}"
            )
        return alg

    def _allowed(self, algorithms: Collection[str]) -> dict[str, CoreAlgorithm]:
        """The allow-list for the pipeline: names both allowed and implemented by jwtkit."""
        names = (algorithms,) if isinstance(algorithms, str) else tuple(algorithms)
        allowed = self._allowed_cache.get(names)
        if allowed is None:
            allowed = {}
            for name in names:
                obj = self._algorithms.get(name) if isinstance(name, str) else None
                alg = core_algorithm(name, obj) if obj is not None else None
                if alg is not None:
                    allowed[name] = alg
            if len(self._allowed_cache) < 64:
                self._allowed_cache[names] = allowed
        return allowed

    # -- encoding -------------------------------------------------------------------------

    def encode(
        self,
        payload: bytes,
        key: Any,
        algorithm: str | None = _ALGORITHM_UNSET,
        headers: dict[str, Any] | None = None,
        json_encoder: type[json.JSONEncoder] | None = None,
        is_payload_detached: bool = False,
        sort_headers: bool = True,
    ) -> str:
        """Sign ``payload`` and return the compact JWS (PyJWT's header and serialization).

        Raises:
            NotImplementedError: unknown algorithm, or a detached (``b64: false``) payload,
                which jwtkit refuses.
            InvalidKeyError: the key does not fit the algorithm, or is weak under
                ``enforce_minimum_key_length``.
            InvalidTokenError: a non-string ``kid`` header.
        """
        if algorithm is _ALGORITHM_UNSET:
            alg_name = key.algorithm_name if isinstance(key, PyJWK) else "HS256"
        elif algorithm is None:
            alg_name = key.algorithm_name if isinstance(key, PyJWK) else "none"
        else:
            alg_name = algorithm
        if headers:
            if headers.get("alg"):
                alg_name = headers["alg"]
            if headers.get("b64") is False:
                is_payload_detached = True
        if is_payload_detached:
            raise NotImplementedError(_explain.DETACHED_REFUSED)
        header_segment = self._header_segment(alg_name, headers, json_encoder, sort_headers)
        signing_input = header_segment + b"." + b64encode(payload)
        if alg_name == "none" and alg_name in self._algorithms:
            self._algorithms["none"].prepare_key(key)
            signature = b""
        else:
            signature = self._sign(signing_input, key, self._core_algorithm(alg_name))
        return (signing_input + b"." + b64encode(signature)).decode("ascii")

    def _header_segment(
        self,
        alg_name: str,
        headers: dict[str, Any] | None,
        json_encoder: type[json.JSONEncoder] | None,
        sort_headers: bool,
    ) -> bytes:
        """PyJWT's header serialization, cached for headers made of plain values."""
        name: tuple[Any, ...] | None = None
        if json_encoder is None and type(alg_name) is str:
            items = tuple(headers.items()) if headers else ()
            if all(type(v) in _PLAIN for _, v in items):
                name = (self.header_typ, alg_name, sort_headers, items)
                segment = self._header_cache.get(name)
                if segment is not None:
                    return segment
        header: dict[str, Any] = {"typ": self.header_typ, "alg": alg_name}
        if headers:
            self._validate_headers(headers, encoding=True)
            header.update(headers)
        if not header["typ"]:
            del header["typ"]
        header.pop("b64", None)  # b64: true is the default; b64: false was refused above
        text = json.dumps(header, separators=(",", ":"), cls=json_encoder, sort_keys=sort_headers)
        segment = b64encode(text.encode())
        if name is not None:
            if len(self._header_cache) >= 256:
                self._header_cache.clear()
            self._header_cache[name] = segment
        return segment

    def _sign(self, signing_input: bytes, key: Any, alg: CoreAlgorithm) -> bytes:
        jkey = _keys.key_for(key, alg)
        sign = jkey._signers.get(alg.name)
        if sign is None or self.options.get("enforce_minimum_key_length", False):
            _keys.check_fit(jkey, alg, enforce=bool(self.options.get("enforce_minimum_key_length")))
            try:
                sign = jkey._signer(alg)
            except core.InvalidKeyError as exc:
                raise InvalidKeyError(str(exc)) from exc
        return sign(signing_input)

    # -- decoding -------------------------------------------------------------------------

    def decode_complete(
        self,
        jwt: str | bytes,
        key: Any = "",
        algorithms: Sequence[str] | None = None,
        options: SigOptions | None = None,
        detached_payload: bytes | None = None,
        **kwargs: Any,
    ) -> dict[str, Any]:
        """Verify ``jwt`` and return its ``payload`` (bytes), ``header`` and ``signature``.

        Raises:
            DecodeError: malformed, or ``algorithms`` missing while verifying.
            InvalidSignatureError, InvalidAlgorithmError, InvalidTokenError: rejected.
            InvalidKeyError: the key does not fit the token's algorithm.
        """
        if kwargs:
            _kwargs_warning("decode_complete", kwargs)
        merged = self.options if options is None else {**self.options, **options}
        verify = merged["verify_signature"]
        if verify and not algorithms and not isinstance(key, PyJWK):
            raise DecodeError(_ALGORITHMS_REQUIRED)
        if not verify or detached_payload is not None:
            payload, _, header, signature = self._load(jwt)
            self._validate_headers(header)
            if detached_payload is not None or header.get("b64", True) is False:
                _explain.check_detached(header, detached_payload)
            if not verify:
                return {"payload": payload, "header": header, "signature": signature}
        bound = key.algorithm_name if isinstance(key, PyJWK) else None
        names: Collection[str] = algorithms if algorithms is not None else (bound or "",)
        allowed = self._allowed(names)
        resolver = _keys.KeyResolver(
            key, enforce_minimum_key_length=bool(merged.get("enforce_minimum_key_length"))
        )
        try:
            header, payload, _ = _pipeline.verify(jwt, resolver, allowed)
        except core.JWTError as exc:
            _explain.explain_token(
                jwt, exc, verify=True, algorithms=names, supported=self._algorithms,
                bound=bound, key=key,
            )  # fmt: skip
        raw = jwt.encode("ascii") if isinstance(jwt, str) else jwt
        signature = b64decode(raw.rpartition(b".")[2])
        return {"payload": payload, "header": header, "signature": signature}

    def decode(
        self,
        jwt: str | bytes,
        key: Any = "",
        algorithms: Sequence[str] | None = None,
        options: SigOptions | None = None,
        detached_payload: bytes | None = None,
        **kwargs: Any,
    ) -> Any:
        """Verify ``jwt`` and return its payload bytes (see ``decode_complete``)."""
        if kwargs:
            _kwargs_warning("decode", kwargs)
        decoded = self.decode_complete(
            jwt, key, algorithms, options, detached_payload=detached_payload
        )
        return decoded["payload"]

    def get_unverified_header(self, jwt: str | bytes) -> dict[str, Any]:
        """Return the header WITHOUT VERIFYING the token (for choosing a key by ``kid``).

        Raises:
            DecodeError, InvalidTokenError: malformed token or header.
        """
        header = self._load(jwt)[2]
        self._validate_headers(header)
        return header

    @staticmethod
    def _decode_base64url_segment(segment: bytes, name: str) -> bytes:
        """Decode one segment with jwtkit's strict base64url (no padding, canonical)."""
        try:
            return b64decode(segment)
        except ValueError:
            raise DecodeError(f"Invalid {name} padding") from None

    def _load(self, jwt: str | bytes) -> tuple[bytes, bytes, dict[str, Any], bytes]:
        """Split and decode ``jwt`` with jwtkit's strict rules, without verifying it."""
        try:
            signing_input, header_segment, payload_segment, crypto = split(
                jwt, DEFAULT_MAX_TOKEN_SIZE
            )
            header = decode_json(header_segment, "header", DEFAULT_MAX_DEPTH)
            if header.get("b64", True) is False:
                if payload_segment:
                    raise DecodeError("Payload segment must be empty when 'b64' is false.")
                payload = b""
            else:
                payload = b64decode(payload_segment)
            signature = b64decode(crypto)
        except (core.JWTError, ValueError) as exc:
            error = exc if isinstance(exc, core.JWTError) else core.MalformedTokenError(str(exc))
            _explain.explain_token(jwt, error, verify=False)
        return payload, signing_input, header, signature

    def _validate_headers(self, headers: dict[str, Any], *, encoding: bool = False) -> None:
        if "kid" in headers:
            self._validate_kid(headers["kid"])
        if not encoding and "crit" in headers:
            _explain.check_headers(headers)

    def _validate_kid(self, kid: Any) -> None:
        if not isinstance(kid, str):
            raise InvalidTokenError("Key ID header parameter must be a string")


_jws_global_obj = PyJWS()
encode = _jws_global_obj.encode
decode_complete = _jws_global_obj.decode_complete
decode = _jws_global_obj.decode
register_algorithm = _jws_global_obj.register_algorithm
unregister_algorithm = _jws_global_obj.unregister_algorithm
get_algorithm_by_name = _jws_global_obj.get_algorithm_by_name
get_unverified_header = _jws_global_obj.get_unverified_header
