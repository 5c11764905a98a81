"""Every Wycheproof signature/MAC vector through jwtkit's own low-level verify path.

Each test builds the key the way a JOSE user would (``Key.from_jwk``) and calls
``jwtkit.jws.verify_bytes(alg, key, msg, sig)``. Policy, per upstream ``result``:

* ``valid``: the key imports and the signature verifies.
* ``invalid``: ``verify_bytes`` raises ``InvalidSignatureError``. Only where the *key itself* is
  unusable (an ML-DSA public key of the wrong length) may the rejection come earlier, as
  ``InvalidKeyError`` from ``Key.from_jwk``.
* ``acceptable``: the only flag present is ``MissingNull`` (PKCS#1 DigestInfo without the NULL
  parameters). JWS fixes one encoding per algorithm, so a strict verifier rejects every
  ``acceptable`` case whose flag is in :data:`STRICT_REJECT_FLAGS`; any other ``acceptable`` case
  would only have to end cleanly (verify, or ``InvalidSignatureError``).

Deliberate deviations from the upstream labels (each is a JOSE rule, RFC 7518):

* HMAC (§3.2): a JWS MAC is never truncated, so every test from the half-length ``tagSize`` groups
  must be *rejected* even when upstream calls the truncated tag valid. Keys shorter than the hash
  output (the 128/192/256-bit key groups for HS256/384/512) must be refused with
  ``InvalidKeyError``, because RFC 7518 §3.2 requires a key at least as long as the hash.
* RSA public exponent 3 (flag ``SmallPublicKey``, 5 ``valid`` tests): RFC 7518 does not forbid
  e=3 and jwtkit accepts such public keys (exponent 1 is refused, see the JOSE-object tests).
  :data:`SMALL_E_POLICY` pins that choice: the tests assert the signature verifies rather than
  skipping them, so a change of policy has to change this constant too.
* ML-DSA: JOSE signs with an empty context string, so tests carrying a non-empty ``ctx`` are
  skipped with that reason; tests with an empty ``ctx`` run normally.
* ECDSA P1363: ``SignatureSize`` cases (correct r, s encoded shorter than the curve size) are
  ``invalid`` upstream and rejected here: RFC 7518 §3.4 fixes the length at 64/96/132 octets.

Ed25519/Ed448 vectors run twice, under ``EdDSA`` (RFC 8037) and under the fully-specified names
``Ed25519``/``Ed448`` (RFC 9864).
"""

from __future__ import annotations

from typing import Any

import pytest

import jwtkit.jws
from jwtkit import Key
from jwtkit.errors import InvalidKeyError, InvalidSignatureError, JWTError
from tests.support.vectors import WycheproofCase, b64url_encode, vectors_dir, wycheproof_cases

#: Which JOSE algorithm each primitive file tests.
FILES: dict[str, tuple[str, ...]] = {
    "ecdsa_secp256r1_sha256_p1363_test.json": ("ES256",),
    "ecdsa_secp384r1_sha384_p1363_test.json": ("ES384",),
    "ecdsa_secp521r1_sha512_p1363_test.json": ("ES512",),
    "ecdsa_secp256k1_sha256_p1363_test.json": ("ES256K",),
    "rsa_signature_2048_sha256_test.json": ("RS256",),
    "rsa_signature_3072_sha256_test.json": ("RS256",),
    "rsa_signature_4096_sha256_test.json": ("RS256",),
    "rsa_signature_2048_sha384_test.json": ("RS384",),
    "rsa_signature_3072_sha384_test.json": ("RS384",),
    "rsa_signature_4096_sha384_test.json": ("RS384",),
    "rsa_signature_2048_sha512_test.json": ("RS512",),
    "rsa_signature_3072_sha512_test.json": ("RS512",),
    "rsa_signature_4096_sha512_test.json": ("RS512",),
    "rsa_pss_2048_sha256_mgf1_32_test.json": ("PS256",),
    "rsa_pss_3072_sha256_mgf1_32_test.json": ("PS256",),
    "rsa_pss_4096_sha256_mgf1_32_test.json": ("PS256",),
    "rsa_pss_2048_sha384_mgf1_48_test.json": ("PS384",),
    "rsa_pss_4096_sha384_mgf1_48_test.json": ("PS384",),
    "rsa_pss_4096_sha512_mgf1_64_test.json": ("PS512",),
    "ed25519_test.json": ("EdDSA", "Ed25519"),
    "ed448_test.json": ("EdDSA", "Ed448"),
    "hmac_sha256_test.json": ("HS256",),
    "hmac_sha384_test.json": ("HS384",),
    "hmac_sha512_test.json": ("HS512",),
    "mldsa_44_verify_test.json": ("ML-DSA-44",),
    "mldsa_65_verify_test.json": ("ML-DSA-65",),
    "mldsa_87_verify_test.json": ("ML-DSA-87",),
}

#: ``acceptable`` flags a strict JWS verifier must reject (see the vectors README).
STRICT_REJECT_FLAGS = frozenset({"MissingNull", "SigSize"})

#: Flags that mark a public key jwtkit may refuse at import time for an ``invalid`` test.
BAD_KEY_FLAGS = frozenset({"IncorrectPublicKeyLength"})

NON_EMPTY_CTX = "JOSE ML-DSA signs with an empty context; this test carries a non-empty ctx"

ACCEPT = "accept"
REJECT = "reject"
REJECT_KEY = "reject-key"

#: What jwtkit does with RSA public exponent 3 (see the module docstring).
SMALL_E_POLICY = ACCEPT

#: Tests failing because of a reported core bug: (file, tcId) -> reason for an xfail(strict).
#: Empty: every bug reported so far (/tmp/core-requests.md) is fixed.
KNOWN_CORE_BUGS: dict[tuple[str, int], str] = {}

_HASH_BITS = {"HS256": 256, "HS384": 384, "HS512": 512}


def expectation(case: WycheproofCase, alg: str) -> str:
    """Return what jwtkit must do with ``case`` under ``alg`` (module docstring explains why)."""
    if alg in _HASH_BITS:
        if case.group["keySize"] < _HASH_BITS[alg]:
            return REJECT_KEY
        if case.group["tagSize"] != _HASH_BITS[alg]:
            return REJECT
    if "SmallPublicKey" in case.flags:
        return SMALL_E_POLICY
    if case.result == "valid":
        return ACCEPT
    if case.result == "acceptable" and not STRICT_REJECT_FLAGS.intersection(case.flags):
        return "either"
    return REJECT


def _params() -> list[Any]:
    """Build one pytest param per (test, alg), with skip marks for non-JOSE ML-DSA contexts."""
    params = []
    for name, algs in FILES.items():
        for case in wycheproof_cases(name):
            for alg in algs:
                marks: list[pytest.MarkDecorator] = []
                if case.test.get("ctx"):
                    marks.append(pytest.mark.skip(reason=NON_EMPTY_CTX))
                if (name, case.tc_id) in KNOWN_CORE_BUGS:
                    reason = KNOWN_CORE_BUGS[name, case.tc_id]
                    marks.append(pytest.mark.xfail(reason=reason, strict=True))
                test_id = case.id if alg == algs[0] else f"{case.id}-{alg}"
                params.append(pytest.param(case, alg, id=test_id, marks=marks))
    return params


def _coordinate(hex_int: str, size: int) -> str:
    """Turn Wycheproof's minimal signed hex integer into a fixed-size base64url coordinate."""
    return b64url_encode(int(hex_int, 16).to_bytes(size, "big"))


def _jwk(case: WycheproofCase, alg: str) -> dict[str, Any]:
    """Build the JWK a JOSE user would have for the group's public (or secret) key."""
    group = case.group
    kind = group["type"]
    if kind == "EcdsaP1363Verify":
        if "publicKeyJwk" in group:
            return dict(group["publicKeyJwk"])
        size = (group["publicKey"]["keySize"] + 7) // 8
        crv = {"ES256": "P-256", "ES384": "P-384", "ES512": "P-521", "ES256K": "secp256k1"}[alg]
        return {
            "kty": "EC",
            "crv": crv,
            "x": _coordinate(group["publicKey"]["wx"], size),
            "y": _coordinate(group["publicKey"]["wy"], size),
        }
    if kind == "RsassaPkcs1Verify":
        return dict(group["keyJwk"])
    if kind in ("RsassaPssVerify", "EddsaVerify"):
        return dict(group["publicKeyJwk"])
    if kind == "MacTest":
        return {"kty": "oct", "k": b64url_encode(case.hex("key"))}
    if kind == "MlDsaVerify":
        return {"kty": "AKP", "alg": alg, "pub": b64url_encode(bytes.fromhex(group["publicKey"]))}
    raise AssertionError(f"unknown Wycheproof group type {kind}")


_KEYS: dict[tuple[str, int, str, str], Key | JWTError] = {}


def _key(case: WycheproofCase, alg: str) -> Key | JWTError:
    """Import the group's key once per group (HMAC tests each carry their own key)."""
    cache_key = (case.file, case.group_index, alg, case.test.get("key", ""))
    if cache_key not in _KEYS:
        try:
            _KEYS[cache_key] = Key.from_jwk(_jwk(case, alg))
        except JWTError as exc:
            _KEYS[cache_key] = exc
    return _KEYS[cache_key]


@pytest.mark.parametrize(("case", "alg"), _params())
def test_wycheproof_signature(case: WycheproofCase, alg: str) -> None:
    """Verify one Wycheproof vector with ``jws.verify_bytes`` and check the outcome."""
    expected = expectation(case, alg)
    key = _key(case, alg)
    msg = case.hex("msg")
    sig = case.hex("tag") if "tag" in case.test else case.hex("sig")

    if isinstance(key, JWTError):
        # Only keys that are themselves unusable may fail at import time.
        assert isinstance(key, InvalidKeyError), repr(key)
        assert expected == REJECT_KEY or (
            expected == REJECT and BAD_KEY_FLAGS.intersection(case.flags)
        ), f"key import refused a usable key: {key!r}"
        return

    if expected == ACCEPT:
        jwtkit.jws.verify_bytes(alg, key, msg, sig)
    elif expected == REJECT_KEY:
        with pytest.raises(InvalidKeyError):
            jwtkit.jws.verify_bytes(alg, key, msg, sig)
    elif expected == REJECT:
        with pytest.raises(InvalidSignatureError):
            jwtkit.jws.verify_bytes(alg, key, msg, sig)
    else:
        try:
            jwtkit.jws.verify_bytes(alg, key, msg, sig)
        except InvalidSignatureError:
            pass


def test_every_signature_file_is_covered() -> None:
    """Fail if the vectors gain a signature/MAC file this module does not run."""
    names = {p.name for p in (vectors_dir() / "wycheproof" / "testvectors_v1").glob("*.json")}
    jose_objects = {n for n in names if n.startswith("json_web_")}
    assert names - jose_objects == set(FILES)


def test_hmac_groups_are_split_as_documented() -> None:
    """Each HMAC file has 81 + 3 JWS-shaped tests, as the vectors README says."""
    for name, (alg,) in (
        ("hmac_sha256_test.json", ("HS256",)),
        ("hmac_sha384_test.json", ("HS384",)),
        ("hmac_sha512_test.json", ("HS512",)),
    ):
        shaped = [
            c
            for c in wycheproof_cases(name)
            if c.group["tagSize"] == _HASH_BITS[alg] and c.group["keySize"] >= _HASH_BITS[alg]
        ]
        assert len(shaped) == 84, name


def test_expectation_policy_table() -> None:
    """The acceptable-case policy rejects MissingNull and leaves unknown flags open."""
    group: dict[str, Any] = {"type": "RsassaPkcs1Verify"}
    missing_null = WycheproofCase(
        "f", "f", 0, group, {"tcId": 1, "result": "acceptable", "flags": ["MissingNull"]}
    )
    other = WycheproofCase(
        "f", "f", 0, group, {"tcId": 2, "result": "acceptable", "flags": ["Other"]}
    )
    small_e = WycheproofCase(
        "f", "f", 0, group, {"tcId": 3, "result": "valid", "flags": ["SmallPublicKey"]}
    )
    assert expectation(missing_null, "RS256") == REJECT
    assert expectation(other, "RS256") == "either"
    assert expectation(small_e, "RS256") == SMALL_E_POLICY
