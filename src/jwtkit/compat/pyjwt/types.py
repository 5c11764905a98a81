"""PyJWT's option and JWK types (``jwt.types``)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypedDict

__all__ = ["FullOptions", "HashlibHash", "JWKDict", "Options", "SigOptions"]

JWKDict = dict[str, Any]

HashlibHash = Callable[..., Any]


class SigOptions(TypedDict, total=False):
    """Options of ``PyJWS``: ``verify_signature``, ``enforce_minimum_key_length``."""

    verify_signature: bool
    enforce_minimum_key_length: bool


class Options(TypedDict, total=False):
    """Options of ``decode``/``decode_complete``; each ``verify_*`` defaults to
    ``verify_signature``, ``require`` to ``[]``, ``strict_aud`` and
    ``enforce_minimum_key_length`` to ``False``."""

    verify_signature: bool
    require: list[str]
    strict_aud: bool
    verify_aud: bool
    verify_exp: bool
    verify_iat: bool
    verify_iss: bool
    verify_jti: bool
    verify_nbf: bool
    verify_sub: bool
    enforce_minimum_key_length: bool


class FullOptions(TypedDict):
    """``Options`` with every member present (what ``PyJWT.options`` holds)."""

    verify_signature: bool
    require: list[str]
    strict_aud: bool
    verify_aud: bool
    verify_exp: bool
    verify_iat: bool
    verify_iss: bool
    verify_jti: bool
    verify_nbf: bool
    verify_sub: bool
    enforce_minimum_key_length: bool
