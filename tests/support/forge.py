"""Build hostile tokens byte by byte for the security tests.

jwtkit's own encoder refuses to produce most of these (duplicate members, ``alg: none``, odd
``crit``), so the tests assemble header and payload octets themselves and sign the exact signing
input with ``jws.sign_bytes`` (or with the standard library's ``hmac`` where the attack is that the
*attacker* computes the MAC).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from collections.abc import Mapping
from typing import Any

from jwtkit import Key, jws

__all__ = ["b64", "forge", "hmac_token", "octets"]


def b64(data: bytes) -> str:
    """Canonical unpadded base64url."""
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def octets(value: Mapping[str, Any] | bytes | str) -> bytes:
    """Serialize a mapping as compact JSON; pass bytes through; encode text as UTF-8."""
    if isinstance(value, bytes):
        return value
    if isinstance(value, str):
        return value.encode("utf-8")
    return json.dumps(value, separators=(",", ":")).encode("utf-8")


def forge(
    header: Mapping[str, Any] | bytes | str,
    payload: Mapping[str, Any] | bytes | str,
    key: Key | None = None,
    *,
    alg: str | None = None,
    signature: bytes | None = None,
) -> str:
    """Return ``b64(header).b64(payload).b64(sig)`` signed over exactly those octets.

    ``alg`` defaults to the header's ``alg``; with no key and no signature the signature segment
    is empty (an unsecured JWS).
    """
    signing_input = f"{b64(octets(header))}.{b64(octets(payload))}"
    if signature is None:
        if key is None:
            signature = b""
        else:
            if alg is None:
                assert isinstance(header, Mapping)
                alg = str(header["alg"])
            signature = jws.sign_bytes(alg, key, signing_input.encode("ascii"))
    return f"{signing_input}.{b64(signature)}"


def hmac_token(
    header: Mapping[str, Any] | bytes | str,
    payload: Mapping[str, Any] | bytes | str,
    secret: bytes,
    digest: str = "sha256",
) -> str:
    """Return a token MACed with the raw ``secret`` by the standard library (attacker's view)."""
    signing_input = f"{b64(octets(header))}.{b64(octets(payload))}"
    mac = hmac.new(secret, signing_input.encode("ascii"), getattr(hashlib, digest)).digest()
    return f"{signing_input}.{b64(mac)}"
