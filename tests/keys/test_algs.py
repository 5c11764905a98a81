"""One active key per signing algorithm (issue 13): ES256 for access tokens, RS256 for ID tokens.

Each algorithm is its own lineage (active key + pending successor) on the same lifecycle; the
JWKS publishes all of them; the store records the algorithms so that every process sharing it
(another instance, ``jwtkit keys rotate``) maintains all of them.
"""

from __future__ import annotations

import shutil
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from jwtkit import decode_unverified
from jwtkit.errors import CorruptStoreError, KeyStateError
from jwtkit.keys import KeyManager, KeyRecord, RotationPolicy
from jwtkit.keys import _lifecycle as lc

T0 = datetime(2026, 1, 1, tzinfo=UTC)
TWO = ("ES256", "RS256")
FIXTURES = Path(__file__).resolve().parents[1] / "storage" / "fixtures"


def by_alg(records: list[KeyRecord]) -> dict[str, dict[str, list[str]]]:
    out: dict[str, dict[str, list[str]]] = {}
    for r in records:
        out.setdefault(r.alg, {}).setdefault(r.state, []).append(r.kid)
    return out


def test_one_active_and_one_pending_key_per_algorithm(durable_url: str, master_key: str) -> None:
    with KeyManager.open(durable_url, master_key, signing_algs=TWO) as km:
        es, rs = km.active_key("ES256", now=T0), km.active_key("RS256", now=T0)
        assert (es.alg, rs.alg) == TWO and km.signing_algs == TWO
        rings = by_alg(km.records())
        assert {alg: {s: len(k) for s, k in v.items()} for alg, v in rings.items()} == {
            "ES256": {"active": 1, "pending": 1},
            "RS256": {"active": 1, "pending": 1},
        }
        jwks = km.jwks()["keys"]
        assert sorted(j["alg"] for j in jwks) == ["ES256", "ES256", "RS256", "RS256"]
        # Each signer uses its algorithm's active key; one verifier accepts both.
        access = km.signer().sign({"sub": "a"})
        identity = km.signer(alg="RS256").sign({"sub": "i"})
        assert decode_unverified(access)[0]["kid"] == es.kid
        assert decode_unverified(identity)[0] == {"alg": "RS256", "kid": rs.kid, "typ": "JWT"}
        verifier = km.verifier()
        assert verifier.verify(access)["sub"] == "a" and verifier.verify(identity)["sub"] == "i"
        with pytest.raises(KeyStateError, match="not a signing algorithm"):
            km.signer(alg="EdDSA")
    # The store remembers the algorithms: a manager opened without them (the CLI) keeps both.
    with KeyManager.open(durable_url, master_key) as km:
        assert km.signing_algs == TWO
        old = {alg: km.active_key(alg).kid for alg in TWO}
        km.rotate(force=True)
        rings = by_alg(km.records())
        for alg in TWO:
            assert rings[alg]["retired"] == [old[alg]]
            assert km.active_key(alg).kid != old[alg]


def test_rotate_one_algorithm_and_revoke_stay_in_their_lineage(master_key: str) -> None:
    with KeyManager.open("memory://", signing_algs=TWO) as km:
        es = km.active_key("ES256", now=T0)
        rs = km.active_key("RS256", now=T0)
        new_rs = km.rotate(alg="RS256", now=T0 + timedelta(hours=2))
        assert new_rs.alg == "RS256" and new_rs.kid != rs.kid
        assert km.active_key("ES256").kid == es.kid
        # Revoking the ES256 active key promotes the ES256 pending key, never an RS256 one.
        pending_es = by_alg(km.records())["ES256"]["pending"][0]
        km.revoke(es.kid, now=T0 + timedelta(hours=3))
        assert km.active_key("ES256").kid == pending_es
        assert km.active_key("RS256").kid == new_rs.kid


def test_maintain_rotates_every_algorithm_on_the_same_lifecycle(master_key: str) -> None:
    policy = RotationPolicy(rotation_period=timedelta(days=1))
    with KeyManager.open("memory://", policy=policy, signing_algs=TWO) as km:
        first = {alg: km.active_key(alg, now=T0).kid for alg in TWO}
        km.maintain(now=T0 + timedelta(hours=23))
        assert {alg: km.active_key(alg).kid for alg in TWO} == first
        km.maintain(now=T0 + timedelta(days=1, minutes=1))
        second = {alg: km.active_key(alg).kid for alg in TWO}
        assert all(second[a] != first[a] for a in TWO)
        # The retired keys go once every token they signed has expired.
        km.maintain(now=T0 + timedelta(days=1, hours=3))
        assert not any(r.kid in first.values() for r in km.records())


def test_set_signing_algs_adds_and_retires_lineages(master_key: str) -> None:
    with KeyManager.open("memory://", signing_algs=("ES256", "RS256", "EdDSA")) as km:
        ed = km.active_key("EdDSA", now=T0)
        with pytest.raises(ValueError, match="keep it"):
            km.set_signing_algs(["ES256"])
    with KeyManager.open("memory://") as km:
        km.active_key()
        assert km.signing_algs == ("ES256",)
        assert km.set_signing_algs(["ES256", "EdDSA"]) == ("ES256", "EdDSA")
        ed = km.active_key("EdDSA")
        km.set_signing_algs(["ES256"])
        states = {r.kid: r.state for r in km.records() if r.alg == "EdDSA"}
        assert states[ed.kid] == "retired" and set(states.values()) == {"retired"}
        # Still published (tokens it signed keep verifying), then removed by maintenance.
        assert ed.kid in {j["kid"] for j in km.jwks()["keys"]}
        km.maintain(now=datetime.now(UTC) + timedelta(hours=4))
        assert not [r for r in km.records() if r.alg == "EdDSA"]
        with pytest.raises(ValueError, match="not an asymmetric"):
            km.set_signing_algs(["HS256"])
        with pytest.raises(ValueError, match="at least one"):
            km.set_signing_algs([])


def test_validate_allows_one_active_key_per_algorithm() -> None:
    es = KeyRecord(kid="a", alg="ES256", state="active", created_at=T0)
    rs = KeyRecord(kid="b", alg="RS256", state="active", created_at=T0)
    lc.validate([es, rs])
    with pytest.raises(CorruptStoreError, match="2 active ES256 keys"):
        lc.validate([es, KeyRecord(kid="c", alg="ES256", state="active", created_at=T0)])


def test_a_store_of_the_previous_release_records_its_algorithm_and_gains_rs256(
    tmp_path: Path,
) -> None:
    """Migration 4 records the old ring's algorithm; the service asking for RS256 adds it."""
    import json

    expected = json.loads((FIXTURES / "v2.json").read_text())
    target = tmp_path / "old.db"
    shutil.copyfile(FIXTURES / "v2.sqlite3", target)
    url = f"sqlite:///{target}"
    with KeyManager.open(url, expected["master_key"]) as km:
        assert km.signing_algs == ("ES256",)
        before = {r.kid: r.state for r in km.records()}
    with KeyManager.open(url, expected["master_key"], signing_algs=TWO) as km:
        rs = km.active_key("RS256")
        after = {r.kid: r.state for r in km.records()}
        # Every old key keeps its state; RS256 gains an active key and a pending one.
        assert {k: after[k] for k in before} == before
        assert {s for k, s in after.items() if k not in before} == {"active", "pending"}
        assert rs.kid in {j["kid"] for j in km.jwks()["keys"]}
    with KeyManager.open(url, expected["master_key"]) as km:
        assert km.signing_algs == TWO
