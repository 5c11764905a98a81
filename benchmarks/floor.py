"""The floor: the least code that signs and verifies a JWT correctly on ``cryptography``.

This is the baseline every library is measured against (issue 6). It does what any JWT
library must do and nothing more: split, base64url, ``json``, the primitive, and the ``alg``,
``exp``, ``iss`` and ``aud`` compares. It does not check canonical base64url, duplicate JSON
members, ``crit``, sizes, nesting depth, key strength or header types; the gap between the
floor and a library is the price of that library's extra work (and of its overheads).

Keys are prepared once (padding and hash objects made up front), as a careful hand-written
verifier would. It uses the standard ``base64`` module, as minimal code would.
"""

from __future__ import annotations

import base64
import hmac
import json
import time
from collections.abc import Callable
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, padding
from cryptography.hazmat.primitives.asymmetric.utils import (
    decode_dss_signature,
    encode_dss_signature,
)

from benchmarks._common import AUDIENCE, ISSUER, KID, Material, Ops, full_claims

__all__ = ["make_ops", "make_primitive_ops", "sign_token"]

_HASH: dict[str, Callable[[], hashes.HashAlgorithm]] = {
    "256": hashes.SHA256,
    "384": hashes.SHA384,
    "512": hashes.SHA512,
}
_EC_SIZE = {"ES256": 32, "ES256K": 32, "ES384": 48, "ES512": 66}

SignFn = Callable[[bytes], bytes]
VerifyFn = Callable[[bytes, bytes], bool]


def _b64e(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _b64d(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _primitives(material: Material) -> tuple[SignFn, VerifyFn]:
    """Return (sign, verify) closures over the prepared key for the case's algorithm."""
    alg, priv, pub = material.alg, material.private, material.public
    bits = alg[2:5]  # "HS256" -> "256", also "ES256K" -> "256"
    if alg.startswith("HS"):
        digest = "sha" + bits

        def hs_verify(data: bytes, sig: bytes) -> bool:
            return hmac.compare_digest(hmac.digest(pub, data, digest), sig)

        return (lambda data: hmac.digest(priv, data, digest)), hs_verify
    if alg[:2] in ("RS", "PS"):
        h = _HASH[bits]()
        pad: padding.AsymmetricPadding = (
            padding.PKCS1v15()
            if alg.startswith("RS")
            else padding.PSS(mgf=padding.MGF1(h), salt_length=h.digest_size)
        )
        return (lambda data: priv.sign(data, pad, h)), _raising(
            lambda data, sig: pub.verify(sig, data, pad, h)
        )
    if alg.startswith("ES"):
        ecdsa, size = ec.ECDSA(_HASH[bits]()), _EC_SIZE[alg]

        def es_sign(data: bytes) -> bytes:
            r, s = decode_dss_signature(priv.sign(data, ecdsa))
            return r.to_bytes(size, "big") + s.to_bytes(size, "big")

        def es_verify(data: bytes, sig: bytes) -> None:
            r = int.from_bytes(sig[:size], "big")
            s = int.from_bytes(sig[size:], "big")
            pub.verify(encode_dss_signature(r, s), data, ecdsa)

        return es_sign, _raising(es_verify)
    # EdDSA and ML-DSA: the signature is the primitive's raw output.
    return priv.sign, _raising(lambda data, sig: pub.verify(sig, data))


def _raising(fn: Callable[[bytes, bytes], object]) -> VerifyFn:
    def verify(data: bytes, sig: bytes) -> bool:
        try:
            fn(data, sig)
        except InvalidSignature:
            return False
        return True

    return verify


def sign_token(material: Material, claims: dict[str, Any], header: dict[str, Any]) -> str:
    """Sign ``claims`` under ``header`` exactly (used to build the shared inputs and checks)."""
    sign, _ = _primitives(material)
    head = _b64e(json.dumps(header, separators=(",", ":")).encode())
    body = _b64e(json.dumps(claims, separators=(",", ":")).encode())
    signing_input = f"{head}.{body}"
    return f"{signing_input}.{_b64e(sign(signing_input.encode('ascii')))}"


def make_ops(material: Material) -> Ops:
    """Prepare the floor's sign and verify for one case."""
    alg = material.alg
    sign_fn, verify_fn = _primitives(material)
    header = {"alg": alg, "typ": "JWT", "kid": KID}
    dumps, loads = json.dumps, json.loads

    def sign(claims: dict[str, Any]) -> str:
        # The header is serialized per token, as a minimal ``sign(claims, key)`` function does.
        head = _b64e(dumps(header, separators=(",", ":")).encode())
        signing_input = f"{head}.{_b64e(dumps(claims, separators=(',', ':')).encode())}"
        return f"{signing_input}.{_b64e(sign_fn(signing_input.encode('ascii')))}"

    def verify(token: str) -> dict[str, Any]:
        signing_input, _, sig = token.rpartition(".")
        head, _, body = signing_input.partition(".")
        if loads(_b64d(head)).get("alg") != alg:
            raise ValueError("algorithm not allowed")
        if not verify_fn(signing_input.encode("ascii"), _b64d(sig)):
            raise ValueError("bad signature")
        claims: dict[str, Any] = loads(_b64d(body))
        if not claims["exp"] > time.time():
            raise ValueError("expired")
        if claims["iss"] != ISSUER:
            raise ValueError("wrong issuer")
        aud = claims["aud"]
        if aud != AUDIENCE and not (type(aud) is list and AUDIENCE in aud):
            raise ValueError("wrong audience")
        return claims

    return Ops(sign, verify)


def make_primitive_ops(material: Material) -> Ops:
    """Only the ``cryptography`` call on a fixed signing input: the cost under everything.

    The difference between a library's row and this one is what the library spends outside
    the primitive (parsing, JSON, base64url, checks, call overhead). It validates nothing, so
    it is excluded from the validation checks and from the comparisons with peers.
    """
    sign_fn, verify_fn = _primitives(material)
    header = {"alg": material.alg, "typ": "JWT", "kid": KID}
    token = sign_token(material, full_claims(), header)
    signing_input, _, sig = token.rpartition(".")
    data, signature = signing_input.encode("ascii"), _b64d(sig)
    claims: dict[str, Any] = {}

    def sign(_claims: dict[str, Any]) -> str:
        sign_fn(data)
        return token

    def verify(_token: str) -> dict[str, Any]:
        if not verify_fn(data, signature):
            raise ValueError("bad signature")
        return claims

    return Ops(sign, verify, note="the primitive alone, no token work")
