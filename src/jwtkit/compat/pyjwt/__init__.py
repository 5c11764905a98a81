"""A drop-in for PyJWT 2.x on top of jwtkit: change one import, keep your code.

``import jwtkit.compat.pyjwt as jwt`` gives PyJWT's API (``encode``, ``decode``, ``PyJWT``,
``PyJWS``, ``PyJWK``, ``PyJWKClient``, the exceptions and warnings, the ``jwt.*`` submodules),
with every token verified by jwtkit's one pipeline and every key converted once to a jwtkit
``Key``. Where PyJWT's behaviour is a known weakness, jwtkit's rule is kept (docs/pyjwt.md
lists each difference). ``install()`` makes ``import jwt`` itself load this façade, for
third-party libraries written against PyJWT::

    import jwtkit.compat.pyjwt
    jwtkit.compat.pyjwt.install()   # before anything imports jwt
    import flask_jwt_extended       # now runs on jwtkit
"""

from __future__ import annotations

import sys
from importlib import import_module

from jwtkit.compat.pyjwt.api_jwk import PyJWK, PyJWKSet
from jwtkit.compat.pyjwt.api_jws import (
    PyJWS,
    get_algorithm_by_name,
    get_unverified_header,
    register_algorithm,
    unregister_algorithm,
)
from jwtkit.compat.pyjwt.api_jwt import PyJWT, decode, decode_complete, encode
from jwtkit.compat.pyjwt.exceptions import (
    DecodeError,
    ExpiredSignatureError,
    ImmatureSignatureError,
    InvalidAlgorithmError,
    InvalidAudienceError,
    InvalidIssuedAtError,
    InvalidIssuerError,
    InvalidKeyError,
    InvalidSignatureError,
    InvalidTokenError,
    MissingRequiredClaimError,
    PyJWKClientConnectionError,
    PyJWKClientError,
    PyJWKError,
    PyJWKSetError,
    PyJWTError,
)
from jwtkit.compat.pyjwt.jwks_client import PyJWKClient
from jwtkit.compat.pyjwt.warnings import InsecureKeyLengthWarning

#: The PyJWT release whose API this façade mirrors (code that checks ``jwt.__version__``).
__version__ = "2.15.1"

__all__ = [
    "DecodeError",
    "ExpiredSignatureError",
    "ImmatureSignatureError",
    "InsecureKeyLengthWarning",
    "InvalidAlgorithmError",
    "InvalidAudienceError",
    "InvalidIssuedAtError",
    "InvalidIssuerError",
    "InvalidKeyError",
    "InvalidSignatureError",
    "InvalidTokenError",
    "MissingRequiredClaimError",
    "PyJWK",
    "PyJWKClient",
    "PyJWKClientConnectionError",
    "PyJWKClientError",
    "PyJWKError",
    "PyJWKSet",
    "PyJWKSetError",
    "PyJWS",
    "PyJWT",
    "PyJWTError",
    "decode",
    "decode_complete",
    "encode",
    "get_algorithm_by_name",
    "get_unverified_header",
    "install",
    "register_algorithm",
    "unregister_algorithm",
]

SUBMODULES = (
    "algorithms",
    "api_jwk",
    "api_jws",
    "api_jwt",
    "exceptions",
    "jwk_set_cache",
    "jwks_client",
    "types",
    "utils",
    "warnings",
)


def install() -> None:
    """Register this façade as the module ``jwt`` and its submodules (``jwt.exceptions``,
    ``jwt.algorithms``, ...), so code that does ``import jwt`` runs on jwtkit unchanged.

    Call it before anything imports ``jwt``; calling it again is harmless. This is what
    PyMySQL's ``install_as_MySQLdb()`` does for MySQLdb.

    Raises:
        ImportError: PyJWT (or another ``jwt`` module) is already imported; its objects
            would otherwise mix with the façade's.
    """
    this = sys.modules[__name__]
    existing = sys.modules.get("jwt")
    if existing is this:
        return
    loaded = sorted(name for name in sys.modules if name == "jwt" or name.startswith("jwt."))
    if loaded:
        where = getattr(existing, "__file__", None) or "an unknown location"
        raise ImportError(
            f"the module 'jwt' is already imported (from {where}): call "
            "jwtkit.compat.pyjwt.install() before anything imports jwt"
        )
    sys.modules["jwt"] = this
    for name in SUBMODULES:
        sys.modules[f"jwt.{name}"] = import_module(f"{__name__}.{name}")
