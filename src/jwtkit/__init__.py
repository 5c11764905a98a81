"""jwtkit: JSON Web Tokens with safe defaults and a fast verify path.

The core API::

    from jwtkit import Key, KeySet, Signer, Verifier, encode, decode, decode_unverified, errors

Key management (``jwtkit.keys``), the token service (``jwtkit.server``), the resource-server
side (``jwtkit.client``) and the CLI (``jwtkit.cli``) are layers on top; the core imports none
of them and depends only on ``cryptography``. Names are loaded on first use (PEP 562), so
``import jwtkit`` alone costs almost nothing and a command that never touches a key never pays
for loading the cryptography backend.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

from jwtkit import errors

if TYPE_CHECKING:
    from jwtkit._pipeline import decode_unverified
    from jwtkit.jwk import Key, KeySet
    from jwtkit.jws import KeySource
    from jwtkit.jwt import Signer, SigningKeySource, Verifier, decode, encode

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

_LAZY = {
    "Key": "jwtkit.jwk",
    "KeySet": "jwtkit.jwk",
    "KeySource": "jwtkit.jws",
    "Signer": "jwtkit.jwt",
    "SigningKeySource": "jwtkit.jwt",
    "Verifier": "jwtkit.jwt",
    "decode": "jwtkit.jwt",
    "decode_unverified": "jwtkit._pipeline",
    "encode": "jwtkit.jwt",
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'jwtkit' has no attribute {name!r}")
    value = getattr(import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(__all__)
