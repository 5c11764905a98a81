"""PyJWT's helper functions (``jwt.utils``), for code that calls them directly.

These are conveniences around base64url and integers; the façade's own decoding never uses
the lenient ``base64url_decode`` here, it goes through jwtkit's strict one.
"""

from __future__ import annotations

import base64
import re

from cryptography.hazmat.primitives.asymmetric.ec import EllipticCurve
from cryptography.hazmat.primitives.asymmetric.utils import (
    decode_dss_signature,
    encode_dss_signature,
)

__all__ = [
    "base64url_decode",
    "base64url_encode",
    "bytes_from_int",
    "bytes_to_number",
    "der_to_raw_signature",
    "force_bytes",
    "from_base64url_uint",
    "is_pem_format",
    "is_ssh_key",
    "number_to_bytes",
    "raw_to_der_signature",
    "to_base64url_uint",
]


def force_bytes(value: bytes | str) -> bytes:
    """Return ``value`` as bytes (``str`` is UTF-8 encoded).

    Raises:
        TypeError: ``value`` is neither ``str`` nor ``bytes``.
    """
    if isinstance(value, str):
        return value.encode("utf-8")
    if isinstance(value, bytes):
        return value
    raise TypeError("Expected a string or bytes value")


def base64url_decode(input: bytes | str) -> bytes:
    """Decode base64url, adding the padding it may lack (lenient, as PyJWT's)."""
    data = force_bytes(input)
    return base64.urlsafe_b64decode(data + b"=" * (-len(data) % 4))


def base64url_encode(input: bytes) -> bytes:
    """Encode as unpadded base64url."""
    return base64.urlsafe_b64encode(input).rstrip(b"=")


def bytes_from_int(val: int, *, bit_length: int | None = None) -> bytes:
    """Big-endian bytes of ``val``, as many as ``bit_length`` (default: its own) needs."""
    bits = val.bit_length() if bit_length is None else bit_length
    return val.to_bytes((bits + 7) // 8, "big", signed=False)


def to_base64url_uint(val: int, *, bit_length: int | None = None) -> bytes:
    """base64url of a non-negative integer (RFC 7518 §2 Base64urlUInt).

    Raises:
        ValueError: ``val`` is negative.
    """
    if val < 0:
        raise ValueError("Must be a positive integer")
    return base64url_encode(bytes_from_int(val, bit_length=bit_length) or b"\x00")


def from_base64url_uint(val: bytes | str) -> int:
    """The integer a Base64urlUInt encodes."""
    return int.from_bytes(base64url_decode(val), "big")


def number_to_bytes(num: int, num_bytes: int) -> bytes:
    """``num`` as exactly ``num_bytes`` big-endian bytes."""
    return num.to_bytes(num_bytes, "big")


def bytes_to_number(string: bytes) -> int:
    """The big-endian integer in ``string``."""
    return int.from_bytes(string, "big")


def der_to_raw_signature(der_sig: bytes, curve: EllipticCurve) -> bytes:
    """Convert a DER ECDSA signature to JOSE's fixed-length R||S."""
    size = (curve.key_size + 7) // 8
    r, s = decode_dss_signature(der_sig)
    return number_to_bytes(r, size) + number_to_bytes(s, size)


def raw_to_der_signature(raw_sig: bytes, curve: EllipticCurve) -> bytes:
    """Convert JOSE's R||S to DER.

    Raises:
        ValueError: ``raw_sig`` is not exactly twice the curve's coordinate size.
    """
    size = (curve.key_size + 7) // 8
    if len(raw_sig) != 2 * size:
        raise ValueError("Invalid signature")
    return encode_dss_signature(bytes_to_number(raw_sig[:size]), bytes_to_number(raw_sig[size:]))


_PEM_LABELS = (
    b"CERTIFICATE|TRUSTED CERTIFICATE|PRIVATE KEY|PUBLIC KEY|ENCRYPTED PRIVATE KEY|"
    b"OPENSSH PRIVATE KEY|DSA PRIVATE KEY|RSA PRIVATE KEY|RSA PUBLIC KEY|EC PRIVATE KEY|"
    b"DH PARAMETERS|NEW CERTIFICATE REQUEST|CERTIFICATE REQUEST|SSH2 PUBLIC KEY|"
    b"SSH2 ENCRYPTED PRIVATE KEY|X509 CRL"
)
# A lookahead finds overlapping markers; "----" plus a dash or space on each side matches the
# spellings cryptography's loader tolerates.
_PEM_MARKER = re.compile(b"(?=----[- ](BEGIN|END) (" + _PEM_LABELS + b")[- ]----)")
_SSH_PREFIXES = (
    b"ssh-ed25519",
    b"ssh-rsa",
    b"ssh-dss",
    b"ecdsa-sha2-nistp256",
    b"ecdsa-sha2-nistp384",
    b"ecdsa-sha2-nistp521",
)


def is_pem_format(key: bytes) -> bool:
    """Whether ``key`` holds a PEM block (a BEGIN marker followed later by its END)."""
    begun: dict[bytes, int] = {}
    for match in _PEM_MARKER.finditer(key):
        kind, label = match.group(1), match.group(2)
        if kind == b"BEGIN":
            begun.setdefault(label, match.start())
        elif label in begun and begun[label] < match.start():
            return True
    return False


def is_ssh_key(key: bytes) -> bool:
    """Whether ``key`` starts like an OpenSSH public key."""
    return key.startswith(_SSH_PREFIXES)
