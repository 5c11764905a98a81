"""Helpers for the key-store tests that play the attacker with database access."""

from __future__ import annotations

import os

from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from jwtkit._b64 import b64decode, b64encode
from jwtkit.keys._masterkey import _aad


def legacy_check(master_key: str, store_id: str) -> str:
    """Return a version 1 check value, as a store written before the ring MAC holds."""
    nonce = os.urandom(12)
    sealed = AESGCM(b64decode(master_key.encode())).encrypt(
        nonce, b"jwtkit master key check v1", _aad(b"check", store_id, "")
    )
    return b64encode(nonce + sealed).decode()
