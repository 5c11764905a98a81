"""Key management: a rotating, encrypted signing key ring with a published JWKS.

::

    from jwtkit.keys import KeyManager, RotationPolicy

    km = KeyManager.open("sqlite:///jwtkit.db", master_key=...)  # or postgresql://, memory://
    signer = km.signer(issuer="https://id.example", audience="api")
    verifier = km.verifier(issuer="https://id.example", audience="api")
    km.jwks()       # publish at /.well-known/jwks.json
    km.maintain()   # from a timer: rotates on schedule, drops expired retired keys

Keys move pending -> active -> retired -> (removed), or to revoked at any time; see
:class:`RotationPolicy`. Private keys are stored encrypted (AES-256-GCM envelope encryption
under a master key); errors are :class:`jwtkit.errors.KeyStoreError` subclasses.
"""

from __future__ import annotations

from ._lifecycle import KeyRecord, RotationPolicy
from ._manager import KeyManager
from ._masterkey import generate_master_key, read_master_key_file

__all__ = [
    "KeyManager",
    "KeyRecord",
    "RotationPolicy",
    "generate_master_key",
    "read_master_key_file",
]
