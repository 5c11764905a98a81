"""RFC 7515 Appendix A examples (JWS), from ``rfc-examples/``.

* A.1 (HS256) and A.2 (RS256) are deterministic: the signature is recreated byte for byte with
  ``jws.sign_bytes`` over the exact signing input (A.1's header contains CRLF, so it cannot come
  out of a JSON serializer; only the signature is compared). A.2's header is exactly
  ``{"alg":"RS256"}``, so ``jws.sign_compact`` must reproduce the whole token.
* A.3 (ES256) and A.4 (ES512) are randomized: the printed token verifies, and a fresh signature
  from the same key has the fixed RFC 7518 §3.4 length and verifies.
* A.5 (``alg: none``) is rejected, whatever the allow-list says.
* A.6 / A.7 (JSON serializations) are rejected: jwtkit only accepts the compact form.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from jwtkit import Key, decode, jws
from jwtkit.errors import (
    AlgorithmNotAllowedError,
    InvalidSignatureError,
    MalformedTokenError,
    UnsupportedAlgorithmError,
)
from tests.support.vectors import b64url_decode, rfc_example

VALID = ["rfc7515_A.1_HS256", "rfc7515_A.2_RS256", "rfc7515_A.3_ES256", "rfc7515_A.4_ES512"]
DETERMINISTIC = ["rfc7515_A.1_HS256", "rfc7515_A.2_RS256"]

#: ``sign_compact`` adds ``typ: JWT`` by default; a ``None`` value removes it, so the
#: protected header is exactly ``{"alg":...}`` as printed in the RFC.
NO_TYP: dict[str, None] = {"typ": None}


def _id(name: str) -> str:
    """``rfc7515_A.1_HS256`` -> ``rfc7515-A.1-HS256``."""
    return name.replace("_", "-")


@pytest.mark.parametrize("name", VALID, ids=_id)
def test_rfc7515_compact_example_verifies(name: str) -> None:
    """The printed token verifies and yields the exact header and payload octets."""
    ex = rfc_example(name)
    key = Key.from_jwk(ex["jwk"])
    header, payload = jws.verify_compact(ex["token"], key, algorithms=[ex["alg"]])
    assert header == json.loads(ex["header"])
    assert payload == ex["payload"].encode("utf-8")
    assert payload == b64url_decode(ex["payload_b64u"])


@pytest.mark.parametrize("name", VALID, ids=_id)
def test_rfc7515_example_verifies_with_public_key(name: str) -> None:
    """The public half alone verifies (HMAC keys have no public half: they verify themselves)."""
    ex = rfc_example(name)
    key = Key.from_jwk(ex["jwk"])
    if ex["alg"].startswith("HS"):
        verifier = key
    else:
        verifier = key.public()
        assert not verifier.has_private
    _, payload = jws.verify_compact(ex["token"], verifier, algorithms=[ex["alg"]])
    assert payload == ex["payload"].encode("utf-8")


@pytest.mark.parametrize("name", DETERMINISTIC, ids=_id)
def test_rfc7515_signature_byte_for_byte(name: str) -> None:
    """Signing the exact signing input reproduces the printed signature octets."""
    ex = rfc_example(name)
    key = Key.from_jwk(ex["jwk"])
    sig = jws.sign_bytes(ex["alg"], key, ex["signing_input"].encode("ascii"))
    assert sig == b64url_decode(ex["signature_b64u"])


def test_rfc7515_a2_compact_byte_for_byte() -> None:
    """A.2's header is exactly ``{"alg":"RS256"}``: sign_compact reproduces the whole token."""
    ex = rfc_example("rfc7515_A.2_RS256")
    key = Key.from_jwk(ex["jwk"])
    token = jws.sign_compact(ex["payload"].encode("utf-8"), key, alg="RS256", headers=NO_TYP)
    assert token == ex["token"]


@pytest.mark.parametrize(
    ("name", "length"),
    [
        pytest.param("rfc7515_A.3_ES256", 64, id="rfc7515-A.3-ES256"),
        pytest.param("rfc7515_A.4_ES512", 132, id="rfc7515-A.4-ES512"),
    ],
)
def test_rfc7515_ecdsa_fresh_signature_round_trip(name: str, length: int) -> None:
    """A fresh ECDSA signature is raw R||S of the fixed length and verifies (RFC 7518 §3.4)."""
    ex = rfc_example(name)
    key = Key.from_jwk(ex["jwk"])
    assert len(b64url_decode(ex["signature_b64u"])) == length
    data = ex["signing_input"].encode("ascii")
    sig = jws.sign_bytes(ex["alg"], key, data)
    assert len(sig) == length
    jws.verify_bytes(ex["alg"], key.public(), data, sig)
    with pytest.raises(InvalidSignatureError):
        jws.verify_bytes(ex["alg"], key.public(), data + b".", sig)


def test_rfc7515_a5_unsecured_jws_rejected() -> None:
    """A.5 ``alg: none`` is rejected even when a key is supplied and HS256 is allowed."""
    ex = rfc_example("rfc7515_A.5_none")
    key = Key.from_jwk(rfc_example("rfc7515_A.1_HS256")["jwk"])
    with pytest.raises(AlgorithmNotAllowedError):
        jws.verify_compact(ex["token"], key, algorithms=["HS256"])
    with pytest.raises(AlgorithmNotAllowedError):
        decode(ex["token"], key, algorithms=["HS256"], now=1300819379)
    # Asking for "none" explicitly is a configuration error or a rejected token, never a pass.
    with pytest.raises((AlgorithmNotAllowedError, UnsupportedAlgorithmError)):
        jws.verify_compact(ex["token"], key, algorithms=["none"])


@pytest.mark.parametrize(
    "name", ["rfc7515_A.6_general_json", "rfc7515_A.7_flattened_json"], ids=_id
)
def test_rfc7515_json_serialization_rejected(name: str) -> None:
    """JWS JSON serializations (A.6 general, A.7 flattened) are refused as malformed."""
    ex = rfc_example(name)
    jwk: Any = ex["jwk"][-1] if isinstance(ex["jwk"], list) else ex["jwk"]
    alg = ex["alg"][-1] if isinstance(ex["alg"], list) else ex["alg"]
    key = Key.from_jwk(jwk)
    text = json.dumps(ex["jws_json"])
    with pytest.raises(MalformedTokenError):
        jws.verify_compact(text, key, algorithms=[alg])
    with pytest.raises(MalformedTokenError):
        decode(text, key, algorithms=[alg], now=1300819379)
