"""What an encrypted PKCS#8 key costs to decrypt, read from its DER before decryption (private).

An ``EncryptedPrivateKeyInfo`` (RFC 5958 §3) names its own key-derivation function and that
function's cost, so whoever writes the file decides how long loading it takes: 16.7 M PBKDF2
iterations took 1.9 s, 2**31 - 1 would take minutes, and from 2**31 up ``cryptography``'s
compiled code panics (issue 19, F6 and F7). ``check_kdf_cost`` reads the parameters that
``cryptography`` would use and refuses a cost over the cap before any derivation runs:

* PBES2 with PBKDF2 (RFC 8018 §6.2, A.2): ``iterationCount``;
* PBES1 and the PKCS#12 PBE schemes (RFC 8018 §6.1, RFC 7292 App. C): ``iterationCount``;
* PBES2 with scrypt (RFC 7914 §7): ``N * r * p``, against ``SCRYPT_MAX_COST``.

Any other scheme is refused: ``cryptography`` supports none. The reader is a strict subset of
DER, enough to walk these structures; whatever it cannot read is refused, never passed on.

``check_dek_info`` does the same for the traditional PEM encryption (RFC 1421 ``DEK-Info``):
an AES IV of 8 to 15 bytes made ``cryptography`` panic (found by ``fuzz/``, issue 19).
"""

from __future__ import annotations

import binascii
import re

from jwtkit.errors import InvalidKeyError

__all__ = [
    "DEFAULT_MAX_KDF_ITERATIONS",
    "SCRYPT_MAX_COST",
    "check_dek_info",
    "check_kdf_cost",
    "encrypted_der",
]

#: The default cap on PBKDF2 (and PKCS#12 PBE) iterations: about a second of work. OpenSSL
#: writes 2048 and ``cryptography`` 2048 too; OWASP's 2023 advice for SHA-256 is 600,000.
DEFAULT_MAX_KDF_ITERATIONS = 10_000_000
#: The cap on scrypt's ``N * r * p``: 2**21 is N = 2**18 with r = 8 (256 MiB, about half a
#: second), 16 times OpenSSL's default of N = 2**14.
SCRYPT_MAX_COST = 2**21

_BEGIN = b"-----BEGIN ENCRYPTED PRIVATE KEY-----"
_END = b"-----END ENCRYPTED PRIVATE KEY-----"
_SEQUENCE, _INTEGER, _OCTET_STRING, _OID = 0x30, 0x02, 0x04, 0x06
_PBES2 = bytes.fromhex("2a864886f70d01050d")  # 1.2.840.113549.1.5.13
_PBKDF2 = bytes.fromhex("2a864886f70d01050c")  # 1.2.840.113549.1.5.12
_SCRYPT = bytes.fromhex("2b06010401da470b")  # 1.3.6.1.4.1.11591.4.11
_PBES1_ARC = bytes.fromhex("2a864886f70d0105")  # 1.2.840.113549.1.5.{1,3,4,6,10,11}
_PKCS12_PBE_ARC = bytes.fromhex("2a864886f70d010c01")  # 1.2.840.113549.1.12.1.{1..6}
_PBES1_LAST = frozenset((1, 3, 4, 6, 10, 11))
_CORRUPT = "could not load the PEM data (corrupt encrypted PKCS#8 key)"
_DEK_INFO = re.compile(rb"^DEK-Info:[ \t]*([^,\r\n]*),([^\r\n]*)", re.M)
# The ciphers cryptography decrypts a traditional PEM with, and their IV in hex digits.
_DEK_IV_HEX = {b"AES-128-CBC": 32, b"AES-256-CBC": 32, b"DES-EDE3-CBC": 16}


def encrypted_der(pem: bytes) -> bytes:
    """Return the DER of the first ``ENCRYPTED PRIVATE KEY`` block of ``pem``.

    Raises:
        InvalidKeyError: no complete block, or its body is not base64.
    """
    start = pem.find(_BEGIN)
    end = pem.find(_END, start)
    if start < 0 or end < 0:
        raise InvalidKeyError(_CORRUPT)
    import base64  # lazy: base64 loads struct, ~1 ms of every CLI start-up (issue 17)

    try:
        der = base64.b64decode(b"".join(pem[start + len(_BEGIN) : end].split()), validate=True)
    except (binascii.Error, ValueError):
        raise InvalidKeyError(_CORRUPT) from None
    return der


def check_dek_info(pem: bytes) -> None:
    """Refuse a traditional encrypted PEM whose ``DEK-Info`` IV does not fit its cipher.

    Raises:
        InvalidKeyError: the IV is longer or shorter than the cipher's block.
    """
    for cipher, iv in _DEK_INFO.findall(pem):
        size = _DEK_IV_HEX.get(cipher.strip())
        if size is not None and len(iv.strip()) != size:
            raise InvalidKeyError("could not load the PEM data (corrupt DEK-Info IV)")


def check_kdf_cost(der: bytes, max_iterations: int) -> None:
    """Refuse the encrypted PKCS#8 key ``der`` if deriving its key costs more than allowed.

    Raises:
        InvalidKeyError: the cost is over the cap, the scheme is unknown, or the DER cannot
            be read.
    """
    epki = _sequence(der, whole=True)
    if len(epki) != 2:
        raise InvalidKeyError(_CORRUPT)
    oid, params = _algorithm(epki[0])
    if oid == _PBES2:
        kdf_and_cipher = _sequence(params)
        if len(kdf_and_cipher) != 2:
            raise InvalidKeyError(_CORRUPT)
        kdf_oid, kdf_params = _algorithm(kdf_and_cipher[0])
        if kdf_oid not in (_PBKDF2, _SCRYPT):
            raise InvalidKeyError("the encrypted key uses an unsupported key-derivation function")
        fields = _sequence(kdf_params)
        if len(fields) < (2 if kdf_oid == _PBKDF2 else 4):
            raise InvalidKeyError(_CORRUPT)
        if kdf_oid == _PBKDF2:
            _check_iterations(_integer(fields[1]), max_iterations)
        else:
            n, r, p = (_integer(field) for field in fields[1:4])
            if n * r * p > SCRYPT_MAX_COST:
                raise InvalidKeyError(
                    f"the encrypted key asks for scrypt with N*r*p = {n * r * p}; jwtkit allows "
                    f"at most {SCRYPT_MAX_COST} (re-encrypt the key with a lower cost)"
                )
        return
    if (oid[:-1] == _PBES1_ARC and oid[-1] in _PBES1_LAST) or (
        oid[:-1] == _PKCS12_PBE_ARC and 1 <= oid[-1] <= 6
    ):
        fields = _sequence(params)
        if len(fields) != 2:
            raise InvalidKeyError(_CORRUPT)
        _check_iterations(_integer(fields[1]), max_iterations)
        return
    raise InvalidKeyError("the encrypted key uses an unsupported encryption scheme")


def _check_iterations(iterations: int, max_iterations: int) -> None:
    if iterations > max_iterations:
        raise InvalidKeyError(
            f"the encrypted key asks for {iterations} key-derivation iterations; jwtkit allows "
            f"at most {max_iterations} (raise max_kdf_iterations= if you trust this file)"
        )


def _element(data: bytes, offset: int) -> tuple[int, bytes, int]:
    """Read the DER element at ``offset``: its tag, its content and the offset after it."""
    if offset + 2 > len(data):
        raise InvalidKeyError(_CORRUPT)
    tag, length = data[offset], data[offset + 1]
    offset += 2
    if tag & 0x1F == 0x1F:  # a multi-byte tag: none occurs in these structures
        raise InvalidKeyError(_CORRUPT)
    if length & 0x80:
        count = length & 0x7F
        if not 1 <= count <= 4 or offset + count > len(data):
            raise InvalidKeyError(_CORRUPT)
        length = int.from_bytes(data[offset : offset + count], "big")
        offset += count
    end = offset + length
    if end > len(data):
        raise InvalidKeyError(_CORRUPT)
    return tag, data[offset:end], end


def _sequence(data: bytes, *, whole: bool = False) -> list[tuple[int, bytes]]:
    """The (tag, content) children of the SEQUENCE that ``data`` holds."""
    tag, content, end = _element(data, 0)
    if tag != _SEQUENCE or (whole and end != len(data)):
        raise InvalidKeyError(_CORRUPT)
    children, offset = [], 0
    while offset < len(content):
        child_tag, child, offset = _element(content, offset)
        children.append((child_tag, child))
    return children


def _algorithm(field: tuple[int, bytes]) -> tuple[bytes, bytes]:
    """An AlgorithmIdentifier: its OID's content bytes and its DER-encoded parameters."""
    tag, content = field
    if tag != _SEQUENCE:
        raise InvalidKeyError(_CORRUPT)
    oid_tag, oid, end = _element(content, 0)
    if oid_tag != _OID or not oid:
        raise InvalidKeyError(_CORRUPT)
    return oid, content[end:]


def _integer(field: tuple[int, bytes]) -> int:
    """A non-negative INTEGER (a negative cost is as corrupt as a missing one)."""
    tag, content = field
    if tag != _INTEGER or not content or content[0] & 0x80:
        raise InvalidKeyError(_CORRUPT)
    return int.from_bytes(content, "big")
