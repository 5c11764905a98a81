"""KeyManager behaviour on every backend (memory, SQLite file, real PostgreSQL)."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest

from jwtkit import Key, KeySet, Verifier, decode_unverified
from jwtkit.errors import (
    InvalidKeyError,
    InvalidTokenError,
    KeyNotFoundError,
    KeyStateError,
    KeyStoreError,
)
from jwtkit.keys import KeyManager, KeyRecord, RotationPolicy, generate_master_key


def by_state(records: list[KeyRecord]) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for r in records:
        out.setdefault(r.state, []).append(r.kid)
    return out


def test_first_active_key_creates_active_and_pending(store_url: str, master_key: str) -> None:
    with KeyManager.open(store_url, master_key) as km:
        assert km.records() == []
        active = km.active_key()
        records = km.records()
        states = by_state(records)
        assert states["active"] == [active.kid]
        assert len(states["pending"]) == 1
        assert len(records) == 2
        for rec in records:
            assert rec.created_at.tzinfo is not None
            assert rec.alg == "ES256"
        assert active.activated_at is not None and active.activated_at.utcoffset() == timedelta(0)
        assert km.active_key() == active


def test_kid_is_rfc7638_thumbprint_and_jwks_is_public(store_url: str, master_key: str) -> None:
    with KeyManager.open(store_url, master_key) as km:
        km.active_key()
        jwks = km.jwks()
        assert len(jwks["keys"]) == 2
        for jwk in jwks["keys"]:
            assert "d" not in jwk
            assert jwk["use"] == "sig"
            assert jwk["alg"] == "ES256"
            assert Key.from_jwk(jwk).thumbprint() == jwk["kid"]
        assert {j["kid"] for j in jwks["keys"]} == {r.kid for r in km.records()}


def test_rotation_keeps_old_tokens_valid(store_url: str, master_key: str) -> None:
    with KeyManager.open(store_url, master_key) as km:
        signer = km.signer(issuer="https://id.example", audience="api", typ="at+jwt")
        verifier = km.verifier(issuer="https://id.example", audience="api", typ="at+jwt")
        old = signer.sign({"sub": "alice"})
        first = km.active_key()
        new = km.rotate(force=True)
        assert new.kid != first.kid
        fresh = signer.sign({"sub": "bob"})
        assert decode_unverified(old)[0]["kid"] == first.kid
        assert decode_unverified(fresh)[0]["kid"] == new.kid
        assert verifier.verify(old)["sub"] == "alice"
        assert verifier.verify(fresh)["sub"] == "bob"
        states = by_state(km.records())
        assert states["retired"] == [first.kid]
        assert states["active"] == [new.kid]
        assert len(states["pending"]) == 1


def test_revoke_stops_verification_and_leaves_jwks(store_url: str, master_key: str) -> None:
    with KeyManager.open(store_url, master_key) as km:
        signer, verifier = km.signer(), km.verifier()
        token = signer.sign({"sub": "x"})
        victim = km.active_key()
        revoked = km.revoke(victim.kid)
        assert revoked.state == "revoked" and revoked.revoked_at is not None
        with pytest.raises(KeyNotFoundError):
            verifier.verify(token)
        assert victim.kid not in {j["kid"] for j in km.jwks()["keys"]}
        # Emergency rotation: a key signs again at once, and its tokens verify.
        assert km.active_key().kid != victim.kid
        assert verifier.verify(signer.sign({"sub": "y"}))["sub"] == "y"
        with pytest.raises(KeyStateError):
            km.revoke("no-such-kid")


def test_maintain_rotates_and_expires_by_the_clock(store_url: str, master_key: str) -> None:
    policy = RotationPolicy(rotation_period=timedelta(days=1))
    t0 = datetime.now(UTC)
    with KeyManager.open(store_url, master_key, policy=policy) as km:
        first = km.active_key(now=t0)
        assert km.maintain(now=t0 + timedelta(hours=23)) == km.records()
        assert km.active_key().kid == first.kid
        t1 = t0 + timedelta(days=1)
        km.maintain(now=t1)
        assert by_state(km.records())["retired"] == [first.kid]
        km.maintain(now=t1 + policy.verification_window)
        assert first.kid not in {r.kid for r in km.records()}
        assert len(by_state(km.records())["active"]) == 1


def test_persists_across_reopen(durable_url: str, master_key: str) -> None:
    store_url = durable_url
    with KeyManager.open(store_url, master_key) as km:
        token = km.signer().sign({"sub": "z"})
        before = km.records()
    with KeyManager.open(store_url, master_key) as km:
        assert km.records() == before
        assert km.verifier().verify(token)["sub"] == "z"


def test_signer_follows_rotation_by_another_manager(durable_url: str, master_key: str) -> None:
    store_url = durable_url
    with (
        KeyManager.open(store_url, master_key, refresh_interval=60) as a,
        KeyManager.open(store_url, master_key, refresh_interval=60) as b,
    ):
        signer = a.signer()
        verifier = a.verifier()
        source = verifier  # the verifier must see keys created by b without being rebuilt
        assert decode_unverified(signer.sign({}))[0]["kid"] == a.active_key().kid
        b.rotate(force=True)
        b.rotate(force=True)
        newest = b.active_key()
        token_from_b = b.signer().sign({"sub": "from-b"})
        # a's cache has never seen b's newest key: the unknown kid triggers one reload.
        assert source.verify(token_from_b)["sub"] == "from-b"
        a.refresh()
        assert decode_unverified(signer.sign({}))[0]["kid"] == newest.kid


def test_keyset_object_is_stable_until_keys_change(store_url: str, master_key: str) -> None:
    with KeyManager.open(store_url, master_key, refresh_interval=0) as km:
        km.active_key()
        source = km._key_source
        first = source.get_keyset(None)
        assert isinstance(first, KeySet)
        km.refresh()
        assert source.get_keyset(None) is first
        km.rotate(force=True)
        second = source.get_keyset(None)
        assert second is not first
        assert len(second) == 3


def test_signer_lifetime_may_not_exceed_policy(master_key: str) -> None:
    with KeyManager.open("memory://") as km:
        with pytest.raises(ValueError, match="max_token_lifetime"):
            km.signer(lifetime=7200)
        with pytest.raises(ValueError, match="max_token_lifetime"):
            km.signer(lifetime=timedelta(hours=2))
        token = km.signer().sign({}, now=1_800_000_000)
        claims = decode_unverified(token)[1]
        assert claims["exp"] - claims["iat"] == 3600
        assert km.signer(lifetime=60).sign({})


def test_verifier_default_algorithms_and_explicit(master_key: str) -> None:
    policy = RotationPolicy(alg="EdDSA")
    with KeyManager.open("memory://", policy=policy) as km:
        token = km.signer().sign({"sub": "e"})
        assert decode_unverified(token)[0]["alg"] == "EdDSA"
        assert km.verifier().verify(token)["sub"] == "e"
        with pytest.raises(InvalidTokenError):
            km.verifier(algorithms=["ES256"]).verify(token)
        assert isinstance(km.verifier(algorithms=["EdDSA"]), Verifier)


def test_rsa_policy_with_key_size(master_key: str) -> None:
    with KeyManager.open("memory://", policy=RotationPolicy(alg="PS256", key_size=2048)) as km:
        km.active_key()
        jwk = km.jwks()["keys"][0]
        assert jwk["kty"] == "RSA" and jwk["alg"] == "PS256"


def test_closed_manager_raises_key_store_error(sqlite_url: str, master_key: str) -> None:
    km = KeyManager.open(sqlite_url, master_key)
    km.close()
    with pytest.raises(KeyStoreError, match="closed"):
        km.records()
    km.close()


def test_repr_hides_secrets(master_key: str, sqlite_url: str) -> None:
    with KeyManager.open(sqlite_url, master_key) as km:
        km.active_key()
        assert master_key not in repr(km)
        assert "MasterKey(<hidden>)" == repr(km._vault.master)


def test_unsupported_url() -> None:
    with pytest.raises(KeyStoreError, match="unsupported store URL") as info:
        KeyManager.open("redis://u:secretpw@host/0", "A" * 43)
    assert "secretpw" not in str(info.value)
    with pytest.raises(KeyStoreError, match="sqlite:///"):
        KeyManager.open("sqlite:///", "A" * 43)


def test_refresh_interval_must_fit_in_leeway() -> None:
    with pytest.raises(ValueError, match="leeway"):
        KeyManager.open("memory://", refresh_interval=61)
    with pytest.raises(ValueError, match="leeway"):
        KeyManager.open("memory://", refresh_interval=-1)
    policy = RotationPolicy(leeway=timedelta(minutes=10))
    KeyManager.open("memory://", policy=policy, refresh_interval=600).close()


def test_add_key_keeps_a_user_chosen_kid(durable_url: str, master_key: str) -> None:
    mine = Key.generate("ES256", kid="my-2026-key")
    with KeyManager.open(durable_url, master_key) as km:
        km.active_key()
        record = km.add_key(mine)
        assert (record.kid, record.state) == ("my-2026-key", "pending")
        with pytest.raises(KeyStateError, match="already"):
            km.add_key(mine)
        km.rotate(force=True)  # the older generated pending key goes first
        assert km.active_key().kid != "my-2026-key"
        km.rotate(force=True)
        assert km.active_key().kid == "my-2026-key"
        token = km.signer().sign({"sub": "mine"})
    with KeyManager.open(durable_url, master_key) as km:
        assert decode_unverified(token)[0]["kid"] == "my-2026-key"
        assert km.verifier().verify(token)["sub"] == "mine"
        anonymous = Key.generate("ES256")
        assert km.add_key(anonymous).kid == anonymous.thumbprint()
        # A key of an algorithm the ring does not sign with would never be promoted.
        with pytest.raises(KeyStateError, match="not a signing algorithm"):
            km.add_key(Key.generate("EdDSA"))


@pytest.mark.parametrize(
    "make",
    [
        lambda: Key.generate("ES256").public(),
        lambda: Key.generate("HS256"),
        lambda: Key.generate("ES256").with_alg(None),
    ],
    ids=["public", "hmac", "no-alg"],
)
def test_add_key_refuses_unusable_keys(make: Callable[[], Key]) -> None:
    with KeyManager.open("memory://") as km, pytest.raises(InvalidKeyError):
        km.add_key(make())


def test_threads_sign_and_verify_while_rotating(sqlite_url: str, master_key: str) -> None:
    with KeyManager.open(sqlite_url, master_key, refresh_interval=0) as km:
        signer, verifier = km.signer(), km.verifier()
        errors: list[BaseException] = []
        stop = threading.Event()

        def work() -> None:
            try:
                while not stop.is_set():
                    assert verifier.verify(signer.sign({"sub": "t"}))["sub"] == "t"
            except BaseException as exc:  # reported to the main thread below
                errors.append(exc)

        threads = [threading.Thread(target=work) for _ in range(3)]
        for t in threads:
            t.start()
        for _ in range(10):
            km.rotate(force=True)
        stop.set()
        for t in threads:
            t.join()
        assert errors == []


def test_lifecycle_changes_are_logged_without_secrets(
    caplog: pytest.LogCaptureFixture, master_key: str, sqlite_url: str
) -> None:
    with caplog.at_level(logging.INFO, logger="jwtkit.keys"):
        with KeyManager.open(sqlite_url, master_key) as km:
            first = km.active_key()
            km.rotate(force=True)
            km.revoke(first.kid)
    text = caplog.text
    assert f"key {first.kid} new -> active" in text
    assert f"key {first.kid} active -> retired" in text
    assert f"key {first.kid} retired -> revoked" in text
    assert master_key not in text


def test_signing_source_on_an_empty_store_names_the_problem() -> None:
    from jwtkit.keys._cache import ManagerSigningSource

    with KeyManager.open("memory://") as km:
        source = ManagerSigningSource(km._cache, "ES256")
        with pytest.raises(KeyStateError, match="no active ES256 key"):
            source.signing_key()


def test_rewrap_in_memory() -> None:
    with KeyManager.open("memory://") as km:
        token = km.signer().sign({"sub": "m"})
        km.rewrap(generate_master_key())
        km.refresh()
        assert km.verifier().verify(token)["sub"] == "m"
        km.rewrap(new_passphrase="passphrase for memory")
        km.refresh()
        assert km.verifier().verify(token)["sub"] == "m"
