"""Wycheproof JOSE-object vectors (JWS, JWK, JWS/JWE mix) through ``jws.verify_compact``.

Files: ``json_web_signature_test.json``, ``json_web_key_test.json``, ``json_web_crypto_test.json``.
Each ``jws`` is verified with the group's ``public`` JWK (or JWK Set) when present, else with
``private`` (for ``oct`` keys the secret is the verification key), and ``algorithms=`` is set to
the header's ``alg`` when jwtkit implements it (so the key/alg binding is what gets tested, not
the allow-list), else to the key's own ``alg``.

* ``valid``: the key imports and ``verify_compact`` returns the exact payload bytes.
* ``invalid``: either the key is refused on import (``InvalidKeyError`` or
  ``UnsupportedAlgorithmError``: 1024-bit RSA, exponent 1, empty or short secrets, AES keys, a
  point off its curve, ...) or ``verify_compact`` raises an ``InvalidTokenError`` subclass.
  JSON-serialized objects must fail with ``MalformedTokenError`` (jwtkit is compact-only).
* JWE tests: jwtkit implements no JWE; a JWE must never pass for a JWS, so each one is fed to
  ``verify_compact`` with an HMAC key and must fail with ``MalformedTokenError``.

Known upstream problems are overridden in :data:`OVERRIDES`, each with its reason.
"""

from __future__ import annotations

import binascii
import hashlib
import json
from typing import Any

import pytest

from jwtkit import Key, KeySet, jws
from jwtkit.errors import (
    InvalidKeyError,
    InvalidTokenError,
    MalformedTokenError,
    UnsupportedAlgorithmError,
)
from jwtkit.jwa import ALGORITHMS
from tests.support.vectors import WycheproofCase, b64url_decode, wycheproof_cases

FILES = ("json_web_signature_test.json", "json_web_key_test.json", "json_web_crypto_test.json")

_SIG = "json_web_signature_test.json"

#: (file, tcId) -> (expected result, reason). See the vectors README, "Known upstream problems".
OVERRIDES: dict[tuple[str, int], tuple[str, str]] = {
    # Byte-identical to tcId 357 ("ValidMac", valid) but labelled invalid; reported upstream as
    # C2SP/wycheproof issue #236 (open). The token has no padding at all, so it is valid.
    (_SIG, 367): ("valid", "identical to tcId 357 (C2SP/wycheproof#236)"),
    (_SIG, 370): ("valid", "identical to tcId 357 (C2SP/wycheproof#236)"),
    # Labelled valid, but a '?' was inserted into the header/payload segment while the MAC is the
    # one of the unmodified token: RFC 7515 §5.2 MACs the received signing input, and '?' is not
    # in the base64url alphabet, so a strict verifier must reject them.
    (_SIG, 372): ("invalid", "'?' inserted into the header; MAC is of the unmodified token"),
    (_SIG, 373): ("invalid", "'?' inserted into the payload; MAC is of the unmodified token"),
    # RFC 7520 Figure 20 verified with a JWK whose alg is PS256 while the token says PS384:
    # jwtkit uses a key with an alg only for that alg (issue 2 security rules).
    (_SIG, 346): ("invalid", "key alg PS256 used for a PS384 token"),
    (_SIG, 350): ("invalid", "key alg PS256 used for a PS384 token"),
    # RFC 7520 Figure 27 with a JWK whose alg is "ES521", not a registered name: a key bound to an
    # algorithm jwtkit does not know cannot be used for ES512.
    (_SIG, 347): ("invalid", "key alg 'ES521' is not a registered algorithm"),
    (_SIG, 351): ("invalid", "key alg 'ES521' is not a registered algorithm"),
    # tcId 349 (private key_ops ["sign, verify"]) stays valid: we verify with the group's public
    # JWK, whose key_ops is ["verify"], which is exactly the use being made of it.
}

#: A well-formed HMAC key used only to show that JWE objects never parse as JWS.
_PROBE_KEY_BYTES = hashlib.sha256(b"jwtkit wycheproof jwe probe").digest()


#: Tests failing because of a reported core gap: (file, tcId) -> reason for an xfail(strict).
#: Empty: every gap reported so far (/tmp/core-requests.md) is fixed.
KNOWN_CORE_BUGS: dict[tuple[str, int], str] = {}


def _cases() -> list[Any]:
    """One pytest param per test of the three JOSE-object files."""
    params = []
    for name in FILES:
        for case in wycheproof_cases(name):
            reason = KNOWN_CORE_BUGS.get((name, case.tc_id))
            marks = [pytest.mark.xfail(reason=reason, strict=True)] if reason else []
            params.append(pytest.param(case, id=case.id, marks=marks))
    return params


def _expected(case: WycheproofCase) -> str:
    """The upstream result, or the override for a known upstream problem."""
    override = OVERRIDES.get((case.file, case.tc_id))
    return override[0] if override else case.result


def _load_key(jwk: dict[str, Any]) -> Key | KeySet:
    """Import a JWK, or a JWK Set as a KeySet (key chosen by ``kid`` at verify time)."""
    if "keys" in jwk:
        return KeySet.from_jwks(jwk)
    return Key.from_jwk(jwk)


def _header_alg(token: str) -> str | None:
    """Read ``alg`` from a compact token leniently (only to pick ``algorithms=``)."""
    try:
        header = json.loads(b64url_decode(token.split(".")[0]))
    except (ValueError, binascii.Error, UnicodeDecodeError):
        return None
    alg = header.get("alg") if isinstance(header, dict) else None
    return alg if isinstance(alg, str) else None


def _key_alg(jwk: dict[str, Any]) -> str:
    """The alg named by the JWK (first key of a set), defaulting to HS256."""
    first = jwk["keys"][0] if jwk.get("keys") else jwk
    alg = first.get("alg")
    return alg if isinstance(alg, str) and alg in ALGORITHMS else "HS256"


@pytest.mark.parametrize("case", _cases())
def test_wycheproof_jose(case: WycheproofCase) -> None:
    """Run one JOSE-object vector through ``jws.verify_compact`` and check the outcome."""
    expected = _expected(case)

    if "jwe" in case.test:
        value = case.test["jwe"]
        text = value if isinstance(value, str) else json.dumps(value)
        probe = Key.from_secret(_PROBE_KEY_BYTES, alg="HS256")
        with pytest.raises(MalformedTokenError):
            jws.verify_compact(text, probe, algorithms=["HS256"])
        return

    value = case.test["jws"]
    jwk: dict[str, Any] = case.group.get("public") or case.group["private"]
    try:
        key = _load_key(jwk)
    except (InvalidKeyError, UnsupportedAlgorithmError) as exc:
        assert expected == "invalid", f"a usable key was refused: {exc!r}"
        return

    if not isinstance(value, str) or "JsonSerialization" in case.flags:
        text = value if isinstance(value, str) else json.dumps(value)
        with pytest.raises(MalformedTokenError):
            jws.verify_compact(text, key, algorithms=[_key_alg(jwk)])
        return

    header_alg = _header_alg(value)
    algorithms = [header_alg if header_alg in ALGORITHMS else _key_alg(jwk)]
    if expected == "valid":
        header, payload = jws.verify_compact(value, key, algorithms=algorithms)
        assert header["alg"] == header_alg
        assert payload == b64url_decode(value.split(".")[1])
    else:
        with pytest.raises(InvalidTokenError):
            jws.verify_compact(value, key, algorithms=algorithms)


def test_overrides_match_upstream_problems() -> None:
    """The overridden tests still look the way the vectors README describes them."""
    by_id = {c.tc_id: c for c in wycheproof_cases(_SIG)}
    assert by_id[367].test["jws"] == by_id[357].test["jws"] == by_id[370].test["jws"]
    assert by_id[367].result == by_id[370].result == "invalid"
    assert "?" in by_id[372].test["jws"] and "?" in by_id[373].test["jws"]
    assert by_id[346].group["public"]["alg"] == "PS256"
    assert by_id[347].group["public"]["alg"] == "ES521"
    assert by_id[349].group["public"]["key_ops"] == ["verify"]
