"""The management API (jwtkit.server.Accounts) the CLI calls: users and clients."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest
from argon2 import PasswordHasher

from jwtkit.errors import JWTError, SchemaVersionError
from jwtkit.server import (
    AccountError,
    AccountExistsError,
    AccountNotFoundError,
    Accounts,
    ClientInfo,
    InvalidAccountError,
    Resources,
    UserInfo,
)

FAST = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)


@pytest.fixture
def accounts(tmp_path: Path) -> Iterator[Accounts]:
    acc = Accounts.open(f"sqlite:///{tmp_path / 'store.db'}", hasher=FAST)
    yield acc
    acc.close()


def test_users_round_trip(accounts: Accounts, tmp_path: Path) -> None:
    info = accounts.add_user("alice", "s3cret-password", roles=("admin", "admin", "staff"))
    assert info.roles == ("admin", "staff")
    accounts.add_user("bob", "another-password")
    users = accounts.list_users()
    assert [u.username for u in users] == ["alice", "bob"]
    assert isinstance(users[0], UserInfo) and users[0].created_at.tzinfo is not None
    assert "s3cret" not in repr(users)
    assert accounts.authenticate_user("alice", "s3cret-password") is not None
    assert accounts.authenticate_user("alice", "wrong") is None
    assert accounts.authenticate_user("nobody", "s3cret-password") is None
    accounts.disable_user("alice")
    assert accounts.list_users()[0].disabled is True
    assert accounts.authenticate_user("alice", "s3cret-password") is None
    accounts.enable_user("alice")
    accounts.set_password("alice", "new-password")
    assert accounts.authenticate_user("alice", "new-password") is not None
    # Stored as an Argon2id hash, never as the password.
    with sqlite3.connect(tmp_path / "store.db") as conn:
        (stored,) = conn.execute(
            "SELECT password_hash FROM jwtkit_users WHERE username='bob'"
        ).fetchone()
    assert stored.startswith("$argon2id$") and "another-password" not in stored


@pytest.mark.parametrize(
    ("cls", "code"),
    [
        (AccountExistsError, "account_exists"),
        (AccountNotFoundError, "account_not_found"),
        (InvalidAccountError, "invalid_account"),
    ],
)
def test_each_account_error_has_one_stable_code(cls: type[AccountError], code: str) -> None:
    """Issue 15: the code belongs to the class, as in jwtkit.errors; one except catches all."""
    assert cls.code == code
    assert issubclass(cls, AccountError) and issubclass(cls, JWTError)
    assert cls("message").code == code
    assert AccountError.code == "account_error"


def test_account_errors_are_raised_as_their_subclass(accounts: Accounts, tmp_path: Path) -> None:
    accounts.add_user("alice", "pw")
    with pytest.raises(AccountExistsError) as exists:
        accounts.add_user("alice", "pw")
    with pytest.raises(AccountNotFoundError) as missing:
        accounts.disable_user("nobody")
    with pytest.raises(InvalidAccountError) as invalid:
        accounts.add_user("with space", "pw")
    assert [e.value.code for e in (exists, missing, invalid)] == [
        "account_exists", "account_not_found", "invalid_account",
    ]  # fmt: skip
    resources = Resources.open(f"sqlite:///{tmp_path / 'store.db'}")
    try:
        resources.add("https://api.example", scopes=("read",))
        with pytest.raises(AccountExistsError):
            resources.add("https://api.example", scopes=("read",))
        with pytest.raises(AccountNotFoundError):
            resources.remove("https://other.example")
        with pytest.raises(InvalidAccountError):
            resources.add("not a uri", scopes=("read",))
    finally:
        resources.close()


def test_user_errors(accounts: Accounts) -> None:
    accounts.add_user("alice", "pw")
    with pytest.raises(AccountError) as exc:
        accounts.add_user("alice", "pw")
    assert exc.value.code == "account_exists"
    assert isinstance(exc.value, JWTError)
    for bad_name in ("", "with space", "a:b", "tab\t", "x" * 300):
        with pytest.raises(AccountError) as exc:
            accounts.add_user(bad_name, "pw")
        assert exc.value.code == "invalid_account"
    with pytest.raises(AccountError):
        accounts.add_user("carol", "")
    with pytest.raises(AccountError):
        accounts.add_user("carol", "pw", roles="admin")
    with pytest.raises(AccountError):
        accounts.add_user("carol", "pw", roles=("has space",))
    with pytest.raises(AccountError) as exc:
        accounts.disable_user("nobody")
    assert exc.value.code == "account_not_found"


def test_clients_round_trip(accounts: Accounts) -> None:
    secret = accounts.add_client("web", scopes=("read",), grants=("password", "refresh_token"))
    assert len(secret) >= 43
    given = accounts.add_client("svc", "a-chosen-secret-of-length", grants=("client_credentials",))
    assert given == "a-chosen-secret-of-length"
    assert accounts.add_client("spa", public=True) == ""
    clients = {c.client_id: c for c in accounts.list_clients()}
    assert isinstance(clients["web"], ClientInfo)
    assert clients["web"].scopes == ("read",)
    assert clients["spa"].public and not clients["web"].public
    assert clients["web"].allows_grant("password")
    assert not clients["web"].allows_grant("client_credentials")
    assert clients["spa"].allows_grant("refresh_token")
    assert not clients["spa"].allows_grant("client_credentials")
    assert accounts.authenticate_client("web", secret) is not None
    assert accounts.authenticate_client("web", secret) is not None  # cached path
    assert accounts.authenticate_client("web", "wrong-secret-xxxxxxxx") is None
    assert accounts.authenticate_client("web", None) is None
    assert accounts.authenticate_client("spa", None) is not None
    assert accounts.authenticate_client("nobody", "x") is None
    accounts.disable_client("web")
    assert accounts.authenticate_client("web", secret) is None
    assert secret not in repr(accounts.list_clients())


def test_client_errors(accounts: Accounts) -> None:
    accounts.add_client("web")
    with pytest.raises(AccountError, match="already exists"):
        accounts.add_client("web")
    with pytest.raises(AccountError, match="unknown grant"):
        accounts.add_client("x", grants=("implicit",))
    with pytest.raises(AccountError):
        accounts.add_client("x", secret="short")
    with pytest.raises(AccountError):
        accounts.add_client("x", public=True, grants=("client_credentials",))
    with pytest.raises(AccountError):
        accounts.add_client("x", secret="a-long-enough-secret-123", public=True)
    with pytest.raises(AccountError) as exc:
        accounts.disable_client("nobody")
    assert exc.value.code == "account_not_found"


def test_password_rehashed_when_cost_changes(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'store.db'}"
    with Accounts.open(url, hasher=FAST) as acc:
        acc.add_user("alice", "pw-123")
    stronger = PasswordHasher(time_cost=2, memory_cost=16, parallelism=1)
    with Accounts.open(url, hasher=stronger) as acc:
        assert acc.authenticate_user("alice", "pw-123") is not None
    with sqlite3.connect(tmp_path / "store.db") as conn:
        (stored,) = conn.execute("SELECT password_hash FROM jwtkit_users").fetchone()
    assert "m=16,t=2" in stored


def test_shares_the_store_with_keys_and_survives_reopen(tmp_path: Path) -> None:
    from jwtkit.keys import KeyManager, generate_master_key

    url = f"sqlite:///{tmp_path / 'shared.db'}"
    with KeyManager.open(url, master_key=generate_master_key()) as km:
        km.active_key()
    with Accounts.open(url, hasher=FAST) as acc:
        acc.add_user("alice", "pw")
    with Accounts.open(url, hasher=FAST) as acc:
        assert [u.username for u in acc.list_users()] == ["alice"]
    with sqlite3.connect(tmp_path / "shared.db") as conn:
        tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    assert {"jwtkit_keys", "jwtkit_users", "jwtkit_clients"} <= tables
    assert (tmp_path / "shared.db").stat().st_mode & 0o777 == 0o600


def test_newer_schema_is_refused(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'store.db'}"
    Accounts.open(url, hasher=FAST).close()
    with sqlite3.connect(tmp_path / "store.db") as conn:
        conn.execute("UPDATE jwtkit_meta SET value = '99' WHERE name = 'schema_version'")
    with pytest.raises(SchemaVersionError):
        Accounts.open(url, hasher=FAST)


def test_memory_store_and_bad_urls() -> None:
    with Accounts.open("memory://", hasher=FAST) as acc:
        acc.add_user("alice", "pw")
        assert len(acc.list_users()) == 1
    from jwtkit.errors import KeyStoreError

    for url in ("mysql://x", "sqlite://host/file.db", "sqlite:///"):
        with pytest.raises(KeyStoreError):
            Accounts.open(url, hasher=FAST)


def test_not_a_database_is_a_clear_error(tmp_path: Path) -> None:
    from jwtkit.errors import CorruptStoreError

    path = tmp_path / "junk.db"
    path.write_bytes(b"this is not sqlite" * 100)
    with pytest.raises(CorruptStoreError):
        Accounts.open(f"sqlite:///{path}", hasher=FAST)


def test_hasher_costs_come_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    from jwtkit.server._accounts import make_password_hasher

    monkeypatch.setenv("JWTKIT_ARGON2_TIME_COST", "2")
    monkeypatch.setenv("JWTKIT_ARGON2_MEMORY_COST", "16")
    monkeypatch.setenv("JWTKIT_ARGON2_PARALLELISM", "not-a-number")
    hasher = make_password_hasher()
    assert (hasher.time_cost, hasher.memory_cost, hasher.parallelism) == (2, 16, 4)
    assert make_password_hasher(time_cost=1, memory_cost=8, parallelism=1).time_cost == 1


def test_a_non_ascii_digit_in_a_cost_falls_back_to_the_default(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from jwtkit.server._accounts import make_password_hasher

    monkeypatch.setenv("JWTKIT_ARGON2_TIME_COST", "\u00b2")  # "²": isdigit() but not int()
    assert make_password_hasher().time_cost == 3


def test_unreachable_postgres_is_a_clear_error_without_the_password() -> None:
    from jwtkit.errors import KeyStoreError

    with pytest.raises(KeyStoreError) as exc:
        Accounts.open("postgresql://jwtkit:hunter2-secret@127.0.0.1:1/none", hasher=FAST)
    assert "hunter2" not in str(exc.value)
