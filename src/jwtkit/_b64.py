"""Strict, canonical base64url (RFC 7515 §2, RFC 4648 §5) without padding.

A token must have exactly one string form, so decoding refuses padding, characters outside
the URL-safe alphabet and non-zero trailing bits (which would let ``...Q`` and ``...R`` carry
the same bytes). The checks cost one table lookup on the last character plus the translate
that the standard library's own urlsafe decoder performs anyway.
"""

from __future__ import annotations

import binascii

__all__ = ["b64decode", "b64encode"]

# Map the URL-safe alphabet onto the standard one and every character that must never occur
# in base64url ("+", "/", "=") onto "?", which binascii's strict mode rejects.
_URL_TO_STD = bytes.maketrans(b"-_+/=", b"+/???")
_STD_TO_URL = bytes.maketrans(b"+/", b"-_")
# With 2 (3) characters in the last quantum, the last character carries 4 (2) unused bits.
_CANON_LAST = {
    2: frozenset(b"AQgw"),
    3: frozenset(b"AEIMQUYcgkosw048"),
}
_PAD = {2: b"==", 3: b"="}


def b64decode(data: bytes) -> bytes:
    """Decode canonical unpadded base64url; raise ``ValueError`` on any other form."""
    rem = len(data) & 3
    pad = b""
    if rem:
        if rem == 1 or data[-1] not in _CANON_LAST[rem]:
            raise ValueError("non-canonical base64url")
        pad = _PAD[rem]
    try:
        return binascii.a2b_base64(data.translate(_URL_TO_STD) + pad, strict_mode=True)
    except binascii.Error:
        raise ValueError("invalid base64url") from None


def b64encode(data: bytes) -> bytes:
    """Encode ``data`` as unpadded base64url."""
    return binascii.b2a_base64(data, newline=False).translate(_STD_TO_URL).rstrip(b"=")
