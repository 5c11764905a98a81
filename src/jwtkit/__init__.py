"""jwtkit: JSON Web Tokens with safe defaults and a fast verify path.

The core API::

    from jwtkit import Key, KeySet, Signer, Verifier, encode, decode, decode_unverified, errors

Key management (``jwtkit.keys``), the token service (``jwtkit.server``), the resource-server
side (``jwtkit.client``) and the CLI (``jwtkit.cli``) are layers on top; the core imports none
of them and depends only on ``cryptography``.
"""

from __future__ import annotations

from jwtkit import errors
from jwtkit.jwk import Key, KeySet
from jwtkit.jws import KeySource
from jwtkit.jwt import Signer, SigningKeySource, Verifier, decode, decode_unverified, encode

__version__ = "0.1.0"

__all__ = [
    "Key",
    "KeySet",
    "KeySource",
    "Signer",
    "SigningKeySource",
    "Verifier",
    "__version__",
    "decode",
    "decode_unverified",
    "encode",
    "errors",
]
