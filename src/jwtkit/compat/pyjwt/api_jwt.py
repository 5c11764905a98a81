"""PyJWT's ``PyJWT`` (``jwt.api_jwt``): JWT claims on top of ``PyJWS``.

The signature and header are checked by jwtkit's pipeline (through ``PyJWS``); the payload is
parsed by jwtkit's strict JSON parser (duplicate members, NaN/Infinity and invalid UTF-8 are
refused); the registered claims are then checked with PyJWT's semantics and options, so code
written against PyJWT keeps its behaviour: no claim is required unless ``require`` names it,
``verify_*`` options switch single checks off, ``strict_aud`` forbids list matching.
"""

from __future__ import annotations

import json
import time
import warnings
from calendar import timegm
from collections.abc import Container, Iterable, Sequence
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, cast

from jwtkit._json import JSONError, loads_object
from jwtkit.compat.pyjwt import _explain
from jwtkit.compat.pyjwt.api_jws import _ALGORITHM_UNSET, PyJWS, _jws_global_obj, _kwargs_warning
from jwtkit.compat.pyjwt.exceptions import (
    DecodeError,
    ExpiredSignatureError,
    ImmatureSignatureError,
    InvalidAudienceError,
    InvalidIssuedAtError,
    InvalidIssuerError,
    InvalidJTIError,
    InvalidSubjectError,
    InvalidTokenError,
    MissingRequiredClaimError,
)

if TYPE_CHECKING:
    from jwtkit.compat.pyjwt.types import FullOptions, Options, SigOptions

__all__ = ["PyJWT", "decode", "decode_complete", "encode"]

# json.dumps(payload, separators=(",", ":")) without building an encoder per call.
_COMPACT = json.JSONEncoder(separators=(",", ":"))
_VERIFY_CLAIMS = (
    "verify_exp", "verify_nbf", "verify_iat", "verify_aud", "verify_iss", "verify_sub",
    "verify_jti",
)  # fmt: skip


def _as_int(payload: dict[str, Any], claim: str, error: type[InvalidTokenError], what: str) -> int:
    """The NumericDate ``claim`` truncated to an int, as PyJWT compares it."""
    try:
        return int(payload[claim])
    except (ValueError, TypeError, OverflowError):
        raise error(f"{what} claim ({claim}) must be an integer.") from None


class PyJWT:
    """Encode and decode JWTs with PyJWT's API."""

    def __init__(self, options: Options | None = None) -> None:
        """``options``: defaults for every ``decode`` (see ``jwt.types.Options``)."""
        self.options: FullOptions = self._get_default_options()
        if options is not None:
            self.options = self._merge_options(options)
        self._jws = PyJWS(options=self._get_sig_options())

    @staticmethod
    def _get_default_options() -> FullOptions:
        return {
            "verify_signature": True,
            "verify_exp": True,
            "verify_nbf": True,
            "verify_iat": True,
            "verify_aud": True,
            "verify_iss": True,
            "verify_sub": True,
            "verify_jti": True,
            "require": [],
            "strict_aud": False,
            "enforce_minimum_key_length": False,
        }

    def _get_sig_options(self) -> SigOptions:
        return {
            "verify_signature": self.options["verify_signature"],
            "enforce_minimum_key_length": self.options.get("enforce_minimum_key_length", False),
        }

    def _merge_options(self, options: Options | None = None) -> FullOptions:
        if options is None:
            return self.options
        merged = cast("dict[str, Any]", dict(options))
        # Switching the signature off switches the claim checks off, unless named.
        if not merged.get("verify_signature", True):
            for name in _VERIFY_CLAIMS:
                merged[name] = merged.get(name, False)
        return cast("FullOptions", {**self.options, **merged})

    def encode(
        self,
        payload: dict[str, Any],
        key: Any,
        algorithm: str | None = _ALGORITHM_UNSET,
        headers: dict[str, Any] | None = None,
        json_encoder: type[json.JSONEncoder] | None = None,
        sort_headers: bool = True,
    ) -> str:
        """Sign ``payload`` as a JWT; ``datetime`` values of exp/iat/nbf become NumericDates.

        Raises:
            TypeError: ``payload`` is not a dict, or ``iss`` is not a string.
            NotImplementedError, InvalidKeyError: see ``PyJWS.encode``.
        """
        if not isinstance(payload, dict):
            raise TypeError(
                "Expecting a dict object, as JWT only supports JSON objects as payloads."
            )
        payload = payload.copy()
        for claim in ("exp", "iat", "nbf"):
            value = payload.get(claim)
            if isinstance(value, datetime):
                payload[claim] = timegm(value.utctimetuple())
        if "iss" in payload and not isinstance(payload["iss"], str):
            raise TypeError("Issuer (iss) must be a string.")
        json_payload = self._encode_payload(payload, headers=headers, json_encoder=json_encoder)
        return self._jws.encode(
            json_payload, key, algorithm, headers, json_encoder, sort_headers=sort_headers
        )

    def _encode_payload(
        self,
        payload: dict[str, Any],
        headers: dict[str, Any] | None = None,
        json_encoder: type[json.JSONEncoder] | None = None,
    ) -> bytes:
        """The bytes to sign (subclasses may compress them, as in PyJWT)."""
        if json_encoder is None:
            return _COMPACT.encode(payload).encode("utf-8")
        return json.dumps(payload, separators=(",", ":"), cls=json_encoder).encode("utf-8")

    def decode_complete(
        self,
        jwt: str | bytes,
        key: Any = "",
        algorithms: Sequence[str] | None = None,
        options: Options | None = None,
        verify: bool | None = None,
        detached_payload: bytes | None = None,
        audience: str | Iterable[str] | None = None,
        issuer: str | Container[str] | None = None,
        subject: str | None = None,
        leeway: float | timedelta = 0,
        **kwargs: Any,
    ) -> dict[str, Any]:
        """Verify ``jwt``; return its ``header``, ``payload`` (claims) and ``signature``.

        Raises:
            InvalidTokenError: a subclass saying why the token is rejected.
            InvalidKeyError: the key does not fit the token's algorithm.
        """
        if kwargs:
            _kwargs_warning("decode_complete", kwargs)
        verify_signature = True if options is None else options.get("verify_signature", True)
        if verify is not None and verify != verify_signature:
            warnings.warn(
                "The `verify` argument to `decode` does nothing in PyJWT 2.0 and newer. "
                "The equivalent is setting `verify_signature` to False in the `options` "
                "dictionary. This invocation has a mismatch between the kwarg and the option "
                "entry.",
                category=DeprecationWarning,
                stacklevel=2,
            )
        merged = self._merge_options(options)
        sig_options: SigOptions = {
            "verify_signature": verify_signature,
            "enforce_minimum_key_length": merged.get("enforce_minimum_key_length", False),
        }
        decoded = self._jws.decode_complete(
            jwt,
            key=key,
            algorithms=algorithms,
            options=sig_options,
            detached_payload=detached_payload,
        )
        payload = self._decode_payload(decoded)
        self._validate_claims(
            payload, merged, audience=audience, issuer=issuer, leeway=leeway, subject=subject
        )
        decoded["payload"] = payload
        return decoded

    def _decode_payload(self, decoded: dict[str, Any]) -> dict[str, Any]:
        """Parse the payload with jwtkit's strict JSON (subclasses may decompress first)."""
        try:
            return loads_object(decoded["payload"])
        except JSONError as exc:
            _explain.explain_payload(decoded["payload"], exc)

    def decode(
        self,
        jwt: str | bytes,
        key: Any = "",
        algorithms: Sequence[str] | None = None,
        options: Options | None = None,
        verify: bool | None = None,
        detached_payload: bytes | None = None,
        audience: str | Iterable[str] | None = None,
        subject: str | None = None,
        issuer: str | Container[str] | None = None,
        leeway: float | timedelta = 0,
        **kwargs: Any,
    ) -> dict[str, Any]:
        """Verify ``jwt`` and return its claims.

        ``algorithms`` is required when verifying (it is the allow-list); ``audience``,
        ``issuer`` and ``subject`` are checked when given; ``leeway`` widens the time checks.

        Raises:
            InvalidTokenError: a subclass saying why the token is rejected.
            InvalidKeyError: the key does not fit the token's algorithm.
        """
        if kwargs:
            _kwargs_warning("decode", kwargs)
        decoded = self.decode_complete(
            jwt,
            key,
            algorithms,
            options,
            verify=verify,
            detached_payload=detached_payload,
            audience=audience,
            subject=subject,
            issuer=issuer,
            leeway=leeway,
        )
        return cast("dict[str, Any]", decoded["payload"])

    # -- claims (PyJWT's semantics) --------------------------------------------------------

    def _validate_claims(
        self,
        payload: dict[str, Any],
        options: FullOptions,
        audience: Iterable[str] | str | None = None,
        issuer: Container[str] | str | None = None,
        subject: str | None = None,
        leeway: float | timedelta = 0,
    ) -> None:
        if isinstance(leeway, timedelta):
            leeway = leeway.total_seconds()
        if audience is not None and not isinstance(audience, str | Iterable):
            raise TypeError("audience must be a string, iterable or None")
        self._validate_required_claims(payload, options["require"])
        now = time.time()
        if "iat" in payload and options["verify_iat"]:
            self._validate_iat(payload, now, leeway)
        if "nbf" in payload and options["verify_nbf"]:
            self._validate_nbf(payload, now, leeway)
        if "exp" in payload and options["verify_exp"]:
            self._validate_exp(payload, now, leeway)
        if options["verify_iss"]:
            self._validate_iss(payload, issuer)
        if options["verify_aud"]:
            self._validate_aud(payload, audience, strict=options.get("strict_aud", False))
        if options["verify_sub"]:
            self._validate_sub(payload, subject)
        if options["verify_jti"]:
            self._validate_jti(payload)

    def _validate_required_claims(self, payload: dict[str, Any], claims: Iterable[str]) -> None:
        for claim in claims:
            if payload.get(claim) is None:
                raise MissingRequiredClaimError(claim)

    def _validate_sub(self, payload: dict[str, Any], subject: str | None = None) -> None:
        if "sub" not in payload:
            return
        if not isinstance(payload["sub"], str):
            raise InvalidSubjectError("Subject must be a string")
        if subject is not None and payload["sub"] != subject:
            raise InvalidSubjectError("Invalid subject")

    def _validate_jti(self, payload: dict[str, Any]) -> None:
        if "jti" in payload and not isinstance(payload["jti"], str):
            raise InvalidJTIError("JWT ID must be a string")

    def _validate_iat(self, payload: dict[str, Any], now: float, leeway: float) -> None:
        if _as_int(payload, "iat", InvalidIssuedAtError, "Issued At") > now + leeway:
            raise ImmatureSignatureError("The token is not yet valid (iat)")

    def _validate_nbf(self, payload: dict[str, Any], now: float, leeway: float) -> None:
        if _as_int(payload, "nbf", DecodeError, "Not Before") > now + leeway:
            raise ImmatureSignatureError("The token is not yet valid (nbf)")

    def _validate_exp(self, payload: dict[str, Any], now: float, leeway: float) -> None:
        if _as_int(payload, "exp", DecodeError, "Expiration Time") <= now - leeway:
            raise ExpiredSignatureError("Signature has expired")

    def _validate_aud(
        self,
        payload: dict[str, Any],
        audience: str | Iterable[str] | None,
        *,
        strict: bool = False,
    ) -> None:
        claim = payload.get("aud")
        if audience is None:
            if claim:
                # RFC 7519 §4.1.3: a token for a named audience is not for a party that
                # expects none.
                raise InvalidAudienceError("Invalid audience")
            return
        if not claim:
            raise MissingRequiredClaimError("aud")
        if strict:
            if not isinstance(audience, str):
                raise InvalidAudienceError("Invalid audience (strict)")
            if not isinstance(claim, str):
                raise InvalidAudienceError("Invalid claim format in token (strict)")
            if audience != claim:
                raise InvalidAudienceError("Audience doesn't match (strict)")
            return
        claims = [claim] if isinstance(claim, str) else claim
        if not isinstance(claims, list) or not all(isinstance(c, str) for c in claims):
            raise InvalidAudienceError("Invalid claim format in token")
        expected = [audience] if isinstance(audience, str) else audience
        if all(aud not in claims for aud in expected):
            raise InvalidAudienceError("Audience doesn't match")

    def _validate_iss(self, payload: dict[str, Any], issuer: Container[str] | str | None) -> None:
        if issuer is None:
            return
        if "iss" not in payload:
            raise MissingRequiredClaimError("iss")
        iss = payload["iss"]
        if not isinstance(iss, str):
            raise InvalidIssuerError("Payload Issuer (iss) must be a string")
        if isinstance(issuer, str):
            if iss != issuer:
                raise InvalidIssuerError("Invalid issuer")
            return
        try:
            known = iss in issuer
        except TypeError:
            raise InvalidIssuerError('Issuer param must be "str" or "Container[str]"') from None
        if not known:
            raise InvalidIssuerError("Invalid issuer")


_jwt_global_obj = PyJWT()
_jwt_global_obj._jws = _jws_global_obj
encode = _jwt_global_obj.encode
decode_complete = _jwt_global_obj.decode_complete
decode = _jwt_global_obj.decode
