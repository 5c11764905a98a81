"""ECDSA signature encoding (RFC 7518 §3.4): only the raw fixed-length R||S is a signature.

DER-encoded signatures, signatures one octet too short or too long, r or s equal to zero, and r or
s at or above the group order n are all invalid: each of them is an opening for malleability or
for implementations that disagree about which bytes are "the" signature.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature

from jwtkit import Key, decode, jws
from jwtkit.errors import InvalidSignatureError
from tests.support.forge import b64, forge, octets
from tests.support.vectors import b64url_decode as _b64d

NOW = 1_700_000_000
CLAIMS: dict[str, Any] = {"sub": "alice", "exp": NOW + 600}

CURVES = {
    "ES256": (ec.SECP256R1(), hashes.SHA256(), 32),
    "ES384": (ec.SECP384R1(), hashes.SHA384(), 48),
    "ES512": (ec.SECP521R1(), hashes.SHA512(), 66),
    "ES256K": (ec.SECP256K1(), hashes.SHA256(), 32),
}
ORDERS = {
    "ES256": 0xFFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551,
    "ES384": int(
        "FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFC7634D81F4372DDF581A0DB248B0A77AECEC196ACCC52973",
        16,
    ),
    "ES512": int(
        "686479766013060971498190079908139321726943530014330540939446345918554318339765539424505"
        "7746333217197532963996371363321113864768612440380340372808892707005449"
    ),
    "ES256K": 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141,
}


def _parts(alg: str, key: Key) -> tuple[str, int, int]:
    """Sign with cryptography directly and return (signing input, r, s)."""
    signing_input = f"{b64(octets({'alg': alg}))}.{b64(octets(CLAIMS))}"
    curve, digest, _ = CURVES[alg]
    private = ec.derive_private_key(
        int.from_bytes(_b64d(key.to_jwk(private=True)["d"]), "big"), curve
    )
    der = private.sign(signing_input.encode("ascii"), ec.ECDSA(digest))
    r, s = decode_dss_signature(der)
    return signing_input, r, s


def _raw(r: int, s: int, size: int) -> bytes:
    return r.to_bytes(size, "big") + s.to_bytes(size, "big")


def _rejected(alg: str, key: Key, signing_input: str, signature: bytes) -> None:
    """The token with ``signature`` is an InvalidSignatureError at both layers."""
    token = f"{signing_input}.{b64(signature)}"
    with pytest.raises(InvalidSignatureError):
        decode(token, key.public(), algorithms=[alg], now=NOW)
    with pytest.raises(InvalidSignatureError):
        jws.verify_bytes(alg, key.public(), signing_input.encode("ascii"), signature)


@pytest.mark.parametrize("alg", list(CURVES))
def test_ecdsa_raw_signature_from_cryptography_accepted(
    alg: str, key_for: Callable[[str], Key]
) -> None:
    """Baseline: the correct raw R||S made outside jwtkit verifies (so the rejections below
    are about the encoding, not about the key)."""
    key = key_for(alg)
    signing_input, r, s = _parts(alg, key)
    token = f"{signing_input}.{b64(_raw(r, s, CURVES[alg][2]))}"
    assert decode(token, key.public(), algorithms=[alg], now=NOW) == CLAIMS


@pytest.mark.parametrize("alg", list(CURVES))
def test_ecdsa_der_signature_rejected(alg: str, key_for: Callable[[str], Key]) -> None:
    """A DER (ASN.1) signature of the right message is not a JWS signature."""
    key = key_for(alg)
    signing_input = f"{b64(octets({'alg': alg}))}.{b64(octets(CLAIMS))}"
    curve, digest, _ = CURVES[alg]
    private = ec.derive_private_key(
        int.from_bytes(_b64d(key.to_jwk(private=True)["d"]), "big"), curve
    )
    der = private.sign(signing_input.encode("ascii"), ec.ECDSA(digest))
    _rejected(alg, key, signing_input, der)


@pytest.mark.parametrize("alg", list(CURVES))
def test_ecdsa_wrong_length_signature_rejected(alg: str, key_for: Callable[[str], Key]) -> None:
    """R||S with a leading zero octet added, or with the coordinate size minus one, fails."""
    key = key_for(alg)
    size = CURVES[alg][2]
    signing_input, r, s = _parts(alg, key)
    good = _raw(r, s, size)
    _rejected(alg, key, signing_input, b"\x00" + good)
    _rejected(alg, key, signing_input, good + b"\x00")
    _rejected(alg, key, signing_input, _raw(r, s, size + 1))
    _rejected(alg, key, signing_input, good[:-1])
    _rejected(alg, key, signing_input, b"")
    # Minimal-length integers (what some libraries emit) are not accepted either.
    minimal = r.to_bytes((r.bit_length() + 7) // 8, "big") + s.to_bytes(size, "big")
    if len(minimal) != 2 * size:
        _rejected(alg, key, signing_input, minimal)


@pytest.mark.parametrize("alg", list(CURVES))
def test_ecdsa_r_or_s_zero_rejected(alg: str, key_for: Callable[[str], Key]) -> None:
    """r = 0 or s = 0 is never a valid signature."""
    key = key_for(alg)
    size = CURVES[alg][2]
    signing_input, r, s = _parts(alg, key)
    for bad_r, bad_s in ((0, s), (r, 0), (0, 0)):
        _rejected(alg, key, signing_input, _raw(bad_r, bad_s, size))


@pytest.mark.parametrize("alg", list(CURVES))
def test_ecdsa_r_or_s_out_of_range_rejected(alg: str, key_for: Callable[[str], Key]) -> None:
    """r or s equal to n, or r + n / s + n when that still fits, are out of range."""
    key = key_for(alg)
    size = CURVES[alg][2]
    n = ORDERS[alg]
    signing_input, r, s = _parts(alg, key)
    candidates = [(n, s), (r, n), (n, n)]
    if r + n < 256**size:
        candidates.append((r + n, s))
    if s + n < 256**size:
        candidates.append((r, s + n))
    candidates.append((256**size - 1, s))
    for bad_r, bad_s in candidates:
        _rejected(alg, key, signing_input, _raw(bad_r, bad_s, size))


def test_ecdsa_signature_from_other_curve_length_rejected(key_for: Callable[[str], Key]) -> None:
    """An ES512-sized signature is not accepted for an ES256 token (length is fixed per alg)."""
    key = key_for("ES256")
    token = forge({"alg": "ES256"}, CLAIMS, signature=b"\x01" * 132)
    with pytest.raises(InvalidSignatureError):
        decode(token, key.public(), algorithms=["ES256"], now=NOW)
