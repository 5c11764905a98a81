"""Token encoding rules: canonical base64url, compact serialization only, malformed input classes.

Issue 2: base64url must be canonical (no padding, nothing outside the alphabet, no non-zero
trailing bits) so one token has exactly one string form; only the compact serialization is
accepted; duplicate JSON member names are rejected in the header and the claims (RFC 8725 §3.13
advice); every malformed input (segments, base64url, non-JSON, non-object JSON, invalid UTF-8,
oversize, deep nesting) is a ``MalformedTokenError``, never another exception type.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest

from jwtkit import Key, Verifier, decode, decode_unverified, encode, jws
from jwtkit.errors import InvalidSignatureError, MalformedTokenError
from tests.support.forge import b64, forge

NOW = 1_700_000_000
CLAIMS: dict[str, Any] = {"sub": "alice", "exp": NOW + 600}
ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"


@pytest.fixture
def hs_key(key_for: Callable[[str], Key]) -> Key:
    """The session's HS256 key."""
    return key_for("HS256")


def _rejects(token: str, key: Key) -> None:
    """``token`` is malformed for decode (the Verifier pipeline) and verify_compact alike."""
    with pytest.raises(MalformedTokenError):
        decode(token, key, algorithms=["HS256"], now=NOW)
    with pytest.raises(MalformedTokenError):
        jws.verify_compact(token, key, algorithms=["HS256"])


def _with_trailing_bits(segment: str) -> str:
    """Return ``segment`` with its unused trailing bits set: same octets, other string."""
    unused = {2: 4, 3: 2}[len(segment) % 4]  # characters in the last group -> unused bits
    last = ALPHABET.index(segment[-1])
    assert last & ((1 << unused) - 1) == 0, "canonical input expected"
    return segment[:-1] + ALPHABET[last | 1]


# ----------------------------------------------------------------------- canonical base64url


def test_base64url_padding_rejected(hs_key: Key) -> None:
    """'=' padding on any segment is rejected (one token, one string form)."""
    token = forge({"alg": "HS256", "x": "abcd"}, CLAIMS, hs_key)
    header, payload, sig = token.split(".")
    assert len(sig) % 4 and len(header) % 4, "segments need padding for this test"

    def pad(segment: str) -> str:
        return segment + "=" * (-len(segment) % 4)

    for bad in (
        f"{header}.{payload}.{pad(sig)}",
        f"{pad(header)}.{payload}.{sig}",
        f"{header}.{pad(payload) if len(payload) % 4 else payload + '===='}.{sig}",
    ):
        _rejects(bad, hs_key)


@pytest.mark.parametrize("char", ["+", "/", " ", "?", "*", "\n", "\t", "%", "=", "\u00e9"])
def test_base64url_non_alphabet_characters_rejected(char: str, hs_key: Key) -> None:
    """A character outside the base64url alphabet anywhere in a segment is rejected."""
    token = encode(CLAIMS, hs_key)
    header, payload, sig = token.split(".")
    for bad in (
        f"{header[:5]}{char}{header[5:]}.{payload}.{sig}",
        f"{header}.{payload[:5]}{char}{payload[5:]}.{sig}",
        f"{header}.{payload}.{sig[:5]}{char}{sig[5:]}",
    ):
        _rejects(bad, hs_key)


def test_base64_standard_alphabet_rejected(hs_key: Key) -> None:
    """Standard base64 ('+' and '/') is not base64url, even when it decodes to the same bytes."""
    for _ in range(64):
        token = encode(dict(CLAIMS, n=_), hs_key)
        if "-" in token or "_" in token:
            break
    swapped = token.replace("-", "+").replace("_", "/")
    assert swapped != token
    _rejects(swapped, hs_key)


def test_base64url_nonzero_trailing_bits_rejected(hs_key: Key) -> None:
    """Setting the unused low bits of the last character (same octets!) is rejected."""
    token = forge({"alg": "HS256", "typ": "JWT", "p": "x"}, CLAIMS, hs_key)
    header, payload, sig = token.split(".")
    assert len(sig) % 4 == 3  # 32-byte MAC: 43 characters, 2 unused bits
    _rejects(f"{header}.{payload}.{_with_trailing_bits(sig)}", hs_key)
    if len(header) % 4:
        _rejects(f"{_with_trailing_bits(header)}.{payload}.{sig}", hs_key)
    if len(payload) % 4:
        _rejects(f"{header}.{_with_trailing_bits(payload)}.{sig}", hs_key)


# -------------------------------------------------------------------- compact serialization


def test_json_serialization_refused(hs_key: Key) -> None:
    """Flattened and general JWS JSON serializations of a valid token are refused."""
    header, payload, sig = encode(CLAIMS, hs_key).split(".")
    flattened = {"payload": payload, "protected": header, "signature": sig}
    general = {"payload": payload, "signatures": [{"protected": header, "signature": sig}]}
    for form in (flattened, general):
        text = json.dumps(form)
        _rejects(text, hs_key)
        with pytest.raises(MalformedTokenError):
            decode_unverified(text)


# ------------------------------------------------------------------------ malformed classes


@pytest.mark.parametrize(
    "token",
    ["", ".", "..", "...", "a", "a.b", "a.b.c.d", "a.b.c.d.e", "eyJhbGciOiJIUzI1NiJ9"],
    ids=repr,
)
def test_wrong_segment_count_malformed(token: str, hs_key: Key) -> None:
    """Anything but three segments (or empty segments) is malformed."""
    _rejects(token, hs_key)
    with pytest.raises(MalformedTokenError):
        decode_unverified(token)


def test_extra_and_missing_segments_of_real_token_malformed(hs_key: Key) -> None:
    """A real token with a segment added or removed is malformed."""
    token = encode(CLAIMS, hs_key)
    header, payload, sig = token.split(".")
    for bad in (
        f"{token}.",
        f"{token}.{sig}",
        f"{header}.{payload}",
        f".{token}",
    ):
        with pytest.raises(MalformedTokenError):
            decode(bad, hs_key, algorithms=["HS256"], now=NOW)
    # An empty payload segment is syntactically fine (RFC 7515 allows an empty payload); the
    # signature no longer matches, and the signature is checked before claims are parsed.
    with pytest.raises(InvalidSignatureError):
        decode(f"{header}..{sig}", hs_key, algorithms=["HS256"], now=NOW)


@pytest.mark.parametrize(
    ("what", "header", "payload"),
    [
        ("header-not-json", b"not json", json.dumps(CLAIMS).encode()),
        ("claims-not-json", b'{"alg":"HS256"}', b"not json"),
        ("header-array", b'["alg","HS256"]', json.dumps(CLAIMS).encode()),
        ("header-string", b'"HS256"', json.dumps(CLAIMS).encode()),
        ("header-number", b"1", json.dumps(CLAIMS).encode()),
        ("header-null", b"null", json.dumps(CLAIMS).encode()),
        ("claims-array", b'{"alg":"HS256"}', b"[1,2,3]"),
        ("claims-string", b'{"alg":"HS256"}', b'"sub"'),
        ("claims-null", b'{"alg":"HS256"}', b"null"),
        ("header-invalid-utf8", b'{"alg":"HS256","x":"\xff\xfe"}', json.dumps(CLAIMS).encode()),
        ("claims-invalid-utf8", b'{"alg":"HS256"}', b'{"sub":"\xc3\x28","exp":1}'),
        ("header-trailing-data", b'{"alg":"HS256"} x', json.dumps(CLAIMS).encode()),
        ("claims-trailing-data", b'{"alg":"HS256"}', json.dumps(CLAIMS).encode() + b"{}"),
        ("header-empty", b"", json.dumps(CLAIMS).encode()),
        ("claims-empty", b'{"alg":"HS256"}', b""),
        ("claims-nan", b'{"alg":"HS256"}', b'{"sub":"a","exp":NaN}'),
        ("claims-infinity", b'{"alg":"HS256"}', b'{"sub":"a","exp":Infinity}'),
        ("header-bom", b'\xef\xbb\xbf{"alg":"HS256"}', json.dumps(CLAIMS).encode()),
        ("claims-lone-surrogate", b'{"alg":"HS256"}', b'{"sub":"\\ud800","exp":1800000000}'),
    ],
    ids=lambda v: v if isinstance(v, str) else "",
)
def test_malformed_json_is_malformed_token(
    what: str, header: bytes, payload: bytes, hs_key: Key
) -> None:
    """Correctly signed tokens whose header/claims are not a JSON object are malformed."""
    token = forge(header, payload, hs_key, alg="HS256")
    with pytest.raises(MalformedTokenError):
        decode(token, hs_key, algorithms=["HS256"], now=NOW)
    with pytest.raises(MalformedTokenError):
        decode_unverified(token)


def test_oversize_token_malformed(hs_key: Key) -> None:
    """A correctly signed token over 256 KiB is refused before anything else."""
    big = dict(CLAIMS, blob="x" * (256 * 1024))
    token = encode(big, hs_key)
    assert len(token) > 256 * 1024
    _rejects(token, hs_key)
    with pytest.raises(MalformedTokenError):
        decode_unverified(token)
    # Just under the limit is fine.
    small = dict(CLAIMS, blob="x" * (190 * 1024))
    assert decode(encode(small, hs_key), hs_key, algorithms=["HS256"], now=NOW) == small


def test_oversize_limit_is_configurable(hs_key: Key) -> None:
    """The size limit can be lowered per Verifier (and per verify_compact call)."""
    token = encode(dict(CLAIMS, blob="x" * 2000), hs_key)
    with pytest.raises(MalformedTokenError):
        Verifier(hs_key, algorithms=["HS256"], max_token_size=1024).verify(token, now=NOW)
    with pytest.raises(MalformedTokenError):
        jws.verify_compact(token, hs_key, algorithms=["HS256"], max_size=1024)
    assert Verifier(hs_key, algorithms=["HS256"], max_token_size=4096).verify(token, now=NOW)


@pytest.mark.parametrize("depth", [100, 5000, 100_000])
def test_deeply_nested_json_malformed(depth: int, hs_key: Key) -> None:
    """Very deep nesting in the claims or header is malformed (never a RecursionError)."""
    nested = "[" * depth + "]" * depth
    claims = f'{{"sub":"a","exp":{NOW + 600},"deep":{nested}}}'.encode()
    token = forge({"alg": "HS256"}, claims, hs_key)
    if len(token) <= 256 * 1024:
        with pytest.raises(MalformedTokenError):
            decode(token, hs_key, algorithms=["HS256"], now=NOW)
        with pytest.raises(MalformedTokenError):
            decode_unverified(token)
    header = f'{{"alg":"HS256","deep":{"{" * 0}{nested}}}'.encode()
    token = forge(header, CLAIMS, hs_key, alg="HS256")
    if len(token) <= 256 * 1024:
        _rejects(token, hs_key)
    objects = '{"a":' * depth + "1" + "}" * depth
    token = forge({"alg": "HS256"}, f'{{"sub":"a","exp":1,"deep":{objects}}}'.encode(), hs_key)
    if len(token) <= 256 * 1024:
        with pytest.raises(MalformedTokenError):
            decode(token, hs_key, algorithms=["HS256"], now=NOW)


def test_moderate_nesting_accepted(hs_key: Key) -> None:
    """Ordinary nested claims (a few levels) still decode."""
    claims = dict(CLAIMS, roles={"admin": {"scopes": [["read", "write"], {"x": [1, 2]}]}})
    assert decode(encode(claims, hs_key), hs_key, algorithms=["HS256"], now=NOW) == claims


def test_non_string_token_is_rejected(hs_key: Key) -> None:
    """A token that is not text (None, int, dict) is malformed or a TypeError, nothing else."""
    for value in (None, 12, {"payload": "x"}, ["a", "b", "c"]):
        with pytest.raises((MalformedTokenError, TypeError)):
            decode(value, hs_key, algorithms=["HS256"], now=NOW)  # type: ignore[arg-type]


def test_surrounding_whitespace_malformed(hs_key: Key) -> None:
    """A token with a trailing newline or surrounding spaces is not the token (no stripping)."""
    token = encode(CLAIMS, hs_key)
    for bad in (token + "\n", token + "\r\n", " " + token, token + " ", "\t" + token):
        _rejects(bad, hs_key)


def test_non_ascii_token_malformed(hs_key: Key) -> None:
    """Non-ASCII characters (homoglyphs, full-width dots) make a token malformed."""
    token = encode(CLAIMS, hs_key)
    for bad in (token.replace(".", "\uff0e", 1), "\u0430" + token[1:], token + "\u200b"):
        _rejects(bad, hs_key)


# ------------------------------------------------------------------------ duplicate members


@pytest.mark.parametrize(
    "header",
    [
        b'{"alg":"HS256","typ":"JWT","typ":"JWT"}',
        b'{"alg":"none","alg":"HS256"}',
        b'{"alg":"HS256","alg":"HS256"}',
        b'{"alg":"HS256","kid":"a","kid":"b"}',
        b'{"alg":"HS256","x":{"y":1,"y":2}}',
    ],
    ids=["typ", "alg-none-then-hs256", "alg-same", "kid", "nested"],
)
def test_duplicate_header_members_rejected(header: bytes, hs_key: Key) -> None:
    """Duplicate member names in the protected header make the token malformed."""
    token = forge(header, CLAIMS, hs_key, alg="HS256")
    _rejects(token, hs_key)


@pytest.mark.parametrize(
    "claims",
    [
        b'{"sub":"alice","sub":"admin","exp":1700000600}',
        b'{"sub":"alice","exp":1,"exp":1700000600}',
        b'{"sub":"alice","exp":1700000600,"roles":{"admin":false,"admin":true}}',
    ],
    ids=["sub", "exp", "nested"],
)
def test_duplicate_claims_members_rejected(claims: bytes, hs_key: Key) -> None:
    """Duplicate member names in the claims make the token malformed."""
    token = forge({"alg": "HS256"}, claims, hs_key)
    with pytest.raises(MalformedTokenError):
        decode(token, hs_key, algorithms=["HS256"], now=NOW)
    with pytest.raises(MalformedTokenError):
        decode_unverified(token)


def test_forged_payload_never_yields_claims(hs_key: Key) -> None:
    """Swapping in a different (well-formed) payload fails the signature check."""
    header, _, sig = encode(CLAIMS, hs_key).split(".")
    forged_payload = b64(json.dumps(dict(CLAIMS, sub="admin")).encode())
    with pytest.raises(InvalidSignatureError):
        decode(f"{header}.{forged_payload}.{sig}", hs_key, algorithms=["HS256"], now=NOW)
