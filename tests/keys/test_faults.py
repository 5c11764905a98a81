"""Damaged stores, schema versions and migrations, file modes, outages.

Every failure must be a specific KeyStoreError subclass, and a failed open must change nothing
(the bytes of the SQLite file are compared before and after).
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
import stat
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from jwtkit._storage import SCHEMA_VERSION
from jwtkit.errors import CorruptStoreError, KeyStoreError, SchemaVersionError
from jwtkit.keys import KeyManager
from tests.support.keys import legacy_check


def snapshot(directory: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(directory.iterdir())}


def make_store(url: str, master_key: str) -> str:
    """Create a store with a rotated ring; return a token signed by it."""
    with KeyManager.open(url, master_key) as km:
        token = km.signer().sign({"sub": "before"})
        km.rotate(force=True)
    return token


@contextlib.contextmanager
def raw_sql(url: str) -> Iterator[Callable[[str], None]]:
    """Run SQL against the store behind the library's back (SQLite file or PostgreSQL)."""
    if url.startswith("sqlite:///"):
        conn = sqlite3.connect(url[len("sqlite:///") :], isolation_level=None)

        def run_sqlite(sql: str) -> None:
            conn.execute(sql)

        try:
            yield run_sqlite
        finally:
            conn.close()
    else:
        import psycopg

        with psycopg.connect(url, autocommit=True) as pg:

            def run_pg(sql: str) -> None:
                pg.execute(sql.encode())

            yield run_pg


def test_garbage_file_is_a_corrupt_store(tmp_path: Path, master_key: str) -> None:
    path = tmp_path / "keys.db"
    path.write_bytes(os.urandom(8192))
    before = snapshot(tmp_path)
    with pytest.raises(CorruptStoreError) as info:
        KeyManager.open(f"sqlite:///{path}", master_key)
    assert info.value.code == "corrupt_store"
    assert snapshot(tmp_path) == before


@pytest.mark.parametrize("keep", [0.25, 0.5, 0.75])
def test_truncated_file_is_a_corrupt_store(tmp_path: Path, master_key: str, keep: float) -> None:
    url = f"sqlite:///{tmp_path / 'keys.db'}"
    make_store(url, master_key)
    path = tmp_path / "keys.db"
    data = path.read_bytes()
    assert not (tmp_path / "keys.db-wal").exists()  # checkpointed on close
    path.write_bytes(data[: int(len(data) * keep)])
    before = snapshot(tmp_path)
    with pytest.raises(CorruptStoreError):
        KeyManager.open(url, master_key)
    assert snapshot(tmp_path) == before


def test_newer_schema_version_changes_nothing(durable_url: str, master_key: str) -> None:
    make_store(durable_url, master_key)
    with raw_sql(durable_url) as sql:
        sql("UPDATE jwtkit_meta SET value = '99' WHERE name = 'schema_version'")
    before = snapshot(Path(durable_url[10:]).parent) if durable_url.startswith("sqlite") else {}
    with pytest.raises(SchemaVersionError, match="newer jwtkit") as info:
        KeyManager.open(durable_url, master_key)
    assert info.value.code == "schema_version"
    if before:
        assert snapshot(Path(durable_url[10:]).parent) == before


def test_version_1_store_is_upgraded_in_place(durable_url: str, master_key: str) -> None:
    token = make_store(durable_url, master_key)
    with KeyManager.open(durable_url, master_key) as km:
        records = km.records()
        store_id = km._store.read()[0].store_id
    # Rewrite the store into the version 1 shape: no revoked_at column, no generation row,
    # none of the tables that later migrations create (3 brought the service tables).
    with raw_sql(durable_url) as sql:
        for table in ("jwtkit_users", "jwtkit_clients", "jwtkit_refresh_families",
                      "jwtkit_refresh_tokens", "jwtkit_denylist"):  # fmt: skip
            sql(f"DROP TABLE {table}")
        sql("ALTER TABLE jwtkit_keys DROP COLUMN revoked_at")
        sql("DELETE FROM jwtkit_meta WHERE name = 'generation'")
        sql("UPDATE jwtkit_meta SET value = '1' WHERE name = 'schema_version'")
        # Nor the ring's MAC (issue 12), and a check value of the version before it.
        sql("DELETE FROM jwtkit_meta WHERE name = 'ring_mac'")
        check = legacy_check(master_key, store_id)  # base64url text: safe to interpolate
        sql(f"UPDATE jwtkit_meta SET value = '{check}' WHERE name = 'check'")  # noqa: S608
    with KeyManager.open(durable_url, master_key) as km:
        assert km._store.load_meta() is not None
        assert km._store.load_meta().mac is not None  # type: ignore[union-attr]
        assert km._store.schema_version() == SCHEMA_VERSION
        assert km.records() == records
        assert km.verifier().verify(token)["sub"] == "before"
        revoked = km.revoke(records[0].kid)
        assert revoked.revoked_at is not None
    with KeyManager.open(durable_url, master_key) as km:
        assert {r.kid: r.state for r in km.records()}[records[0].kid] == "revoked"


def test_damaged_row_is_a_corrupt_store(durable_url: str, master_key: str) -> None:
    make_store(durable_url, master_key)
    with raw_sql(durable_url) as sql:
        sql("UPDATE jwtkit_keys SET state = 'bogus' WHERE state = 'pending'")
    with pytest.raises(CorruptStoreError, match="unknown state"):
        KeyManager.open(durable_url, master_key)


def test_two_active_rows_are_a_corrupt_store(durable_url: str, master_key: str) -> None:
    make_store(durable_url, master_key)
    with raw_sql(durable_url) as sql:
        sql("UPDATE jwtkit_keys SET state = 'active'")
    with pytest.raises(CorruptStoreError, match="integrity"):
        KeyManager.open(durable_url, master_key)


def test_missing_table_is_a_corrupt_store(durable_url: str, master_key: str) -> None:
    make_store(durable_url, master_key)
    with raw_sql(durable_url) as sql:
        sql("DROP TABLE jwtkit_meta")
    with pytest.raises(CorruptStoreError, match="missing"):
        KeyManager.open(durable_url, master_key)


def test_files_are_private(tmp_path: Path, master_key: str) -> None:
    url = f"sqlite:///{tmp_path / 'keys.db'}"
    old = os.umask(0o022)
    try:
        with KeyManager.open(url, master_key) as km:
            km.active_key()
            names = [p.name for p in tmp_path.iterdir()]
            assert "keys.db-wal" in names
            for p in tmp_path.iterdir():
                assert stat.S_IMODE(p.stat().st_mode) == 0o600, p.name
    finally:
        os.umask(old)


def test_missing_directory_is_a_key_store_error(tmp_path: Path, master_key: str) -> None:
    with pytest.raises(KeyStoreError, match="cannot create"):
        KeyManager.open(f"sqlite:///{tmp_path / 'nope' / 'keys.db'}", master_key)


def test_outage_serves_cached_keys_but_refresh_raises(tmp_path: Path, master_key: str) -> None:
    url = f"sqlite:///{tmp_path / 'keys.db'}"
    with KeyManager.open(url, master_key, refresh_interval=0) as km:
        signer, verifier = km.signer(), km.verifier()
        token = signer.sign({"sub": "cached"})
        with raw_sql(url) as sql:
            sql("DROP TABLE jwtkit_keys")
        # Each call would reload (interval 0); the failure is logged and the cache serves.
        assert verifier.verify(signer.sign({"sub": "still"}))["sub"] == "still"
        assert verifier.verify(token)["sub"] == "cached"
        with pytest.raises(CorruptStoreError):
            km.refresh()


def test_postgres_unreachable_is_a_key_store_error(master_key: str) -> None:
    url = "postgresql://postgres:hunter2@127.0.0.1:1/test?connect_timeout=2"
    with pytest.raises(KeyStoreError, match="PostgreSQL unavailable") as info:
        KeyManager.open(url, master_key)
    assert "hunter2" not in str(info.value)


def test_postgres_reconnects_after_the_connection_drops(pg_url: str, master_key: str) -> None:
    import psycopg

    with KeyManager.open(pg_url, master_key, refresh_interval=0) as km:
        verifier, signer = km.verifier(), km.signer()
        token = signer.sign({"sub": "pg"})
        db = km._store.db

        def backend(tx: Any) -> int:
            return int(tx.one("SELECT pg_backend_pid()")[0])

        pid = db.read(backend)  # only this manager's own server process
        with psycopg.connect(pg_url, autocommit=True) as admin:
            admin.execute("SELECT pg_terminate_backend(%s)", (pid,))
        # The dead pooled connection is noticed, discarded and the read retried on a fresh
        # one: no error reaches the caller, and the cached keys keep serving meanwhile.
        assert verifier.verify(token)["sub"] == "pg"
        assert len(km.records()) == 2
        assert db.read(backend) != pid


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        ("postgresql://u:pw1@h:5/db?sslmode=require", "postgresql://u:***@h:5/db?sslmode=require"),
        ("postgresql://h/db?a=1&password=pw2", "postgresql://h/db?a=1&password=***"),
        ("sqlite:////var/keys.db", "sqlite:////var/keys.db"),
    ],
)
def test_store_urls_are_shown_without_passwords(url: str, shown: str) -> None:
    from jwtkit._storage import redact_url

    assert redact_url(url) == shown


def test_unknown_old_schema_version_has_no_upgrade_path(sqlite_url: str, master_key: str) -> None:
    make_store(sqlite_url, master_key)
    with raw_sql(sqlite_url) as sql:
        sql("UPDATE jwtkit_meta SET value = '0' WHERE name = 'schema_version'")
    with pytest.raises(SchemaVersionError, match="no upgrade path"):
        KeyManager.open(sqlite_url, master_key)


def test_backup_into_missing_directory_is_a_key_store_error(tmp_path: Path) -> None:
    with KeyManager.open("memory://") as km, pytest.raises(KeyStoreError, match="cannot write"):
        km.export_backup(tmp_path / "missing" / "b.json", "long enough passphrase")
