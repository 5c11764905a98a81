"""The key ring is authenticated as a whole; destroyed keys leave no residue (issue 12, item 1).

The attacker here can read and write the database (a real SQLite file, or PostgreSQL), but
has no master key: they restore old rows, change states, roll the whole file back.
"""

from __future__ import annotations

import io
import logging
import shutil
import sqlite3
import threading
from pathlib import Path
from typing import Any

import pytest

from jwtkit.cli.env import Env
from jwtkit.cli.main import main
from jwtkit.errors import CorruptStoreError, InvalidTokenError, MasterKeyError
from jwtkit.keys import KeyManager, generate_master_key
from jwtkit.server import Accounts, Settings, create_app
from tests.support.keys import legacy_check

FIXTURES = Path(__file__).resolve().parents[1] / "storage" / "fixtures"
COLUMNS = "kid, alg, state, created_at, activated_at, retired_at, revoked_at, sealed"


def db_path(url: str) -> Path:
    return Path(url[len("sqlite:///") :])


def sql(url: str, statement: str, params: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Run one statement on the SQLite file behind the library's back."""
    conn = sqlite3.connect(db_path(url), isolation_level=None)
    try:
        return conn.execute(statement, params).fetchall()
    finally:
        conn.close()


def meta_rows(url: str) -> dict[str, str]:
    return dict(sql(url, "SELECT name, value FROM jwtkit_meta"))


def test_a_revoked_keys_old_row_restored_as_active_is_refused(
    sqlite_url: str,
    master_key: str,
    caplog: pytest.LogCaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Issue 12: with the revoked key's old row (its ciphertext was still in the WAL) put back
    # as the active key, tokens of the leaked key verified again.
    km = KeyManager.open(sqlite_url, master_key)
    leaked = km.active_key()
    token = km.signer().sign({"sub": "mallory"})
    old_row = sql(sqlite_url, f"SELECT {COLUMNS} FROM jwtkit_keys WHERE kid = ?", (leaked.kid,))[0]  # noqa: S608
    km.revoke(leaked.kid)
    verifier = km.verifier()
    with pytest.raises(InvalidTokenError):
        verifier.verify(token)
    successor = km.active_key().kid

    # The attacker: the old row back, the successor demoted, so one key is active again.
    sql(sqlite_url, "DELETE FROM jwtkit_keys WHERE kid = ?", (leaked.kid,))
    sql(sqlite_url, f"INSERT INTO jwtkit_keys ({COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?)", old_row)  # noqa: S608
    sql(sqlite_url, "UPDATE jwtkit_keys SET state = 'pending' WHERE kid = ?", (successor,))

    caplog.set_level(logging.ERROR, "jwtkit.keys")
    with pytest.raises(CorruptStoreError, match="fails its integrity check"):
        km.refresh()
    assert "key ring integrity" in caplog.text
    # The running process keeps its last authenticated keys: the token stays refused.
    with pytest.raises(InvalidTokenError):
        verifier.verify(token)
    assert km.active_key().kid == successor
    km.close()
    # A fresh process refuses the ring outright, and so do the CLI and the token service.
    with pytest.raises(CorruptStoreError, match="without the master key"):
        KeyManager.open(sqlite_url, master_key)
    out, err = io.StringIO(), io.StringIO()
    monkeypatch.setenv("JWTKIT_MASTER_KEY", master_key)
    env = Env(stdin=io.StringIO(), stdout=out, stderr=err)
    assert main(["keys", "--store", sqlite_url, "list"], env) == 4
    assert err.getvalue().startswith("error: key store: ") and err.getvalue().count("\n") == 1
    settings = Settings(store=sqlite_url, master_key=master_key, issuer="http://id.test")
    with pytest.raises(CorruptStoreError):
        create_app(settings)


def test_sqlite_connections_zero_what_they_delete(sqlite_url: str, master_key: str) -> None:
    # Some SQLite builds default to secure_delete (Debian's), others do not: jwtkit sets it.
    with KeyManager.open(sqlite_url, master_key) as km:
        assert km._store.db.read(lambda tx: tx.execute("PRAGMA secure_delete")) == [(1,)]


def _tamper_cases() -> list[tuple[str, str]]:
    return [
        ("state", "UPDATE jwtkit_keys SET state = 'retired' WHERE state = 'pending'"),
        ("alg", "UPDATE jwtkit_keys SET alg = 'ES384' WHERE state = 'pending'"),
        ("time", "UPDATE jwtkit_keys SET created_at = '2001-01-01T00:00:00+00:00'"
                 " WHERE state = 'pending'"),
        ("activated", "UPDATE jwtkit_keys SET activated_at = NULL WHERE state = 'active'"),
        ("ciphertext", "UPDATE jwtkit_keys SET sealed = (SELECT sealed FROM jwtkit_keys"
                       " WHERE state = 'active') WHERE state = 'pending'"),
        ("deleted", "DELETE FROM jwtkit_keys WHERE state = 'pending'"),
        ("copied", f"INSERT INTO jwtkit_keys ({COLUMNS}) SELECT 'copy', alg, 'pending',"  # noqa: S608
                   " created_at, NULL, NULL, NULL, sealed FROM jwtkit_keys WHERE state = 'active'"),
        ("generation", "UPDATE jwtkit_meta SET value = '99' WHERE name = 'generation'"),
        ("algs", "UPDATE jwtkit_meta SET value = '[\"ES256\",\"RS256\"]'"
                 " WHERE name = 'signing_algs'"),
        ("no-mac", "DELETE FROM jwtkit_meta WHERE name = 'ring_mac'"),
    ]  # fmt: skip


@pytest.mark.parametrize(
    ("what", "statement"), _tamper_cases(), ids=[c[0] for c in _tamper_cases()]
)
def test_any_row_changed_without_the_master_key_is_refused(
    sqlite_url: str, master_key: str, what: str, statement: str
) -> None:
    with KeyManager.open(sqlite_url, master_key) as km:
        km.active_key()
    sql(sqlite_url, statement)
    with pytest.raises(CorruptStoreError, match=r"integrity check|no integrity tag"):
        KeyManager.open(sqlite_url, master_key)


def test_a_rollback_is_refused_by_a_process_that_saw_a_newer_ring(
    sqlite_url: str, master_key: str, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    km = KeyManager.open(sqlite_url, master_key)
    first = km.active_key()
    older = tmp_path / "older.db"
    with sqlite3.connect(db_path(sqlite_url)) as live, sqlite3.connect(older) as copy:
        live.backup(copy)  # an authenticated earlier state, kept by the attacker
    km.rotate(force=True)
    seen = km._store.auth.seen  # type: ignore[union-attr]
    with sqlite3.connect(older) as copy, sqlite3.connect(db_path(sqlite_url)) as live:
        copy.backup(live)  # the whole database rolled back
    caplog.set_level(logging.ERROR, "jwtkit.keys")
    with pytest.raises(CorruptStoreError, match=f"older than generation {seen}"):
        km.refresh()
    assert "rolled back" in caplog.text
    assert km.active_key().kid != first.kid  # it keeps serving the newer keys it has
    km.close()
    # What a MAC cannot show (docs/keys.md): a fresh process accepts the older ring.
    with KeyManager.open(sqlite_url, master_key) as fresh:
        assert fresh.active_key().kid == first.kid


@pytest.mark.parametrize("algs", [("ES256",), ("RS256",)])
def test_revoking_wipes_the_wrapped_key_from_the_files(
    tmp_path: Path, master_key: str, algs: tuple[str, ...]
) -> None:
    url = f"sqlite:///{tmp_path / 'keys.db'}"
    km = KeyManager.open(url, master_key, signing_algs=algs)
    kid = km.active_key(algs[0]).kid
    km.rotate(force=True)  # more rows and pages, so the key's page has neighbours
    (sealed,) = sql(url, "SELECT sealed FROM jwtkit_keys WHERE kid = ?", (kid,))[0]
    probes = [bytes(sealed), bytes(sealed)[-48:], bytes(sealed)[13:61]]

    def residue() -> bool:
        data = b"".join(p.read_bytes() for p in tmp_path.iterdir() if p.is_file())
        return any(probe in data for probe in probes)

    assert residue()  # the scan can see the ciphertext while the key lives
    km.revoke(kid)
    assert not residue()
    assert not (tmp_path / "keys.db-wal").exists() or (tmp_path / "keys.db-wal").stat().st_size == 0
    km.close()


def test_a_store_of_the_previous_release_is_authenticated_by_the_first_process_with_the_key(
    tmp_path: Path,
) -> None:
    import json

    from jwtkit.server._accounts import make_password_hasher

    expected = json.loads((FIXTURES / "v2.json").read_text())
    path = tmp_path / "old.db"
    shutil.copyfile(FIXTURES / "v2.sqlite3", path)
    path.chmod(0o600)
    url = f"sqlite:///{path}"
    fast = make_password_hasher(time_cost=1, memory_cost=8, parallelism=1)
    # A process without the master key (what `jwtkit user|client ...` runs) migrates the
    # schema but neither needs nor touches the ring's MAC.
    with Accounts.open(url, hasher=fast) as accounts:
        accounts.add_user("newcomer", "a password 123")
    before = meta_rows(url)
    assert "ring_mac" not in before
    with KeyManager.open(url, master_key=expected["master_key"]) as km:
        assert {r.kid: r.state for r in km.records()} == expected["sqlite"]["keys"]
    after = meta_rows(url)
    assert after["ring_mac"] and after["check"] != before["check"]
    assert int(after["generation"]) == int(before["generation"]) + 1
    with Accounts.open(url, hasher=fast) as accounts:
        accounts.add_client("late", "a-client-secret-0123456789")
        accounts.disable_user("newcomer")
    assert meta_rows(url) == after
    # From now on the ring is authenticated: the attack of issue 12 is refused.
    sql(url, "UPDATE jwtkit_keys SET state = 'active' WHERE state = 'revoked'")
    with pytest.raises(CorruptStoreError, match="integrity"):
        KeyManager.open(url, master_key=expected["master_key"])


def test_an_authenticated_store_is_never_taken_for_an_old_one(
    sqlite_url: str, master_key: str
) -> None:
    with KeyManager.open(sqlite_url, master_key) as km:
        store_id = km._store.read()[0].store_id
    # Stripping the MAC does not make the store look like one to migrate (the check value
    # says it was authenticated)...
    sql(sqlite_url, "DELETE FROM jwtkit_meta WHERE name = 'ring_mac'")
    with pytest.raises(CorruptStoreError, match="no integrity tag"):
        KeyManager.open(sqlite_url, master_key)
    # ...unless a version 1 check value of this store and master key is put back: a copy
    # from before the upgrade (docs/keys.md). A rewrap after the upgrade makes those useless.
    sql(sqlite_url, "UPDATE jwtkit_meta SET value = ? WHERE name = 'check'",
        (legacy_check(master_key, store_id),))  # fmt: skip
    with KeyManager.open(sqlite_url, master_key) as km:
        km.rewrap(new := generate_master_key())
    sql(sqlite_url, "DELETE FROM jwtkit_meta WHERE name = 'ring_mac'")
    sql(sqlite_url, "UPDATE jwtkit_meta SET value = ? WHERE name = 'check'",
        (legacy_check(master_key, store_id),))  # fmt: skip
    with pytest.raises(MasterKeyError):
        KeyManager.open(sqlite_url, new)


def test_concurrent_changes_and_reads_never_look_tampered(
    durable_url: str, master_key: str
) -> None:
    # Readers see one committed state (PostgreSQL reads statement by statement), so a MAC
    # check never fails on a ring that was only changing.
    writer = KeyManager.open(durable_url, master_key)
    reader = KeyManager.open(durable_url, master_key, refresh_interval=0)
    writer.active_key()
    errors: list[BaseException] = []
    done = threading.Event()

    def read() -> None:
        while not done.is_set():
            try:
                reader.refresh()
            except BaseException as exc:
                errors.append(exc)
                return

    threads = [threading.Thread(target=read) for _ in range(2)]
    for thread in threads:
        thread.start()
    try:
        for _ in range(15):
            writer.rotate(force=True)
    finally:
        done.set()
        for thread in threads:
            thread.join(timeout=30)
    assert errors == []
    reader.refresh()
    assert reader.active_key().kid == writer.active_key().kid
    writer.close()
    reader.close()
