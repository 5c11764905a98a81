"""RFC 7520 (JOSE Cookbook) §4 JWS examples, plus the cookbook's RFC 7797 and Ed25519 files.

* 4.1 (RS256) and 4.4 (HS256) are reproducible: ``jws.sign_compact`` with the exact protected
  header members must give the printed compact token byte for byte (the protected headers are
  plain ``{"alg":...,"kid":...}`` objects, so a compact deterministic serializer reproduces
  ``protected_b64u``).
* 4.2 (PS384) and 4.3 (ES512) are randomized: the printed token verifies, and a fresh token from
  the same key round-trips.
* 4.5 (detached content): jwtkit has no detached-payload API, so the compact form with its empty
  payload segment must fail verification.
* 4.6-4.8 exist only as JSON serializations: refused (compact only).
* ``rfc7797/``: ``"b64": false`` is not implemented; its ``crit`` makes the token unacceptable.
* ``curve25519/jws.json``: the RFC 8037 Ed25519 example, reproducible byte for byte.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from jwtkit import Key, jws
from jwtkit.errors import InvalidSignatureError, InvalidTokenError, MalformedTokenError
from tests.support.vectors import CookbookExample, b64url_decode, cookbook, cookbook_files

#: ``sign_compact`` adds ``typ: JWT`` by default; a ``None`` value removes it, so the
#: protected header is exactly ``{"alg":...}`` as printed in the RFC.
NO_TYP: dict[str, None] = {"typ": None}


def _compact_examples() -> list[Any]:
    """Cookbook JWS examples with a compact output and a single signer (4.1-4.5)."""
    return [
        pytest.param(ex, id=ex.id)
        for ex in cookbook_files("jws")
        if "compact" in ex.data["output"] and isinstance(ex.data["input"]["alg"], str)
    ]


def _json_only_examples() -> list[Any]:
    """Cookbook JWS examples that exist only as JSON serializations (4.6-4.8)."""
    return [
        pytest.param(ex, id=ex.id)
        for ex in cookbook_files("jws")
        if "compact" not in ex.data["output"]
    ]


def test_cookbook_jws_inventory() -> None:
    """The cookbook folder holds 4.1-4.8; 4.1-4.5 have a compact form (guards the filters)."""
    sections = [ex.section for ex in cookbook_files("jws")]
    assert sections == [f"4.{i}" for i in range(1, 9)]
    assert [p.id for p in _compact_examples()] == [
        "rfc7520-4.1-RS256",
        "rfc7520-4.2-PS384",
        "rfc7520-4.3-ES512",
        "rfc7520-4.4-HS256",
        "rfc7520-4.5-HS256",
    ]


@pytest.mark.parametrize("ex", _compact_examples())
def test_rfc7520_compact_verifies(ex: CookbookExample) -> None:
    """The printed compact token verifies with the input key (4.5: detached, so it must not)."""
    data = ex.data
    key = Key.from_jwk(data["input"]["key"])
    alg = data["input"]["alg"]
    compact = data["output"]["compact"]
    if ex.section == "4.5":
        # Detached content: the payload segment is empty and the signature covers the real
        # payload, which a compact-only verifier never sees.
        assert compact.split(".")[1] == ""
        with pytest.raises(InvalidSignatureError):
            jws.verify_compact(compact, key, algorithms=[alg])
        return
    header, payload = jws.verify_compact(compact, key, algorithms=[alg])
    assert header == data["signing"]["protected"]
    assert payload == data["input"]["payload"].encode("utf-8")
    assert compact.split(".")[0] == data["signing"]["protected_b64u"]


@pytest.mark.parametrize("section", ["4_1.rsa_v15_signature", "4_4.hmac-sha2_integrity_protection"])
def test_rfc7520_reproducible_byte_for_byte(section: str) -> None:
    """Re-signing with the exact protected header members gives the printed token."""
    data = cookbook(f"jws/{section}.json")
    assert data["reproducible"] is True
    key = Key.from_jwk(data["input"]["key"])
    protected = data["signing"]["protected"]
    token = jws.sign_compact(
        data["input"]["payload"].encode("utf-8"),
        key,
        alg=protected["alg"],
        headers={"typ": None, **{k: v for k, v in protected.items() if k != "alg"}},
    )
    assert token.split(".")[0] == data["signing"]["protected_b64u"]
    assert token == data["output"]["compact"]
    sig = jws.sign_bytes(protected["alg"], key, data["signing"]["sig-input"].encode("ascii"))
    assert sig == b64url_decode(data["signing"]["sig"])


@pytest.mark.parametrize("section", ["4_2.rsa-pss_signature", "4_3.ecdsa_signature"])
def test_rfc7520_randomized_round_trip(section: str) -> None:
    """PS384/ES512: a fresh token from the cookbook key verifies with its public half."""
    data = cookbook(f"jws/{section}.json")
    key = Key.from_jwk(data["input"]["key"])
    alg = data["input"]["alg"]
    payload = data["input"]["payload"].encode("utf-8")
    token = jws.sign_compact(payload, key, alg=alg)
    header, got = jws.verify_compact(token, key.public(), algorithms=[alg])
    assert got == payload
    assert header["alg"] == alg


@pytest.mark.parametrize("ex", _json_only_examples())
def test_rfc7520_json_serialization_refused(ex: CookbookExample) -> None:
    """4.6-4.8 (and the JSON forms of every example) are refused as malformed."""
    data = ex.data
    key_jwk = data["input"]["key"]
    key = Key.from_jwk(key_jwk[-1] if isinstance(key_jwk, list) else key_jwk)
    alg = data["input"]["alg"]
    alg = alg[-1] if isinstance(alg, list) else alg
    for form in data["output"].values():
        with pytest.raises(MalformedTokenError):
            jws.verify_compact(json.dumps(form), key, algorithms=[alg])


def test_rfc7797_unencoded_payload_refused() -> None:
    """``b64: false`` with ``crit: ["b64"]`` is an extension jwtkit does not implement."""
    data = cookbook("rfc7797/hmac-sha2_b64_false.json")
    key = Key.from_jwk(data["input"]["key"])
    assert json.loads(b64url_decode(data["output"]["compact"].split(".")[0]))["crit"] == ["b64"]
    with pytest.raises(InvalidTokenError):
        jws.verify_compact(data["output"]["compact"], key, algorithms=["HS256"])


def test_rfc7797_draft_form_refused() -> None:
    """The pre-RFC form (``b64: false`` without ``crit``) is refused: its payload is raw text."""
    data = cookbook("rfc7797/4.2.hmac-sha2_b64_false.json")
    key = Key.from_jwk(data["input"]["key"])
    flat = data["output"]["json_flat"]
    compact = f"{flat['protected']}.{data['input']['payload']}.{flat['signature']}"
    with pytest.raises(InvalidTokenError):
        jws.verify_compact(compact, key, algorithms=["HS256"])


def test_cookbook_curve25519_byte_for_byte() -> None:
    """``curve25519/jws.json`` (Ed25519) re-signs to the printed token and verifies."""
    data = cookbook("curve25519/jws.json")
    key = Key.from_jwk(data["input"]["key"])
    payload = data["input"]["payload"].encode("utf-8")
    token = jws.sign_compact(payload, key, alg="EdDSA", headers=NO_TYP)
    assert token == data["output"]["compact"]
    _, got = jws.verify_compact(data["output"]["compact"], key.public(), algorithms=["EdDSA"])
    assert got == payload
