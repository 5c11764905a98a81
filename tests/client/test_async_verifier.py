"""AsyncVerifier over the core's ``read_kid`` and ``verify_with`` (issue 15, step 3)."""

from __future__ import annotations

import asyncio

import pytest

from jwtkit import Key, KeySet, Signer
from jwtkit.client import AsyncVerifier
from jwtkit.errors import AlgorithmNotAllowedError, KeyNotFoundError, MalformedTokenError
from jwtkit.jwt import VerifyRules
from tests.support.vectors import NOW


class CountingSource:
    """An async key source (the application's side of the protocol) that counts its calls."""

    def __init__(self, keyset: KeySet) -> None:
        self.keyset = keyset
        self.kids: list[str | None] = []

    async def get_keyset_async(self, kid: str | None) -> KeySet:
        self.kids.append(kid)
        await asyncio.sleep(0)
        return self.keyset


def test_the_header_is_checked_before_the_source_is_asked() -> None:
    key = Key.generate("ES256", kid="k1")
    source = CountingSource(KeySet([key.public()]))
    verifier = AsyncVerifier(source, algorithms=["ES256"])
    hs_token = Signer(Key.generate("HS256", kid="k1")).sign({"sub": "x"}, now=NOW)

    async def scenario() -> None:
        with pytest.raises(AlgorithmNotAllowedError):
            await verifier.verify_async(hs_token, now=NOW)
        with pytest.raises(MalformedTokenError):
            await verifier.verify_async("not-a-token", now=NOW)
        assert source.kids == []
        token = Signer(key).sign({"sub": "alice"}, now=NOW)
        assert (await verifier.verify_async(token, now=NOW))["sub"] == "alice"
        assert source.kids == ["k1"]

    asyncio.run(scenario())


def test_one_verifier_serves_every_key_set() -> None:
    k1, k2 = Key.generate("ES256", kid="k1"), Key.generate("ES256", kid="k2")
    source = CountingSource(KeySet([k1.public()]))
    verifier = AsyncVerifier(source, algorithms=["ES256"], audience="api")
    inner = verifier._verifier
    old = Signer(k1, audience="api").sign({"sub": "alice"}, now=NOW)
    new = Signer(k2, audience="api").sign({"sub": "bob"}, now=NOW)

    async def scenario() -> None:
        assert (await verifier.verify_async(old, now=NOW))["sub"] == "alice"
        with pytest.raises(KeyNotFoundError):
            await verifier.verify_async(new, now=NOW)
        source.keyset = KeySet([k1.public(), k2.public()])  # a JWKS refresh
        assert (await verifier.verify_async(new, now=NOW))["sub"] == "bob"
        assert (await verifier.verify_async(old, now=NOW))["sub"] == "alice"

    asyncio.run(scenario())
    assert verifier._verifier is inner
    assert verifier.rules == VerifyRules(algorithms=["ES256"], audience="api")
    assert source.kids == ["k1", "k2", "k2", "k1"]
