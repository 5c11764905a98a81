"""The public API named in issue 2 exists, ``__all__`` is sorted and complete."""

from __future__ import annotations

import inspect

import jwtkit
from jwtkit import errors, jwa, jwk, jws, jwt

CONTRACT = {"Key", "KeySet", "encode", "decode", "decode_unverified", "Signer", "Verifier"}


def test_all_is_sorted_and_names_the_contract() -> None:
    assert list(jwtkit.__all__) == sorted(jwtkit.__all__)
    assert CONTRACT | {"errors"} <= set(jwtkit.__all__)
    for name in jwtkit.__all__:
        assert getattr(jwtkit, name) is not None


def test_lazy_names_are_the_module_objects() -> None:
    assert jwtkit.Key is jwk.Key
    assert jwtkit.Verifier is jwt.Verifier
    assert jwtkit.KeySource is jws.KeySource
    assert jwtkit.errors is errors


def test_unknown_attribute_is_an_attribute_error() -> None:
    try:
        jwtkit.nope  # noqa: B018
    except AttributeError as exc:
        assert "nope" in str(exc)
    else:  # pragma: no cover
        raise AssertionError("expected AttributeError")


def test_public_modules_declare_sorted_all() -> None:
    for module in (errors, jwa, jwk, jws, jwt):
        assert list(module.__all__) == sorted(module.__all__), module.__name__
        for name in module.__all__:
            assert hasattr(module, name), f"{module.__name__}.{name}"


def test_decode_requires_algorithms_keyword() -> None:
    parameter = inspect.signature(jwtkit.decode).parameters["algorithms"]
    assert parameter.kind is inspect.Parameter.KEYWORD_ONLY
    assert parameter.default is inspect.Parameter.empty
    parameter = inspect.signature(jwtkit.Verifier).parameters["algorithms"]
    assert parameter.default is inspect.Parameter.empty


def test_signatures_match_the_contract() -> None:
    assert list(inspect.signature(jwtkit.encode).parameters) == [
        "claims", "key", "alg", "headers",
    ]  # fmt: skip
    decode = inspect.signature(jwtkit.decode).parameters
    assert list(decode)[:2] == ["token", "key"]
    for name in ("issuer", "audience", "subject", "leeway", "require", "max_age", "typ", "now"):
        assert name in decode
    assert decode["require"].default == ("exp",)
    signer = inspect.signature(jwtkit.Signer).parameters
    assert signer["lifetime"].default == 900
    assert signer["typ"].default == "JWT"
    assert signer["jti"].default is True
    assert signer["not_before"].default is False


def test_every_public_callable_has_a_docstring() -> None:
    for module in (errors, jwa, jwk, jws, jwt):
        for name in module.__all__:
            obj = getattr(module, name)
            if inspect.isclass(obj) or inspect.isfunction(obj):
                assert inspect.getdoc(obj), f"{module.__name__}.{name} has no docstring"
