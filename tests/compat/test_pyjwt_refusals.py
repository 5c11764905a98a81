"""The façade's deliberate differences from PyJWT, one named test each (issue 16).

Where PyJWT's behaviour is a known weakness, jwtkit.compat.pyjwt keeps jwtkit's rule; each
test below shows the token or key that real PyJWT 2.15 accepts (or only warns about) and that
the façade refuses, with the PyJWT exception class callers already catch.
"""

from __future__ import annotations

import json
import warnings
from typing import Any

import jwt as real_pyjwt
import pytest
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec

import jwtkit.compat.pyjwt as jwt
from jwtkit.errors import SecurityWarning
from tests.support.pyjwt import (
    CLAIMS,
    SECRET,
    b64,
    claims_json,
    hs256_token,
    pem,
    private_key,
    rsa_key,
)


def _real_accepts(token: str, key: Any, **kwargs: Any) -> dict[str, Any]:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", real_pyjwt.InsecureKeyLengthWarning)
        claims: dict[str, Any] = real_pyjwt.decode(token, key, **kwargs)
        return claims


def test_none_is_never_accepted_even_when_listed() -> None:
    token = jwt.encode(CLAIMS, None, algorithm=None)  # producing one is allowed, as in PyJWT
    assert token.endswith(".")
    assert json.loads(jwt.utils.base64url_decode(token.split(".")[0]))["alg"] == "none"
    for algorithms in (["none"], ["none", "HS256"], ["NONE", "none"]):
        with pytest.raises(jwt.InvalidSignatureError):
            jwt.decode(token, algorithms=algorithms)
    # Any other capitalisation is simply not an algorithm.
    forged = b64(b'{"alg":"None"}').decode() + "." + token.split(".")[1] + "."
    with pytest.raises(jwt.InvalidAlgorithmError):
        jwt.decode(forged, SECRET, algorithms=["None", "HS256"])
    with pytest.raises(jwt.InvalidKeyError):
        jwt.decode(token, SECRET, algorithms=["none"])  # PyJWT's key rule for none


@pytest.mark.parametrize("kind", ["pem", "ssh", "jwk", "pem-inside"])
def test_key_text_is_never_an_hmac_secret(kind: str) -> None:
    """The algorithm-confusion attack: the verifier's public key used as an HMAC secret."""
    public = rsa_key().public_key()
    texts = {
        "pem": pem(public),
        "ssh": public.public_bytes(
            serialization.Encoding.OpenSSH, serialization.PublicFormat.OpenSSH
        ),
        "jwk": json.dumps(jwt.algorithms.RSAAlgorithm.to_jwk(public, as_dict=True)).encode(),
        # Real PyJWT accepts a bare marker that does not form a PEM block; jwtkit does not.
        "pem-inside": b"prefix -----BEGIN PUBLIC KEY----- " + b"x" * 40,
    }
    text = texts[kind]
    token = hs256_token(b'{"alg":"HS256"}', claims_json(), text)
    with pytest.raises(jwt.InvalidKeyError):
        jwt.decode(token, text, algorithms=["HS256", "RS256"])
    with pytest.raises(jwt.InvalidKeyError):
        jwt.encode(CLAIMS, text, algorithm="HS256")
    if kind == "pem-inside":
        assert _real_accepts(token, text, algorithms=["HS256"]) == CLAIMS


def test_ecdsa_signatures_must_be_fixed_length() -> None:
    key = private_key("ES256")
    header = b64(b'{"alg":"ES256","typ":"JWT"}')
    signing_input = header + b"." + b64(claims_json())
    der = key.sign(signing_input, ec.ECDSA(hashes.SHA256()))
    token = (signing_input + b"." + b64(der)).decode()
    with pytest.raises(jwt.InvalidSignatureError):
        jwt.decode(token, key.public_key(), algorithms=["ES256"])
    good = jwt.encode(CLAIMS, key, algorithm="ES256")
    assert len(jwt.utils.base64url_decode(good.split(".")[2])) == 64


@pytest.mark.parametrize(
    ("name", "header", "payload"),
    [
        ("duplicate-header-member", b'{"alg":"HS256","alg":"HS256"}', claims_json()),
        ("duplicate-claim", b'{"alg":"HS256"}', b'{"sub":"alice","sub":"mallory"}'),
        ("nan-claim", b'{"alg":"HS256"}', b'{"exp":NaN}'),
        ("infinite-claim", b'{"alg":"HS256"}', b'{"exp":Infinity}'),
    ],
)
def test_json_stays_strict(name: str, header: bytes, payload: bytes) -> None:
    token = hs256_token(header, payload, SECRET.encode())
    with pytest.raises(jwt.DecodeError):
        jwt.decode(token, SECRET, algorithms=["HS256"], options={"verify_exp": False})
    with pytest.raises(jwt.DecodeError):
        jwt.decode(token, options={"verify_signature": False})
    _real_accepts(token, SECRET, algorithms=["HS256"], options={"verify_exp": False})


@pytest.mark.parametrize("suffix", ["=", "==", "A"], ids=["pad1", "pad2", "trailing-bits"])
def test_base64url_stays_canonical(suffix: str) -> None:
    token = jwt.encode(CLAIMS, SECRET, algorithm="HS256")
    signature = token.rsplit(".", 1)[1]
    if suffix == "A":
        # Change the unused low bits of the last character: same bytes, another spelling.
        last = signature[-1]
        alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
        other = alphabet[alphabet.index(last) ^ 1]
        tampered = token[:-1] + other
    else:
        tampered = token + suffix
        if len(signature) % 4 + len(suffix) == 4:
            _real_accepts(tampered, SECRET, algorithms=["HS256"])  # PyJWT takes padding
    with pytest.raises(jwt.DecodeError):
        jwt.decode(tampered, SECRET, algorithms=["HS256"])


def test_algorithm_not_allowed_by_the_key_is_rejected() -> None:
    """A key is bound to its algorithm family; a PyJWK to its one algorithm."""
    secret = (SECRET * 2).encode()
    token = jwt.encode(CLAIMS, secret, algorithm="HS256")
    jwk = jwt.PyJWK({"kty": "oct", "alg": "HS512", "k": b64(secret).decode()})
    with pytest.raises(jwt.InvalidAlgorithmError):
        jwt.decode(token, jwk, algorithms=["HS256", "HS512"])
    ec_key = private_key("ES256")
    es384 = jwt.encode(CLAIMS, private_key("ES384"), algorithm="ES384")
    with pytest.raises(jwt.InvalidKeyError):
        jwt.decode(es384, ec_key.public_key(), algorithms=["ES256", "ES384"])
    rs = jwt.encode(CLAIMS, rsa_key(), algorithm="RS256")
    with pytest.raises(TypeError):  # PyJWT's answer to a key object used as an HMAC secret
        jwt.decode(
            hs256_token(b'{"alg":"HS256"}', claims_json(), pem(rsa_key().public_key())),
            rsa_key().public_key(),
            algorithms=["HS256", "RS256"],
        )
    assert jwt.decode(rs, rsa_key().public_key(), algorithms=["HS256", "RS256"]) == CLAIMS


def test_b64_false_detached_payloads_are_refused() -> None:
    with pytest.raises(NotImplementedError, match="b64"):
        jwt.encode(CLAIMS, SECRET, headers={"b64": False})
    with pytest.raises(NotImplementedError, match="b64"):
        jwt.api_jws.encode(b"payload", SECRET, is_payload_detached=True)
    header = b'{"alg":"HS256","b64":false,"crit":["b64"]}'
    signing_input = b64(header) + b".payload"
    import hashlib
    import hmac

    signature = b64(hmac.new(SECRET.encode(), signing_input, hashlib.sha256).digest())
    token = (b64(header) + b".." + signature).decode()
    assert (
        real_pyjwt.api_jws.decode(token, SECRET, algorithms=["HS256"], detached_payload=b"payload")
        == b"payload"
    )
    with pytest.raises(jwt.DecodeError, match="b64"):
        jwt.api_jws.decode(token, SECRET, algorithms=["HS256"], detached_payload=b"payload")
    with pytest.raises(jwt.DecodeError):
        jwt.api_jws.decode(token, SECRET, algorithms=["HS256"])


def test_rsa_keys_under_2048_bits_are_refused() -> None:
    small = rsa_key(1024)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", real_pyjwt.InsecureKeyLengthWarning)
        token = real_pyjwt.encode(CLAIMS, small, algorithm="RS256")  # PyJWT only warns
    for key in (small.public_key(), pem(small.public_key()).decode()):
        with pytest.raises(jwt.InvalidKeyError, match="2048"):
            jwt.decode(token, key, algorithms=["RS256"])
    with pytest.raises(jwt.InvalidKeyError, match="2048"):
        jwt.encode(CLAIMS, small, algorithm="RS256")
    # The low-level API still reports the size as PyJWT does.
    assert "1024" in (
        jwt.algorithms.RSAAlgorithm(jwt.algorithms.RSAAlgorithm.SHA256).check_key_length(small)
        or ""
    )


def test_short_hmac_secret_warns_on_every_use_as_in_pyjwt() -> None:
    """The one exception to jwtkit's length rule (Key.from_secret(..., allow_weak=True)):
    PyJWT only warns, so existing deployments keep working while they rotate."""
    with pytest.warns(jwt.InsecureKeyLengthWarning) as record:
        token = jwt.encode(CLAIMS, "short", algorithm="HS256")
        jwt.decode(token, "short", algorithms=["HS256"])
        jwt.decode(token, "short", algorithms=["HS256"])
    assert len(record) == 3
    assert all(r.filename == __file__ for r in record)
    assert issubclass(jwt.InsecureKeyLengthWarning, SecurityWarning)
    with pytest.raises(jwt.InvalidKeyError, match="below"):
        jwt.decode(
            token, "short", algorithms=["HS256"], options={"enforce_minimum_key_length": True}
        )
    with pytest.raises(jwt.InvalidKeyError, match="below"):
        jwt.PyJWT({"enforce_minimum_key_length": True}).encode(CLAIMS, "short")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        jwt.decode(jwt.encode(CLAIMS, SECRET), SECRET, algorithms=["HS256"])
