"""The storage layer itself: URLs, SQLite files and pragmas, PostgreSQL connection settings,
the bounded pool and its deadlines, stale connections, error mapping."""

from __future__ import annotations

import os
import secrets
import stat
import threading
import time
from pathlib import Path
from typing import Any

import pytest

from jwtkit._storage import Database, Tx, parse_store_url, redact_url
from jwtkit._storage._sqlite import create_private_file
from jwtkit.errors import KeyStoreError, StoreUnavailableError


@pytest.mark.parametrize(
    ("url", "kind", "path"),
    [
        ("sqlite:///rel/jwtkit.db", "sqlite", "rel/jwtkit.db"),
        ("sqlite:////abs/jwtkit.db", "sqlite", "/abs/jwtkit.db"),
        ("sqlite://localhost/x.db", "sqlite", "x.db"),
        ("memory://", "memory", None),
        ("postgresql://u@h/db", "postgresql", None),
        ("postgres://u@h/db", "postgresql", None),
    ],
)
def test_store_urls_parse_once(url: str, kind: str, path: str | None) -> None:
    parsed = parse_store_url(url)
    assert parsed.kind == kind
    assert (None if parsed.path is None else str(parsed.path)) == path


@pytest.mark.parametrize("url", ["mysql://x", "sqlite://host/file.db", "sqlite:///", "nope"])
def test_bad_store_urls(url: str) -> None:
    with pytest.raises(KeyStoreError):
        parse_store_url(url)


def test_redaction_hides_passwords_everywhere() -> None:
    assert redact_url("postgresql://u:pw1@h:5/db") == "postgresql://u:***@h:5/db"
    assert redact_url("postgresql://h/db?password=pw2&x=1") == "postgresql://h/db?password=***&x=1"
    assert "pw3" not in str(parse_store_url("postgresql://u:pw3@h/db"))
    with pytest.raises(KeyStoreError) as info:
        parse_store_url("redis://u:pw4@h/0")
    assert "pw4" not in str(info.value)


def test_sqlite_file_is_created_private_and_never_reopened(tmp_path: Path) -> None:
    path = tmp_path / "jwtkit.db"
    old = os.umask(0o022)
    try:
        db = Database.open(f"sqlite:///{path}")
    finally:
        os.umask(old)
    try:
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
        pragmas = db.read(
            lambda tx: [
                tx.one(f"PRAGMA {name}")[0]  # type: ignore[index]
                for name in ("journal_mode", "synchronous", "busy_timeout")
            ]
        )
        assert pragmas == ["wal", 2, 2000]  # WAL, synchronous=FULL, the store timeout
        # An existing file is left alone: O_EXCL fails without opening it.
        before = path.stat()
        create_private_file(path)
        assert path.stat().st_ino == before.st_ino and path.stat().st_size == before.st_size
    finally:
        db.close()


def test_memory_store_waits_for_its_one_connection_until_the_deadline() -> None:
    db = Database.open("memory://", timeout=0.3)
    holding = threading.Event()

    def hold(tx: Tx) -> None:
        holding.set()
        time.sleep(1.0)

    worker = threading.Thread(target=db.write, args=(hold,))
    worker.start()
    try:
        holding.wait(5)
        started = time.monotonic()
        with pytest.raises(StoreUnavailableError, match="no database connection"):
            db.read(lambda tx: tx.execute("SELECT 1"))
        assert 0.25 <= time.monotonic() - started < 0.9
    finally:
        worker.join()
        db.close()
    with pytest.raises(KeyStoreError, match="closed"):
        db.read(lambda tx: tx.execute("SELECT 1"))


def test_errors_carry_no_sql_or_data(tmp_path: Path) -> None:
    db = Database.open(f"sqlite:///{tmp_path / 'x.db'}")
    try:
        row = ("dup-user-secret", "h", "[]", 0, 1.0)
        insert = (
            "INSERT INTO jwtkit_users (username, password_hash, roles, disabled, created_at)"
            " VALUES (?, ?, ?, ?, ?)"
        )
        db.write(lambda tx: tx.execute(insert, row))
        with pytest.raises(KeyStoreError) as info:
            db.write(lambda tx: tx.execute(insert, row))
        assert "dup-user-secret" not in str(info.value) and "INSERT" not in str(info.value)
    finally:
        db.close()


# -- PostgreSQL ---------------------------------------------------------------------------


def _app_url(url: str, name: str, extra: str = "") -> str:
    return f"{url}&application_name={name}{extra}"


def _backends(name: str) -> list[int]:
    from tests.support.storage import pg_admin

    with pg_admin() as admin:
        rows = admin.execute(
            "SELECT pid FROM pg_stat_activity WHERE application_name = %s", (name,)
        ).fetchall()
    return [int(r[0]) for r in rows]


@pytest.mark.postgres
def test_postgres_connections_are_pinned_and_bounded_in_time(pg_store: tuple[str, str]) -> None:
    _, url = pg_store
    name = "jwtkit_t_" + secrets.token_hex(4)
    db = Database.open(_app_url(url, name), timeout=0.5, pool_size=1)
    try:
        # The session default becomes SERIALIZABLE; jwtkit's locking needs READ COMMITTED.
        db.read(lambda tx: tx.execute("SET default_transaction_isolation = 'serializable'"))

        def settings(tx: Tx) -> list[Any]:
            return [
                tx.one(f"SHOW {name}")[0]  # type: ignore[index]
                for name in (
                    "default_transaction_isolation",
                    "transaction_isolation",
                    "statement_timeout",
                )
            ]

        assert db.read(settings) == ["serializable", "read committed", "500ms"]
        conn_params = db.read(lambda tx: tx._conn.info.get_parameters())
        assert conn_params["keepalives"] == "1" and "connect_timeout" in conn_params
        assert "tcp_user_timeout" in conn_params
        started = time.monotonic()
        with pytest.raises(StoreUnavailableError):
            db.read(lambda tx: tx.execute("SELECT pg_sleep(5)"))
        assert time.monotonic() - started < 2.0
    finally:
        db.close()


@pytest.mark.postgres
def test_postgres_pool_is_bounded_and_queues(pg_store: tuple[str, str]) -> None:
    _, url = pg_store
    name = "jwtkit_t_" + secrets.token_hex(4)
    db = Database.open(_app_url(url, name), timeout=10, pool_size=3)
    seen: list[int] = []
    stop = threading.Event()

    def watch() -> None:
        while not stop.is_set():
            seen.append(len(_backends(name)))
            time.sleep(0.05)

    watcher = threading.Thread(target=watch)
    watcher.start()
    errors: list[BaseException] = []

    def work() -> None:
        try:
            db.read(lambda tx: tx.execute("SELECT pg_sleep(0.2)"))
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=work) for _ in range(16)]
    try:
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    finally:
        stop.set()
        watcher.join()
        db.close()
    assert not errors
    assert max(seen) <= 3, seen  # 16 concurrent callers, never more than 3 sessions


@pytest.mark.postgres
def test_dead_pooled_connections_cost_no_error(pg_store: tuple[str, str]) -> None:
    from tests.support.storage import pg_admin

    _, url = pg_store
    name = "jwtkit_t_" + secrets.token_hex(4)
    db = Database.open(_app_url(url, name), timeout=5, pool_size=4)
    try:
        barrier = threading.Barrier(4)

        def warm() -> None:
            db.read(lambda tx: (barrier.wait(5), tx.execute("SELECT 1")))

        threads = [threading.Thread(target=warm) for _ in range(4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        pids = _backends(name)
        assert len(pids) == 4
        with pg_admin() as admin:  # as if the database had restarted
            for pid in pids:
                admin.execute("SELECT pg_terminate_backend(%s)", (pid,))
        for _ in range(6):
            assert db.read(lambda tx: tx.one("SELECT 1")) == (1,)
        db.write(lambda tx: tx.execute("SELECT 1"))
        assert not set(_backends(name)) & set(pids)
    finally:
        db.close()


def test_sqlite_writers_of_one_process_take_turns(tmp_path: Path) -> None:
    """Issue 18: this process's writers queue for the one SQLite writer in order, so a burst
    of concurrent writes all commit, each waiting about the writes before it (SQLite's own
    busy handler sleeps up to 100 ms between polls, which made multi-second tails)."""
    db = Database.open(f"sqlite:///{tmp_path / 'turns.db'}", timeout=2.0, pool_size=10)
    try:
        db.write(lambda tx: tx.execute("CREATE TABLE IF NOT EXISTS t (n INTEGER)"))
        waits: list[float] = []
        errors: list[Exception] = []

        def writer() -> None:
            for _ in range(20):
                start = time.monotonic()
                try:
                    db.write(lambda tx: tx.execute("INSERT INTO t VALUES (1)"))
                except StoreUnavailableError as exc:
                    errors.append(exc)
                waits.append(time.monotonic() - start)

        threads = [threading.Thread(target=writer) for _ in range(16)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert errors == []
        assert db.read(lambda tx: tx.one("SELECT COUNT(*) FROM t")) == (320,)
        assert max(waits) < 2.0
    finally:
        db.close()
