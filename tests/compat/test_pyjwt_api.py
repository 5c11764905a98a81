"""jwtkit.compat.pyjwt mirrors PyJWT 2.15's public API and behaves like it (issue 16).

The real PyJWT (a test dependency) is the reference: names, module layout, exception
hierarchy and signatures are compared with it, tokens are compared byte for byte where the
algorithm is deterministic, and tokens cross between the two for every algorithm.
"""

from __future__ import annotations

import importlib
import inspect
import json
import warnings
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import jwt as real_pyjwt
import pytest

import jwtkit.compat.pyjwt as jwt
from jwtkit.compat.pyjwt import SUBMODULES
from tests.support.pyjwt import ALGORITHMS, CLAIMS, SECRET, private_key, public_key

ISSUE_NAMES = {
    "encode", "decode", "decode_complete", "get_unverified_header", "PyJWT", "PyJWS", "PyJWK",
    "PyJWKSet", "PyJWKClient", "register_algorithm", "unregister_algorithm",
    "get_algorithm_by_name", "InsecureKeyLengthWarning",
}  # fmt: skip


def test_every_public_name_of_pyjwt_exists() -> None:
    """Every class and function PyJWT defines in each of its modules exists here too."""
    assert set(real_pyjwt.__all__) <= set(jwt.__all__)
    assert ISSUE_NAMES <= set(jwt.__all__)
    assert list(jwt.__all__) == sorted(jwt.__all__)
    for module in SUBMODULES:
        real = importlib.import_module(f"jwt.{module}")
        mine = getattr(jwt, module)
        defined = {
            name
            for name, obj in vars(real).items()
            if not name.startswith("_")
            and (inspect.isclass(obj) or inspect.isfunction(obj))
            and obj.__module__ == real.__name__
        }
        assert defined, module
        assert {name for name in defined if not hasattr(mine, name)} == set(), module
    assert jwt.algorithms.has_crypto is True
    assert jwt.algorithms.requires_cryptography == real_pyjwt.algorithms.requires_cryptography


def test_exception_hierarchy_is_pyjwts() -> None:
    for name in dir(real_pyjwt.exceptions):
        real = getattr(real_pyjwt.exceptions, name)
        if not (isinstance(real, type) and issubclass(real, Exception)):
            continue
        mine = getattr(jwt.exceptions, name)
        assert [c.__name__ for c in mine.__mro__] == [c.__name__ for c in real.__mro__], name
    assert str(jwt.MissingRequiredClaimError("abc")) == 'Token is missing the "abc" claim'


@pytest.mark.parametrize(
    "pair",
    [
        ("encode", "encode"),
        ("decode", "decode"),
        ("api_jwt.PyJWT.decode", "api_jwt.PyJWT.decode"),
        ("decode_complete", "decode_complete"),
        ("api_jws.PyJWS.encode", "api_jws.PyJWS.encode"),
        ("api_jws.PyJWS.decode_complete", "api_jws.PyJWS.decode_complete"),
        ("jwks_client.PyJWKClient.__init__", "jwks_client.PyJWKClient.__init__"),
        ("api_jwk.PyJWK.__init__", "api_jwk.PyJWK.__init__"),
    ],
)
def test_signatures_match_pyjwt(pair: tuple[str, str]) -> None:
    def resolve(root: Any, dotted: str) -> Any:
        for part in dotted.split("."):
            root = getattr(root, part)
        return root

    mine = inspect.signature(resolve(jwt, pair[0])).parameters
    real = inspect.signature(resolve(real_pyjwt, pair[1])).parameters
    assert list(mine) == list(real)
    for name, param in real.items():
        if name in ("algorithm",):
            continue  # a private "unset" sentinel in both
        assert mine[name].default == param.default, name


def test_default_options_are_pyjwts() -> None:
    assert jwt.PyJWT().options == real_pyjwt.PyJWT().options
    assert jwt.PyJWS().options == real_pyjwt.PyJWS().options
    assert sorted(jwt.PyJWS().get_algorithms()) == sorted(real_pyjwt.PyJWS().get_algorithms())
    mine = jwt.algorithms.get_default_algorithms()
    real = real_pyjwt.algorithms.get_default_algorithms()
    assert {n: type(a).__name__ for n, a in mine.items()} == {
        n: type(a).__name__ for n, a in real.items()
    }


@pytest.mark.parametrize("alg", [a for a in ALGORITHMS if a[:2] in ("HS", "RS")])
@pytest.mark.parametrize(
    "headers", [None, {"kid": "k-1", "b": 1, "a": [2]}, {"typ": None}, {"typ": "at+jwt"}]
)
@pytest.mark.parametrize("sort_headers", [True, False])
def test_deterministic_tokens_are_byte_identical(
    alg: str, headers: dict[str, Any] | None, sort_headers: bool
) -> None:
    claims = {**CLAIMS, "iat": datetime(2026, 1, 2, tzinfo=UTC), "nbf": datetime(2026, 1, 1)}
    key = private_key(alg)
    mine = jwt.encode(claims, key, algorithm=alg, headers=headers, sort_headers=sort_headers)
    real = real_pyjwt.encode(claims, key, algorithm=alg, headers=headers, sort_headers=sort_headers)
    assert mine == real


@pytest.mark.parametrize("alg", ALGORITHMS)
def test_tokens_cross_both_ways(alg: str) -> None:
    key, pub = private_key(alg), public_key(alg)
    kwargs: dict[str, Any] = {"algorithms": [alg], "audience": "api", "issuer": "iss"}
    claims = {**CLAIMS, "aud": ["api", "other"], "iss": "iss"}
    for token in (jwt.encode(claims, key, algorithm=alg), real_pyjwt.encode(claims, key, alg)):
        assert jwt.decode(token, pub, **kwargs) == claims
        assert real_pyjwt.decode(token, pub, **kwargs) == claims
        complete = jwt.decode_complete(token, pub, **kwargs)
        assert complete == real_pyjwt.decode_complete(token, pub, **kwargs)


def test_claims_follow_pyjwts_options() -> None:
    now = int(datetime.now(UTC).timestamp())
    expired = jwt.encode({"exp": now - 10}, SECRET)
    with pytest.raises(jwt.ExpiredSignatureError):
        jwt.decode(expired, SECRET, algorithms=["HS256"])
    assert jwt.decode(expired, SECRET, algorithms=["HS256"], leeway=timedelta(seconds=60))
    assert jwt.decode(expired, SECRET, algorithms=["HS256"], options={"verify_exp": False})
    assert jwt.decode(jwt.encode({}, SECRET), SECRET, algorithms=["HS256"]) == {}  # none required
    with pytest.raises(jwt.MissingRequiredClaimError) as missing:
        jwt.decode(
            jwt.encode({}, SECRET), SECRET, algorithms=["HS256"], options={"require": ["exp"]}
        )
    assert missing.value.claim == "exp"
    future = jwt.encode({"nbf": now + 100, "iat": now + 100}, SECRET)
    with pytest.raises(jwt.ImmatureSignatureError):
        jwt.decode(future, SECRET, algorithms=["HS256"])
    aud = jwt.encode({"aud": "a"}, SECRET)
    with pytest.raises(jwt.InvalidAudienceError):
        jwt.decode(aud, SECRET, algorithms=["HS256"])  # a token for someone, none expected
    assert jwt.decode(aud, SECRET, algorithms=["HS256"], audience=["b", "a"])
    with pytest.raises(jwt.InvalidAudienceError):
        jwt.decode(aud, SECRET, algorithms=["HS256"], audience=["a"], options={"strict_aud": True})
    with pytest.raises(jwt.InvalidIssuerError):
        jwt.decode(jwt.encode({"iss": "x"}, SECRET), SECRET, algorithms=["HS256"], issuer="y")
    with pytest.raises(jwt.exceptions.InvalidSubjectError):
        jwt.decode(jwt.encode({"sub": 1}, SECRET), SECRET, algorithms=["HS256"])
    with pytest.raises(jwt.DecodeError, match="algorithms"):
        jwt.decode(aud, SECRET)
    assert jwt.decode(aud, options={"verify_signature": False}) == {"aud": "a"}


def test_encode_takes_pyjwts_extras() -> None:
    class DecimalEncoder(json.JSONEncoder):
        def default(self, o: object) -> object:
            return str(o) if isinstance(o, Decimal) else super().default(o)

    claims = {"price": Decimal("1.5")}
    token = jwt.encode(claims, SECRET, json_encoder=DecimalEncoder)
    assert token == real_pyjwt.encode(claims, SECRET, json_encoder=DecimalEncoder)
    with pytest.raises(TypeError):
        jwt.encode(["not", "a", "dict"], SECRET)  # type: ignore[arg-type]
    assert jwt.get_unverified_header(jwt.encode({}, SECRET, headers={"kid": "7"}))["kid"] == "7"


def test_pyjwk_and_pyjwkset() -> None:
    pub_jwk = jwt.algorithms.ECAlgorithm.to_jwk(public_key("ES256"), as_dict=True)
    jwk = jwt.PyJWK({**pub_jwk, "kid": "e1", "use": "sig"})
    assert (jwk.key_type, jwk.key_id, jwk.public_key_use, jwk.algorithm_name) == (
        "EC", "e1", "sig", "ES256",
    )  # fmt: skip
    token = jwt.encode(CLAIMS, private_key("ES256"), algorithm="ES256")
    assert jwt.decode(token, jwk) == CLAIMS
    keyset = jwt.PyJWKSet.from_dict({"keys": [{**pub_jwk, "kid": "e1"}, {"kty": "nope"}, 1]})
    assert [k.key_id for k in keyset] == ["e1"]
    assert jwt.decode(token, keyset["e1"], algorithms=["ES256"]) == CLAIMS
    with pytest.raises(jwt.PyJWKSetError):
        jwt.PyJWKSet.from_dict({"keys": []})


def test_warnings_and_deprecations_are_pyjwts() -> None:
    token = jwt.encode(CLAIMS, SECRET)
    with pytest.warns(jwt.warnings.RemovedInPyjwt3Warning, match="foo"):
        jwt.decode(token, SECRET, algorithms=["HS256"], foo=1)
    with pytest.warns(DeprecationWarning):
        jwt.decode(token, SECRET, algorithms=["HS256"], verify=False)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert jwt.decode(token, SECRET, algorithms=["HS256"]) == CLAIMS


def test_registered_algorithms_drive_the_allow_list() -> None:
    jws = jwt.PyJWS(algorithms=["HS256"])
    token = jws.encode(b"hi", SECRET)
    assert jws.decode(token, SECRET, algorithms=["HS256"]) == b"hi"
    with pytest.raises(NotImplementedError):
        jws.encode(b"hi", SECRET, algorithm="HS512")
    jws.unregister_algorithm("HS256")
    with pytest.raises(jwt.InvalidAlgorithmError, match="not supported"):
        jws.decode(token, SECRET, algorithms=["HS256"])
    jws.register_algorithm(
        "HS256", jwt.algorithms.HMACAlgorithm(jwt.algorithms.HMACAlgorithm.SHA256)
    )
    assert jws.decode(token, SECRET, algorithms=["HS256"]) == b"hi"

    class Custom(jwt.algorithms.HMACAlgorithm):
        pass

    jws.register_algorithm("X-HMAC", Custom(Custom.SHA256))
    with pytest.raises(NotImplementedError, match="jwtkit"):
        jws.encode(b"hi", SECRET, algorithm="X-HMAC")


def test_modules_declare_sorted_all_and_document_their_callables() -> None:
    for name in SUBMODULES:
        module = importlib.import_module(f"jwtkit.compat.pyjwt.{name}")
        assert list(module.__all__) == sorted(module.__all__), name
        for exported in module.__all__:
            obj = getattr(module, exported)
            if inspect.isclass(obj) or inspect.isfunction(obj):
                assert inspect.getdoc(obj), f"{name}.{exported}"
