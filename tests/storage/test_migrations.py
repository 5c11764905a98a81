"""Stores written by the release before the storage layer open with every row intact.

The fixtures in tests/storage/fixtures/ were made by ``make_v2_fixture.py`` on commit 17f963d
(key schema version 2, service tables versioned apart): a SQLite file, and the same kind of
store on PostgreSQL as SQL. Opening them upgrades the schema to the one version; every key,
user, client, refresh family and denylist entry must come through, and keep working.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest

from jwtkit._storage import SCHEMA_VERSION, Database, Families, RevocationRows
from jwtkit.errors import MasterKeyError
from jwtkit.keys import KeyManager, generate_master_key
from jwtkit.server import Accounts
from jwtkit.server._accounts import make_password_hasher
from jwtkit.server._tokens import RefreshError, TokenStore, hash_token

FIXTURES = Path(__file__).resolve().parent / "fixtures"
EXPECTED: dict[str, Any] = json.loads((FIXTURES / "v2.json").read_text())
FAST = make_password_hasher(time_cost=1, memory_cost=8, parallelism=1)
NOW = 1_800_000_100.0


def sqlite_copy(tmp_path: Path) -> str:
    target = tmp_path / "old.db"
    shutil.copyfile(FIXTURES / "v2.sqlite3", target)
    target.chmod(0o600)
    return f"sqlite:///{target}"


def tables(url: str) -> set[str]:
    db = Database.open(url, migrate=False)
    try:
        return db.read(lambda tx: tx.dialect.tables(tx.execute))
    finally:
        db.close()


def check_everything(url: str, expected: dict[str, Any]) -> None:
    """Open the old store with today's code and check every kind of row."""
    with KeyManager.open(url, master_key=EXPECTED["master_key"]) as km:
        assert {r.kid: r.state for r in km.records()} == expected["keys"]
        assert km._store.schema_version() == SCHEMA_VERSION
        # The token signed by the old release verifies at the time it was valid.
        token = expected["signed_token"]
        from jwtkit import decode_unverified

        iat = decode_unverified(token)[1]["iat"]
        assert km.verifier().verify(token, now=iat + 1)["sub"] == "fixture"
    assert "jwtkit_server_meta" not in tables(url)
    with Accounts.open(url, hasher=FAST) as accounts:
        for name, (password, disabled) in expected["users"].items():
            assert accounts.get_user(name) is not None
            assert (accounts.authenticate_user(name, password) is None) == disabled
        for client_id, (secret, disabled) in expected["clients"].items():
            info = accounts.get_client(client_id)
            assert info is not None and info.disabled == disabled
            assert info.origins == ()  # schema 6: no origin registered, cookie mode refused
            assert (accounts.authenticate_client(client_id, secret or None) is not None) == (
                not disabled
            )
            # Schema 4: every confidential client keeps the introspection details it had.
            assert info.resource_server == bool(secret)
    refresh = expected["refresh"]
    db = Database.open(url)
    try:
        families = Families(db)
        assert families.is_denied(expected["denied_jti"])
        # Schema 4: a subject disabled before the upgrade is cut off.
        rows = RevocationRows(db)
        for name, (_, disabled) in expected["users"].items():
            cut = rows.lookup(jti=None, family_id=None, username=name, client_id=None).user
            assert (cut is not None and cut.disabled) == disabled
        tokens = TokenStore(db, lifetime=3600)
        for dead in (refresh["used"], refresh["revoked"], *refresh["reuse_revoked"]):
            row = families.find(hash_token(dead))
            assert row is not None and (row.used_at is not None or row.revoked_at is not None)
        with pytest.raises(RefreshError, match="revoked"):
            tokens.rotate(refresh["revoked"], client_id="web", now=NOW)
        renewed = tokens.rotate(refresh["live"], client_id="web", now=NOW)
        assert renewed.username == "alice" and renewed.scope == ("read",)
        assert renewed.roles == ("admin", "staff")
    finally:
        db.close()


def test_sqlite_store_of_the_previous_release(tmp_path: Path) -> None:
    url = sqlite_copy(tmp_path)
    assert "jwtkit_server_meta" in tables(url)
    check_everything(url, EXPECTED["sqlite"])
    # Opening again is a no-op: the version stays, nothing is migrated twice.
    check_everything_again = Database.open(url)
    try:
        assert check_everything_again.schema_version() == SCHEMA_VERSION
    finally:
        check_everything_again.close()


def test_wrong_master_key_leaves_the_old_store_untouched(tmp_path: Path) -> None:
    url = sqlite_copy(tmp_path)
    before = (tmp_path / "old.db").read_bytes()
    with pytest.raises(MasterKeyError):
        KeyManager.open(url, master_key=generate_master_key())
    assert (tmp_path / "old.db").read_bytes() == before


def test_service_tables_without_a_key_ring(tmp_path: Path) -> None:
    """The previous release let `jwtkit user add` create the service tables before
    `jwtkit keys init`: such a store migrates too, and gets its key ring later."""
    url = sqlite_copy(tmp_path)
    import sqlite3

    with sqlite3.connect(tmp_path / "old.db") as conn:
        conn.execute("DROP TABLE jwtkit_keys")
        conn.execute("DROP TABLE jwtkit_meta")
    with Accounts.open(url, hasher=FAST) as accounts:
        assert accounts.authenticate_user("alice", "alice-password-1") is not None
    assert {"jwtkit_meta", "jwtkit_keys"} <= tables(url)
    assert "jwtkit_server_meta" not in tables(url)
    with KeyManager.open(url, master_key=generate_master_key()) as km:
        assert km.active_key().state == "active"


@pytest.mark.postgres
def test_postgres_store_of_the_previous_release(pg_store: tuple[str, str]) -> None:
    import psycopg

    schema, url = pg_store
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(f"SET search_path TO {schema}".encode())
        conn.execute((FIXTURES / "v2-postgres.sql").read_bytes())
    assert "jwtkit_server_meta" in tables(url)
    check_everything(url, EXPECTED["postgres"])


def test_the_migrations_are_numbered_in_order() -> None:
    from jwtkit._storage import MIGRATIONS

    assert [m.version for m in MIGRATIONS] == list(range(1, SCHEMA_VERSION + 1))
    assert all(m.summary for m in MIGRATIONS)


def test_the_service_adds_its_id_token_algorithms_to_an_old_store(tmp_path: Path) -> None:
    """Issue 13: a store of the previous release gains an RS256 key (ID tokens) on upgrade,
    every old key keeping its state, and the service publishes all of them."""
    from jwtkit.server import Settings
    from jwtkit.server._app import open_service

    url = sqlite_copy(tmp_path)
    settings = Settings(store=url, master_key=EXPECTED["master_key"], argon2_memory_cost=8,
                        argon2_parallelism=1, argon2_time_cost=1)  # fmt: skip
    svc = open_service(settings)
    try:
        records = {r.kid: r for r in svc.keys.records()}
        old = EXPECTED["sqlite"]["keys"]
        assert {kid: records[kid].state for kid in old} == old
        new = [r for kid, r in records.items() if kid not in old]
        assert sorted((r.alg, r.state) for r in new if r.alg == "RS256") == [
            ("RS256", "active"),
            ("RS256", "pending"),
        ]
        assert svc.keys.signing_algs == ("ES256", "RS256", "EdDSA")
        published = {j["kid"] for j in svc.keys.jwks()["keys"]}
        assert svc.keys.active_key("RS256").kid in published
        assert svc.keys.active_key("ES256").kid in old  # access tokens: the same key as before
    finally:
        svc.close()


def test_migration_writes_each_old_clients_effective_grants(tmp_path: Path) -> None:
    """Before issue 13 no grants meant all; the upgrade writes them out, so those clients keep
    working while new ones default to the code flow."""
    url = sqlite_copy(tmp_path)
    with Accounts.open(url, hasher=FAST) as accounts:
        clients = {c.client_id: c for c in accounts.list_clients()}
        assert clients["web"].grants == ("password", "client_credentials", "refresh_token")
        assert clients["spa"].grants == ("password", "refresh_token")
        assert clients["web"].allows_grant("password")
        assert not clients["web"].allows_grant("authorization_code")
        accounts.add_client("new", "a-new-client-secret-123")
        assert accounts.get_client("new").grants == (  # type: ignore[union-attr]
            "authorization_code",
            "refresh_token",
        )


def test_a_schema_8_store_gains_consents_resources_and_logout_uris(tmp_path: Path) -> None:
    """Issue 14 (schema 9): clients get no post-logout redirect URI, sessions no resource,
    and the consent and resource tables start empty; everything else comes through."""
    from jwtkit._storage import MIGRATIONS, ConsentRows, ResourceRows

    url = f"sqlite:///{tmp_path / 'v8.db'}"
    db = Database.open(url, migrate=False)

    def to_eight(tx: Any) -> None:
        for step in MIGRATIONS[:8]:
            step.apply(tx)
        tx.execute("INSERT INTO jwtkit_meta (name, value) VALUES ('schema_version', '8')")
        tx.execute(
            "INSERT INTO jwtkit_clients (client_id, secret_hash, scopes, grants, disabled,"
            " created_at, redirect_uris) VALUES ('spa', NULL, '[]',"
            " '[\"authorization_code\"]', 0, 1, '[\"https://spa.example/cb\"]')"
        )
        tx.execute(
            "INSERT INTO jwtkit_refresh_families (family_id, client_id, username, scope,"
            " created_at, sid) VALUES ('f1', 'spa', 'alice', 'openid', 1, 'sid-1')"
        )

    try:
        db.write(to_eight)
    finally:
        db.close()
    with Accounts.open(url, hasher=FAST) as accounts:
        spa = accounts.get_client("spa")
        assert spa is not None and spa.redirect_uris == ("https://spa.example/cb",)
        assert spa.post_logout_redirect_uris == ()
    db = Database.open(url)
    try:
        assert db.read(lambda tx: tx.one("SELECT resources, sid FROM jwtkit_refresh_families")) == (
            "[]",
            "sid-1",
        )
        assert ConsentRows(db).of_user("alice") == [] and ResourceRows(db).all() == []
    finally:
        db.close()
    assert SCHEMA_VERSION == 9
