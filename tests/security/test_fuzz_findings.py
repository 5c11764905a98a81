"""Regression tests for the fuzzing findings of issue 19, one named test per finding (F1-F9).

Each input made jwtkit raise something other than a ``jwtkit.errors`` exception, or made a call
take seconds to minutes. The slow ones are shown to be refused *before* the work (their error
names the cap that stopped them); pytest-timeout only guards against a hang.
"""

from __future__ import annotations

import base64
import re
from typing import Any

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from jwtkit import Key, KeySet, Verifier, decode, decode_unverified, encode
from jwtkit.errors import (
    ExpiredTokenError,
    InvalidClaimError,
    InvalidKeyError,
    MalformedTokenError,
    NotYetValidError,
)
from tests.support.forge import b64

NOW = 1_700_000_000
PBES2 = "2a864886f70d01050d"
PBKDF2 = "2a864886f70d01050c"
SCRYPT = "2b06010401da470b"
PKCS12_3DES = "2a864886f70d010c0103"
# 2**2047 + 1919 is prime (a probable prime under 30 Miller-Rabin rounds; the test re-checks it
# with a Fermat test).
PRIME_2048 = 2**2047 + 1919
HMAC_SHA256 = "2a864886f70d0209"
AES256_CBC = "60864801650304012a"
AES128_CBC = "608648016503040102"
EncryptedParts = tuple[bytes, bytes, bytes]  # salt, IV, ciphertext


# -- a little DER, to write encrypted PKCS#8 files with chosen parameters -------------------


def tlv(tag: int, content: bytes) -> bytes:
    """One DER element."""
    size = len(content)
    if size < 0x80:
        return bytes([tag, size]) + content
    raw = size.to_bytes((size.bit_length() + 7) // 8, "big")
    return bytes([tag, 0x80 | len(raw)]) + raw + content


def seq(*children: bytes) -> bytes:
    return tlv(0x30, b"".join(children))


def integer(value: int) -> bytes:
    return tlv(0x02, value.to_bytes(value.bit_length() // 8 + 1, "big"))


def oid(hex_content: str) -> bytes:
    return tlv(0x06, bytes.fromhex(hex_content))


def epki(algorithm: bytes, ciphertext: bytes = b"\x00" * 48) -> bytes:
    """An EncryptedPrivateKeyInfo (RFC 5958 §3) around ``algorithm``."""
    return seq(algorithm, tlv(0x04, ciphertext))


def pbkdf2_der(iterations: int, parts: EncryptedParts) -> bytes:
    """PBES2 with PBKDF2-HMAC-SHA256 and AES-256-CBC, as cryptography writes it."""
    salt, iv, ciphertext = parts
    prf = seq(oid(HMAC_SHA256), tlv(0x05, b""))
    kdf = seq(oid(PBKDF2), seq(tlv(0x04, salt), integer(iterations), prf))
    cipher = seq(oid(AES256_CBC), tlv(0x04, iv))
    return epki(seq(oid(PBES2), seq(kdf, cipher)), ciphertext)


def children(content: bytes) -> list[bytes]:
    """The contents of the DER elements that follow one another in ``content``."""
    out, offset = [], 0
    while offset < len(content):
        _, child, offset = element(content, offset)
        out.append(child)
    return out


def element(der: bytes, offset: int) -> tuple[int, bytes, int]:
    tag, length, offset = der[offset], der[offset + 1], offset + 2
    if length & 0x80:
        count = length & 0x7F
        length, offset = int.from_bytes(der[offset : offset + count]), offset + count
    return tag, der[offset : offset + length], offset + length


def pem(der: bytes, label: str = "ENCRYPTED PRIVATE KEY") -> bytes:
    body = base64.encodebytes(der)
    return f"-----BEGIN {label}-----\n".encode() + body + f"-----END {label}-----\n".encode()


@pytest.fixture(scope="module")
def encrypted_ec_key() -> tuple[bytes, EncryptedParts]:
    """A P-256 key encrypted by cryptography (PBES2, PBKDF2, 2048 iterations) and its salt, IV
    and ciphertext, to write the same file with other parameters."""
    private = ec.generate_private_key(ec.SECP256R1())
    der = private.private_bytes(
        serialization.Encoding.DER,
        serialization.PrivateFormat.PKCS8,
        serialization.BestAvailableEncryption(b"pw"),
    )
    algorithm, ciphertext = children(element(der, 0)[1])
    _, pbes2 = children(algorithm)
    kdf, cipher = children(pbes2)
    salt = children(children(kdf)[1])[0]
    iv = children(cipher)[1]
    return der, (salt, iv, ciphertext)


# -- F1, F2, F8: str input that UTF-8 cannot encode -----------------------------------------


def test_f1_str_secret_with_lone_surrogates_is_invalid_key() -> None:
    with pytest.raises(InvalidKeyError, match="surrogate"):
        Key.from_secret("\udc80" * 32)


@pytest.mark.parametrize("load", [Key.from_jwk, KeySet.from_jwks], ids=["from_jwk", "from_jwks"])
def test_f2_jwk_text_with_lone_surrogates_is_invalid_key(load: Any) -> None:
    with pytest.raises(InvalidKeyError, match="surrogate"):
        load("\udc80")


def test_f8_password_with_lone_surrogates_is_invalid_key() -> None:
    with pytest.raises(InvalidKeyError, match="surrogate"):
        Key.from_pem(b"x", password="\udc80")
    with pytest.raises(InvalidKeyError, match="surrogate"):
        Key.generate("ES256").to_pem(private=True, password="\udc80")


# -- F3: member names of hostile types in a JWK Set -----------------------------------------


@pytest.mark.parametrize(
    ("member", "name"),
    [
        ({"kty": []}, "kty"),
        ({"kty": "RSA", "alg": {}}, "alg"),
        ({"kty": "OKP", "crv": []}, "crv"),
        ({"kty": 5}, "kty"),
    ],
    ids=["kty-list", "alg-object", "crv-list", "kty-number"],
)
def test_f3_jwks_member_names_of_hostile_type_are_invalid_key(
    member: dict[str, Any], name: str
) -> None:
    with pytest.raises(InvalidKeyError, match=f"'{name}' must be a string"):
        KeySet.from_jwks({"keys": [member]})
    with pytest.raises(InvalidKeyError):
        Key.from_jwk(member)


# -- F4: a number that overflows a double -----------------------------------------------------

F4_DOCUMENT = '{"a":"\\ud83d\\ude00","b":1e400}'


def test_f4_out_of_range_number_is_invalid_key_and_malformed_token() -> None:
    with pytest.raises(InvalidKeyError, match="out of range"):
        Key.from_jwk(F4_DOCUMENT)
    with pytest.raises(InvalidKeyError, match="out of range"):
        KeySet.from_jwks('{"keys":[],"a":"\\ud83d\\ude00","b":1e400}')
    # The token path refuses the same document, with or without the surrogate pair that sent
    # it through the re-encoding check.
    for claims in (F4_DOCUMENT, '{"b":-1e400}'):
        token = b64(b'{"alg":"HS256"}') + "." + b64(claims.encode()) + ".sig"
        with pytest.raises(MalformedTokenError, match="out of range"):
            decode_unverified(token)
    key = Key.from_secret(b"k" * 32)
    assert decode(encode({"n": 1.5e308}, key), key, algorithms=["HS256"], require=()) == {
        "n": 1.5e308
    }


# -- F5: RSA prime recovery ------------------------------------------------------------------


@pytest.mark.timeout(30)
def test_f5_rsa_prime_recovery_refuses_large_modulus() -> None:
    """The issue's input (a 20,016-bit modulus) is refused by size, before any arithmetic."""
    with pytest.raises(InvalidKeyError, match="at most 16384 bits"):
        Key.from_jwk({"kty": "RSA", "n": "_" * 3336, "e": "AQAB", "d": "_" * 3336})
    # Under the general maximum, a key without p and q is recovered only up to 4096 bits.
    n = (1 << 5000) | 1
    with pytest.raises(InvalidKeyError, match="must include 'p' and 'q'"):
        Key.from_jwk({"kty": "RSA", "n": _b64int(n), "e": "AQAB", "d": _b64int(n - 2)})


@pytest.mark.timeout(30)
def test_f5_rsa_prime_recovery_refuses_prime_modulus() -> None:
    """A prime n with a matching d made every recovery round fail, at full cost."""
    n = PRIME_2048
    assert pow(2, n - 1, n) == 1
    d = pow(65537, -1, n - 1)
    with pytest.raises(InvalidKeyError, match="not a product of two primes"):
        Key.from_jwk({"kty": "RSA", "n": _b64int(n), "e": "AQAB", "d": _b64int(d)})
    # A prime square shares its prime with e*d - 1 and is refused when the key is built.
    p = 2**1023 + 1155  # not prime: the key build refuses it either way
    square = p * p
    d = pow(65537, -1, p * (p - 1))
    with pytest.raises(InvalidKeyError):
        Key.from_jwk({"kty": "RSA", "n": _b64int(square), "e": "AQAB", "d": _b64int(d)})


def test_f5_rsa_members_larger_than_the_modulus_are_refused(key_for: Any) -> None:
    rsa_key = key_for("RS256")
    jwk = rsa_key.to_jwk(private=True)
    too_big = _b64int(1 << rsa_key.size)
    for name in ("e", "d", "p", "q", "dp", "dq", "qi"):
        with pytest.raises(InvalidKeyError, match=f"'{name}' is not smaller than the modulus"):
            Key.from_jwk({**jwk, name: too_big})


def test_f5_rsa_primes_still_recovered_from_d(key_for: Any) -> None:
    full = key_for("RS256").to_jwk(private=True)
    bare = {name: full[name] for name in ("kty", "n", "e", "d")}
    recovered = Key.from_jwk(bare).to_jwk(private=True)
    assert recovered == {name: value for name, value in full.items() if name != "alg"}
    wrong_d = {**bare, "d": _b64int(int.from_bytes(base64.urlsafe_b64decode(full["d"] + "==")) + 2)}
    with pytest.raises(InvalidKeyError):
        Key.from_jwk(wrong_d)


# -- F6, F7: the cost an encrypted PKCS#8 key sets for itself --------------------------------


@pytest.mark.timeout(30)
def test_f6_pbkdf2_iterations_over_cap_refused_before_derivation(
    encrypted_ec_key: tuple[bytes, EncryptedParts],
) -> None:
    der, parts = encrypted_ec_key
    assert pbkdf2_der(2048, parts) == der  # the builder writes what cryptography wrote
    assert Key.from_pem(pem(der), password="pw").kty == "EC"
    with pytest.raises(InvalidKeyError, match="at most 10000000"):
        Key.from_pem(pem(pbkdf2_der(10_000_001, parts)), password="pw")
    with pytest.raises(InvalidKeyError, match=r"asks for 2147483647 .* at most 2147483646"):
        Key.from_pem(
            pem(pbkdf2_der(2**31 - 1, parts)), password=b"pw", max_kdf_iterations=2**31 - 2
        )


def test_f6_pbkdf2_cap_is_configurable(encrypted_ec_key: tuple[bytes, EncryptedParts]) -> None:
    der, _ = encrypted_ec_key
    with pytest.raises(InvalidKeyError, match="at most 1000 "):
        Key.from_pem(pem(der), password="pw", max_kdf_iterations=1000)
    assert Key.from_pem(pem(der), password="pw", max_kdf_iterations=2048).kty == "EC"


@pytest.mark.parametrize(
    ("algorithm", "message"),
    [
        (seq(oid(PKCS12_3DES), seq(tlv(0x04, b"s" * 8), integer(10**8))), "at most 10000000"),
        (
            seq(
                oid(PBES2),
                seq(
                    seq(
                        oid(SCRYPT),
                        seq(tlv(0x04, b"s" * 16), integer(2**20), integer(8), integer(1)),
                    ),
                    seq(oid(AES128_CBC), tlv(0x04, b"\x00" * 16)),
                ),
            ),
            "N\\*r\\*p = 8388608",
        ),
        (
            seq(oid(PBES2), seq(seq(oid("2a0304")), seq(oid("2a0305")))),
            "unsupported key-derivation",
        ),
        (seq(oid("2a0304"), tlv(0x05, b"")), "unsupported encryption scheme"),
        (seq(oid(PBES2), tlv(0x05, b"")), "corrupt"),
    ],
    ids=["pkcs12-pbe", "scrypt", "unknown-kdf", "unknown-scheme", "corrupt"],
)
def test_f6_other_schemes_are_capped_or_refused(algorithm: bytes, message: str) -> None:
    with pytest.raises(InvalidKeyError, match=message):
        Key.from_pem(pem(epki(algorithm)), password="pw")


def test_f6_only_the_checked_block_is_decrypted(
    encrypted_ec_key: tuple[bytes, EncryptedParts],
) -> None:
    """A costly block placed after a cheap one (or the other way round) cannot slip past: the
    first ENCRYPTED PRIVATE KEY block is checked, and only its DER is decrypted."""
    der, parts = encrypted_ec_key
    costly = pem(pbkdf2_der(10**9, parts))
    with pytest.raises(InvalidKeyError, match="at most 10000000"):
        Key.from_pem(costly + pem(der), password="pw")
    assert Key.from_pem(pem(der) + costly, password="pw").kty == "EC"
    with pytest.raises(InvalidKeyError, match="corrupt"):
        Key.from_pem(
            b"-----BEGIN ENCRYPTED PRIVATE KEY-----\n!!!\n-----END ENCRYPTED PRIVATE KEY-----",
            password="pw",
        )


@pytest.mark.timeout(30)
def test_f7_iteration_count_from_2_31_is_invalid_key(
    encrypted_ec_key: tuple[bytes, EncryptedParts],
) -> None:
    """Refused by the cap by default; with the cap lifted, cryptography's compiled code panics
    (PanicException, a BaseException) and the backend seam turns that into InvalidKeyError."""
    _, parts = encrypted_ec_key
    data = pem(pbkdf2_der(2**31, parts))
    with pytest.raises(InvalidKeyError, match="at most 10000000"):
        Key.from_pem(data, password="pw")
    with pytest.raises(InvalidKeyError, match="cryptography failed") as info:
        Key.from_pem(data, password="pw", max_kdf_iterations=2**40)
    assert type(info.value.__cause__).__name__ == "PanicException"


@pytest.mark.parametrize(
    ("cipher", "iv"),
    [("AES-128-CBC", "0011223344556677"), ("AES-256-CBC", "00" * 15), ("DES-EDE3-CBC", "00" * 9)],
)
def test_f13_dek_info_iv_of_the_wrong_size_is_invalid_key_without_a_panic(
    capfd: pytest.CaptureFixture[str], cipher: str, iv: str
) -> None:
    """Found by the harness (from_pem): a traditional encrypted PEM whose DEK-Info AES IV has
    8 to 15 bytes made cryptography's compiled code panic (``assertion failed: iv_len <=
    iv.len()``). The seam turned the panic into InvalidKeyError, but Rust had printed it on
    stderr first; the IV is now checked before cryptography sees the key."""
    private = ec.generate_private_key(ec.SECP256R1()).private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.TraditionalOpenSSL,
        serialization.BestAvailableEncryption(b"pw"),
    )
    data = re.sub(rb"DEK-Info: [^\n]*", f"DEK-Info: {cipher},{iv}".encode(), private)
    with pytest.raises(InvalidKeyError, match="DEK-Info IV") as info:
        Key.from_pem(data, password="pw")
    assert info.value.__cause__ is None
    assert "panicked" not in capfd.readouterr().err
    assert Key.from_pem(private, password="pw").kty == "EC"


# -- F9: claim times too large for a float ---------------------------------------------------


@pytest.mark.parametrize("now", [None, float(NOW), NOW], ids=["clock", "float-now", "int-now"])
@pytest.mark.parametrize(
    ("claims", "name"),
    [
        ({"iat": -(10**400), "exp": 2**40}, "iat"),
        ({"exp": 10**400}, "exp"),
        ({"exp": 2**40, "nbf": -(10**400)}, "nbf"),
    ],
    ids=["iat", "exp", "nbf"],
)
def test_f9_claim_time_out_of_float_range_is_invalid_claim(
    claims: dict[str, Any], name: str, now: float | None
) -> None:
    key = Key.from_secret(b"k" * 32)
    token = encode(claims, key)
    max_age = 60 if name == "iat" else None  # F9 itself: the max_age check on iat
    verifier = Verifier(key, algorithms=["HS256"], max_age=max_age, require=())
    with pytest.raises(InvalidClaimError) as info:
        verifier.verify(token, now=now)
    assert info.value.claim == name


def test_f9_claim_times_in_range_still_checked_at_the_boundary() -> None:
    key = Key.from_secret(b"k" * 32)
    verifier = Verifier(key, algorithms=["HS256"], max_age=60, leeway=5)
    for now in (NOW, float(NOW)):
        assert verifier.verify(encode({"exp": NOW - 4, "iat": NOW - 65}, key), now=now)
        for claims in ({"exp": NOW - 5, "iat": NOW}, {"exp": NOW + 9, "iat": NOW - 66}):
            with pytest.raises(ExpiredTokenError):
                verifier.verify(encode(claims, key), now=now)
        with pytest.raises(NotYetValidError):
            verifier.verify(encode({"exp": NOW + 9, "iat": NOW + 6}, key), now=now)
        with pytest.raises(NotYetValidError):
            verifier.verify(encode({"exp": NOW + 9, "iat": NOW, "nbf": NOW + 6}, key), now=now)
        assert verifier.verify(encode({"exp": NOW + 9, "iat": NOW, "nbf": NOW + 5}, key), now=now)
    with pytest.raises(ValueError, match="finite"):
        verifier.verify(encode({"exp": NOW + 9}, key), now=10**400)


def _b64int(value: int) -> str:
    return b64(value.to_bytes((value.bit_length() + 7) // 8, "big"))
